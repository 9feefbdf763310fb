"""Topics on PostgreSQL (the SQLite twin: ``storage.topics``). ``article_count`` is kept by
the triggers of migration 0001, by the rule SQLite's triggers keep."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from storage.models import Topic
from storage.postgresql.database import PgDatabase
from storage.sql import like_pattern
from storage.topics import TOPIC, topic_key
from storage.visibility import members_see

_COLUMNS = TOPIC.select
_GUILD = "$1::bigint"
# Topics with their counts as members of guild $1 see them (see ``storage.topics``).
_GUILD_COUNTS = f"""
WITH own AS (SELECT article_pk AS pk FROM guild_publication WHERE guild_id = {_GUILD}
             UNION SELECT pk FROM articles WHERE origin_guild_id = {_GUILD}),
delta AS (SELECT at.topic_id,
                 sum({members_see(guild=_GUILD)}::int - {members_see(guild="NULL")}::int) AS d
          FROM own JOIN articles a ON a.pk = own.pk
          JOIN article_topics at ON at.article_pk = a.pk GROUP BY at.topic_id),
counted AS (SELECT t.id, t.key, t.name, t.article_count + coalesce(delta.d, 0) AS article_count
            FROM topics t LEFT JOIN delta ON delta.topic_id = t.id)
"""


def _topics(rows: Sequence[asyncpg.Record]) -> list[Topic]:
    return [TOPIC.from_row(tuple(row)) for row in rows]


class PgTopicRepository:
    """Named queries over topics."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def get(self, name: str) -> Topic | None:
        """The topic with this name (in any case or spacing), or None."""
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM topics WHERE key = $1", topic_key(name)
        )
        return TOPIC.from_row(tuple(row)) if row else None

    async def by_id(self, topic_id: int) -> Topic | None:
        """The topic with this id, or None."""
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} FROM topics WHERE id = $1", topic_id)
        return TOPIC.from_row(tuple(row)) if row else None

    async def suggest(self, typed: str, *, limit: int = 25) -> list[Topic]:
        """Topics whose name starts with, then contains, the typed text; most-used first."""
        key = topic_key(typed)
        if not key:
            return await self.most_used(limit=limit)
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM topics WHERE key LIKE $1 ESCAPE '\\' "
            "ORDER BY starts_with(key, $2) DESC, article_count DESC, key LIMIT $3",
            like_pattern(key),
            key,
            limit,
        )
        return _topics(rows)

    async def most_used(self, *, limit: int = 25, offset: int = 0) -> list[Topic]:
        """Topics by how many articles carry them."""
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM topics ORDER BY article_count DESC, key LIMIT $1 OFFSET $2",
            limit,
            offset,
        )
        return _topics(rows)

    async def seen_in(self, guild_id: int, *, limit: int, offset: int = 0) -> list[Topic]:
        """Topics carried by articles that members of the guild see, by how many they see."""
        rows = await self._db.fetch_all(
            f"{_GUILD_COUNTS} SELECT {_COLUMNS} FROM counted WHERE article_count > 0 "
            "ORDER BY article_count DESC, key LIMIT $2 OFFSET $3",
            guild_id,
            limit,
            offset,
        )
        return _topics(rows)

    async def count_seen_in(self, guild_id: int) -> int:
        """How many topics articles that members of the guild see carry."""
        sql = f"{_GUILD_COUNTS} SELECT count(*) FROM counted WHERE article_count > 0"
        return int(await self._db.scalar(sql, guild_id) or 0)
