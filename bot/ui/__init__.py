"""What members see: embeds, buttons, pagination, autocomplete choices."""
