"""The bot's end-to-end fixtures (the Discord double, a store on each engine), for the hostile
members, moderators and producers of tests/hardening."""

from tests.bot.conftest import engine, harness, make_harness

__all__ = ["engine", "harness", "make_harness"]
