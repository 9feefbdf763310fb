"""SQL for the related-coverage engine: a story with its own coverage, and scored candidates.
Runs on the store's read-only search connection.

A ``/related story`` request makes three statements: the story with its coverage (whole
articles), the planned and scored search, and the shown similar articles. The full-text part
stays fast on a large store by searching only for a few rare terms (their frequency is probed
with capped counts, which cost the same for a common word as for a rare one), within a window
of article pks around the story; the probes, the choice of terms and the scoring are one
statement.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from storage.articles import (
    ARTICLE_SELECT,
    ARTICLE_SELECT_WIDTH,
    ArticleRepository,
    article_from_row,
)
from storage.database import Database
from storage.models import Article
from storage.sql import fts_phrase
from storage.visibility import members_see

# Members are offered only what they see (``storage.visibility``): coverage, and full articles
# published in their guild; never another guild's own, never one pending or retracted there.
_SEEN = members_see()
TEXT_COLUMNS = "{title excerpt}"
# At most this many of the story's own coverage are read.
MAX_COVERAGE = 200


@dataclass(frozen=True, slots=True)
class StoryKey:
    """What the engine needs to know about the story it starts from."""

    pk: int
    story_id: int
    published_at: int | None  # None: unknown
    topic_ids: tuple[int, ...]


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
    """One planned and scored full-text search.

    The plan: each of ``words`` is counted (up to ``term_cap``) in the pk window
    ``centre_pk ± half_window`` (the newest article when ``centre_pk`` is None), or in the
    whole store when none occurs there; the rarest are searched for while their matches stay
    within ``term_budget`` (at least one, at most ``max_terms``). When only common words are
    left the window narrows to a sixteenth (at least 1000 pks each way; with ``around`` false
    nothing past the centre) and at most two are searched for.
    """

    words: tuple[str, ...]
    centre_pk: int | None
    half_window: int
    around: bool
    guild_id: int
    reference_time: int
    topic_ids: tuple[int, ...] = ()
    exclude_story: int | None = None
    exclude_pk: int | None = None
    limit: int = 40
    term_cap: int = 2000
    term_budget: int = 2000
    max_terms: int = 4


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """The terms a search looks for, rarest first, and its pk window."""

    terms: tuple[str, ...]
    low_pk: int
    high_pk: int


Tie = Literal["listed_by_story", "lists_story", "same_story"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A scored article (by pk), with how many topics it shares with the story, and what the
    ranking needs to keep one URL once and one outlet from crowding the list."""

    pk: int
    score: float
    shared_topics: int
    canonical_url: str
    outlet: str


@dataclass(frozen=True, slots=True)
class CoverageLink:
    """An article of the story's own coverage and how it is tied to the story."""

    article: Article
    tie: Tie


@dataclass(frozen=True, slots=True)
class StoryCoverage:
    """A story, what the engine needs to know about it, and its first coverage."""

    article: Article
    key: StoryKey
    coverage: list[CoverageLink]


# The window, the capped count of each word in it (in the whole store when none occurs
# there), the rarest words within the budget, and the narrowed window when only common words
# are left. Words come in as [word, FTS5 string] pairs, so no word is read as query syntax.
_PLAN = """
words AS (SELECT json_extract(value, '$[0]') AS term, json_extract(value, '$[1]') AS phrase
    FROM json_each(:words)),
env AS MATERIALIZED (SELECT centre, newest, max(centre - :half, 0) AS lo, centre + :half AS hi
    FROM (SELECT ifnull(:centre, n) AS centre, n AS newest
          FROM (SELECT ifnull(max(pk), 0) AS n FROM articles))),
near AS MATERIALIZED (SELECT w.term, w.phrase, (SELECT count(*) FROM (SELECT 1
        FROM articles_fts WHERE articles_fts MATCH :columns || w.phrase
        AND articles_fts.rowid BETWEEN e.lo AND e.hi LIMIT :cap)) AS n
    FROM words w, env e),
wide AS MATERIALIZED (SELECT w.term, w.phrase, (SELECT count(*) FROM (SELECT 1
        FROM articles_fts WHERE articles_fts MATCH :columns || w.phrase
        AND articles_fts.rowid BETWEEN 0 AND e.newest LIMIT :cap)) AS n
    FROM words w, env e WHERE NOT EXISTS (SELECT 1 FROM near WHERE n > 0)),
counts AS (SELECT term, phrase, n, 0 AS widened FROM near
    WHERE EXISTS (SELECT 1 FROM near WHERE n > 0)
    UNION ALL SELECT term, phrase, n, 1 FROM wide),
ranked AS (SELECT term, phrase, n, widened, row_number() OVER byrarity AS r,
        sum(n) OVER (byrarity ROWS UNBOUNDED PRECEDING) AS total
    FROM counts WHERE n > 0 WINDOW byrarity AS (ORDER BY n, term)),
picked AS (SELECT * FROM ranked WHERE r <= :max_terms AND (r = 1 OR total <= :budget)),
span AS (SELECT f.n >= :budget AS narrow, e.centre,
        CASE WHEN f.widened THEN 0 ELSE e.lo END AS lo,
        CASE WHEN f.widened THEN e.newest ELSE e.hi END AS hi
    FROM picked f, env e WHERE f.r = 1),
plan AS MATERIALIZED (SELECT
        (SELECT json_group_array(term) FROM (SELECT term FROM picked
         WHERE r <= CASE WHEN s.narrow THEN 2 ELSE :max_terms END ORDER BY r)) AS terms,
        (SELECT :columns || '(' || group_concat(phrase, ' OR ') || ')' FROM (SELECT phrase
         FROM picked WHERE r <= CASE WHEN s.narrow THEN 2 ELSE :max_terms END ORDER BY r)) AS q,
        CASE WHEN s.narrow THEN max(s.centre - max((s.hi - s.lo) / 16, 1000), 0)
             ELSE s.lo END AS lo,
        CASE WHEN s.narrow THEN s.centre + :around * max((s.hi - s.lo) / 16, 1000)
             ELSE s.hi END AS hi
    FROM span s)
"""
_FIXED_PLAN = (
    "plan AS (SELECT :fixed_terms AS terms, :fixed_q AS q, :fixed_lo AS lo, :fixed_hi AS hi)"
)


def _scored() -> str:
    """The best 400 text matches of the plan, scored by text (BM25 over title and excerpt,
    relative to the best), shared topics, closeness in time and quality."""
    return (
        "hits AS MATERIALIZED ("
        " SELECT articles_fts.rowid AS pk, bm25(articles_fts, 4.0, 1.0, 0.0) AS bm"
        " FROM plan p, articles_fts"
        " WHERE articles_fts MATCH p.q AND articles_fts.rowid BETWEEN p.lo AND p.hi"
        " ORDER BY bm LIMIT 400),"
        " best AS (SELECT min(bm) AS bm FROM hits),"
        " scored AS (SELECT h.pk, a.canonical_url, a.provider_domain, a.provider_name,"
        " (SELECT count(*) FROM article_topics t WHERE t.article_pk = h.pk"
        "  AND t.topic_id IN (SELECT value FROM json_each(:topics))) AS shared,"
        " :w_text * h.bm / min((SELECT bm FROM best), -1e-9)"
        " + :w_time / (1.0 + abs(a.published_at - :at) / :scale)"
        " + :w_quality * a.quality / 100.0 AS base"
        f" FROM hits h JOIN articles a ON a.pk = h.pk WHERE {_SEEN}"
        " AND a.pk IS NOT :self AND (:story IS NULL OR a.story_id != :story))"
        " SELECT pk, base + :w_topics * shared / :topic_count AS score, shared, canonical_url,"
        " provider_domain, provider_name FROM scored"
        " ORDER BY score DESC LIMIT :limit"
    )


class RelatedRepository:
    """Named queries for related coverage."""

    def __init__(self, connection: Database, articles: ArticleRepository) -> None:
        self._db = connection
        self._articles = articles

    async def story(
        self, article_id: str, url: str | None, guild_id: int, *, coverage: int
    ) -> StoryCoverage | None:
        """The article with this short id (else the one stored under ``url``), with the first
        ``coverage`` of its own coverage the guild's members see: what the story lists (in its
        order), what lists it, then the rest of its story (closest in time first). One
        statement; None when there is no such article, or the guild's members do not see it.

        Each tied article is checked by a lookup of its own rather than a join: once ANALYZE
        has statistics for ``articles`` (``PRAGMA optimize`` gathers them), SQLite builds a
        Bloom filter for such a join by reading every article (30 ms at 100k, for a handful
        of ties)."""
        sql = (
            "WITH s AS MATERIALIZED (SELECT a.pk, ifnull(a.story_id, a.pk) AS story,"
            f" a.published_at AS at, {_SEEN} AS visible FROM articles a WHERE a.pk = ("
            " SELECT pk FROM (SELECT pk FROM articles WHERE id = :id"
            " UNION ALL SELECT pk FROM articles WHERE canonical_url = :url) LIMIT 1)),"
            " tied (pk, tie, ord) AS ("
            " SELECT l.child_pk, 'listed_by_story', l.position FROM s, related_links l"
            " WHERE l.parent_pk = s.pk AND s.visible"
            " UNION ALL SELECT l.parent_pk, 'lists_story', 1000000 + l.parent_pk"
            " FROM s, related_links l WHERE l.child_pk = s.pk AND s.visible"
            " UNION ALL SELECT o.pk, 'same_story', 2000000000 + abs(o.published_at - s.at)"
            " FROM s, articles o WHERE o.story_id = s.story AND s.visible),"
            " shown (pk, tie, ord) AS (SELECT pk, 'story', -1 FROM s WHERE s.visible UNION ALL"
            " SELECT * FROM (SELECT t.pk, t.tie, min(t.ord) AS ord FROM tied t"
            " WHERE t.pk != (SELECT pk FROM s)"
            f" AND (SELECT {_SEEN} FROM articles a WHERE a.pk = t.pk)"
            " GROUP BY t.pk ORDER BY ord LIMIT :coverage))"
            f" SELECT {ARTICLE_SELECT}, sh.tie, s.story,"
            " CASE WHEN sh.tie = 'story' THEN (SELECT json_group_array(topic_id)"
            " FROM article_topics WHERE article_pk = s.pk) END"
            " FROM shown sh JOIN articles a ON a.pk = sh.pk, s ORDER BY sh.ord"
        )
        params = {
            "id": article_id.strip().lower(),
            "url": url,
            "guild": guild_id,
            "coverage": min(max(coverage, 0), MAX_COVERAGE),
        }
        rows = await self._rows(sql, params)
        if not rows:
            return None
        first = rows[0]
        article = article_from_row(first)
        story, topics = first[ARTICLE_SELECT_WIDTH + 1], first[ARTICLE_SELECT_WIDTH + 2]
        published_at = None if article.published_at is None else int(first[7])
        key = StoryKey(
            first[0], int(story), published_at, tuple(int(t) for t in json.loads(topics))
        )
        links = [CoverageLink(article_from_row(r), r[ARTICLE_SELECT_WIDTH]) for r in rows[1:]]
        return StoryCoverage(article, key, links)

    async def candidates(
        self, query: CandidateQuery, weights: Weights, *, plan: SearchPlan | None = None
    ) -> list[Candidate]:
        """Plan the search (``CandidateQuery``) and score the articles holding any of its
        terms, in one statement. With ``plan``, that plan is searched instead (to time the
        search alone)."""
        if not query.words:
            return []
        ctes = _PLAN if plan is None else _FIXED_PLAN
        sql = f"WITH {ctes}, {_scored()}"
        params = self._plan_params(query) if plan is None else self._fixed_params(plan)
        params |= {
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
        return [Candidate(int(r[0]), float(r[1]), int(r[2]), r[3], r[4] or r[5]) for r in rows]

    async def plan(self, query: CandidateQuery) -> SearchPlan | None:
        """The terms and window ``candidates`` searches for this query (None: no word
        occurs in the store)."""
        if not query.words:
            return None
        sql = f"WITH {_PLAN} SELECT terms, lo, hi FROM plan"
        rows = await self._rows(sql, self._plan_params(query))
        if not rows:
            return None
        return SearchPlan(tuple(json.loads(rows[0][0])), int(rows[0][1]), int(rows[0][2]))

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

    async def load(self, pks: Sequence[int]) -> dict[int, Article]:
        """Whole articles for these pks, read on the search connection."""
        return await self._articles.load(pks)

    @staticmethod
    def _plan_params(query: CandidateQuery) -> dict[str, Any]:
        words = list(dict.fromkeys(query.words))
        return {
            "words": json.dumps([[w, fts_phrase(w)] for w in words], ensure_ascii=False),
            "columns": f"{TEXT_COLUMNS} : ",
            "centre": query.centre_pk,
            "half": query.half_window,
            "around": int(query.around),
            "cap": query.term_cap,
            "budget": query.term_budget,
            "max_terms": query.max_terms,
        }

    @staticmethod
    def _fixed_params(plan: SearchPlan) -> dict[str, Any]:
        match = " OR ".join(fts_phrase(t) for t in plan.terms)
        return {
            "fixed_terms": json.dumps(list(plan.terms)),
            "fixed_q": f"{TEXT_COLUMNS} : ({match})",
            "fixed_lo": plan.low_pk,
            "fixed_hi": plan.high_pk,
        }

    async def _rows(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        return await self._db.fetch_all(sql, params)
