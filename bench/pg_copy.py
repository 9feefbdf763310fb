"""Copy what the related engine reads from a SQLite store into a PostgreSQL database: its
benchmarks and tests build a store by the normal ingest on SQLite, then search the same rows
on both engines. (Not ``topicbot migrate-store``: no checks, no resumption; the target's rows
of these tables are replaced.)"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from storage.postgresql.database import PgDatabase, representable

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


async def copy_store(source: Path, target: PgDatabase) -> dict[str, int]:
    """Replace ``TABLES``' rows in ``target`` by those of the SQLite store at ``source``;
    how many rows each table holds."""
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
                    await connection.copy_records_to_table(
                        table, records=records, columns=columns
                    )
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
            await connection.execute("ANALYZE")
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
