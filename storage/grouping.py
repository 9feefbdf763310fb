"""Story grouping at ingest: articles that cover one event share a ``story_id``.

Two articles are in one story when a file lists one as related to the other, or when their
headlines are near-identical (``titles.similarity`` at least ``GroupingRules.title_similarity``),
they come from different outlets and were published within ``GroupingRules.window_seconds``
of each other. A story is named by the smallest article pk it ever held. Stories only merge,
never split, so an alert sent for a story stays valid for it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
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


# Headlines met as candidates, by title: a story's articles meet again batch after batch.
_HEADLINE_CACHE_SIZE = 100_000
_headlines: dict[str, _Headline] = {}


def _headline(title: str) -> _Headline:
    found = _headlines.get(title)
    return found if found is not None else _remember(title, title_words(title))


def _remember(title: str, words: Iterable[str]) -> _Headline:
    """The headline of ``title`` (whose significant words are ``words``), kept for later."""
    if len(_headlines) >= _HEADLINE_CACHE_SIZE:
        _headlines.clear()
    headline = _headlines[title] = _Headline.of(words)
    return headline


class Written(NamedTuple):
    """An article row just written, as grouping needs it (the store knows all of it)."""

    story_id: int | None  # as stored before this write; None for a new row
    published_at: int
    domain: str
    title: str
    words: tuple[str, ...]  # ``titles.analyse(title)``
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
        pk: _Row(pk, w.story_id, w.published_at, w.domain, _remember(w.title, w.words), w.keys)
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
    index."""
    probes = [
        (week, key, start, end, row.pk)
        for row in rows.values()
        for start, end in [(row.published_at - rules.window_seconds,
                            row.published_at + rules.window_seconds)]
        for week in range(start // WEEK, end // WEEK + 1)
        for key in row.keys
    ]  # fmt: skip
    # The probes go through a temporary table: read from JSON, each of their five values
    # would be parsed out of its array again for every comparison of the join.
    await db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS title_probes "
        "(week INTEGER, key INTEGER, start INTEGER, end INTEGER, pk INTEGER)"
    )
    await db.executemany("INSERT INTO temp.title_probes VALUES (?, ?, ?, ?, ?)", probes)
    candidates = await db.fetch_all(
        "SELECT DISTINCT p.pk, a.pk, ifnull(a.story_id, a.pk), a.provider_domain, a.title "
        "FROM temp.title_probes p "
        "JOIN story_title_keys k ON k.week = p.week AND k.key = p.key "
        "AND k.published_at BETWEEN p.start AND p.end AND k.article_pk != p.pk "
        "JOIN articles a ON a.pk = k.article_pk"
    )
    await db.execute("DELETE FROM temp.title_probes")
    for pk, other, story, domain, title in candidates:
        row = rows[pk]
        if row.domain == domain and row.domain:
            continue
        known = rows.get(other)
        headline = known.headline if known is not None else _headline(title)
        if row.headline.is_near(headline, rules.title_similarity):
            components.join(pk, story)
            components.join(pk, other)


async def _merge(db: Database, components: _Components) -> None:
    """Give every article of a component its story id; fold merged stories into it."""
    updates = [(components.root(item), item) for item in components.items()]
    await db.executemany(
        "UPDATE articles SET story_id = ?1 WHERE pk = ?2 AND story_id IS NOT ?1", updates
    )
    merged = [(root, item) for root, item in updates if root != item]
    await db.executemany("UPDATE articles SET story_id = ? WHERE story_id = ?", merged)
