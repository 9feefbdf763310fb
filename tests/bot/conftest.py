"""Fixtures for end-to-end tests of the bot through the Discord double."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio

from bot.app import TopicBot
from bot.domain.stories import grouping_rules
from storage.api import StoreApi
from tests.bot.harness import FakeClock, Harness, seed_examples, settings_for
from tests.discord_double import DiscordDouble
from tests.discord_double.plugin import StartBot, build_world
from tests.engines import ENGINES, open_store, postgresql_url

MakeHarness = Callable[..., Awaitable[Harness]]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Callable[[Any], Awaitable[StoreApi]]:
    """How the harness opens its store: each end-to-end test runs on a SQLite file and on a
    PostgreSQL database of its own (skipped without ``TOPICBOT_TEST_DATABASE_URL``)."""
    url = postgresql_url(request)

    async def open_engine_store(settings: Any) -> StoreApi:
        # with the configured story grouping, as the bot opens it (bot/stores.py)
        return await open_store(
            settings.storage.path, url, grouping=grouping_rules(settings.related)
        )

    return open_engine_store


@pytest_asyncio.fixture
async def make_harness(
    discord_double: DiscordDouble, start_bot: StartBot, tmp_path, engine
) -> AsyncIterator[MakeHarness]:
    """``await make_harness(seed=True, **settings_sections)``: topicbot with two guilds on a
    fresh store (on each engine in turn), commands synced globally, jobs off (tests drive
    them), a fake clock."""
    opened: list[tuple[TopicBot, StoreApi]] = []

    async def make(*, seed: bool = True, members: int = 3, **sections: dict[str, Any]) -> Harness:
        world = build_world(discord_double, guilds=2, members=members)
        settings = settings_for(tmp_path, **sections)
        store = await engine(settings)
        if seed:
            await seed_examples(store)
        clock = FakeClock()
        bot = TopicBot(
            settings=settings, store=store, run_jobs=False, clock=clock, guild_ready_timeout=0.05
        )
        opened.append((bot, store))
        await start_bot(bot)
        await discord_double.wait_for_commands("subscribe", guild_id=None)
        return Harness(discord_double, world, store, bot, clock, lambda: engine(settings))

    yield make
    for bot, store in opened:
        await bot.close()
        await store.close()


@pytest_asyncio.fixture
async def harness(make_harness: MakeHarness) -> Harness:
    """topicbot with two guilds and the example articles stored."""
    return await make_harness()
