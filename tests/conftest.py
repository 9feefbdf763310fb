"""Shared pytest configuration for topicbot's tests."""

from collections.abc import Iterator

import pytest

pytest_plugins = ["tests.discord_double.plugin", "tests.postgresql"]


@pytest.fixture(autouse=True)
def no_bot_left_running() -> Iterator[None]:
    """A ``topicbot`` process a failed test did not stop is killed when the test ends."""
    yield
    # imported here, not above: this module loads before the plugins are rewritten
    from tests.bot.test_run import kill_bots_left_running

    kill_bots_left_running()
