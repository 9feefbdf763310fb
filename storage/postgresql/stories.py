"""Stories on PostgreSQL (the SQLite twin: ``storage.stories``)."""

from __future__ import annotations

from storage.models import Article
from storage.postgresql.articles import PgArticleRepository
from storage.postgresql.database import PgDatabase
from storage.timestamps import UNKNOWN_TIME
from storage.visibility import members_see

_MEMBERS = (
    "SELECT a.pk FROM articles a WHERE a.story_id = $1 "
    f"AND ($2::bigint IS NULL OR {members_see(guild='$2::bigint')}) "
    f"ORDER BY a.published_at = {UNKNOWN_TIME}, a.published_at, a.pk"
)


class PgStoryRepository:
    """Reading stories: which story an article is in, and who else covered it."""

    def __init__(self, db: PgDatabase, articles: PgArticleRepository) -> None:
        self._db = db
        self._articles = articles

    async def story_of(self, article_id: str) -> int | None:
        """The story id of the article with this short id (None: unknown article)."""
        found = await self._db.scalar(
            "SELECT coalesce(story_id, pk) FROM articles WHERE id = $1", article_id.strip().lower()
        )
        return int(found) if found is not None else None

    async def members(self, story_id: int, *, guild_id: int | None = None) -> list[Article]:
        """Every article of the story, earliest first (those of unknown date last). With
        ``guild_id``, only what that guild's members see (``storage.visibility``)."""
        pks = [int(r[0]) for r in await self._db.fetch_all(_MEMBERS, story_id, guild_id)]
        loaded = await self._articles.load(pks)
        return [loaded[pk] for pk in pks if pk in loaded]
