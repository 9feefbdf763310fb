"""Stories: which story an article is in, and who else covered it.

Grouping itself happens at ingest (``storage.grouping``); every stored article has a story.
"""

from __future__ import annotations

from typing import Any

from storage.articles import ArticleRepository
from storage.database import Database
from storage.models import Article
from storage.timestamps import UNKNOWN_TIME
from storage.visibility import members_see


class StoryRepository:
    """Reading stories: which story an article is in, and who else covered it."""

    def __init__(self, connection: Database, articles: ArticleRepository) -> None:
        self._db = connection
        self._articles = articles

    async def story_of(self, article_id: str) -> int | None:
        """The story id of the article with this short id (None: unknown article)."""
        found = await self._db.scalar(
            "SELECT ifnull(story_id, pk) FROM articles WHERE id = ?", (article_id.strip().lower(),)
        )
        return int(found) if found is not None else None

    async def members(self, story_id: int, *, guild_id: int | None = None) -> list[Article]:
        """Every article of the story, earliest first (those of unknown date last). With
        ``guild_id``, only what that guild's members see (``storage.visibility``)."""
        sql = (
            "SELECT a.pk FROM articles a WHERE a.story_id = :story "
            f"AND (:guild IS NULL OR {members_see()}) "
            "ORDER BY a.published_at = :unknown, a.published_at, a.pk"
        )
        params: dict[str, Any] = {"story": story_id, "guild": guild_id, "unknown": UNKNOWN_TIME}
        pks = [int(r[0]) for r in await self._db.fetch_all(sql, params)]
        loaded = await self._articles.load(pks)
        return [loaded[pk] for pk in pks if pk in loaded]
