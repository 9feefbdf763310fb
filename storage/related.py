"""SQL for the related-coverage engine: a story with its own coverage, and scored candidates.
Runs on the store's read-only search connection.

A ``/related story`` request makes up to four statements: the story with its coverage (whole
articles), one or two planned and scored searches (the second with feedback terms), and the
shown similar articles. The full-text part stays fast on a large store: each term's matches
are read once and at most ``term_cap`` of them (a capped read costs little more for a common
word than for a rare one), within a window of article pks around the story; common terms are
left out and the heaviest others searched for within a budget of matches; only the best text
matches are scored. The reads, the choice of terms and the scoring are one statement.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from storage.articles import (
    ARTICLE,
    ArticleRepository,
)
from storage.columns import Columns
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
# A term weighs ``weight × log(window size / count) ** RARITY_POWER``: the story's rarity
# counts both in what it says of the story and in what it says of the article matching it
# (tf-idf's idf on both sides), short of its square, so that a few generic words an article
# shares with the story outweigh one rare word less often than once in a small store.
RARITY_POWER = 1.5
# A form FTS5 reads as one word (its tokenizer splits at anything but letters and digits).
_ONE_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class StoryKey:
    """What the engine needs to know about the story it starts from."""

    pk: int
    story_id: int
    published_at: int | None  # None: unknown
    topic_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Weights:
    """How the signals combine into a candidate's score (defaults: ``bot.config``).

    ``text`` scales the share of the story's term weight a candidate matches (0..1); of it,
    the share ``time`` depends on closeness in time (within ``time_grace_seconds`` of the
    story none of it is lost; an article ``time_scale_seconds`` past that keeps half of it)
    and the rest holds at any distance; an article from the story's own outlet keeps
    ``same_outlet`` of it. ``topics`` (share of the story's topics carried) and ``quality``
    (0..1) are added."""

    text: float
    time: float
    time_scale_seconds: int
    same_outlet: float
    topics: float
    quality: float
    time_grace_seconds: int = 0


@dataclass(frozen=True, slots=True)
class SearchTerm:
    """A term searched for: its ``key``, the token sequences that spell it (any is a match)
    and its ``weight`` before rarity."""

    key: str
    forms: tuple[str, ...]
    weight: float


@dataclass(frozen=True, slots=True)
class Window:
    """A search window of pks, as a search planned it (``narrow``: only common terms were
    left, so the window was narrowed and counts in it are not those of the wider one)."""

    low_pk: int
    high_pk: int
    narrow: bool = False


@dataclass(frozen=True, slots=True)
class CandidateQuery:
    """One planned and scored full-text search.

    The plan: each term's matches are read (up to ``term_cap``: a capped count costs as
    little for "the" as for a name) in the pk window ``centre_pk ± half_window`` (the newest
    article when ``centre_pk`` is None; ``window`` when given, as a first search planned it),
    or in the whole store when no term occurs there; matches a first search read come in
    ``prior`` (its ``Search.hits``) and are not read again. Terms found ``term_cap`` times or
    more are common and left out; the others weigh ``weight × log(window size / count) **
    RARITY_POWER`` and
    the heaviest are searched for while the matches read stay within ``term_budget`` (at
    least one, at most ``max_terms``). When only common terms are left the window narrows to
    a sixteenth (at least 1000 pks each way; with ``around`` false nothing past the centre)
    and the two heaviest are searched for there. The ``pool`` best matches by text (pks
    nearer the centre first among equals) are scored.
    """

    terms: tuple[SearchTerm, ...]
    centre_pk: int | None
    half_window: int
    around: bool
    guild_id: int
    reference_time: int
    term_cap: int
    term_budget: int
    max_terms: int
    limit: int
    pool: int
    topic_ids: tuple[int, ...] = ()
    exclude_story: int | None = None
    exclude_pk: int | None = None
    outlet: str = ""
    window: Window | None = None
    prior: str = "[]"


Tie = Literal["listed_by_story", "lists_story", "same_story"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A scored article (by pk), with how many topics it shares with the story, the terms
    it matched, its text (for feedback), and what the ranking needs to keep one URL once and
    one outlet from crowding the list."""

    pk: int
    score: float
    shared_topics: int
    canonical_url: str
    outlet: str
    title: str = ""
    excerpt: str = ""
    matched: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Search:
    """What a search found, best first, and how it was planned: the query, its window, each
    term's capped count, the terms searched for (heaviest first) and their matches as read
    (JSON, for ``CandidateQuery.prior``). None and empty: nothing was found."""

    query: CandidateQuery
    candidates: list[Candidate]
    window: Window | None = None
    counts: dict[str, int] = field(default_factory=dict)
    chosen: tuple[str, ...] = ()
    hits: str = "[]"

    def planned(self) -> CandidateQuery:
        """The same search with its window and matches given, so that it only scores."""
        chosen = set(self.chosen)
        terms = tuple(t for t in self.query.terms if t.key in chosen)
        return replace(self.query, terms=terms, window=self.window, prior=self.hits)


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


def _collect(window: str, query: str = "i.q") -> str:
    """The pks of a term's articles in a window, as a JSON array of at most ``:cap`` (read
    once: their number is the term's capped count, and they are its matches)."""
    return (
        "(SELECT json_group_array(rowid) FROM (SELECT articles_fts.rowid AS rowid"
        f" FROM articles_fts WHERE articles_fts MATCH {query}"
        f" AND articles_fts.rowid BETWEEN {window} LIMIT :cap))"
    )


def _joined(pks: str, window: str) -> str:
    """The JSON array ``pks`` of a term's single words' matches (fewer than ``:cap``) joined
    by its phrases' matches in a window: the first ``:cap`` of them all, as ``_collect``
    reads them."""
    return (
        f"(SELECT json_group_array(pk) FROM (SELECT value AS pk FROM json_each({pks})"
        " UNION SELECT rowid FROM (SELECT articles_fts.rowid AS rowid FROM articles_fts"
        f" WHERE articles_fts MATCH i.phrases AND articles_fts.rowid BETWEEN {window}"
        " LIMIT :cap) ORDER BY pk LIMIT :cap))"
    )


# The window; each term's matches in it (read once, at most :cap; a term a first search
# already read comes in :prior), else in the whole store when no term occurs there; the
# weight of each usable term; the heaviest within the budget (terms already read cost
# nothing); the narrowed window when only common terms are left. Terms come in as
# [key, FTS5 query, weight, FTS5 query of its single words or null] (the queries' strings
# quoted: never read as syntax). A term's single words are read first: when they alone
# reach :cap the term is common, and its phrases (what FTS5 reads most for: a figure's
# "25 000 000" walks every "000") are not read, since a common term's matches are never used.
#
# Each CTE is named by as few others as can be: SQLite copies a CTE's whole definition, with
# the CTEs it names in turn, into every place that names it while it prepares the statement,
# so names fan out multiplicatively. What later steps need rides along as columns instead
# (`span` carries the counts, `chosen` the window and the mass): preparing the statement took
# about 75 ms of CPU when `plan` and `chosen` were named five times each, 4 ms now (a
# connection prepares it once; ``bench/related_prepare.py``).
_PLAN = f"""
input AS (SELECT json_extract(value, '$[0]') AS key, json_extract(value, '$[1]') AS q,
        json_extract(value, '$[2]') AS w, json_extract(value, '$[3]') AS words,
        json_extract(value, '$[4]') AS phrases
    FROM json_each(:terms)),
prior AS MATERIALIZED (SELECT json_extract(value, '$[0]') AS key,
        json_extract(value, '$[1]') AS pks
    FROM json_each(:prior)),
env AS MATERIALIZED (SELECT centre, newest,
        ifnull(:fixed_lo, max(centre - :half, 0)) AS lo, ifnull(:fixed_hi, centre + :half) AS hi,
        :fixed_lo IS NOT NULL AS fixed
    FROM (SELECT ifnull(:centre, n) AS centre, n AS newest
          FROM (SELECT ifnull(max(pk), 0) AS n FROM articles))),
words AS MATERIALIZED (SELECT i.key, {_collect("e.lo AND e.hi", "i.words")} AS pks
    FROM input i CROSS JOIN env e LEFT JOIN prior r ON r.key = i.key
    WHERE i.words IS NOT NULL AND r.pks IS NULL),
near AS MATERIALIZED (SELECT i.key, i.q, i.w, r.pks IS NOT NULL AS given,
        CASE WHEN r.pks IS NOT NULL THEN r.pks
            WHEN o.pks IS NULL THEN {_collect("e.lo AND e.hi")}
            WHEN json_array_length(o.pks) >= :cap THEN o.pks
            ELSE {_joined("o.pks", "e.lo AND e.hi")} END AS pks
    FROM input i CROSS JOIN env e LEFT JOIN prior r ON r.key = i.key
    LEFT JOIN words o ON o.key = i.key),
wide AS MATERIALIZED (SELECT i.key, i.q, i.w, 0 AS given, {_collect("0 AND e.newest")} AS pks
    FROM input i, env e
    WHERE NOT e.fixed AND NOT EXISTS (SELECT 1 FROM near WHERE pks != '[]')),
counts AS MATERIALIZED (SELECT key, q, w, given, pks, json_array_length(pks) AS n, 0 AS widened
    FROM near WHERE NOT EXISTS (SELECT 1 FROM wide)
    UNION ALL SELECT key, q, w, given, pks, json_array_length(pks), 1 FROM wide),
span AS MATERIALIZED (SELECT e.centre, e.newest,
        CASE WHEN c.widened THEN 0 ELSE e.lo END AS lo,
        CASE WHEN c.widened THEN e.newest ELSE e.hi END AS hi,
        NOT c.usable AS narrow, c.counts
    FROM env e, (SELECT ifnull(max(widened), 0) AS widened,
            ifnull(max(n > 0 AND n < :cap), 0) AS usable,
            json_group_object(key, n) AS counts FROM counts) c),
weighed AS (SELECT c.key, c.q, c.n, c.given, c.pks,
        c.w * pow(ln((min(s.hi, s.newest) - s.lo + 2.0) / c.n), {RARITY_POWER}) AS wi
    FROM counts c, span s
    WHERE c.n > 0 AND (c.n < :cap OR s.narrow)),
ranked AS (SELECT key, q, n, pks, wi, row_number() OVER heaviest AS r,
        sum(CASE WHEN given THEN 0 ELSE n END) OVER (heaviest ROWS UNBOUNDED PRECEDING) AS total
    FROM weighed WINDOW heaviest AS (ORDER BY wi DESC, key)),
chosen AS MATERIALIZED (SELECT ranked.*, s.centre, s.narrow, s.counts,
        CASE WHEN s.narrow THEN max(s.centre - max((s.hi - s.lo) / 16, 1000), 0)
             ELSE s.lo END AS lo,
        CASE WHEN s.narrow THEN s.centre + :around * max((s.hi - s.lo) / 16, 1000)
             ELSE s.hi END AS hi,
        sum(wi) OVER () AS mass
    FROM ranked, span s
    WHERE r <= CASE WHEN s.narrow THEN 2 ELSE :max_terms END
    AND (r = 1 OR s.narrow OR total <= :budget)),
plan AS MATERIALIZED (SELECT centre, narrow, lo, hi, mass, counts,
        json_group_array(key) AS terms,
        CASE WHEN narrow THEN '[]' ELSE json_group_array(json_array(key, json(pks))) END AS hits
    FROM (SELECT * FROM chosen ORDER BY r) HAVING count(*) > 0)
"""


def _scored() -> str:
    """The matches of the chosen terms (their pks as read, or, in a narrowed window, read
    there), the best ``:pool`` of them by text (nearer pks first among equals: pks follow
    time), scored by text, closeness in time, outlet, shared topics and quality."""
    outlet = "ifnull(nullif(a.provider_domain, ''), a.provider_name)"
    return (
        "hits AS (SELECT c.key, c.wi, j.value AS pk, c.centre, c.mass"
        " FROM chosen c, json_each(c.pks) j WHERE NOT c.narrow"
        " UNION ALL SELECT c.key, c.wi, f.rowid, c.centre, c.mass FROM chosen c"
        " CROSS JOIN articles_fts f WHERE c.narrow AND f.articles_fts MATCH c.q"
        " AND f.rowid BETWEEN c.lo AND c.hi),"
        " pool AS MATERIALIZED (SELECT h.pk, sum(h.wi) AS s, json_group_array(h.key) AS matched,"
        " max(h.mass) AS mass FROM hits h GROUP BY h.pk"
        " ORDER BY sum(h.wi) / (1.0 + abs(h.pk - max(h.centre)) / :near) DESC"
        " LIMIT :pool),"
        " scored AS (SELECT h.pk, a.canonical_url,"
        f" {outlet} AS outlet, a.title, a.excerpt, h.matched,"
        " (SELECT count(*) FROM article_topics t WHERE t.article_pk = h.pk"
        "  AND t.topic_id IN (SELECT value FROM json_each(:topics))) AS shared,"
        " :w_text * h.s / h.mass"
        " * (1.0 - :w_time"
        "    + :w_time / (1.0 + pow(max(abs(a.published_at - :at) - :grace, 0) / :scale, 2)))"
        f" * CASE WHEN {outlet} = :outlet THEN :w_outlet ELSE 1.0 END"
        " + :w_quality * a.quality / 100.0 AS base"
        f" FROM pool h JOIN articles a ON a.pk = h.pk WHERE {_SEEN}"
        " AND a.pk IS NOT :self AND (:story IS NULL OR a.story_id != :story)),"
        " best AS (SELECT pk, base + :w_topics * shared / :topic_count AS score, shared,"
        " canonical_url, outlet, title, excerpt, matched FROM scored"
        " ORDER BY score DESC, pk DESC LIMIT :limit)"
        # The plan comes back even when nothing is found, on a row of its own.
        " SELECT b.pk, b.score, b.shared, b.canonical_url, b.outlet, b.title, b.excerpt,"
        " b.matched, p.lo, p.hi, p.narrow, p.counts, p.terms, p.hits"
        " FROM plan p LEFT JOIN best b ORDER BY b.score DESC, b.pk DESC"
    )


def candidate_sql() -> str:
    """The search statement: the plan (``_PLAN``), then the scoring (``_scored``)."""
    return f"WITH {_PLAN}, {_scored()}"


def match_any(forms: Sequence[str]) -> str:
    """An FTS5 query for title or excerpt holding any of ``forms`` (each a word sequence,
    quoted: never read as query syntax)."""
    return f"{TEXT_COLUMNS} : (" + " OR ".join(fts_phrase(f) for f in forms) + ")"


def _term_row(term: SearchTerm) -> list[Any]:
    """A term as ``_PLAN`` takes it: key, FTS5 query, weight, then the FTS5 queries of its
    one-word forms and of its phrases when it has both kinds (else nulls)."""
    return [term.key, match_any(term.forms), term.weight, *_words_and_phrases(term.forms)]


def _words_and_phrases(forms: Sequence[str]) -> tuple[str, str] | tuple[None, None]:
    """FTS5 queries for a term's forms of one word and for its others (phrases), when it has
    both kinds."""
    single = [f for f in forms if _ONE_WORD.fullmatch(f)]
    if not single or len(single) == len(forms):
        return None, None
    return match_any(single), match_any([f for f in forms if f not in single])


def distinct_terms(terms: Sequence[SearchTerm]) -> list[SearchTerm]:
    """One term per key (the first), none without a form that holds a word."""
    seen: dict[str, SearchTerm] = {}
    for term in terms:
        forms = tuple(f for f in term.forms if f.replace("\x00", "").strip())
        if forms and term.key not in seen:
            seen[term.key] = term if forms == term.forms else replace(term, forms=forms)
    return list(seen.values())


def story_coverage(
    rows: Sequence[Sequence[Any]], article: Columns[Article]
) -> StoryCoverage | None:
    """A story's statement's rows (each ``article``'s columns, then its tie; the first row
    the story's, with its story id and topic ids as JSON) as what the engine needs."""
    if not rows:
        return None
    first = rows[0]
    story = article.from_row(first)
    story_id, topics = first[article.width + 1], first[article.width + 2]
    at = first[article.index("published_at")]
    key = StoryKey(
        int(first[article.index("pk")]),
        int(story_id),
        None if story.published_at is None else int(at),
        tuple(int(t) for t in json.loads(topics)),
    )
    links = [CoverageLink(article.from_row(r), r[article.width]) for r in rows[1:]]
    return StoryCoverage(story, key, links)


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
            f" SELECT {ARTICLE.select}, sh.tie, s.story,"
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
        return story_coverage(await self._rows(sql, params), ARTICLE)

    async def candidates(self, query: CandidateQuery, weights: Weights) -> Search:
        """Plan the search (``CandidateQuery``) and score the articles holding any of its
        terms, in one statement."""
        terms = distinct_terms(query.terms)
        if not terms:
            return Search(query, [])
        sql = candidate_sql()
        fixed = query.window
        params = {
            "terms": json.dumps([_term_row(t) for t in terms], ensure_ascii=False),
            "prior": query.prior,
            "centre": query.centre_pk,
            "half": query.half_window,
            "fixed_lo": fixed.low_pk if fixed else None,
            "fixed_hi": fixed.high_pk if fixed else None,
            "around": int(query.around),
            "cap": query.term_cap,
            "budget": query.term_budget,
            "max_terms": query.max_terms,
            "pool": max(query.pool, query.limit),
            "near": float(max(query.half_window // 16, 100)),
            "topics": json.dumps(list(query.topic_ids)),
            "topic_count": float(max(len(query.topic_ids), 1)),
            "w_text": weights.text,
            "w_time": weights.time,
            "w_outlet": weights.same_outlet,
            "w_quality": weights.quality,
            "w_topics": weights.topics,
            "at": query.reference_time,
            "scale": float(weights.time_scale_seconds),
            "grace": weights.time_grace_seconds,
            "outlet": query.outlet,
            "guild": query.guild_id,
            "self": query.exclude_pk,
            "story": query.exclude_story,
            "limit": query.limit,
        }
        rows = await self._rows(sql, params)
        if not rows:
            return Search(query, [])
        first = rows[0]
        found = [
            Candidate(
                int(r[0]), float(r[1]), int(r[2]), r[3], r[4], r[5], r[6], tuple(json.loads(r[7]))
            )
            for r in rows
            if r[0] is not None
        ]
        return Search(
            query,
            found,
            Window(int(first[8]), int(first[9]), bool(first[10])),
            {str(k): int(n) for k, n in json.loads(first[11]).items()},
            tuple(str(k) for k in json.loads(first[12])),
            first[13],
        )

    async def term_counts(
        self, terms: Sequence[SearchTerm], low_pk: int, high_pk: int, *, cap: int
    ) -> dict[str, int]:
        """How many articles in the pk window hold each term in title or excerpt (any of its
        forms), counted up to ``cap`` (so a common word costs no more than a rare one)."""
        terms = distinct_terms(terms)
        if not terms:
            return {}
        probe = (
            "(SELECT count(*) FROM (SELECT 1 FROM articles_fts WHERE articles_fts MATCH ? "
            "AND rowid BETWEEN ? AND ? LIMIT ?))"
        )
        sql = "SELECT " + ", ".join([probe] * len(terms))
        params: list[Any] = []
        for term in terms:
            params += [match_any(term.forms), low_pk, high_pk, cap]
        rows = await self._rows(sql, tuple(params))
        return {term.key: int(count) for term, count in zip(terms, rows[0], strict=True)}

    async def load(self, pks: Sequence[int]) -> dict[int, Article]:
        """Whole articles for these pks, read on the search connection."""
        return await self._articles.load(pks)

    async def _rows(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        return await self._db.fetch_all(sql, params)
