"""How a typed topic name is taken, wherever a member or moderator types one (`/subscribe`,
`/latest`, `/feed add` among the server's topics; `/unsubscribe` among their own; `/feed
remove` among a channel's feeds): the name itself (any case or spacing), else the one name
that folds alike (typed without accents: 'quebec' for Québec); else they are asked which:
the names that fold alike, or failing those the closest spellings ('climte' for Climate)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from bot.domain.errors import UserError
from bot.domain.text import shown
from storage.topics import topic_fold, topic_key

T = TypeVar("T")

# Close spellings offered back at most: a reply, not a listing.
NEAR_SHOWN = 3
PICK = "Pick one of the suggestions."


def either(names: Iterable[str]) -> str:
    """'A', 'A or B', 'A, B or C': topic names offered back to a member, each unable to
    mention anyone."""
    listed = [shown(name) for name in names]
    return listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} or {listed[-1]}"


def did_you_mean(names: Iterable[str]) -> str:
    """'Did you mean A or B?' for the names offered back."""
    return f"Did you mean {either(names)}?"


def edits(a: str, b: str, most: int | None = None) -> int:
    """How many letters to add, drop, change or swap with the next one to turn ``a`` into
    ``b`` (the optimal string alignment distance); past ``most``, ``most + 1`` as soon as
    that is certain (a name far off costs a few rows, not all of them)."""
    if most is not None and abs(len(a) - len(b)) > most:
        return most + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        # a swap reaches back two rows: both must be past ``most`` for the rest to be
        if most is not None and min(current) > most and min(previous) > most:
            return most + 1
        previous2, previous = previous, current
    return previous[-1]


def slack(folded: str) -> int:
    """How many edits a typed name may be from a topic's and still be offered: none for a
    name too short to tell a slip from another word, more for longer names."""
    size = len(folded)
    return 0 if size < 3 else 1 if size <= 4 else 2 if size <= 9 else 3


@dataclass(frozen=True, slots=True)
class NearShape:
    """What a name ``near_names`` may offer has in common with the typed one: a folded length
    from ``shortest`` to ``longest``, and its first or its last letter (a slip at both ends
    takes two edits, more than a short name is allowed), so that the store hands over few."""

    shortest: int
    longest: int
    first: str
    last: str


def near_shape(typed: str) -> NearShape | None:
    """The shape of the names ``near_names`` may offer for ``typed``; None when it offers
    none (a name too short)."""
    folded = topic_fold(typed)
    allowed = slack(folded)
    if not allowed:
        return None
    return NearShape(len(folded) - allowed, len(folded) + allowed, folded[0], folded[-1])


def near_names(typed: str, names: Iterable[str], *, limit: int = NEAR_SHOWN) -> list[str]:
    """The names spelt closest to ``typed`` (accents and case aside), within its ``slack``:
    only those at the smallest distance found, in the order given (most-used first), at most
    ``limit``."""
    folded = topic_fold(typed)
    allowed = slack(folded)
    if not allowed:
        return []
    scored = [(edits(folded, topic_fold(name), allowed), name) for name in dict.fromkeys(names)]
    near = [(score, name) for score, name in scored if score <= allowed]
    if not near:
        return []
    best = min(score for score, _ in near)
    return [name for score, name in near if score == best][:limit]


class TopicLookup(Protocol[T]):
    """Where a typed name is looked for: the server's topics, or a list of the caller's."""

    async def exact(self, typed: str) -> T | None:
        """The one of exactly this name (any case or spacing)."""

    async def alike(self, typed: str) -> Sequence[T]:
        """Those whose name folds as ``typed`` does, most-used first."""

    async def near(self, typed: str) -> list[str]:
        """The names spelt closest to ``typed`` (``near_names``)."""

    def name_of(self, item: T) -> str:
        """The item's topic name."""


@dataclass(frozen=True, slots=True)
class Missing:
    """What a reply says when the name is not found: ``what`` (a sentence naming what is
    missing), then ``hint`` (how to find it), or ``near_hint`` after close spellings."""

    what: str
    hint: str
    near_hint: str = PICK


async def resolve(typed: str, lookup: TopicLookup[T], missing: Missing) -> T:
    """The item ``typed`` names (module docstring), or a UserError asking which one."""
    found = await lookup.exact(typed)
    if found is not None:
        return found
    alike = await lookup.alike(typed)
    if len(alike) == 1:
        return alike[0]
    if alike:
        raise UserError(f"{did_you_mean(lookup.name_of(a) for a in alike)} {PICK}")
    near = await lookup.near(typed)
    if near:
        raise UserError(f"{missing.what} {did_you_mean(near)} {missing.near_hint}")
    raise UserError(f"{missing.what} {missing.hint}")


@dataclass(frozen=True, slots=True)
class InList(Generic[T]):
    """A lookup among items held in hand (a member's subscriptions, a channel's feeds), in
    the order given."""

    items: Sequence[T]
    topic_name: Callable[[T], str]

    async def exact(self, typed: str) -> T | None:
        key = topic_key(typed)
        return next((i for i in self.items if topic_key(self.topic_name(i)) == key), None)

    async def alike(self, typed: str) -> list[T]:
        folded = topic_fold(typed)
        return [i for i in self.items if topic_fold(self.topic_name(i)) == folded]

    async def near(self, typed: str) -> list[str]:
        return near_names(typed, (self.topic_name(i) for i in self.items))

    def name_of(self, item: T) -> str:
        return self.topic_name(item)
