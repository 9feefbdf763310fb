"""SQL for the related-coverage engine: a story's own coverage, term rarity, and scored
candidates. Runs on the store's read-only search connection.

The full-text part stays fast on a large store by searching only for a few rare terms (their
frequency is probed with capped counts, which cost the same for a common word as for a rare
one), within a window of article pks around the story, and by scoring candidates in one
statement.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from storage.articles import ArticleRepository
from storage.database import Database
from storage.models import Article
from storage.sql import fts_phrase

Audience = Literal["story", "query"]

_VISIBLE = "(a.origin_guild_id IS NULL OR a.origin_guild_id = :guild)"
# Members are offered only full articles published in their guild (coverage-only ones are
# fine); a free-text search also finds pending ones, never ones the guild retracted.
_OFFERED: dict[Audience, str] = {
    "story": "(a.coverage_only = 1 OR g.state = 'published' "
    "OR (g.state IS NULL AND a.published = 1))",
    "query": "(a.coverage_only = 1 OR g.state IS NULL OR g.state = 'published')",
}
_JOIN_STATE = "LEFT JOIN guild_publication g ON g.article_pk = a.pk AND g.guild_id = :guild"
TEXT_COLUMNS = "{title excerpt}"


@dataclass(frozen=True, slots=True)
class StoryKey:
    """What the engine needs to know about the story it starts from."""

    pk: int
    story_id: int
    published_at: int
    topic_ids: tuple[int, ...]
    newest_pk: int


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each signal counts in a candidate's score (each signal is 0..1)."""

    text: float = 1.0
    topics: float = 0.5
    time: float = 0.5
    quality: float = 0.2
    time_scale_seconds: int = 72 * 3600


@dataclass(frozen=True, slots=True)
class CandidateQuery:
    """One scored full-text search: rare terms, a pk window, the scoring reference."""

    terms: tuple[str, ...]
    low_pk: int
    high_pk: int
    guild_id: int
    audience: Audience
    reference_time: int
    topic_ids: tuple[int, ...] = ()
    exclude_story: int | None = None
    exclude_pk: int | None = None
    limit: int = 40


Tie = Literal["listed_by_story", "lists_story", "same_story"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A scored article (by pk), with how many topics it shares with the story."""

    pk: int
    score: float
    shared_topics: int


@dataclass(frozen=True, slots=True)
class CoverageLink:
    """An article (by pk) of the story's own coverage and how it is tied to the story."""

    pk: int
    tie: Tie


class RelatedRepository:
    """Named queries for related coverage."""

    def __init__(self, connection: Database, articles: ArticleRepository) -> None:
        self._db = connection
        self._articles = articles

    async def story_key(self, article_id: str) -> StoryKey | None:
        """The pk, story, time and topics of the article with this short id."""
        sql = (
            "SELECT a.pk, ifnull(a.story_id, a.pk), a.published_at, "
            "(SELECT json_group_array(topic_id) FROM article_topics WHERE article_pk = a.pk), "
            "(SELECT max(pk) FROM articles) FROM articles a WHERE a.id = ?"
        )
        rows = await self._rows(sql, (article_id.strip().lower(),))
        if not rows:
            return None
        pk, story, at, topics, newest = rows[0]
        return StoryKey(int(pk), int(story), int(at), tuple(json.loads(topics)), int(newest))

    async def max_pk(self) -> int:
        """The newest article's pk (0 when empty)."""
        rows = await self._rows("SELECT ifnull(max(pk), 0) FROM articles", ())
        return int(rows[0][0])

    async def coverage(self, key: StoryKey, guild_id: int) -> list[CoverageLink]:
        """Pks of the story's own coverage the guild may see: what the story lists (in its order),
        what lists it, then the rest of its story (closest in time first)."""
        sql = (
            "WITH tied (pk, tie, ord) AS ("
            " SELECT child_pk, 'listed_by_story', position FROM related_links"
            " WHERE parent_pk = :pk"
            " UNION ALL SELECT parent_pk, 'lists_story', 1000000 + parent_pk FROM related_links"
            " WHERE child_pk = :pk"
            " UNION ALL SELECT pk, 'same_story', 2000000000 + abs(published_at - :at)"
            " FROM articles WHERE story_id = :story)"
            " SELECT t.pk, t.tie, min(t.ord) AS ord FROM tied t JOIN articles a ON a.pk = t.pk"
            f" {_JOIN_STATE} WHERE t.pk != :pk AND {_VISIBLE} AND {_OFFERED['story']}"
            " GROUP BY t.pk ORDER BY ord LIMIT 200"
        )
        params = {"pk": key.pk, "at": key.published_at, "story": key.story_id, "guild": guild_id}
        return [CoverageLink(int(r[0]), r[1]) for r in await self._rows(sql, params)]

    async def term_counts(
        self, terms: Sequence[str], low_pk: int, high_pk: int, *, cap: int
    ) -> dict[str, int]:
        """How many articles in the pk window hold each term in title or excerpt, counted up
        to ``cap`` (so a common word costs no more than a rare one)."""
        if not terms:
            return {}
        probe = (
            "(SELECT count(*) FROM (SELECT 1 FROM articles_fts WHERE articles_fts MATCH ? "
            "AND rowid BETWEEN ? AND ? LIMIT ?))"
        )
        sql = "SELECT " + ", ".join([probe] * len(terms))
        params: list[Any] = []
        for term in terms:
            params += [f"{TEXT_COLUMNS} : {fts_phrase(term)}", low_pk, high_pk, cap]
        rows = await self._rows(sql, tuple(params))
        return {term: int(count) for term, count in zip(terms, rows[0], strict=True)}

    async def candidates(self, query: CandidateQuery, weights: Weights) -> list[Candidate]:
        """Articles holding any of the terms, scored in SQL by text match (BM25 over title
        and excerpt, relative to the best), shared topics, closeness in time and quality."""
        if not query.terms:
            return []
        sql = (
            "WITH hits AS MATERIALIZED ("
            " SELECT rowid AS pk, bm25(articles_fts, 4.0, 1.0, 0.0) AS bm FROM articles_fts"
            " WHERE articles_fts MATCH :match AND rowid BETWEEN :lo AND :hi"
            " ORDER BY bm LIMIT 400),"
            " best AS (SELECT min(bm) AS bm FROM hits),"
            " scored AS (SELECT h.pk,"
            " (SELECT count(*) FROM article_topics t WHERE t.article_pk = h.pk"
            "  AND t.topic_id IN (SELECT value FROM json_each(:topics))) AS shared,"
            " :w_text * h.bm / min((SELECT bm FROM best), -1e-9)"
            " + :w_time / (1.0 + abs(a.published_at - :at) / :scale)"
            " + :w_quality * a.quality / 100.0 AS base"
            " FROM hits h JOIN articles a ON a.pk = h.pk "
            f" {_JOIN_STATE} WHERE {_VISIBLE} AND {_OFFERED[query.audience]}"
            " AND a.pk IS NOT :self AND (:story IS NULL OR a.story_id != :story))"
            " SELECT pk, base + :w_topics * shared / :topic_count AS score, shared FROM scored"
            " ORDER BY score DESC LIMIT :limit"
        )
        match = f"{TEXT_COLUMNS} : (" + " OR ".join(fts_phrase(t) for t in query.terms) + ")"
        params: dict[str, Any] = {
            "match": match,
            "lo": query.low_pk,
            "hi": query.high_pk,
            "topics": json.dumps(list(query.topic_ids)),
            "topic_count": float(max(len(query.topic_ids), 1)),
            "w_text": weights.text,
            "w_time": weights.time,
            "w_quality": weights.quality,
            "w_topics": weights.topics,
            "at": query.reference_time,
            "scale": float(weights.time_scale_seconds),
            "guild": query.guild_id,
            "self": query.exclude_pk,
            "story": query.exclude_story,
            "limit": query.limit,
        }
        rows = await self._rows(sql, params)
        return [Candidate(int(r[0]), float(r[1]), int(r[2])) for r in rows]

    async def load(self, pks: Sequence[int]) -> dict[int, Article]:
        """Whole articles for these pks, read on the search connection."""
        return await self._articles.load(pks)

    async def _rows(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        return await self._db.fetch_all(sql, params)
