"""Fixtures for the store on PostgreSQL: a migrated database of the test's own (the database
itself comes from ``tests.postgresql``; without ``TOPICBOT_TEST_DATABASE_URL`` these tests are
skipped)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio

from storage.postgresql.schema import migrate


@pytest_asyncio.fixture
async def connection(postgresql_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a database of this test's own, with every migration applied."""
    opened = await asyncpg.connect(postgresql_database_url)
    try:
        await migrate(opened)
        yield opened
    finally:
        await opened.close()
