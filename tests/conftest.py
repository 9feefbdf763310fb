"""Shared pytest configuration for topicbot's tests."""

pytest_plugins = ["tests.discord_double.plugin", "tests.postgresql"]
