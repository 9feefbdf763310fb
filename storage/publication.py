"""Publication as each guild sees it: the source's flag, overridden by the guild's moderators.

An article is listed to a guild's moderators when it came from a file (everyone's) or was added
by that guild's moderators. Its state there is the moderators' decision when they made one, else
'published' when the source says so, else 'pending' (``storage.visibility.guild_state``).
Members see only what ``storage.visibility.members_see`` lets through: the 'published' lists.

One repository serves both engines: its statements are written once with named parameters
(``storage.sql.Statements``). Only title autocomplete differs: FTS5 here
(``FtsTitleSuggestions``), a prefix query on PostgreSQL (``storage.postgresql.titles``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from storage.columns import Columns
from storage.models import Article, ArticleState, GuildArticle, PublicationState
from storage.sql import Row, Statements, fts_match
from storage.timestamps import to_timestamp
from storage.visibility import guild_state, members_see, not_another_guilds

# Autocomplete ranks this many of the newest title matches.
SUGGEST_POOL = 400

StateFilter = Literal["published", "pending", "unpublished", "retractable", "any"]
QueueWay = Literal["at", "older", "newer"]

DECIDE = (
    "INSERT INTO guild_publication (guild_id, article_pk, state, decided_by, decided_at) "
    "SELECT :guild, pk, :state, :actor, :at FROM articles WHERE id = :id "
    "ON CONFLICT (guild_id, article_pk) DO UPDATE SET state = excluded.state, "
    "decided_by = excluded.decided_by, decided_at = excluded.decided_at, planned_at = NULL"
)

# The same decision, made only while the article is still in the state the moderator saw
# (``:expected``): a decision another moderator (or the article's file) made meanwhile is
# left as it is. The SELECT's condition covers the state read before the row is written; the
# DO UPDATE's, a row another transaction wrote meanwhile (PostgreSQL re-reads the row it
# conflicts with). A pending article has no row: a row found means someone decided it.
DECIDE_IF = (
    "INSERT INTO guild_publication (guild_id, article_pk, state, decided_by, decided_at) "
    "SELECT :guild, a.pk, :state, :actor, :at FROM articles a WHERE a.id = :id "
    f"AND {guild_state('a', ':guild')} = :expected "
    "ON CONFLICT (guild_id, article_pk) DO UPDATE SET state = excluded.state, "
    "decided_by = excluded.decided_by, decided_at = excluded.decided_at, planned_at = NULL "
    "WHERE guild_publication.state = :expected"
)


# A post of article ``a`` still up in one of the guild's channels (deliveries' key leads with
# the article and the guild).
_POSTS_UP = (
    "SELECT 1 FROM deliveries d WHERE d.article_pk = a.pk AND d.guild_id = {guild} "
    "AND d.target_kind = 'channel' AND d.state = 'sent' AND d.message_id IS NOT NULL "
    "AND d.removed_at IS NULL"
)


@dataclass(frozen=True, slots=True)
class GuildView:
    """SQL over article ``a`` as the guild named by a parameter sees it."""

    state: str  # 'published', 'pending' or 'retracted' there
    listed: str  # listed to its moderators: full, and not another guild's
    filters: Mapping[StateFilter, str]  # 'published': what its members see


def guild_view(guild: str = ":guild") -> GuildView:
    """The guild's view, its id given by the SQL parameter ``guild``."""
    state = guild_state("a", guild)
    return GuildView(
        state=state,
        listed=f"a.coverage_only = 0 AND {not_another_guilds('a', guild)}",
        filters={
            "published": members_see("a", guild),
            "pending": f"{state} = 'pending'",
            "unpublished": f"{state} <> 'published'",  # waiting, or turned down or retracted
            # what /unpublish offers: the published, and the retracted whose posts are still
            # up in the guild's channels (its reply offers to delete them)
            "retractable": f"({members_see('a', guild)} OR ({state} = 'retracted' "
            f"AND EXISTS ({_POSTS_UP.format(guild=guild)})))",
            "any": "1 = 1",
        },
    )


_VIEW = guild_view()

# The queue's order key of the article named by the parameter ``anchor``.
_ANCHOR_KEY = "SELECT k.published_at, k.pk FROM articles k WHERE k.id = :anchor"
_STATES: dict[str, ArticleState] = {s: s for s in ("published", "pending", "retracted")}


def guild_article(articles: Columns[Article], row: Row) -> GuildArticle:
    """A row of ``articles.select`` followed by the guild's state of it."""
    return GuildArticle(articles.from_row(row), _STATES[row[articles.width]])


class TitleSuggestions(Protocol):
    """Each engine's title autocomplete, for typed words (at least one)."""

    async def suggest(
        self, guild_id: int, terms: Sequence[str], state: StateFilter, *, limit: int
    ) -> list[GuildArticle]: ...


class PublicationRepository:
    """Per-guild publication decisions and the lists built on them, on either engine."""

    def __init__(
        self, db: Statements, articles: Columns[Article], titles: TitleSuggestions
    ) -> None:
        self._db = db
        self._articles = articles
        self._titles = titles
        self._select = f"SELECT {articles.select}, {_VIEW.state} FROM articles a "

    async def get(self, guild_id: int, article_id: str) -> GuildArticle | None:
        """The article with this id as the guild sees it, or None if it cannot see it."""
        row = await self._db.fetch_one(
            self._select + f"WHERE a.id = :id AND {_VIEW.listed}",
            {"guild": guild_id, "id": article_id.strip().lower()},
        )
        return None if row is None else guild_article(self._articles, row)

    async def decide(
        self,
        guild_id: int,
        article_id: str,
        state: PublicationState,
        actor_id: int,
        now: datetime,
        *,
        expected: ArticleState | None = None,
    ) -> bool:
        """Record a moderator's publish or retract for their guild; a publish is planned anew.
        With ``expected``, only while the article is in that state there (one step, however
        many moderators decide at once); whether the decision was recorded."""
        params: dict[str, object] = {
            "guild": guild_id,
            "state": state,
            "actor": actor_id,
            "at": to_timestamp(now),
            "id": article_id,
        }
        if expected is None:
            await self._db.execute(DECIDE, params)
            return True
        return await self._db.execute(DECIDE_IF, {**params, "expected": expected}) > 0

    async def pending(self, guild_id: int, *, limit: int, offset: int = 0) -> list[GuildArticle]:
        """Articles waiting for the guild's decision, newest first."""
        return await self.listing(guild_id, "pending", limit=limit, offset=offset)

    async def pending_by_key(
        self, guild_id: int, anchor_id: str, way: QueueWay, *, limit: int
    ) -> list[GuildArticle]:
        """Waiting articles, newest first, placed by article ``anchor_id``'s key (publish time,
        then storage order, as the queue sorts): from it on (``at``, it included while it
        waits), just older (``older``), or the ``limit`` just newer (``newer``). None when
        the anchor is no longer stored."""
        compare = {"at": "<=", "older": "<", "newer": ">"}[way]
        order = "ASC" if way == "newer" else "DESC"
        rows = await self._db.fetch_all(
            self._select + f"WHERE {_VIEW.listed} AND {_VIEW.filters['pending']} "
            f"AND (a.published_at, a.pk) {compare} ({_ANCHOR_KEY}) "
            f"ORDER BY a.published_at {order}, a.pk {order} LIMIT :limit",
            {"guild": guild_id, "anchor": anchor_id.strip().lower(), "limit": limit},
        )
        items = [guild_article(self._articles, row) for row in rows]
        return items[::-1] if way == "newer" else items

    async def pending_newer(self, guild_id: int, anchor_id: str) -> int:
        """How many waiting articles come before article ``anchor_id`` in the queue."""
        sql = (
            f"SELECT count(*) FROM articles a WHERE {_VIEW.listed} AND {_VIEW.filters['pending']} "
            f"AND (a.published_at, a.pk) > ({_ANCHOR_KEY})"
        )
        return int(await self._db.scalar(sql, {"guild": guild_id, "anchor": anchor_id}))

    async def count(self, guild_id: int, state: StateFilter) -> int:
        """How many visible articles are in this state for the guild."""
        sql = f"SELECT count(*) FROM articles a WHERE {_VIEW.listed} AND {_VIEW.filters[state]}"
        return int(await self._db.scalar(sql, {"guild": guild_id}))

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
        params: dict[str, object] = {
            "guild": guild_id,
            "quality": min_quality,
            "limit": limit,
            "offset": offset,
        }
        topic_filter = ""
        if topic_key is not None:
            params["topic"] = topic_key
            topic_filter = (
                "AND a.pk IN (SELECT at.article_pk FROM article_topics at "
                "JOIN topics t ON t.id = at.topic_id WHERE t.key = :topic)"
            )
        rows = await self._db.fetch_all(
            self._select
            + f"WHERE {_VIEW.listed} AND {_VIEW.filters[state]} AND a.quality >= :quality "
            f"{topic_filter} ORDER BY a.published_at DESC, a.pk DESC LIMIT :limit OFFSET :offset",
            params,
        )
        return [guild_article(self._articles, row) for row in rows]

    async def suggest(
        self, guild_id: int, terms: Sequence[str], state: StateFilter, *, limit: int = 25
    ) -> list[GuildArticle]:
        """Autocomplete over titles: visible articles in this state matching the typed words
        (the last one as a prefix once it has three letters), best match first; the newest
        when nothing is typed."""
        if not terms:
            return await self.listing(guild_id, state, limit=limit)
        return await self._titles.suggest(guild_id, terms, state, limit=limit)


class FtsTitleSuggestions:
    """Title autocomplete on SQLite, by FTS5's title-only index."""

    def __init__(self, db: Statements, articles: Columns[Article]) -> None:
        self._db = db
        self._articles = articles

    async def suggest(
        self, guild_id: int, terms: Sequence[str], state: StateFilter, *, limit: int
    ) -> list[GuildArticle]:
        """Full articles whose titles hold every typed word, best match first."""
        # The newest matches only (FTS5 streams them in rowid order), searched in the
        # title-only index (migration 0004, with three-letter prefixes indexed), so a word
        # common in excerpts or a short prefix on a large store costs little more than a
        # rare word. One statement reads the shown articles whole.
        sql = (
            "WITH hits AS MATERIALIZED (SELECT rowid AS pk, bm25(titles_fts) AS bm "
            "FROM titles_fts WHERE titles_fts MATCH :match ORDER BY rowid DESC LIMIT :pool), "
            f"shown AS MATERIALIZED (SELECT a.pk, {_VIEW.state} AS state, f.bm, "
            "a.published_at AS at FROM hits f JOIN articles a ON a.pk = f.pk "
            f"WHERE {_VIEW.listed} AND {_VIEW.filters[state]} "
            "ORDER BY f.bm, a.published_at DESC, a.pk DESC LIMIT :limit) "
            f"SELECT {self._articles.select}, s.state FROM shown s JOIN articles a ON a.pk = s.pk "
            "ORDER BY s.bm, s.at DESC, s.pk DESC"
        )
        params = {
            "guild": guild_id,
            "match": fts_match(terms, prefix_last=len(terms[-1]) >= 3),
            "limit": limit,
            "pool": SUGGEST_POOL,
        }
        rows = await self._db.fetch_all(sql, params)
        return [guild_article(self._articles, row) for row in rows]
