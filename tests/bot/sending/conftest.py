"""The fixture the sending tests share: senders on one PostgreSQL outbox, through the double."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest_asyncio

from tests.bot.harness import FakeClock
from tests.bot.sending.senders import Senders
from tests.discord_double import DiscordDouble
from tests.discord_double.client import patch_for
from tests.storage.outbox_data import NOW


@pytest_asyncio.fixture
async def senders(
    discord_double: DiscordDouble, postgresql_database_url: str
) -> AsyncIterator[Senders]:
    async with AsyncExitStack() as stack:
        stack.enter_context(patch_for(discord_double))
        yield Senders(discord_double, postgresql_database_url, FakeClock(NOW), stack)
