"""The order of a story's best similar stories, judged by what each says of itself.

The search scores a candidate by the share of the story's terms it holds, counted by closeness
in time. What it cannot see is whether the candidate is *about* the story: an earlier chapter
of a saga or the same kind of event in the neighbouring country holds the story's words too,
and so does each outlet's take on the event. Those differ in what the search does not
count: how much of the candidate's own words the story (or its own coverage) also holds, how
far apart in time they are, whether it agrees with the other best candidates (one event's
coverage agrees with itself), whether it is the story's own outlet again or one already
listed above it (an event's other coverage comes from other outlets).

``reorder`` weighs those (``FEATURES``) for the search's first ``RERANK_POOL`` candidates
with weights fit by logistic regression on the written evaluation sets' pools
(``python -m bench.related.rerank learn``: sets written by other authors than the engine's
and than each other, each one's fit judged on the sets left out of it). The candidates keep
their scores (what is close and what is loose stays the search's call); only their order
changes.

Words here are read plainly (folded tokens without stopwords, cut to their first six
letters, a headline word counting twice an excerpt's): the search's own terms cost
twenty times more to read (194 us an article against 9), and gave no better order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.terms import STOPWORDS, tokens
from storage.titles import fold

# The search's candidates re-ordered per story; the rest follow in the search's order.
RERANK_POOL = 12
# The other candidates a candidate's agreement is measured with.
AGREEMENT_WITH = 5
# Hours apart assumed where either date is unknown: a day, neither close nor far.
UNKNOWN_HOURS = 24.0
# A word is known by its first letters: "protest", "protesters", "protested" are one.
STEM_LETTERS = 6
HEADLINE_WEIGHT = 2.0
EXCERPT_WEIGHT = 1.0

FEATURES = (
    "score against the best candidate's",
    "score",
    "1 / (1 + rank)",
    "exp(-hours apart / 24)",
    "days apart",
    "same outlet as the story",
    "same outlet as a candidate above it",
    "share of the story's topics",
    "share of the story's words it holds",
    "share of its words the story holds",
    "agreement with the best others",
)
# Fit by ``python -m bench.related.rerank learn`` on eight written sets (written, written2,
# written3, heldout, written4, written5, written6, written7); written8 and written9 judge it.
# fmt: off
WEIGHTS = (
    -1.2838, 8.7855, 2.4584, -6.1330, -3.9994, -2.9861, -1.9721, 0.7495, 4.1635, -2.7107, 4.2098,
)
# fmt: on


@dataclass(frozen=True, slots=True)
class Piece:
    """What the re-rank reads of an article: its text, its date (Unix seconds, None when
    unknown), its outlet and its topics."""

    title: str
    excerpt: str
    published_at: int | None
    outlet: str
    topics: frozenset[str]

    @classmethod
    def of(
        cls, title: str, excerpt: str, published_at: int | None, outlet: str, topics: Sequence[str]
    ) -> Piece:
        return cls(title, excerpt, published_at, outlet.casefold(), frozenset(map(fold, topics)))


def words(title: str, excerpt: str) -> dict[str, float]:
    """An article's words as the re-rank weighs them."""
    found: dict[str, float] = {}
    for text, weight in ((title, HEADLINE_WEIGHT), (excerpt, EXCERPT_WEIGHT)):
        for token in tokens(text):
            if token in STOPWORDS or (len(token) < 3 and not token.isdigit()):
                continue
            stem = token[:STEM_LETTERS]
            if found.get(stem, 0.0) < weight:
                found[stem] = weight
    return found


def features(
    story: Piece, coverage: Sequence[Piece], pool: Sequence[tuple[float, Piece]]
) -> list[list[float]]:
    """``FEATURES`` of each (score, piece) of ``pool`` (best first) for ``story``, whose own
    coverage is ``coverage``."""
    if not pool:
        return []
    known = words(story.title, story.excerpt)
    for other in coverage:
        for word, weight in words(other.title, other.excerpt).items():
            if known.get(word, 0.0) < weight:
                known[word] = weight
    known_mass = sum(known.values()) or 1.0
    own = [words(piece.title, piece.excerpt) for _, piece in pool]
    best = pool[0][0] or 1.0
    outlets_above: set[str] = set()
    rows = []
    for rank, ((score, piece), mine) in enumerate(zip(pool, own, strict=True)):
        hours = _hours_apart(story, piece)
        mine_mass = sum(mine.values()) or 1.0
        agreement = [
            cosine(mine, theirs) for i, theirs in enumerate(own[:AGREEMENT_WITH]) if i != rank
        ]
        rows.append(
            [
                score / best,
                score,
                1 / (1 + rank),
                math.exp(-hours / 24),
                hours / 24,
                float(bool(story.outlet) and piece.outlet == story.outlet),
                float(piece.outlet in outlets_above),
                len(story.topics & piece.topics) / max(len(story.topics), 1),
                sum(w for word, w in known.items() if word in mine) / known_mass,
                sum(w for word, w in mine.items() if word in known) / mine_mass,
                sum(agreement) / len(agreement) if agreement else 0.0,
            ]
        )
        if piece.outlet:
            outlets_above.add(piece.outlet)
    return rows


def judged(row: Sequence[float], weights: Sequence[float] = WEIGHTS) -> float:
    """How likely a candidate of these features is the story's event (a logit), by the
    shipped ``weights`` or others being fit."""
    return sum(w * x for w, x in zip(weights, row, strict=True))


def reorder(
    story: Piece, coverage: Sequence[Piece], pool: Sequence[tuple[float, Piece]]
) -> list[int]:
    """The positions of ``pool`` (the search's best first), most likely the story's event
    first; ties keep the search's order."""
    rows = features(story, coverage, pool)
    return sorted(range(len(rows)), key=lambda i: -judged(rows[i]))


def _hours_apart(story: Piece, piece: Piece) -> float:
    if story.published_at is None or piece.published_at is None:
        return UNKNOWN_HOURS
    return abs(story.published_at - piece.published_at) / 3600


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """The cosine of two weighed word sets (0 when they share nothing)."""
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b.get(k, 0.0) for k, w in a.items())
    if not dot:
        return 0.0
    return dot / math.sqrt(sum(w * w for w in a.values()) * sum(w * w for w in b.values()))


__all__ = [
    "FEATURES",
    "RERANK_POOL",
    "WEIGHTS",
    "Piece",
    "cosine",
    "features",
    "reorder",
    "words",
]
