"""Publication as each guild sees it: the source's flag, overridden by the guild's moderators.

An article is listed to a guild's moderators when it came from a file (everyone's) or was added
by that guild's moderators. Its state there is the moderators' decision when they made one, else
'published' when the source says so, else 'pending' (``storage.visibility.guild_state``).
Members see only what ``storage.visibility.members_see`` lets through: the 'published' lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from storage.articles import (
    ARTICLE,
    ArticleRepository,
)
from storage.database import Database
from storage.models import ArticleState, GuildArticle, PublicationState
from storage.sql import fts_match
from storage.timestamps import to_timestamp
from storage.visibility import guild_state, members_see, not_another_guilds

_LISTED = f"a.coverage_only = 0 AND {not_another_guilds()}"
_STATE = guild_state()

# Autocomplete ranks this many of the newest title matches.
SUGGEST_POOL = 400

StateFilter = Literal["published", "pending", "any"]
# 'published': what members see (the lists members get: /latest, /related autocomplete).
_FILTERS = {"published": members_see(), "pending": f"{_STATE} = 'pending'", "any": "1"}


# A moderator's decision, for both engines (PostgreSQL through ``storage.sql.numbered``):
# (guild, state, actor, time, article id).
DECIDE = (
    "INSERT INTO guild_publication (guild_id, article_pk, state, decided_by, decided_at) "
    "SELECT ?, pk, ?, ?, ? FROM articles WHERE id = ? "
    "ON CONFLICT (guild_id, article_pk) DO UPDATE SET state = excluded.state, "
    "decided_by = excluded.decided_by, decided_at = excluded.decided_at, planned_at = NULL"
)


class PublicationRepository:
    """Per-guild publication decisions and the lists built on them."""

    def __init__(self, connection: Database, articles: ArticleRepository) -> None:
        self._db = connection
        self._articles = articles

    async def get(self, guild_id: int, article_id: str) -> GuildArticle | None:
        """The article with this id as the guild sees it, or None if it cannot see it."""
        sql = f"SELECT a.pk, {_STATE} FROM articles a WHERE a.id = :id AND {_LISTED}"
        rows = await self._rows(sql, {"guild": guild_id, "id": article_id.strip().lower()})
        return (await self._hydrate(rows))[0] if rows else None

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
            DECIDE,
            (guild_id, state, actor_id, to_timestamp(now), article_id),
        )

    async def pending(self, guild_id: int, *, limit: int, offset: int = 0) -> list[GuildArticle]:
        """Articles waiting for the guild's decision, newest first."""
        return await self.listing(guild_id, "pending", limit=limit, offset=offset)

    async def count(self, guild_id: int, state: StateFilter) -> int:
        """How many visible articles are in this state for the guild."""
        sql = f"SELECT count(*) FROM articles a WHERE {_LISTED} AND {_FILTERS[state]}"
        rows = await self._rows(sql, {"guild": guild_id})
        return int(rows[0][0])

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
        topic_filter = ""
        if topic_key is not None:
            topic_filter = (
                "AND a.pk IN (SELECT at.article_pk FROM article_topics at "
                "JOIN topics t ON t.id = at.topic_id WHERE t.key = :topic)"
            )
        sql = (
            f"SELECT a.pk, {_STATE} FROM articles a "
            f"WHERE {_LISTED} AND {_FILTERS[state]} AND a.quality >= :quality {topic_filter} "
            "ORDER BY a.published_at DESC, a.pk DESC LIMIT :limit OFFSET :offset"
        )
        params = {
            "guild": guild_id,
            "quality": min_quality,
            "topic": topic_key,
            "limit": limit,
            "offset": offset,
        }
        return await self._hydrate(await self._rows(sql, params))

    async def suggest(
        self, guild_id: int, terms: Sequence[str], state: StateFilter, *, limit: int = 25
    ) -> list[GuildArticle]:
        """Autocomplete over titles: visible articles in this state matching the typed words
        (the last one as a prefix once it has three letters), best match first; the newest
        when nothing is typed."""
        if not terms:
            return await self.listing(guild_id, state, limit=limit)
        # The newest matches only (FTS5 streams them in rowid order), searched in the
        # title-only index (migration 0004, with three-letter prefixes indexed), so a word
        # common in excerpts or a short prefix on a large store costs little more than a
        # rare word. One statement reads the shown articles whole.
        sql = (
            "WITH hits AS MATERIALIZED (SELECT rowid AS pk, bm25(titles_fts) AS bm "
            "FROM titles_fts WHERE titles_fts MATCH :match ORDER BY rowid DESC LIMIT :pool), "
            f"shown AS MATERIALIZED (SELECT a.pk, {_STATE} AS state, f.bm, a.published_at AS at "
            "FROM hits f JOIN articles a ON a.pk = f.pk "
            f"WHERE {_LISTED} AND {_FILTERS[state]} "
            "ORDER BY f.bm, a.published_at DESC, a.pk DESC LIMIT :limit) "
            f"SELECT {ARTICLE.select}, s.state FROM shown s JOIN articles a ON a.pk = s.pk "
            "ORDER BY s.bm, s.at DESC, s.pk DESC"
        )
        params = {
            "guild": guild_id,
            "match": fts_match(terms, prefix_last=len(terms[-1]) >= 3),
            "limit": limit,
            "pool": SUGGEST_POOL,
        }
        rows = await self._rows(sql, params)
        return [GuildArticle(ARTICLE.from_row(row), row[ARTICLE.width]) for row in rows]

    async def _rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await self._db.fetch_all(sql, params)]

    async def _hydrate(self, rows: list[tuple[Any, ...]]) -> list[GuildArticle]:
        loaded = await self._articles.load([row[0] for row in rows])
        states: dict[int, ArticleState] = {row[0]: row[1] for row in rows}
        return [GuildArticle(loaded[pk], states[pk]) for pk in states if pk in loaded]
