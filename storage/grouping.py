"""Story grouping at ingest: articles that cover one event share a ``story_id``.

Two articles are in one story when a file lists one as related to the other, or when their
headlines are near-identical (``titles.similarity`` at least ``GroupingRules.title_similarity``),
they come from different outlets and were published within ``GroupingRules.window_seconds``
of each other. A story is named by the smallest article pk it ever held. Stories only merge,
never split, so an alert sent for a story stays valid for it.

This module is the engines' shared logic (which headlines are near-identical, which articles
join); each engine reads and writes through its ``GroupingQueries`` (SQLite:
``storage.grouping_sql``, PostgreSQL: ``storage.postgresql.grouping``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

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


class Components:
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


class GroupingQueries(Protocol):
    """The SQL grouping runs, on one engine, inside the caller's transaction."""

    async def linked(self, pks: Sequence[int]) -> list[tuple[int, int]]:
        """(article, story or article) pairs joined by curated links touching ``pks``."""
        ...

    async def write_keys(self, keys: Sequence[TitleKey], rewritten: Sequence[int]) -> None:
        """Remove the title keys of ``rewritten`` articles, then file ``keys``."""
        ...

    async def key_walks(
        self, keys: Sequence[TitleKey], rules: GroupingRules, cap: int
    ) -> list[tuple[int, list[int]]]:
        """For each of the title keys just filed (``write_keys``): (its article, the first
        ``cap`` articles filed under that key within the article's window, in index order),
        leaving out walks that found the article alone."""
        ...

    async def stored_candidates(self, pks: Collection[int]) -> list[tuple[int, str, str, int]]:
        """Stored articles by pk: (pk, outlet's domain, title, story)."""
        ...

    async def merge(self, updates: Sequence[tuple[int, int]]) -> None:
        """Give each (story, article) article its story, and fold every article of a story
        ``article`` named before into ``story``."""
        ...


class TitleKey(NamedTuple):
    """One title key filed for an article (``story_title_keys``)."""

    week: int
    key: int
    published_at: int
    article_pk: int


async def assign_stories(
    queries: GroupingQueries,
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
    components = Components()
    for row in rows.values():
        components.join(row.pk, row.story_id or row.pk)
    for a, b in await queries.linked(list(written)):
        components.join(a, b)
    keys = _title_keys(rows)
    await queries.write_keys(keys, [pk for pk in rows if pk in rewritten])
    await _join_near_identical(queries, rows, keys, rules, components)
    await queries.merge([(components.root(item), item) for item in components.items()])


def _title_keys(rows: Mapping[int, _Row]) -> list[TitleKey]:
    return [
        TitleKey(row.published_at // WEEK, key, row.published_at, row.pk)
        for row in rows.values()
        for key in dict.fromkeys(row.keys)
    ]


async def _join_near_identical(
    queries: GroupingQueries,
    rows: dict[int, _Row],
    keys: Sequence[TitleKey],
    rules: GroupingRules,
    components: Components,
) -> None:
    """Join each article to the stories whose headlines are near-identical to its own, from
    another outlet, within the window. Candidates come from shared title keys through the
    index, at most a stop key's first from each of its keys (``GroupingRules``)."""
    # with the article itself, a walk that reaches bound + 2 headlines found a stop key
    cap = rules.stop_key_headlines + 2
    pairs = candidate_pairs(await queries.key_walks(keys, rules, cap), cap)
    wanted = {other for _, other in pairs if other not in rows}
    stored = {
        pk: (domain, _headlines.get(title), story)
        for pk, domain, title, story in await queries.stored_candidates(wanted)
    }
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


def candidate_pairs(walks: Iterable[tuple[int, list[int]]], cap: int) -> set[tuple[int, int]]:
    """(article, candidate) pairs from the walks: every other headline filed under one of
    the article's keys within its window, unless the key is a stop key (its walk reached
    ``cap``); then one, per article: the first filed under its first stop key. A crowd
    sharing a key that is one big story (an election result in forty outlets' words) still
    meets, so it stays one story, for one comparison."""
    pairs: set[tuple[int, int]] = set()
    first: dict[int, int] = {}
    for pk, found in walks:
        if len(found) < cap:
            pairs.update((pk, other) for other in found if other != pk)
        elif pk not in first:
            first[pk] = next(other for other in found[:2] if other != pk)
    pairs.update(first.items())
    return pairs


def week_windows(rules: GroupingRules) -> int:
    """How many weeks an article's window can reach (its walks visit at most these)."""
    return 2 * rules.window_seconds // WEEK + 2
