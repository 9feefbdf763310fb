"""The related engine on PostgreSQL before the PostgreSQL store ingests: its benchmarks and
tests build a store by the normal ingest on SQLite and copy what the engine reads into a
PostgreSQL database (``copy_store``; not ``topicbot migrate-store``: no checks, no
resumption, the target's rows of these tables are replaced). ``MirroredStore`` takes writes
on SQLite, copies each, and serves the engine's reads (``related``, ``associations``) from
PostgreSQL. Once ``PgStore`` ingests, the tests run on ``any_store`` instead."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from storage import Store
from storage.postgresql.database import PgDatabase, representable
from storage.postgresql.schema import migrate
from storage.postgresql.store import PgStore

# In the order their foreign keys need.
TABLES = (
    "topics",
    "articles",
    "article_topics",
    "images",
    "related_links",
    "guild_publication",
    "term_associations",
)
_BATCH = 20_000


async def copy_store(source: Path, target: PgDatabase, *, analyze: bool = True) -> dict[str, int]:
    """Replace ``TABLES``' rows in ``target`` by those of the SQLite store at ``source``
    (then, with ``analyze``, gather the planner's statistics and mark the pages all-visible,
    as autovacuum would: the postings' index-only scans otherwise read the table too); how
    many rows each table holds."""
    copied: dict[str, int] = {}
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as sqlite:
        async with target.pool.acquire() as connection, connection.transaction():
            await connection.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
            for table in TABLES:
                columns = await _columns(connection, table, sqlite)
                copied[table] = 0
                cursor = sqlite.execute(f"SELECT {', '.join(columns)} FROM {table}")
                while rows := cursor.fetchmany(_BATCH):
                    records = [tuple(representable(row)) for row in rows]
                    await connection.copy_records_to_table(table, records=records, columns=columns)
                    copied[table] += len(records)
            # The counting triggers added each link once more: the copied counts stand.
            counts = sqlite.execute("SELECT id, article_count FROM topics").fetchall()
            await connection.execute(
                "UPDATE topics t SET article_count = c.n FROM unnest($1::bigint[], $2::int[])"
                " AS c(id, n) WHERE t.id = c.id",
                [row[0] for row in counts],
                [row[1] for row in counts],
            )
            for table in ("topics", "articles"):
                key = "id" if table == "topics" else "pk"
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{key}'),"
                    f" (SELECT coalesce(max({key}), 0) + 1 FROM {table}), false)"
                )
    if analyze:
        async with target.pool.acquire() as connection:
            await connection.execute("VACUUM (ANALYZE)")
    return copied


async def _columns(connection: Any, table: str, sqlite: sqlite3.Connection) -> list[str]:
    """The columns both engines have (PostgreSQL's generated ones are its own)."""
    rows = await connection.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1"
        " AND table_schema = current_schema() AND is_generated = 'NEVER' ORDER BY ordinal_position",
        table,
    )
    on_sqlite = {row[1] for row in sqlite.execute(f"PRAGMA table_info('{table}')")}
    return [row[0] for row in rows if row[0] in on_sqlite]


class _CopyingAfter:
    """A SQLite repository whose named writes copy the store to PostgreSQL once done."""

    def __init__(self, inner: Any, copy: Callable[[], Awaitable[None]], writes: set[str]) -> None:
        self._inner = inner
        self._copy = copy
        self._writes = writes

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        if name not in self._writes:
            return found

        async def written(*args: Any, **kwargs: Any) -> Any:
            result = await found(*args, **kwargs)
            await self._copy()
            return result

        return written


class MirroredStore:
    """Writes on SQLite, copied; the related engine's reads on PostgreSQL."""

    def __init__(self, sqlite: Store, postgresql: PgStore) -> None:
        self.sqlite = sqlite
        self.postgresql = postgresql
        self.articles = _CopyingAfter(sqlite.articles, self.copy, {"upsert_batch"})
        self.publication = _CopyingAfter(sqlite.publication, self.copy, {"decide"})
        self.related = postgresql.related
        self.associations = postgresql.associations

    async def copy(self, *, analyze: bool = False) -> None:
        await copy_store(self.sqlite.path, self.postgresql._db, analyze=analyze)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sqlite, name)


@asynccontextmanager
async def mirrored(sqlite: Store, url: str) -> AsyncIterator[MirroredStore]:
    """``sqlite`` mirrored into the (empty) PostgreSQL database at ``url``."""
    async with await PgStore.open(url, pool_size=4, source="$TEST") as postgresql:
        store = MirroredStore(sqlite, postgresql)
        await store.copy(analyze=True)
        yield store


def database_url(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the server ``server_url`` names."""
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


@asynccontextmanager
async def scratch_database(server_url: str, *, template: str | None = None) -> AsyncIterator[str]:
    """The URL of a new database beside the one ``server_url`` names (a copy of database
    ``template`` if given), dropped after: a benchmark never writes into a database someone
    uses."""
    name = f"topicbot_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        copied = f' TEMPLATE "{template}"' if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{copied}')
        try:
            yield database_url(server_url, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def mirrored_from_template(
    sqlite: Store, server_url: str, template: str, *, rebuild: bool = False
) -> AsyncIterator[MirroredStore]:
    """``sqlite`` mirrored into a scratch copy of database ``template``, which is kept: made
    (``sqlite`` copied into it) when missing, when built from another SQLite store, or with
    ``rebuild``; else migrated in place to this version's schema. A million-article copy
    takes minutes; a copy of the template takes seconds."""
    built_from = sqlite.path.name
    admin = await asyncpg.connect(server_url)
    try:
        found = await admin.fetchval(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database"
            " WHERE datname = $1",
            template,
        )
        if found is not None and (rebuild or found != built_from):
            await admin.execute(f'DROP DATABASE "{template}" WITH (FORCE)')
            found = None
        if found is None:
            await admin.execute(f'CREATE DATABASE "{template}"')
            async with mirrored(sqlite, database_url(server_url, template)):
                pass
            await admin.execute(f"COMMENT ON DATABASE \"{template}\" IS '{built_from}'")
        else:
            await _migrate_in_place(database_url(server_url, template))
    finally:
        await admin.close()
    async with (
        scratch_database(server_url, template=template) as scratch,
        await PgStore.open(scratch, pool_size=4, source="$TEST") as postgresql,
    ):
        yield MirroredStore(sqlite, postgresql)


async def _migrate_in_place(url: str) -> None:
    """Bring a kept database to this version's schema, then gather statistics and mark
    pages all-visible as ``copy_store`` does (a migration may have rewritten a table)."""
    connection = await asyncpg.connect(url)
    try:
        if await migrate(connection):
            await connection.execute("VACUUM (ANALYZE)")
    finally:
        await connection.close()
