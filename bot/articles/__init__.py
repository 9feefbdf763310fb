"""The article file format: front matter, its YAML, URLs, and the validated draft. No Discord."""
