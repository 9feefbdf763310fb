"""The pool the PostgreSQL repositories share: ``transaction()`` as ``Store.transaction``
means it, and text PostgreSQL cannot hold is stored as U+FFFD instead of failing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from storage.errors import ConnectionLost
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


async def _end_every_session_but_this(url: str) -> int:
    """The administrator (or a server restart) ends the pool's sessions; how many."""
    admin = await asyncpg.connect(url)
    try:
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    return int(ended)


async def test_a_session_ended_under_a_statement_is_one_line_and_the_next_call_works(
    db, postgresql_database_url
):
    meta = MetaRepository(db.named)
    await meta.put("a", "1")
    statement = asyncio.ensure_future(db.scalar("SELECT pg_sleep(30)"))
    await asyncio.sleep(0.3)  # under way
    assert await _end_every_session_but_this(postgresql_database_url) >= 1
    with pytest.raises(ConnectionLost) as lost:
        await statement
    said = str(lost.value)
    assert said.startswith("the PostgreSQL session ended (")
    assert "\n" not in said and postgresql_database_url not in said
    assert await meta.get("a") == "1"  # a new session


async def test_a_transaction_whose_session_ends_keeps_nothing_and_says_so(
    db, postgresql_database_url
):
    meta = MetaRepository(db.named)

    async def cut_mid_transaction() -> None:
        async with db.transaction():
            await meta.put("a", "1")
            await _end_every_session_but_this(postgresql_database_url)
            await meta.put("b", "2")

    with pytest.raises(ConnectionLost):
        await cut_mid_transaction()
    assert [await meta.get(key) for key in ("a", "b")] == [None, None]


async def test_a_wrong_statement_is_not_taken_for_a_lost_session(db):
    with pytest.raises(asyncpg.UndefinedTableError):
        await db.scalar("SELECT * FROM no_such_table")
