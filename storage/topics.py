"""The topic repository: lookups and suggestions, most-used first."""

from __future__ import annotations

from storage.database import Database
from storage.models import Topic
from storage.sql import like_pattern

_COLUMNS = "id, key, name, article_count"


def topic_key(name: str) -> str:
    """Fold a topic name so that '  ai ' and 'AI' are the same topic."""
    return " ".join(name.split()).casefold()


class TopicRepository:
    """Named queries over topics."""

    def __init__(self, connection: Database) -> None:
        self._db = connection

    async def get(self, name: str) -> Topic | None:
        """The topic with this name (in any case or spacing), or None."""
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM topics WHERE key = ?", (topic_key(name),)
        )
        return Topic(*row) if row else None

    async def by_id(self, topic_id: int) -> Topic | None:
        """The topic with this id, or None."""
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} FROM topics WHERE id = ?", (topic_id,))
        return Topic(*row) if row else None

    async def suggest(self, typed: str, *, limit: int = 25) -> list[Topic]:
        """Topics whose name starts with, then contains, the typed text; most-used first."""
        key = topic_key(typed)
        if not key:
            return await self.most_used(limit=limit)
        sql = (
            f"SELECT {_COLUMNS} FROM topics WHERE key LIKE ? ESCAPE '\\' "
            "ORDER BY substr(key, 1, length(?)) = ? DESC, article_count DESC, key LIMIT ?"
        )
        return [
            Topic(*row)
            for row in await self._db.fetch_all(sql, (like_pattern(key), key, key, limit))
        ]

    async def most_used(self, *, limit: int = 25, offset: int = 0) -> list[Topic]:
        """Topics by how many articles carry them."""
        sql = f"SELECT {_COLUMNS} FROM topics ORDER BY article_count DESC, key LIMIT ? OFFSET ?"
        return [Topic(*row) for row in await self._db.fetch_all(sql, (limit, offset))]

    async def count_in_use(self) -> int:
        """How many topics at least one article carries."""
        row = await self._db.fetch_one("SELECT count(*) FROM topics WHERE article_count > 0")
        return int(row[0]) if row else 0
