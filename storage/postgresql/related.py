"""The related-coverage engine's reads on PostgreSQL (the SQLite twin: ``storage.related``),
ranking as it does.

A term's weight is its count among the articles in a window of pks around the story, capped
(``CandidateQuery``): read here from ``search_words`` (migration 0007: a btree of each title and
excerpt word with its article's pk, whose range scan yields a word's matches in a window in pk
order and stops at the cap, as FTS5's index does), at most ``term_cap`` pks per term, so
counts, weights, the terms chosen, the matches and the scores are SQLite's. A phrase (a
figure's ``25 million``) is read by its rarest word, its candidates checked for its other
words in the postings and then against the stored ``search`` tsvector (the words in order);
which word is rarest is judged without reading the postings' most common words (the
planner's statistics name them: ``common_words``), so ``000`` of ``25 000 000`` is never
counted through.
What SQLite does in one statement takes three here (the terms' matches, the matches of a
narrowed window when only common terms are left, the scoring of the best): the plan between
them is ``plan_search``, in Python, and each statement is one round trip.

Terms reach PostgreSQL as words (letters and digits between spaces, split and folded by the
text-search configuration, as the postings were) and as ``to_tsquery`` operands quoted in
Python from those words alone, restricted to the title and excerpt (weights A and C), so
nothing an article or a member wrote is ever read as query syntax (``form_rows``).
"""

from __future__ import annotations

import heapq
import json
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.models import Article
from storage.postgresql.articles import ARTICLE as PG_ARTICLE
from storage.postgresql.articles import PgArticleRepository
from storage.postgresql.database import PgDatabase
from storage.related import (
    MAX_COVERAGE,
    RARITY_POWER,
    Candidate,
    CandidateQuery,
    Search,
    SearchTerm,
    StoryCoverage,
    Weights,
    Window,
    distinct_terms,
    story_coverage,
)
from storage.visibility import members_see

_WORD = re.compile(r"[^\W_]+")
_OUTLET = "coalesce(nullif(a.provider_domain, ''), a.provider_name)"


def _seen(guild: str) -> str:
    return members_see("a", guild)


# --- the plan (SQLite's ``_PLAN`` in storage/related.py, step for step) -------------------


@dataclass(frozen=True, slots=True)
class _Read:
    """A term's matches as read in a window (or given by a first search)."""

    term: SearchTerm
    pks: list[int]
    given: bool


@dataclass(frozen=True, slots=True)
class Plan:
    """What a search chose: its window, whether it narrowed, the chosen terms with their
    weight and matches (heaviest first), and every term's capped count."""

    centre: int
    window: Window
    chosen: list[tuple[SearchTerm, float, list[int]]]
    counts: dict[str, int]

    @property
    def mass(self) -> float:
        return sum(weight for _, weight, _ in self.chosen)

    def hits(self) -> str:
        """The chosen terms' matches as read, for ``CandidateQuery.prior`` (none when the
        window narrowed: they are read there again)."""
        if self.window.narrow:
            return "[]"
        return json.dumps([[t.key, pks] for t, _, pks in self.chosen], ensure_ascii=False)


def plan_search(
    query: CandidateQuery, reads: list[_Read], centre: int, span: tuple[int, int], newest: int
) -> Plan | None:
    """Weigh the terms read in ``span`` (``weight × log(window size / capped count) **
    RARITY_POWER``), leave out the common ones, choose the heaviest within the budget, or
    narrow the window when only common terms are left; None when no term has a match."""
    cap = query.term_cap
    low, high = span
    narrow = not any(0 < len(r.pks) < cap for r in reads)
    size = min(high, newest) - low + 2.0
    weighed = [
        (r, r.term.weight * math.log(size / len(r.pks)) ** RARITY_POWER)
        for r in reads
        if r.pks and (len(r.pks) < cap or narrow)
    ]
    weighed.sort(key=lambda item: (-item[1], item[0].term.key))
    chosen: list[tuple[SearchTerm, float, list[int]]] = []
    total = 0
    for rank, (read, weight) in enumerate(weighed, start=1):
        total += 0 if read.given else len(read.pks)
        if rank > (2 if narrow else query.max_terms):
            break
        if rank > 1 and not narrow and total > query.term_budget:
            break
        chosen.append((read.term, weight, read.pks))
    if not chosen:
        return None
    if narrow:
        reach = max((high - low) // 16, 1000)
        low, high = max(centre - reach, 0), centre + int(query.around) * reach
    counts = {r.term.key: len(r.pks) for r in reads}
    return Plan(centre, Window(low, high, narrow), chosen, counts)


def pool_of(plan: Plan, hits: dict[str, list[int]], query: CandidateQuery) -> dict[int, Any]:
    """The best ``pool`` matches by text, pks nearer the centre first among equals: each pk's
    summed term weight and the terms it matched."""
    scores: dict[int, float] = {}
    matched: dict[int, list[str]] = {}
    for term, weight, _ in plan.chosen:
        for pk in hits.get(term.key, ()):
            if pk in scores:
                scores[pk] += weight
                matched[pk].append(term.key)
            else:
                scores[pk] = weight
                matched[pk] = [term.key]
    near = float(max(query.half_window // 16, 100))
    size = max(query.pool, query.limit)
    centre = plan.centre
    # (closeness-weighted score, negated; pk): the order of SQLite's pool, ties to the lower pk
    ranked = [(-score / (1.0 + abs(pk - centre) / near), pk) for pk, score in scores.items()]
    return {pk: (scores[pk], matched[pk]) for _, pk in heapq.nsmallest(size, ranked)}


def score(row: Any, text: float, mass: float, query: CandidateQuery, weights: Weights) -> float:
    """SQLite's scoring: the share of the story's term weight matched, mostly by closeness in
    time, less for the story's own outlet, plus quality and shared topics."""
    apart = max(abs(row["published_at"] - query.reference_time) - weights.time_grace_seconds, 0)
    distance = apart / float(weights.time_scale_seconds)
    base = (
        weights.text
        * text
        / mass
        * (1.0 - weights.time + weights.time / (1.0 + distance * distance))
        * (weights.same_outlet if row["outlet"] == query.outlet else 1.0)
        + weights.quality * row["quality"] / 100.0
    )
    shared = float(row["shared"]) / max(len(query.topic_ids), 1)
    return float(base + weights.topics * shared)


# --- statements ----------------------------------------------------------------------------

# A phrase's candidates come from its rarest word in the window. A word among the postings'
# most common (``common_words``) drives only when all of the phrase's words are (the least
# common of them); the others are counted in the window up to this many (past it, a word is
# common too, and which one drives changes the cost only, never the matches).
_DRIVER_COUNT = 1_000


def _forms(numbers: str, words: str, queries: str) -> str:
    """Each form of each term: its term's number, its query, its words as ``search_words``
    holds them, and whether it is a single word."""
    return f"""
forms AS MATERIALIZED (SELECT i.n, to_tsquery('topicbot_text', i.q) AS q,
        tsvector_to_array(to_tsvector('topicbot_text', i.w)) AS lex,
        numnode(to_tsquery('topicbot_text', i.q)) = 1 AS single
    FROM unnest({numbers}::int[], {words}::text[], {queries}::text[]) AS i(n, w, q))"""


def _driver(common: str, low: str, high: str) -> str:
    """The word form ``d``'s matches are read by: its only word, or a phrase's rarest in the
    window (``common`` the most common words, least common first, after all others)."""
    count = (
        "(SELECT count(*) FROM (SELECT 1 FROM search_words x WHERE x.word = o"
        f" AND x.pk BETWEEN {low} AND {high} LIMIT {_DRIVER_COUNT}) c)"
    )
    rank = f"array_position({common}::text[], o)"
    return f"""CASE WHEN d.single THEN d.lex[1] ELSE (SELECT o FROM unnest(d.lex) o
            ORDER BY {rank} DESC NULLS FIRST, CASE WHEN {rank} IS NULL THEN {count} END, o
            LIMIT 1) END"""


def _matches(
    term: str, low: str, high: str, cap: str, common: str, only: str = "true", given: str = ""
) -> str:
    """The pks of term number ``term``'s articles in ``low``..``high`` (by those of its forms
    that pass ``only``, and the pks ``given``), the first ``cap`` of them (all with a NULL
    cap): read from the postings in pk order, a phrase's candidates checked against its
    query."""
    also = f"SELECT g FROM unnest({given}::bigint[]) g UNION ALL " if given else ""
    return f"""ARRAY(SELECT DISTINCT m.pk FROM ({also}SELECT r.pk FROM forms d
        CROSS JOIN LATERAL (SELECT {_driver(common, low, high)} AS driver OFFSET 0) k
        CROSS JOIN LATERAL (SELECT s.pk
        FROM search_words s WHERE s.word = k.driver AND s.pk BETWEEN {low} AND {high}
        AND (d.single OR (NOT EXISTS (SELECT 1 FROM unnest(d.lex) o WHERE o <> k.driver
                AND NOT EXISTS (SELECT 1 FROM search_words x WHERE x.word = o AND x.pk = s.pk))
            AND EXISTS (SELECT 1 FROM articles a WHERE a.pk = s.pk AND a.search @@ d.q)))
        ORDER BY s.pk LIMIT {cap}) r WHERE d.n = {term} AND {only}) m(pk)
        ORDER BY m.pk LIMIT {cap})"""


# The newest pk, the window, and each term's matches in it (at most $9: past that a term is
# common, and which of its matches were read does not matter). So a term's single words are
# read first, and its phrases (each candidate checked for the other words, then against the
# stored tsvector) only when those found fewer than $9.
_READ = f"""
WITH env AS MATERIALIZED (SELECT n AS newest, coalesce($1::bigint, n) AS centre
    FROM (SELECT coalesce(max(pk), 0) AS n FROM articles) m),
win AS MATERIALIZED (SELECT newest, centre,
        coalesce($2::bigint, greatest(centre - $4::bigint, 0)) AS lo,
        coalesce($3::bigint, centre + $4::bigint) AS hi FROM env),
{_forms("$6", "$7", "$8")}
SELECT w.newest, w.centre, w.lo, w.hi, t.n, CASE WHEN cardinality(w1.pks) >= $9
        OR NOT EXISTS (SELECT 1 FROM forms d WHERE d.n = t.n AND NOT d.single) THEN w1.pks
    ELSE {_matches("t.n", "w.lo", "w.hi", "$9", "$10", "NOT d.single", "w1.pks")} END AS pks
FROM win w LEFT JOIN unnest($5::int[]) AS t(n) ON true
CROSS JOIN LATERAL (SELECT {_matches("t.n", "w.lo", "w.hi", "$9", "$10", "d.single")} AS pks
    OFFSET 0) w1
ORDER BY t.n
"""

_WINDOW = ("$5::bigint", "$6::bigint")
# Every match of the chosen terms in a (narrowed) window.
_NARROW = f"""
WITH {_forms("$2", "$3", "$4")}
SELECT t.n, {_matches("t.n", *_WINDOW, "NULL", "$7")} AS pks
FROM unnest($1::int[]) AS t(n) ORDER BY t.n
"""
# How many articles in a window hold each term, up to $7.
_COUNTS = f"""
WITH {_forms("$2", "$3", "$4")}
SELECT t.n, cardinality({_matches("t.n", *_WINDOW, "$7::int", "$8")}) AS found
FROM unnest($1::int[]) AS t(n) ORDER BY t.n
"""


def form_rows(
    terms: Sequence[SearchTerm],
) -> tuple[list[int], list[int], list[str], list[str]]:
    """The terms as the statements take them: their numbers (from 1), then for each form its
    term's number, its words (letters and digits between spaces) and its ``to_tsquery`` text
    (those words quoted, title and excerpt only: nothing a text holds is read as syntax).

    The terms' numbers come as an array, not as their count for ``generate_series``: the
    planner then estimates them at ten in a generic plan (a count gives a thousand), so the
    statements' generic plans cost no more than their custom ones and are kept after five
    runs; a custom plan each time took longer to make than most reads take to run."""
    numbers: list[int] = []
    words: list[str] = []
    for n, term in enumerate(terms, start=1):
        for form in term.forms:
            if found := " ".join(_WORD.findall(form)):
                numbers.append(n)
                words.append(found)
    return list(range(1, len(terms) + 1)), numbers, words, [f"'{w}':AC" for w in words]


# The postings' most common words, most common first, as the planner's statistics (gathered
# by ANALYZE and autovacuum) last saw them: none before the first ANALYZE.
_COMMON = """
SELECT c.word FROM pg_stats s,
    unnest(s.most_common_vals::text::text[], s.most_common_freqs) AS c(word, share)
WHERE s.schemaname = current_schema() AND s.tablename = 'search_words' AND s.attname = 'word'
ORDER BY c.share DESC, c.word
"""
# How long the common words are kept before they are read again (they change slowly, and a
# stale list only makes a phrase's read slower, never its matches different).
COMMON_WORDS_SECONDS = 600.0


# What scoring needs of the pooled articles members see, never the story nor its story.
_SCORING = f"""
SELECT a.pk, a.canonical_url, {_OUTLET} AS outlet, a.title, a.excerpt, a.published_at,
    a.quality, (SELECT count(*) FROM article_topics t
                WHERE t.article_pk = a.pk AND t.topic_id = ANY($2::bigint[])) AS shared
FROM articles a
WHERE a.pk = ANY($1::bigint[]) AND {_seen("$3")}
    AND a.pk IS DISTINCT FROM $4 AND ($5::bigint IS NULL OR a.story_id <> $5)
"""


class PgRelatedRepository:
    """Named queries for related coverage."""

    def __init__(self, db: PgDatabase, articles: PgArticleRepository) -> None:
        self._db = db
        self._articles = articles
        self._common: tuple[float, list[str]] | None = None

    async def common_words(self) -> list[str]:
        """The postings' most common words, most common first (``_COMMON``), read at most
        every ``COMMON_WORDS_SECONDS``."""
        now = time.monotonic()
        if self._common is None or now - self._common[0] > COMMON_WORDS_SECONDS:
            rows = await self._db.fetch_all(_COMMON)
            self._common = (now, [str(r[0]) for r in rows])
        return self._common[1]

    async def story(
        self, article_id: str, url: str | None, guild_id: int, *, coverage: int
    ) -> StoryCoverage | None:
        """The article with this short id (else the one stored under ``url``), with the first
        ``coverage`` of its own coverage the guild's members see, as SQLite's
        ``RelatedRepository.story``. One statement."""
        rows = await self._db.fetch_all(
            _STORY,
            article_id.strip().lower(),
            url,
            guild_id,
            min(max(coverage, 0), MAX_COVERAGE),
        )
        return story_coverage([tuple(r) for r in rows], PG_ARTICLE)

    async def candidates(self, query: CandidateQuery, weights: Weights) -> Search:
        """Plan the search (``CandidateQuery``) and score the articles holding any of its
        terms."""
        terms = distinct_terms(query.terms)
        if not terms:
            return Search(query, [])
        prior = {str(key): [int(pk) for pk in pks] for key, pks in json.loads(query.prior)}
        fixed = query.window
        unread = [t for t in terms if t.key not in prior]
        newest, centre, low, high, found = await self._read(
            unread, query, fixed.low_pk if fixed else None, fixed.high_pk if fixed else None
        )
        reads = [_Read(t, prior[t.key], True) if t.key in prior else found[t.key] for t in terms]
        span = (low, high)
        if fixed is None and not any(r.pks for r in reads):
            _, _, low, high, found = await self._read(terms, query, 0, newest)
            reads, span = [found[t.key] for t in terms], (0, newest)
        plan = plan_search(query, reads, centre, span, newest)
        if plan is None:
            return Search(query, [])
        hits = {t.key: pks for t, _, pks in plan.chosen}
        if plan.window.narrow:
            hits = await self._narrowed(plan)
        found_candidates = await self._scored(plan, pool_of(plan, hits, query), query, weights)
        return Search(
            query,
            found_candidates,
            plan.window,
            plan.counts,
            tuple(t.key for t, _, _ in plan.chosen),
            plan.hits(),
        )

    async def _read(
        self, terms: Sequence[SearchTerm], query: CandidateQuery, low: int | None, high: int | None
    ) -> tuple[int, int, int, int, dict[str, _Read]]:
        rows = await self._db.fetch_all(
            _READ,
            query.centre_pk,
            low,
            high,
            query.half_window,
            *form_rows(terms),
            query.term_cap,
            await self.common_words(),
        )
        first = rows[0]
        found = {
            t.key: _Read(t, list(r["pks"]), False)
            for t, r in zip(terms, [r for r in rows if r["n"] is not None], strict=True)
        }
        return first["newest"], first["centre"], first["lo"], first["hi"], found

    async def _narrowed(self, plan: Plan) -> dict[str, list[int]]:
        rows = await self._db.fetch_all(
            _NARROW,
            *form_rows([t for t, _, _ in plan.chosen]),
            plan.window.low_pk,
            plan.window.high_pk,
            await self.common_words(),
        )
        return {t.key: list(r["pks"]) for (t, _, _), r in zip(plan.chosen, rows, strict=True)}

    async def _scored(
        self, plan: Plan, pool: dict[int, Any], query: CandidateQuery, weights: Weights
    ) -> list[Candidate]:
        if not pool:
            return []
        rows = await self._db.fetch_all(
            _SCORING,
            list(pool),
            list(query.topic_ids),
            query.guild_id,
            query.exclude_pk,
            query.exclude_story,
        )
        mass = plan.mass
        scored = [
            Candidate(
                int(r["pk"]),
                score(r, pool[r["pk"]][0], mass, query, weights),
                int(r["shared"]),
                r["canonical_url"],
                r["outlet"],
                r["title"],
                r["excerpt"],
                tuple(pool[r["pk"]][1]),
            )
            for r in rows
        ]
        scored.sort(key=lambda c: (-c.score, -c.pk))  # on a tie the newer, as on SQLite
        return scored[: query.limit]

    async def term_counts(
        self, terms: Sequence[SearchTerm], low_pk: int, high_pk: int, *, cap: int
    ) -> dict[str, int]:
        """How many articles in the pk window hold each term in title or excerpt (any of its
        forms), counted up to ``cap`` (so a common word costs no more than a rare one)."""
        terms = distinct_terms(terms)
        if not terms:
            return {}
        rows = await self._db.fetch_all(
            _COUNTS, *form_rows(terms), low_pk, high_pk, cap, await self.common_words()
        )
        return {t.key: int(r["found"]) for t, r in zip(terms, rows, strict=True)}

    async def load(self, pks: Sequence[int]) -> dict[int, Article]:
        """Whole articles for these pks."""
        return await self._articles.load(pks)


# SQLite's ``RelatedRepository.story`` statement; an article's tie is the one ordering it first.
_STORY = f"""
WITH s AS MATERIALIZED (SELECT a.pk, coalesce(a.story_id, a.pk) AS story,
        a.published_at AS at, {_seen("$3")} AS visible
    FROM articles a WHERE a.pk = (SELECT pk FROM (SELECT pk, 0 AS o FROM articles WHERE id = $1
        UNION ALL SELECT pk, 1 FROM articles WHERE canonical_url = $2) f ORDER BY o LIMIT 1)),
tied (pk, tie, ord) AS (
    SELECT l.child_pk, 'listed_by_story', l.position::bigint FROM s, related_links l
    WHERE l.parent_pk = s.pk AND s.visible
    UNION ALL SELECT l.parent_pk, 'lists_story', 1000000 + l.parent_pk FROM s, related_links l
    WHERE l.child_pk = s.pk AND s.visible
    UNION ALL SELECT o.pk, 'same_story', 2000000000 + abs(o.published_at - s.at)
    FROM s, articles o WHERE o.story_id = s.story AND s.visible),
shown (pk, tie, ord) AS (SELECT pk, 'story', -1::bigint FROM s WHERE s.visible UNION ALL
    SELECT * FROM (SELECT t.pk, (array_agg(t.tie ORDER BY t.ord))[1], min(t.ord) AS ord
        FROM tied t WHERE t.pk <> (SELECT pk FROM s)
        AND (SELECT {_seen("$3")} FROM articles a WHERE a.pk = t.pk)
        GROUP BY t.pk ORDER BY ord, t.pk LIMIT $4) c)
SELECT {PG_ARTICLE.select}, sh.tie, s.story,
    CASE WHEN sh.tie = 'story' THEN (SELECT coalesce(json_agg(topic_id), '[]')::text
        FROM article_topics WHERE article_pk = s.pk) END
FROM shown sh JOIN articles a ON a.pk = sh.pk, s ORDER BY sh.ord, sh.pk
"""
