"""Term associations learned from what the store knows: paraphrases between outlets.

Outlets covering one event write it differently ("face cameras" / "facial recognition",
"microplastics" / "plastic particles"). Every story that holds articles of different outlets
(joined by a file's curated ``related`` list or grouped at ingest) pairs such texts. For terms
a and b (``bot.domain.terms``: words, names, figures), counting how often a pair holds a on
one side and b on the other, against how often chance would put them there (lift), gives a
source of synonyms that fits the store's own news.

A pair counts a and b only when a is on one side and not the other, and b the reverse: the
words both sides share are found anyway. An association must be seen in ``MIN_PAIRS`` pairs
of ``MIN_STORIES`` different stories (one story's own names and figures are that story, not
a paraphrase) and ``MIN_LIFT`` times more often than chance; each term keeps its
``KEPT_PER_TERM`` strongest, by the share of its pairs that hold the associate opposite.

Learning reads the newest stories and is CPU work (each article's terms, seconds at 100k
articles), so housekeeping does it, off the ingest path, in a process of its own: in a thread
it would hold the interpreter lock that the bot's event loop needs to answer commands. The
table is replaced whole at each run.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from bot.domain.terms import Term, story_terms
from storage.api import StoreApi
from storage.associations import Association, StoryMember

MIN_PAIRS = 2
MIN_STORIES = 2
MIN_LIFT = 2.0
KEPT_PER_TERM = 4
# Terms of each article that are paired (its heaviest): bounds the work per pair.
TERMS_PER_ARTICLE = 12
# What one run reads: the newest stories holding more than one article, and articles of each.
STORIES_READ = 5_000
ARTICLES_PER_STORY = 6


@dataclass(frozen=True, slots=True)
class _Side:
    outlet: str
    keys: frozenset[str]


def learn(members: Iterable[StoryMember]) -> list[Association]:
    """The associations the stories of ``members`` (grouped by story) show."""
    forms: dict[str, tuple[str, ...]] = {}
    sides: Counter[str] = Counter()
    together: Counter[tuple[str, str]] = Counter()
    stories: dict[tuple[str, str], set[int]] = defaultdict(set)
    pairs = 0
    for story_id, articles in itertools.groupby(members, key=lambda m: m.story_id):
        for one, other in itertools.combinations([_side(m, forms) for m in articles], 2):
            if one.outlet == other.outlet:
                continue  # a follow-up of one outlet is not a paraphrase
            pairs += 1
            for this, that in ((one, other), (other, one)):
                sides.update(this.keys)
                for a in this.keys - that.keys:
                    for b in that.keys - this.keys:
                        together[(a, b)] += 1
                        if len(stories[(a, b)]) < MIN_STORIES:
                            stories[(a, b)].add(story_id)
    return _strongest(together, stories, sides, 2 * pairs, forms)


def _side(member: StoryMember, forms: dict[str, tuple[str, ...]]) -> _Side:
    terms = story_terms(member.title, member.excerpt)[:TERMS_PER_ARTICLE]
    for term in terms:
        forms.setdefault(term.key, term.forms)
    return _Side(member.outlet, frozenset(t.key for t in terms))


def _strongest(
    together: Counter[tuple[str, str]],
    stories: dict[tuple[str, str], set[int]],
    sides: Counter[str],
    oriented_pairs: int,
    forms: dict[str, tuple[str, ...]],
) -> list[Association]:
    by_term: dict[str, list[Association]] = defaultdict(list)
    for (a, b), count in together.items():
        if count < MIN_PAIRS or len(stories[(a, b)]) < MIN_STORIES:
            continue
        lift = count * oriented_pairs / (sides[a] * sides[b])
        if lift >= MIN_LIFT:
            by_term[a].append(Association(a, b, forms[b], round(count / sides[a], 4)))
    kept = []
    for found in by_term.values():
        found.sort(key=lambda x: (-x.strength, x.associate))
        kept += found[:KEPT_PER_TERM]
    return kept


def associated_terms(
    terms: Sequence[Term], found: Sequence[Association], *, scale: float, limit: int
) -> list[Term]:
    """The associates of ``terms`` that are not among them, each weighing its term's weight
    times the association's strength times ``scale`` (added up over the terms that lead to
    it), heaviest first, at most ``limit``."""
    weight_of = {t.key: t.weight for t in terms}
    weights: dict[str, float] = defaultdict(float)
    spelled: dict[str, tuple[str, ...]] = {}
    for association in found:
        if association.associate in weight_of or association.term not in weight_of:
            continue
        weights[association.associate] += weight_of[association.term] * association.strength * scale
        spelled.setdefault(association.associate, association.forms)
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [Term(key, spelled[key], weight, key) for key, weight in ranked]


class AssociationLearner:
    """Relearns the store's term associations (a housekeeping step)."""

    def __init__(self, store: StoreApi) -> None:
        self._store = store

    async def run(self) -> int:
        """Learn from the newest stories and replace the table; how many associations."""
        members = await self._store.associations.story_members(
            stories=STORIES_READ, per_story=ARTICLES_PER_STORY
        )
        learned = await _learn_apart(members) if members else []
        await self._store.associations.replace(learned)
        return len(learned)


async def _learn_apart(members: list[StoryMember]) -> list[Association]:
    # spawn, not fork: this process runs threads (aiosqlite's) that fork would copy mid-state
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, learn, members)
    finally:
        await asyncio.to_thread(pool.shutdown)


__all__ = ["AssociationLearner", "associated_terms", "learn"]
