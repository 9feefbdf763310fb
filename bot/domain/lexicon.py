"""The news register's paraphrases, hand-written (``headlinese.txt``): the words outlets use
for one kind of event, office or abbreviation (``quits`` / ``resigns`` / ``steps down``,
``jailed`` / ``behind bars``, ``LFR`` / ``live facial recognition``).

The store's learned associations (``bot.domain.associations``) need many stories pairing
outlets before they know a paraphrase; these are known from the first story. They reach the
search the same way: as associations of a story's terms, searched at a share of the term's
weight (``related.lexicon_weight``). A story's phrases (``step down``, ``behind bars``) are
read from its text, its words from its terms.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from bot.domain.spelling import respellings, variants
from bot.domain.terms import EXCERPT_WEIGHT, MAX_FORMS, TITLE_WEIGHT, Term, tokens
from bot.domain.text import readable
from storage.associations import Association

SOURCE_FILE = "headlinese.txt"
# A line's items come commonest first; each later one weighs this much less than the one
# before, so that when few associates are searched a line's commonest come first, and the
# first of each line before the second of any.
LATER_ITEM = 0.95
# Phrases read from a story are at most this many words.
MAX_PHRASE_WORDS = 6


@dataclass(frozen=True, slots=True)
class Item:
    """One way of writing a line's sense: its key, the token sequences that spell it, whether
    a story's use of it calls up the line (``source``), and whether it is searched for."""

    key: str
    forms: tuple[str, ...]
    source: bool
    searched: bool


class Lexicon:
    """Lines of interchangeable items, indexed by what a story holds of them."""

    def __init__(self, lines: Iterable[Sequence[Item]]) -> None:
        self._lines = [tuple(line) for line in lines]
        # a story's term key -> (line, item) it calls up; a phrase's words -> its item's key
        self._calls: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self._phrases: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for number, line in enumerate(self._lines):
            for place, item in enumerate(line):
                if item.source:
                    self._index(number, place, item)

    def _index(self, number: int, place: int, item: Item) -> None:
        for form in item.forms:
            words = tuple(form.split())
            if len(words) == 1:
                self._calls[variants(form)[0]].append((number, place))
            else:
                self._phrases[words].add(item.key)
                self._calls[item.key].append((number, place))

    def __len__(self) -> int:
        return len(self._lines)

    def phrases(self, title: str, excerpt: str) -> list[Term]:
        """The lexicon's phrases a story writes, as terms weighing what a word of its
        headline or excerpt weighs (added up when both write it)."""
        weights: dict[str, float] = defaultdict(float)
        for text, weight in ((title, TITLE_WEIGHT), (excerpt, EXCERPT_WEIGHT)):
            words = tokens(readable(text))
            seen = {
                key
                for start in range(len(words))
                for size in range(2, MAX_PHRASE_WORDS + 1)
                for key in self._phrases.get(tuple(words[start : start + size]), ())
            }
            for key in seen:
                weights[key] += weight
        return [Term(key, (key,), weight, key) for key, weight in sorted(weights.items())]

    def associations(self, terms: Sequence[Term], *, strength: float) -> list[Association]:
        """Each of ``terms`` that calls up a line, associated with the line's other searched
        items at ``strength`` (less for each later one: ``LATER_ITEM``)."""
        found: list[Association] = []
        for term in terms:
            for number, place in dict.fromkeys(self._calls.get(term.key, ())):
                others = [
                    item
                    for other, item in enumerate(self._lines[number])
                    if item.searched and other != place and item.key != term.key
                ]
                found += [
                    Association(term.key, item.key, item.forms, strength * LATER_ITEM**n)
                    for n, item in enumerate(others)
                ]
        return found


def parse(text: str) -> list[list[Item]]:
    """The lines of a lexicon file (see ``headlinese.txt`` for its form)."""
    lines = []
    for raw in text.splitlines():
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        items = [_item(part.strip()) for part in raw.split(" | ")]
        if len(items) < 2:
            raise ValueError(f"a lexicon line needs two items or more: {raw!r}")
        lines.append(items)
    return lines


def _item(written: str) -> Item:
    source, searched = not written.startswith("~"), not written.startswith(">")
    spellings = [" ".join(tokens(s)) for s in written.lstrip("~>").split("/")]
    if not all(spellings):
        raise ValueError(f"a lexicon item with an empty spelling: {written!r}")
    forms: list[str] = []
    for spelling in spellings:
        more = respellings(spelling) if " " not in spelling else ()
        forms += [f for f in (spelling, *more) if f not in forms]
    first = spellings[0]
    key = variants(first)[0] if " " not in first else first
    return Item(key, tuple(forms[:MAX_FORMS]), source, searched)


@cache
def headlinese() -> Lexicon:
    """The package's lexicon, read once."""
    text = resources.files("bot.domain").joinpath(SOURCE_FILE).read_text(encoding="utf-8")
    return Lexicon(parse(text))


__all__ = ["Item", "Lexicon", "headlinese", "parse"]
