"""Publication as each guild sees it, on PostgreSQL (the SQLite twin, with the rules in words:
``storage.publication``; the visibility rule itself: ``storage.visibility``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from storage.models import GuildArticle, PublicationState
from storage.postgresql.articles import ARTICLE
from storage.postgresql.database import PgDatabase
from storage.postgresql.params import numbered
from storage.postgresql.titles import PgTitleSuggestions
from storage.publication import DECIDE, StateFilter
from storage.timestamps import to_timestamp
from storage.visibility import guild_state, members_see, not_another_guilds

# The guild is always $1.
_STATE = guild_state(guild="$1")
_LISTED = f"a.coverage_only = 0 AND {not_another_guilds(guild='$1')}"
_FILTERS: dict[StateFilter, str] = {
    "published": members_see(guild="$1"),
    "pending": f"{_STATE} = 'pending'",
    "any": "true",
}
_DECIDE = numbered(DECIDE)
_SELECT = f"SELECT {ARTICLE.select}, {_STATE} FROM articles a "


def _guild_article(row: asyncpg.Record) -> GuildArticle:
    return GuildArticle(ARTICLE.from_row(tuple(row)), row[ARTICLE.width])


class PgPublicationRepository:
    """Per-guild publication decisions and the lists built on them."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db
        self._titles = PgTitleSuggestions(db)

    async def get(self, guild_id: int, article_id: str) -> GuildArticle | None:
        """The article with this id as the guild sees it, or None if it cannot see it."""
        row = await self._db.fetch_one(
            _SELECT + f"WHERE a.id = $2 AND {_LISTED}", guild_id, article_id.strip().lower()
        )
        return _guild_article(row) if row else None

    async def decide(
        self,
        guild_id: int,
        article_id: str,
        state: PublicationState,
        actor_id: int,
        now: datetime,
    ) -> None:
        """Record a moderator's publish or retract for their guild; a publish is planned anew."""
        await self._db.execute(
            _DECIDE,
            guild_id,
            state,
            actor_id,
            to_timestamp(now),
            article_id,
        )

    async def pending(self, guild_id: int, *, limit: int, offset: int = 0) -> list[GuildArticle]:
        """Articles waiting for the guild's decision, newest first."""
        return await self.listing(guild_id, "pending", limit=limit, offset=offset)

    async def count(self, guild_id: int, state: StateFilter) -> int:
        """How many visible articles are in this state for the guild."""
        sql = f"SELECT count(*) FROM articles a WHERE {_LISTED} AND {_FILTERS[state]}"
        return int(await self._db.scalar(sql, guild_id))

    async def listing(
        self,
        guild_id: int,
        state: StateFilter,
        *,
        limit: int,
        offset: int = 0,
        min_quality: int = 0,
        topic_key: str | None = None,
    ) -> list[GuildArticle]:
        """Visible articles in this state, newest first, optionally for one topic."""
        args: list[Any] = [guild_id, min_quality, limit, offset]
        topic_filter = ""
        if topic_key is not None:
            args.append(topic_key)
            topic_filter = (
                "AND a.pk IN (SELECT at.article_pk FROM article_topics at "
                "JOIN topics t ON t.id = at.topic_id WHERE t.key = $5)"
            )
        rows = await self._db.fetch_all(
            _SELECT + f"WHERE {_LISTED} AND {_FILTERS[state]} AND a.quality >= $2 {topic_filter} "
            "ORDER BY a.published_at DESC, a.pk DESC LIMIT $3 OFFSET $4",
            *args,
        )
        return [_guild_article(row) for row in rows]

    async def suggest(
        self, guild_id: int, terms: Sequence[str], state: StateFilter, *, limit: int = 25
    ) -> list[GuildArticle]:
        """Autocomplete over titles: visible articles in this state matching the typed words
        (the last one as a prefix once it has three letters), best match first; the newest
        when nothing is typed."""
        # As on SQLite: the newest title matches only (full articles), ranked by how well
        # the title matches (``storage.postgresql.titles``); typed text without a word finds
        # nothing.
        return await self._titles.suggest(guild_id, terms, state, limit=limit)
