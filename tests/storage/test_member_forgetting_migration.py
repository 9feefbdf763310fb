"""SQLite migration 0024 (PostgreSQL 0018): a store that kept what Discord said of members who
follow nothing any more in a server (``member_checks``), and the DM channel ids of members who
follow nothing anywhere (``dm_channels``), forgets them when this version opens it; what
names a member who still follows something stays. On each engine in turn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import pytest

from storage.postgresql.schema import VERSION_TABLE, migrations
from tests.engines import ENGINES, open_store, postgresql_url
from tests.storage.legacy import store_at_version
from tests.storage.outbox_data import sql

SQLITE_BEFORE, POSTGRESQL_BEFORE = 23, 17
FOLLOWS, LEFT_ALL, FOLLOWS_ELSEWHERE = 100, 200, 300  # members
HERE, THERE = 1, 2  # servers
ROWS = (
    "INSERT INTO topics (id, key, name) VALUES (1, 'transport', 'Transport')",
    "INSERT INTO subscriptions (guild_id, user_id, topic_id, created_at, updated_at) VALUES "
    f"({HERE}, {FOLLOWS}, 1, 0, 0), ({THERE}, {FOLLOWS_ELSEWHERE}, 1, 0, 0)",
    "INSERT INTO member_checks (guild_id, user_id, present, checked_at) VALUES "
    f"({HERE}, {FOLLOWS}, 1, 0), ({HERE}, {LEFT_ALL}, 0, 0), ({HERE}, {FOLLOWS_ELSEWHERE}, 1, 0), "
    f"({THERE}, {FOLLOWS_ELSEWHERE}, 1, 0)",
    "INSERT INTO dm_channels (user_id, channel_id) VALUES "
    f"({FOLLOWS}, 1), ({LEFT_ALL}, 2), ({FOLLOWS_ELSEWHERE}, 3)",
)


async def sqlite_before(path: Path) -> None:
    connection = await store_at_version(path, SQLITE_BEFORE)
    try:
        for statement in ROWS:
            await connection.execute(statement)
        await connection.commit()
    finally:
        await connection.close()


async def postgresql_before(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(VERSION_TABLE)
        for migration in migrations()[:POSTGRESQL_BEFORE]:
            async with connection.transaction():
                await connection.execute(migration.sql)
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
        for statement in ROWS:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(params=ENGINES)
async def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    url = postgresql_url(request)
    path = tmp_path / "topicbot.db"
    if url is None:
        await sqlite_before(path)
    else:
        await postgresql_before(url)
    async with await open_store(path, url) as store:
        yield store


async def test_a_store_forgets_the_members_who_follow_nothing_when_opened(migrated: Any):
    checks = await sql(migrated, "SELECT guild_id, user_id FROM member_checks")
    assert sorted((int(g), int(u)) for g, u in checks) == [
        (HERE, FOLLOWS),
        (THERE, FOLLOWS_ELSEWHERE),
    ]
    channels = await sql(migrated, "SELECT user_id FROM dm_channels")
    assert sorted(int(u) for (u,) in channels) == [FOLLOWS, FOLLOWS_ELSEWHERE]
