"""Copying a SQLite store into PostgreSQL: every table, row for row, verified, in one
transaction; the SQLite file never changes."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from storage import Store, StoreError
from storage.postgresql.from_sqlite import (
    NOT_COPIED,
    CopyMismatch,
    CopyRefused,
    add_checksums,
    copy_sqlite_file,
    open_sqlite_read_only,
    plan_copy,
    row_checksum,
    sqlite_tables,
)
from storage.postgresql.schema import migrate
from storage.postgresql.store import PgStore
from tests.storage.legacy import store_at_version
from tests.storage.postgresql.every_row import (
    READERS,
    SECURED,
    SHOUTING_META,
    UNICODE_TITLE,
    build_store_with_every_row,
)

NOW = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def every_row_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store with a row in every table, built once for the module (copies never write
    to it: the tests below check that)."""
    import asyncio

    folder = tmp_path_factory.mktemp("every_row")
    asyncio.run(build_store_with_every_row(folder / "topicbot.db", folder / "articles"))
    return folder / "topicbot.db"


def changed_copy(store: Path, folder: Path, statement: str) -> Path:
    """A copy of ``store`` in ``folder`` with ``statement`` run on it."""
    changed = folder / "changed.db"
    shutil.copyfile(store, changed)
    with sqlite3.connect(changed) as db:
        db.execute(statement)
    return changed


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def copied_tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [name for name in sqlite_tables(db) if name not in NOT_COPIED]


def sqlite_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        columns = sqlite_tables(db)[table]
        listed = ", ".join(f'"{c}"' for c in columns)
        return sorted(db.execute(f'SELECT {listed} FROM "{table}"').fetchall(), key=repr)


async def postgresql_rows(
    connection: asyncpg.Connection, path: Path, table: str
) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        columns = sqlite_tables(db)[table]
    listed = ", ".join(f'"{c}"' for c in columns)
    records = await connection.fetch(f'SELECT {listed} FROM "{table}"')
    return sorted((tuple(r) for r in records), key=repr)


async def test_every_table_is_copied_row_for_row_and_the_file_is_untouched(
    every_row_store, postgresql_database_url
):
    before = fingerprint(every_row_store)
    checks = await copy_sqlite_file(every_row_store, postgresql_database_url, source="$TEST")
    assert fingerprint(every_row_store) == before
    tables = copied_tables(every_row_store)
    assert [c.table for c in checks if c.matches and c.postgresql_rows > 0] == [
        c.table for c in checks
    ]
    assert sorted(c.table for c in checks) == sorted(tables)
    connection = await asyncpg.connect(postgresql_database_url)
    try:
        for table in tables:
            expected = sqlite_rows(every_row_store, table)
            assert await postgresql_rows(connection, every_row_store, table) == expected, table
        secured = await connection.fetchval(
            "SELECT secured FROM articles WHERE title = $1", UNICODE_TITLE
        )
        assert secured == SECURED
        states = await connection.fetch("SELECT state, attempts FROM deliveries")
        assert {(r["state"], r["attempts"]) for r in states} >= {("dead", 1), ("pending", 1)}
    finally:
        await connection.close()


async def test_new_rows_after_the_copy_take_ids_past_the_copied_ones(
    every_row_store, postgresql_database_url
):
    await copy_sqlite_file(every_row_store, postgresql_database_url, source="$TEST")
    async with await PgStore.open(postgresql_database_url, pool_size=2, source="$TEST") as store:
        followed = await store.subscriptions.for_member(7_000_000_000_000_001, READERS[0])
        copied_ids = {s.id for s in followed}
        topic_id = await store._db.scalar("SELECT id FROM topics WHERE key = 'transport'")
        saved = await store.subscriptions.save(
            guild_id=1, user_id=2, topic_id=topic_id, min_quality=0, delivery="daily",
            now=NOW, cap=25,
        )  # fmt: skip
        assert saved.created and saved.subscription.id > max(copied_ids)
        for table, column in (("articles", "pk"), ("topics", "id"), ("feeds", "id"),
                              ("audit_log", "id")):  # fmt: skip
            largest = await store._db.scalar(f"SELECT max({column}) FROM {table}")
            following = await store._db.scalar(
                "SELECT nextval(pg_get_serial_sequence($1, $2))", table, column
            )
            assert following == largest + 1, table


async def test_topic_counts_are_those_of_the_sqlite_store(every_row_store, postgresql_database_url):
    await copy_sqlite_file(every_row_store, postgresql_database_url, source="$TEST")
    connection = await asyncpg.connect(postgresql_database_url)
    try:
        counted = await connection.fetch(
            "SELECT key, article_count, folded FROM topics ORDER BY key"
        )
    finally:
        await connection.close()
    with sqlite3.connect(every_row_store) as db:
        expected = db.execute(
            "SELECT key, article_count, folded FROM topics ORDER BY key"
        ).fetchall()
    assert [tuple(r) for r in counted] == expected
    assert ("transport", 2, "transport") in expected  # counts and folds worth comparing


async def test_a_non_empty_target_is_refused_unless_forced(
    every_row_store, postgresql_database_url, tmp_path
):
    other = tmp_path / "other.db"
    async with await Store.open(other) as store:
        await store.meta.put("only", "this")
    await copy_sqlite_file(other, postgresql_database_url, source="$TEST")
    with pytest.raises(CopyRefused, match=r"already holds a store \(rows in meta\).*--force"):
        await copy_sqlite_file(every_row_store, postgresql_database_url, source="$TEST")
    connection = await asyncpg.connect(postgresql_database_url)
    try:
        assert await connection.fetch("SELECT key, value FROM meta") == [("only", "this")]
        await copy_sqlite_file(every_row_store, postgresql_database_url, source="$TEST", force=True)
        keys = {r["key"] for r in await connection.fetch("SELECT key FROM meta")}
        assert "only" not in keys and "commands_synced" in keys
        assert await connection.fetchval("SELECT min(pk) FROM articles") == 1
    finally:
        await connection.close()


async def test_a_sqlite_table_neither_copied_nor_explained_stops_the_copy(
    every_row_store, postgresql_database_url, tmp_path
):
    changed = changed_copy(
        every_row_store, tmp_path, "CREATE TABLE reminders (id INTEGER PRIMARY KEY, at INTEGER)"
    )
    with pytest.raises(CopyRefused, match="SQLite table reminders has no PostgreSQL table"):
        await copy_sqlite_file(changed, postgresql_database_url, source="$TEST")


async def test_every_sqlite_table_is_copied_or_listed_as_not_needing_a_copy(connection, tmp_path):
    async with await Store.open(tmp_path / "fresh.db"):
        pass
    sqlite = open_sqlite_read_only(tmp_path / "fresh.db")
    try:
        planned = {table.name for table in await plan_copy(sqlite, connection)}
        every = set(sqlite_tables(sqlite))
    finally:
        sqlite.close()
    assert {"articles", "deliveries", "term_associations"} <= planned
    assert every - planned == {name for name in NOT_COPIED if name in every}
    assert {"articles_fts", "titles_fts_data"} <= every - planned


async def test_text_postgresql_cannot_hold_is_refused_with_its_place_and_nothing_copied(
    every_row_store, postgresql_database_url, tmp_path
):
    changed = changed_copy(
        every_row_store, tmp_path, "UPDATE guild_settings SET timezone = 'Zu' || char(0) || 'rich'"
    )
    with pytest.raises(CopyRefused) as refused:
        await copy_sqlite_file(changed, postgresql_database_url, source="$TEST")
    assert str(refused.value) == (
        "guild_settings.timezone in the row whose guild_id is 7000000000000001 holds a NUL "
        "character, which a PostgreSQL text column cannot take; nothing was copied"
    )
    connection = await asyncpg.connect(postgresql_database_url)
    try:
        assert await connection.fetchval("SELECT count(*) FROM articles") == 0
    finally:
        await connection.close()


async def test_a_copy_that_differs_is_rolled_back(every_row_store, postgresql_database_url):
    connection = await asyncpg.connect(postgresql_database_url)
    try:
        await migrate(connection)
        # A trigger of the target's own changes a value on its way in: the copy must notice.
        await connection.execute(SHOUTING_META)
        with pytest.raises(CopyMismatch, match="differs from the SQLite store in meta;") as error:
            await copy_sqlite_file(every_row_store, postgresql_database_url, source="$TEST")
        assert [c.table for c in error.value.checks if not c.matches] == ["meta"]
        assert await connection.fetchval("SELECT count(*) FROM articles") == 0
    finally:
        await connection.close()


async def test_a_missing_sqlite_file_is_said(postgresql_database_url, tmp_path):
    with pytest.raises(CopyRefused, match=r"no SQLite store at .*nothing\.db \(storage\.path\)"):
        await copy_sqlite_file(tmp_path / "nothing.db", postgresql_database_url, source="$TEST")
    assert not (tmp_path / "nothing.db").exists()


def test_a_row_checksum_reads_values_not_the_types_a_driver_gave():
    assert row_checksum((1, "a", None, 0.75)) == row_checksum((1.0, "a", None, 0.75))
    assert row_checksum((True,)) == row_checksum((1,))
    different = [(1,), ("1",), (None,), ("",), ("\x1e",), (1, 2), ("1\x1f2",), (b"1",), (0.5,)]
    assert len({row_checksum(row) for row in different}) == len(different)
    rows = [row_checksum((n, f"title {n}")) for n in range(100)]
    forwards = backwards = 0
    for value in rows:
        forwards = add_checksums(forwards, value)
    for value in reversed(rows):
        backwards = add_checksums(backwards, value)
    assert forwards == backwards != 0


async def test_a_file_that_is_not_a_store_or_is_behind_is_refused_untouched(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    with pytest.raises(StoreError, match=r"junk\.db \(storage\.path\) is not a readable SQLite"):
        open_sqlite_read_only(junk)
    old = tmp_path / "old.db"
    await (await store_at_version(old, 4)).close()
    before = fingerprint(old)
    with pytest.raises(CopyRefused, match=r"at schema version 4, this topicbot's is \d+: open it"):
        open_sqlite_read_only(old)
    assert fingerprint(old) == before


PKS = range(1, 7)


async def test_the_outbox_carries_on_where_it_was(
    every_row_store, postgresql_database_url, tmp_path
):
    """What a sender finds due after the copy is what it would have found on SQLite: the
    pending rows (retried one included, when its time comes), never the sent or dead ones."""
    sqlite_path = tmp_path / "sqlite.db"
    shutil.copyfile(every_row_store, sqlite_path)
    await copy_sqlite_file(every_row_store, postgresql_database_url, source="$TEST")
    later = datetime.now(UTC) + timedelta(hours=1)
    async with await Store.open(sqlite_path) as store:
        on_sqlite = await store.deliveries.due(later, limit=100)
        told_sqlite = [await store.deliveries.already_told(u, pk) for u in READERS for pk in PKS]
    async with await PgStore.open(postgresql_database_url, pool_size=2, source="$TEST") as store:
        on_postgresql = await store.deliveries.due(later, limit=100)
        told_postgresql = [
            await store.deliveries.already_told(u, pk) for u in READERS for pk in PKS
        ]
    assert sorted(on_postgresql, key=repr) == sorted(on_sqlite, key=repr)
    assert {(d.state, d.attempts) for d in on_sqlite} == {("pending", 0), ("pending", 1)}
    assert told_postgresql == told_sqlite
    assert any(told_sqlite)  # a DM went out before the copy: not told again after it
