"""Discord cogs: thin layers that parse, check, call a service and render."""
