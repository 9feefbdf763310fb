"""The pool the PostgreSQL repositories share: ``transaction()`` as ``Store.transaction``
means it, and text PostgreSQL cannot hold is stored as U+FFFD instead of failing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from storage.guilds import MetaRepository
from storage.postgresql.database import PgDatabase
from storage.postgresql.schema import open_migrated_pool


@pytest_asyncio.fixture
async def db(postgresql_database_url) -> AsyncIterator[PgDatabase]:
    opened = PgDatabase(await open_migrated_pool(postgresql_database_url, size=4, source="$T"))
    try:
        yield opened
    finally:
        await opened.close()


async def test_a_transaction_that_raises_keeps_nothing_and_other_tasks_are_apart(db):
    meta = MetaRepository(db.named)
    started = asyncio.Event()
    written = asyncio.Event()

    async def doomed() -> None:
        async with db.transaction():
            await meta.put("a", "1")
            async with db.transaction():  # part of the outer one
                await meta.put("c", "3")
            started.set()
            await written.wait()
            raise RuntimeError("boom")

    async def failing_transaction() -> None:
        with pytest.raises(RuntimeError, match="boom"):
            await doomed()

    async def other_task_write() -> None:
        await started.wait()
        await meta.put("b", "2")  # not in the failing transaction: kept
        written.set()

    await asyncio.gather(failing_transaction(), other_task_write())
    assert [await meta.get(key) for key in ("a", "b", "c")] == [None, "2", None]


async def test_a_transaction_that_ends_keeps_everything(db):
    meta = MetaRepository(db.named)
    async with db.transaction():
        await meta.put("a", "1")
        await meta.put("b", "2")
    assert [await meta.get(key) for key in ("a", "b")] == ["1", "2"]


async def test_a_nul_or_a_lone_surrogate_is_stored_as_a_replacement_character(db):
    meta = MetaRepository(db.named)
    await meta.put("typed", "a\x00b\ud800c")
    assert await meta.get("typed") == "a\ufffdb\ufffdc"
    assert await meta.get("\ud800") is None
