"""Story grouping at ingest: articles that cover one event share a ``story_id``.

Two articles are in one story when a file lists one as related to the other, or when their
headlines are near-identical (``titles.similarity`` at least ``GroupingRules.title_similarity``),
they come from different outlets and were published within ``GroupingRules.window_seconds``
of each other. A story is named by the smallest article pk it ever held. Stories only merge,
never split, so an alert sent for a story stays valid for it.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from storage.database import Database
from storage.sql import chunks, placeholders
from storage.titles import numbers_differ, title_words

# Title keys are filed by week of publication (migration 0007).
WEEK = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class GroupingRules:
    """When headlines make two articles one story."""

    window_seconds: int = 72 * 3600
    title_similarity: float = 0.7
    # A title key filed for more other headlines than this within an article's window is a
    # stop key for it, as a search engine skips its stop words: of the headlines filed under
    # it only one is compared (see ``_candidate_pairs``), so the work per article stays within
    # 4 keys x this many comparisons however many stored headlines share its words.
    # Near-identical headlines usually share several keys, and a key this common says little
    # about which story a headline belongs to: on the labelled benchmark, 8 keeps the recall
    # of 1,000 and raises the precision (``bench.related.bench_grouping``).
    stop_key_headlines: int = 8


@dataclass(frozen=True, slots=True)
class _Headline:
    """A headline's significant words."""

    words: frozenset[str]

    @classmethod
    def of(cls, words: Iterable[str]) -> _Headline:
        return cls(frozenset(words))

    def is_near(self, other: _Headline, threshold: float) -> bool:
        """``titles.similarity(self, other) >= threshold``, with the figures compared only
        for the few pairs whose words are close enough."""
        if not self.words or not other.words:
            return False
        shared = len(self.words & other.words)
        if shared / (len(self.words) + len(other.words) - shared) < threshold:
            return False
        return not numbers_differ(self.words, other.words)


class _Headlines:
    """Headlines by title, of the stored articles met lately as candidates: a story's
    articles, or the first filed under a stop key, meet again batch after batch. Two
    generations of at most ``size`` each, the older dropped whole when the newer is full, so
    the memory held stays within ``2 x size`` headlines however long a run is."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._new: dict[str, _Headline] = {}
        self._old: dict[str, _Headline] = {}

    def get(self, title: str) -> _Headline:
        """The headline of ``title``."""
        found = self._new.get(title)
        if found is None:
            found = self._old.get(title) or _Headline.of(title_words(title))
            if len(self._new) >= self._size:
                self._old, self._new = self._new, {}
            self._new[title] = found
        return found


_headlines = _Headlines(4096)


class Written(NamedTuple):
    """An article row just written, as grouping needs it (the store knows all of it)."""

    story_id: int | None  # as stored before this write; None for a new row
    published_at: int
    domain: str
    words: tuple[str, ...]  # ``titles.analyse`` of its title
    keys: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Row:
    pk: int
    story_id: int | None
    published_at: int
    domain: str
    headline: _Headline
    keys: tuple[int, ...]


class _Components:
    """Union-find over article pks and story ids (both are pks)."""

    def __init__(self) -> None:
        self._parent: dict[int, int] = {}

    def root(self, item: int) -> int:
        parent = self._parent.setdefault(item, item)
        while parent != item:
            grand = self._parent[parent]
            self._parent[item] = grand
            item, parent = parent, grand
        return item

    def items(self) -> list[int]:
        """Everything joined so far."""
        return list(self._parent)

    def join(self, a: int, b: int) -> None:
        ra, rb = self.root(a), self.root(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)


async def assign_stories(
    db: Database,
    written: Mapping[int, Written],
    rules: GroupingRules,
    *,
    rewritten: Collection[int],
) -> None:
    """Put the articles just written (by pk) into stories; ``rewritten`` are those stored
    before, whose old title keys go. Runs inside the caller's transaction; costs a few
    set-based statements per batch."""
    if not written:
        return
    rows = {
        pk: _Row(pk, w.story_id, w.published_at, w.domain, _Headline.of(w.words), w.keys)
        for pk, w in written.items()
    }
    components = _Components()
    for row in rows.values():
        components.join(row.pk, row.story_id or row.pk)
    for a, b in await _linked(db, list(written)):
        components.join(a, b)
    await _write_keys(db, rows, rewritten)
    await _join_near_identical(db, rows, rules, components)
    await _merge(db, components)


async def _linked(db: Database, pks: Sequence[int]) -> list[tuple[int, int]]:
    """(article, story or article) pairs joined by curated links touching ``pks``."""
    pairs: list[tuple[int, int]] = []
    for chunk in chunks(sorted(set(pks)), 450):
        marks = placeholders(len(chunk))
        sql = (
            "SELECT l.parent_pk, ifnull(a.story_id, a.pk) FROM related_links l "
            f"JOIN articles a ON a.pk = l.child_pk WHERE l.parent_pk IN ({marks}) "
            "UNION ALL SELECT l.child_pk, ifnull(a.story_id, a.pk) FROM related_links l "
            f"JOIN articles a ON a.pk = l.parent_pk WHERE l.child_pk IN ({marks})"
        )
        pairs.extend((int(r[0]), int(r[1])) for r in await db.fetch_all(sql, [*chunk, *chunk]))
    return pairs


async def _write_keys(db: Database, rows: dict[int, _Row], rewritten: Collection[int]) -> None:
    await db.executemany(
        "DELETE FROM story_title_keys WHERE article_pk = ?",
        [(pk,) for pk in rows if pk in rewritten],
    )
    await db.executemany(
        "INSERT OR IGNORE INTO story_title_keys (week, key, published_at, article_pk) "
        "VALUES (?,?,?,?)",
        [
            (row.published_at // WEEK, key, row.published_at, row.pk)
            for row in rows.values()
            for key in row.keys
        ],
    )


async def _join_near_identical(
    db: Database, rows: dict[int, _Row], rules: GroupingRules, components: _Components
) -> None:
    """Join each article to the stories whose headlines are near-identical to its own, from
    another outlet, within the window. Candidates come from shared title keys through the
    index, at most a stop key's first from each of its keys (``GroupingRules``)."""
    pairs = await _candidate_pairs(db, rows, rules)
    stored = await _stored_candidates(db, {other for _, other in pairs if other not in rows})
    for pk, other in pairs:
        row = rows[pk]
        known = rows.get(other)
        if known is not None:
            domain, headline, story = known.domain, known.headline, other
        elif (found := stored.get(other)) is not None:
            domain, headline, story = found
        else:
            continue
        if row.domain == domain and row.domain:
            continue
        if row.headline.is_near(headline, rules.title_similarity):
            components.join(pk, story)
            components.join(pk, other)


def _week_of(seconds: str) -> str:
    """SQL for the week of a timestamp, rounded down as Python's ``//`` does before 1970."""
    return f"(({seconds}) - ((({seconds}) % {WEEK}) + {WEEK}) % {WEEK}) / {WEEK}"


@cache
def _key_walks(weeks: int) -> str:
    """One walk of the index per title key of each article just written, over the weeks its
    window reaches (at most ``weeks``), made from the keys the batch filed (nothing to send
    but the batch's pks), stopping after ``:cap`` headlines: however many share a key, the
    walk reads no more, and the headlines themselves are read only for the candidates kept.
    Walks that find nothing but the article itself are left out here; most are."""
    first = _week_of("k.published_at - :window")
    last = _week_of("k.published_at + :window")
    spanned = ", ".join(
        f"CASE WHEN p.w0 + {n} <= p.w1 THEN p.w0 + {n} END" if n else "p.w0" for n in range(weeks)
    )
    return (
        "WITH probes AS (SELECT k.article_pk AS pk, k.key AS key,"
        " k.published_at - :window AS start, k.published_at + :window AS end,"
        f" {first} AS w0, {last} AS w1"
        " FROM json_each(:pks) b JOIN story_title_keys k ON k.article_pk = b.value)"
        " SELECT pk, found FROM (SELECT p.pk, (SELECT group_concat(article_pk)"
        f" FROM (SELECT s.article_pk FROM story_title_keys s WHERE s.week IN ({spanned})"
        " AND s.key = p.key AND s.published_at BETWEEN p.start AND p.end LIMIT :cap)) AS found"
        " FROM probes p LIMIT -1)"  # (the LIMIT keeps the walk from running twice for the WHERE)
        " WHERE found <> CAST(pk AS TEXT)"
    )


async def _candidate_pairs(
    db: Database, rows: dict[int, _Row], rules: GroupingRules
) -> set[tuple[int, int]]:
    """(article, candidate) pairs: every other headline filed under one of the article's
    keys within its window, unless the key is a stop key; then one, per article: the first
    filed under its first stop key. A crowd sharing a key that is one big story (an election
    result in forty outlets' words) still meets, so it stays one story, for one comparison."""
    # with the article itself, a walk that reaches bound + 2 headlines found a stop key
    cap = rules.stop_key_headlines + 2
    params = {"pks": json.dumps(list(rows)), "window": rules.window_seconds, "cap": cap}
    walks = await db.fetch_all(_key_walks(2 * rules.window_seconds // WEEK + 2), params)
    pairs: set[tuple[int, int]] = set()
    first: dict[int, int] = {}
    for pk, found in walks:
        if found.count(",") + 1 < cap:
            pairs.update((pk, other) for other in map(int, found.split(",")) if other != pk)
        elif pk not in first:
            first[pk] = next(other for other in map(int, found.split(",", 2)[:2]) if other != pk)
    pairs.update(first.items())
    return pairs


async def _stored_candidates(
    db: Database, pks: Collection[int]
) -> dict[int, tuple[str, _Headline, int]]:
    """Stored articles by pk: their outlet's domain, headline and story."""
    found: dict[int, tuple[str, _Headline, int]] = {}
    for chunk in chunks(sorted(pks)):
        sql = (
            "SELECT pk, provider_domain, title, ifnull(story_id, pk) FROM articles "
            f"WHERE pk IN ({placeholders(len(chunk))})"
        )
        for pk, domain, title, story in await db.fetch_all(sql, chunk):
            found[int(pk)] = (str(domain), _headlines.get(str(title)), int(story))
    return found


async def _merge(db: Database, components: _Components) -> None:
    """Give every article of a component its story id; fold merged stories into it."""
    updates = [(components.root(item), item) for item in components.items()]
    await db.executemany(
        "UPDATE articles SET story_id = ?1 WHERE pk = ?2 AND story_id IS NOT ?1", updates
    )
    merged = [(root, item) for root, item in updates if root != item]
    await db.executemany("UPDATE articles SET story_id = ? WHERE story_id = ?", merged)
