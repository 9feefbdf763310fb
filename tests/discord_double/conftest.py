"""Make the double's fixtures available to its own smoke tests.

Harmless once tests/conftest.py also lists ``tests.discord_double.plugin`` in pytest_plugins.
"""

from tests.discord_double.plugin import discord_double, discord_world, start_bot

__all__ = ["discord_double", "discord_world", "start_bot"]
