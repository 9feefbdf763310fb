"""Fixtures for end-to-end tests of the bot through the Discord double."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from bot.app import TopicBot
from storage import Store
from tests.bot.harness import Harness, seed_examples, test_settings
from tests.discord_double import DiscordDouble
from tests.discord_double.plugin import DoubleWorld, StartBot, build_world


@pytest_asyncio.fixture
async def harness(
    discord_double: DiscordDouble, start_bot: StartBot, tmp_path
) -> AsyncIterator[Harness]:
    """topicbot with two guilds, the example articles stored, commands synced globally."""
    world: DoubleWorld = build_world(discord_double, guilds=2, members=3)
    settings = test_settings(tmp_path)
    store = await Store.open(settings.storage.path)
    await seed_examples(store)
    bot = TopicBot(settings=settings, store=store, run_jobs=False, guild_ready_timeout=0.05)
    try:
        await start_bot(bot)
        await discord_double.wait_for_commands("subscribe", guild_id=None)
        yield Harness(discord_double, world, store, bot)
    finally:
        await bot.close()
        await store.close()
