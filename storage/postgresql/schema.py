"""The PostgreSQL schema by numbered migrations (``storage/postgresql/migrations/NNNN_*.sql``),
recorded in ``schema_migrations``. Migrating holds an advisory lock for its whole run, so
processes that start together apply each migration once: the first applies, the others wait
and then find nothing left to do."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from storage.database import StoreError
from storage.postgresql.connection import Connection, open_pool
from storage.topics import FOLD_BATCH, UNFOLDED, folds_of

log = logging.getLogger(__name__)

# pg_advisory_lock takes one bigint; any fixed number no other program on the database uses.
# This one is the first eight bytes of sha256("topicbot schema migrations").
MIGRATION_LOCK = 0x366B_F45C_C243_05B9
_SCRIPT_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text    NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered SQL script."""

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The packaged migrations in order; numbered 1..n without gaps."""
    folder = resources.files("storage.postgresql") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _SCRIPT_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise StoreError(
            f"PostgreSQL migrations must be numbered 1..n without gaps, found {versions}"
        )
    return found


async def migrate(connection: Connection) -> list[int]:
    """Apply every migration the database has not recorded, each in a transaction of its own,
    under ``MIGRATION_LOCK``; return the versions this call applied."""
    await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await connection.execute(VERSION_TABLE)
        done = {row[0] for row in await connection.fetch("SELECT version FROM schema_migrations")}
        known = migrations()
        _refuse_a_newer_schema(done, known[-1].version)
        applied = []
        for migration in known:
            if migration.version in done:
                continue
            log.info("applying PostgreSQL schema migration %s", migration.name)
            async with connection.transaction():
                await connection.execute(migration.sql)
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
            applied.append(migration.version)
        await fill_topic_folds(connection)
        return applied
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


def _refuse_a_newer_schema(done: set[int], latest: int) -> None:
    """An older topicbot started on a database a newer one migrated would write it by the
    rules the migrations changed (such as keying links the old way), as SQLite's store refuses."""
    newest = max(done, default=0)
    if newest > latest:
        raise StoreError(
            f"the PostgreSQL database is at schema version {newest}, newer than this topicbot "
            f"understands ({latest}); upgrade topicbot"
        )


async def fill_topic_folds(connection: Connection) -> None:
    """Fold the names of topics stored before topics.folded was (migration 0014), a batch per
    statement; nothing to do once they all are. Under the migration lock, so that processes
    starting together fold each topic once."""
    while rows := await connection.fetch(UNFOLDED.format(limit=FOLD_BATCH)):
        folds, ids = zip(*folds_of([tuple(row) for row in rows]), strict=True)
        await connection.execute(
            "UPDATE topics t SET folded = f.folded FROM unnest($1::text[], $2::bigint[]) "
            "AS f (folded, id) WHERE t.id = f.id AND t.folded IS NULL",
            list(folds),
            list(ids),
        )


async def schema_version(connection: Connection) -> int:
    """The newest migration the database has recorded (0 for none)."""
    exists = await connection.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    return int(await connection.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))


async def open_migrated_pool(url: str, *, size: int, source: str) -> asyncpg.Pool:
    """``open_pool``, then the schema brought up to date before anything else uses it."""
    pool = await open_pool(url, size=size, source=source)
    try:
        async with pool.acquire() as connection:
            await migrate(connection)
    except BaseException:
        await pool.close()
        raise
    return pool
