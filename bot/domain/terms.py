"""What a story is about, as search terms: words, names and figures from its headline and
excerpt, each with the spellings outlets use for it and a weight.

Outlets covering one event paraphrase each other, so the engine searches for many terms
(one incidental word must not decide) and weighs them: a headline term counts more than an
excerpt term, a name or an acronym more than a plain word, a figure with a unit or of four
digits more than a bare small number. Rarity is the store's to judge (``storage.related``).

Each term is searched as the word sequences FTS5's ``unicode61`` tokenizer makes of its
spellings: ``$13K``, ``$13,000``, ``13 thousand`` and ``13000`` are one term (``13k``,
``13 000``, ``13 thousand``, ``13000``), as are ``$8.4bn`` and ``8.4 billion dollars``,
``1.75%``, ``1.75 per cent`` and ``one-point-seven-five per cent`` (``1 75``), ``four
million`` and ``4m``, ``3`` and ``three``; a headline word, its plural and its British or
American spelling are one term (``bot.domain.spelling``); a name written out (``Federal
Aviation Administration``) is also searched as its initials (``FAA``), and a hyphenated word
(``Sky-Lane``) also as the word written solid (``skylane``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from bot.domain.spelling import NUMBER_WORDS, respellings, spelled, variants
from bot.domain.text import readable
from storage.titles import fold, undressed

# Function words and the words every news story uses; rarity drops other common words.
STOPWORDS = frozenset(
    """
    a about above after again against ago all almost also am among an and another any are
    around as at away back be because been before being below between both but by can could
    did do does doesn don down during each either even ever every few for from further get
    gets got had has have having he her here hers him his how however i if in into is it its
    just least less like made make makes many may me might more most much must my near
    nearly never new next no nor not now of off on once one only or other our out over own
    per re s said same says see she should since so some still such t than that the their
    them then there these they this those though through to too under until up upon us very
    via was we were what when where whether which while who whom whose why will with within
    without would yet you your
    """.split()
)
TITLE_WEIGHT = 2.0
EXCERPT_WEIGHT = 1.0
NAME_BOOST = 2.0
FIGURE_BOOST = 1.5
SMALL_NUMBER_WEIGHT = 0.5
MAX_FORMS = 6
MAX_FIGURE_DIGITS = 15  # within what a decimal's 28 digits of precision spell exactly
MAX_TERM_LENGTH = 40
_TOKEN = re.compile(r"[^\W_]+")
_WORD = re.compile(r"[^\W\d_][^\W_]*|\d[^\W_]*")
_UNITS = {
    "k": 3, "thousand": 3,
    "m": 6, "mn": 6, "million": 6,
    "b": 9, "bn": 9, "billion": 9,
    "tn": 12, "trillion": 12,
}  # fmt: skip
_UNIT_NAMES = {3: ("k", "thousand"), 6: ("m", "mn", "million"), 9: ("bn", "b", "billion")}
_FIGURE = re.compile(
    r"(?<![\w.,])(?P<cur>[$€£¥])?\s?"
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?"
    r"(?:(?P<clock>(?::\d{2}){1,2})"
    r"|\s?(?P<pct>%|per\s?cent\b|percent\b)"
    r"|[\s-]?(?P<unit>thousand|mn|million|bn|billion|tn|trillion)\b"
    r"|(?P<letter>[kmb])\b)?"
    r"(?![^\W_])",
    re.IGNORECASE,
)
_NUMBER_WORD = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_DIGIT_WORD = "zero|one|two|three|four|five|six|seven|eight|nine"
_WORDS_FIGURE = re.compile(
    rf"\b(?P<tens>{_NUMBER_WORD})(?:[\s-](?P<ones>one|two|three|four|five|six|seven|eight|nine))?"
    rf"(?P<point>[\s-]point(?:[\s-](?:{_DIGIT_WORD}))+)?"
    r"(?:\s+(?P<unit>hundred|thousand|million|billion))?"
    r"(?:\s?(?P<pct>per\s?cent|percent))?\b",
    re.IGNORECASE,
)
# A race time in words or units: "2hr 4min 37sec", "2h 4m 37s", "2 hours, 4 minutes and 37
# seconds", "two hours four minutes and thirty seconds" (the clock "2:04:37").
_DURATION_NUMBER = rf"\d{{1,2}}|{_NUMBER_WORD}"
_DURATION = re.compile(
    rf"\b(?P<h>{_DURATION_NUMBER})\s?(?:hours?|hrs?|h)\b[\s,]*(?:and\s+)?"
    rf"(?P<m>{_DURATION_NUMBER})\s?(?:minutes?|mins?|m)\b"
    rf"(?:[\s,]*(?:and\s+)?(?P<s>{_DURATION_NUMBER})\s?(?:seconds?|secs?|s)\b)?",
    re.IGNORECASE,
)
# A temperature: "43.1C", "43.1°C", "40°C", "109.6F" (a whole number with a bare letter, "4F",
# is as often a floor or a grade: read as a word, as before).
_TEMPERATURE = re.compile(
    r"(?<![\w.,])(?P<minus>[-−]|minus\s)?(?P<number>\d{1,3}(?P<frac>\.\d)?)\s?"
    r"(?:(?P<degree>°)\s?)?(?P<unit>[CF])\b"
)
_DIGIT = re.compile(r"\d")
_SENTENCE_END = re.compile(r"[.!?:;]\s+|^\s*|[\"“‘(]\s*")
# Wire and live-page dressing: "UPDATE 2-", "LIVE:", "EXCLUSIVE-", "WATCH:".
_WIRE = re.compile(
    r"^\s*(?:update|corrected|refile|exclusive|breaking|live|watch|video)\s*\d*\s*[-:–—]\s*",
    re.IGNORECASE,
)
_HYPHENATED = re.compile(r"(?<![\w-])([^\W\d_]{2,})-([^\W\d_]{2,})(?![\w-])")
_NAME_PHRASE = re.compile(r"(?:[A-Z][\w'’]*\s+(?:(?:of|the|and|for|de)\s+)?){1,5}[A-Z][\w'’]*")


class Term(NamedTuple):
    """One thing a story is about: ``key`` names it, ``forms`` are the token sequences that
    spell it in an article (any of them is a match), ``weight`` how much it says about the
    story before the store's rarity is counted, ``label`` how the story wrote it."""

    key: str
    forms: tuple[str, ...]
    weight: float
    label: str


def tokens(text: str) -> list[str]:
    """The words of ``text`` as FTS5's ``unicode61 remove_diacritics 2`` tokenizer makes them."""
    return _TOKEN.findall(fold(text))


def story_terms(title: str, excerpt: str) -> list[Term]:
    """The terms of a story's headline (without an outlet's dressing) and excerpt, heaviest
    first; a term in both counts for both."""
    return list(_story_terms(title, excerpt))


@lru_cache(maxsize=4096)  # a story's coverage is read again for each of its articles
def _story_terms(title: str, excerpt: str) -> tuple[Term, ...]:
    found: list[Term] = []
    # read as members read it: a feed's ``&amp;``, ``&#8217;`` or ``<b>`` is not a term
    title, excerpt = readable(title), readable(excerpt)
    for text, weight, is_headline in (
        (undressed(_WIRE.sub("", title, count=1)), TITLE_WEIGHT, True),
        (excerpt, EXCERPT_WEIGHT, False),
    ):
        # Plurals are searched for the headline's words only: each form is one more lookup.
        found += _terms_of(text, weight, headline_case=is_headline, inflect=is_headline)
    return tuple(merge(found))


def merge(terms: Iterable[Term], *, scale: float = 1.0) -> list[Term]:
    """One term per key, its weights added (each times ``scale``), heaviest first; the
    first term of a key gives its forms and label."""
    first: dict[str, Term] = {}
    weights: dict[str, float] = {}
    for term in terms:
        key = term.key
        if key in first:
            weights[key] += term.weight * scale
        else:
            first[key] = term
            weights[key] = term.weight * scale
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Term(key, first[key].forms, weight, first[key].label) for key, weight in ranked]


def query_terms(text: str, *, limit: int = 16) -> list[Term]:
    """The terms of what a member typed, in the order typed, each once; when every word is
    a stop word ("The Who"), those words."""
    found: dict[str, Term] = {}
    for term in _terms_of(text[:2000], TITLE_WEIGHT, headline_case=True):
        found.setdefault(term.key, term)
    if not found:
        for token in tokens(text[:2000]):
            token = token[:MAX_TERM_LENGTH]
            found.setdefault(token, Term(token, (token,), TITLE_WEIGHT, token))
    return list(found.values())[:limit]


# --- terms of one text --------------------------------------------------------------------


def _terms_of(text: str, weight: float, *, headline_case: bool, inflect: bool = True) -> list[Term]:
    """Figures first (so their digits and words are not read again as words), then names
    written out as their initials, then words, then hyphenated words written solid."""
    words = _WORD.findall(text)
    terms, rest = _figures(text, weight, words)
    case = _Case(text, words, headline_case)
    terms += case.initials(weight)
    names = case.names()
    for piece in rest:
        for word in _WORD.findall(piece):
            term = _word(word, weight, names, inflect)
            if term is not None:
                terms.append(term)
    return terms + _joined(text, weight, case)


def _joined(text: str, weight: float, case: _Case) -> list[Term]:
    """Words of two parts joined by a hyphen, as one word (``Sky-Lane``: ``skylane``;
    ``play-off``: ``playoff``), which other outlets may write solid; their parts are searched
    as words too, and match the hyphenated and the spaced spelling."""
    found: list[Term] = []
    for match in _HYPHENATED.finditer(text):
        first, second = match.group(1), match.group(2)
        joined = fold(first + second)[:MAX_TERM_LENGTH]
        if not joined.isalpha() or joined in STOPWORDS:
            continue
        name = not case.mute and first[0].isupper() and second[0].isupper()
        found.append(Term(joined, (joined,), weight * (NAME_BOOST if name else 1.0), joined))
    return found


def _figures(text: str, weight: float, words: list[str]) -> tuple[list[Term], list[str]]:
    """The figures of ``text`` (in digits or words) and the pieces of text between them."""
    found: list[tuple[int, int, Term]] = []
    if _DIGIT.search(text):
        found += [
            (_visible_start(m), m.end(), t)
            for m in _FIGURE.finditer(text)
            if (t := _figure(m, weight))
        ]
    if any(w.lower() in NUMBER_WORDS for w in words):
        found += [
            (m.start(), m.end(), t)
            for m in _WORDS_FIGURE.finditer(text)
            if (t := _words_figure(m, weight))
        ]
    found += [
        (m.start(), m.end(), t) for m in _DURATION.finditer(text) if (t := _duration(m, weight))
    ]
    found += [
        (m.start(), m.end(), t)
        for m in _TEMPERATURE.finditer(text)
        if (t := _temperature(m, weight))
    ]
    if not found:
        return [], [text]
    terms: list[Term] = []
    rest: list[str] = []
    last = 0
    # the longest of the figures starting at one place: "2 hours 4 minutes", not "2"
    for start, end, term in sorted(found, key=lambda f: (f[0], -f[1])):
        if start < last:
            continue
        terms.append(term)
        rest.append(text[last:start])
        last = end
    rest.append(text[last:])
    return terms, rest


def _word(word: str, weight: float, names: set[str], inflect: bool) -> Term | None:
    if word.isascii():
        token = word.lower()[:MAX_TERM_LENGTH]
    else:
        parts = _TOKEN.findall(fold(word))
        if len(parts) != 1:  # folds into several tokens (rare scripts): left out
            return None
        token = parts[0][:MAX_TERM_LENGTH]
    if token in STOPWORDS or (len(token) < 2 and not token.isdigit()):
        return None
    if token.isdigit():
        return _small_number(token, weight, token)
    if names and word in names:
        return Term(token, (token, *respellings(token)), weight * NAME_BOOST, token)
    key, forms = variants(token)
    return Term(key, forms if inflect else (token, *respellings(token)), weight, token)


class _Case:
    """What the capitals of a text say: names and acronyms, unless the text is in Title
    Case (a headline) or in capitals, where case says nothing but acronyms in lower case."""

    def __init__(self, text: str, words: list[str], headline_case: bool) -> None:
        self.text = text
        self.letters = [w for w in words if w[0].isalpha()]
        count = len(self.letters)
        self.shouting = sum(w.isupper() for w in self.letters) > count / 2
        title_case = headline_case and sum(w[0].isupper() for w in self.letters) > count * 0.6
        self.mute = not count or self.shouting or title_case

    def names(self) -> set[str]:
        """Acronyms (``FAA``, ``LFR``) and capitalised words that do not start a sentence."""
        if not self.letters or self.shouting:
            return set()
        found = {w for w in self.letters if 2 <= len(w) <= 6 and w.isupper()}
        if self.mute:
            return found
        starts = {m.end() for m in _SENTENCE_END.finditer(self.text)}
        for match in _WORD.finditer(self.text):
            word = match.group(0)
            if word[0].isupper() and match.start() not in starts and fold(word) not in STOPWORDS:
                found.add(word)
        return found

    def initials(self, weight: float) -> list[Term]:
        """Names of three or more capitalised words, as their initials (``Federal Aviation
        Administration``: ``faa``; ``Reserve Bank of New Zealand``: ``rbnz``), which other
        outlets may write instead."""
        if self.mute:
            return []
        found: list[Term] = []
        for match in _NAME_PHRASE.finditer(self.text):
            words = match.group(0).split()
            while words and fold(words[0]) in STOPWORDS:  # "The Federal ...": not its initial
                words.pop(0)
            capitals = [w[0] for w in words if w[0].isupper()]
            if 3 <= len(capitals) <= 6:
                initials = fold("".join(capitals))
                found.append(Term(initials, (initials,), weight * NAME_BOOST, initials.upper()))
        return found


# --- figures ------------------------------------------------------------------------------


def _visible_start(match: re.Match[str]) -> int:
    """Where a match starts, past the space ``_FIGURE`` may take before a figure."""
    written = match.group(0)
    return match.start() + len(written) - len(written.lstrip())


def _figure(match: re.Match[str], weight: float) -> Term | None:
    """A figure written in digits; None for a small bare number (read as a word)."""
    whole, frac = match.group("int").replace(",", ""), match.group("frac") or ""
    if len(whole) + len(frac) > MAX_FIGURE_DIGITS:
        return None  # not an amount anyone writes: read as words, as written
    written = match.group(0).strip()
    if match.group("clock"):
        written = written.strip("$€£¥ ")
        parts = [int(p) for p in written.split(":")]
        if len(parts) == 3 and parts[1] < 60 and parts[2] < 60:
            return _race_time(parts[0], parts[1], parts[2], weight, written)
        return Term(written, (" ".join(tokens(written)),), weight * FIGURE_BOOST, written)
    number = f"{whole}.{frac}" if frac else whole
    if match.group("pct"):
        return _percent(Decimal(number), weight, written)
    unit = match.group("unit") or match.group("letter")
    if match.group("letter") and not (match.group("cur") or frac or unit.isupper()):
        return None  # "100m" is more often metres, "12b" a name: read as a word
    value = Decimal(number).scaleb(_UNITS[unit.lower()]) if unit else Decimal(number)
    if not (unit or match.group("cur") or frac or value >= 1000):
        return None
    spellings = list(_spellings(value))
    if frac and not unit:  # "$41.50" is written with its zero
        spellings.append(" ".join(tokens(number)))
    return _amount(value, spellings, weight, written)


def _words_figure(match: re.Match[str], weight: float) -> Term | None:
    """A number written in words: ``three``, ``twenty-five``, ``four million``, ``ten per
    cent``."""
    tens = NUMBER_WORDS[match.group("tens").lower()]
    ones = NUMBER_WORDS[match.group("ones").lower()] if match.group("ones") else 0
    if ones and tens < 20:
        return None  # "ten two": not one number
    decimals = _decimals(match.group("point"))
    value = Decimal(f"{tens + ones}.{decimals}" if decimals else tens + ones)
    written = match.group(0)
    unit = (match.group("unit") or "").lower()
    if unit:
        value = value.scaleb(2 if unit == "hundred" else _UNITS[unit])
    if match.group("pct"):
        return _percent(value, weight, written)
    if not unit:
        if decimals:
            return _amount(value, [" ".join(tokens(_plain(value)))], weight, written)
        if value < 2:
            return None  # "one", "zero": words, not figures
        return _small_number(str(value), weight, written)
    return _amount(value, list(_spellings(value)), weight, written)


def _duration(match: re.Match[str], weight: float) -> Term | None:
    """A time written in hours, minutes and maybe seconds, as the clock it is."""
    hours, minutes = _count(match.group("h")), _count(match.group("m"))
    seconds = _count(match.group("s")) if match.group("s") else None
    if hours is None or minutes is None or minutes >= 60:
        return None
    if match.group("s") and (seconds is None or seconds >= 60):
        return None
    return _race_time(hours, minutes, seconds, weight, match.group(0))


def _temperature(match: re.Match[str], weight: float) -> Term | None:
    """A temperature in Celsius or Fahrenheit, keyed in Celsius to a tenth and searched for
    in both scales as outlets write them (``43.1C`` is ``43 1c``, ``43.1°C`` ``43 1 c``;
    ``109.6F``), so that ``43.1C`` and ``109.6F`` are one term."""
    if not (match.group("frac") or match.group("degree")):
        return None
    value = Decimal(match.group("number")) * (-1 if match.group("minus") else 1)
    if match.group("unit") == "F":
        value = (value - 32) * 5 / 9
    celsius = value.quantize(Decimal("0.1"))
    fahrenheit = (celsius * 9 / 5 + 32).quantize(Decimal("0.1"))
    forms: list[str] = []
    for degrees, unit in ((celsius, "c"), (fahrenheit, "f")):
        number = " ".join(tokens(_plain(degrees)))
        forms += [f"{number}{unit}", f"{number} {unit}"]
    key = f"{_plain(celsius)}°c"
    return Term(key, tuple(forms)[:MAX_FORMS], weight * FIGURE_BOOST, match.group(0).strip())


def _count(written: str) -> int | None:
    """``4`` or ``four``: the number; None for a word that names none."""
    if written.isdigit():
        return int(written)
    return NUMBER_WORDS.get(written.lower())


def _race_time(hours: int, minutes: int, seconds: int | None, weight: float, written: str) -> Term:
    """A time of hours, minutes and maybe seconds (a race's, a flight's), keyed as its clock
    (``2:04:37``, ``3:20``) and searched for as outlets write it: the clock, ``2hr 4min
    37sec``, ``2h 4m 37s``, ``2 hours 4 minutes 37 seconds`` (commas are no tokens), with
    ``and``, and the hours and minutes in words."""
    h, m = str(hours), str(minutes)
    hour = "hour" if hours == 1 else "hours"
    minute = "minute" if minutes == 1 else "minutes"
    spoken = [spelled(Decimal(hours)), spelled(Decimal(minutes))]
    if seconds is None:
        clock = f"{h}:{minutes:02}"
        forms = [
            f"{h} {minutes:02}",
            f"{h}hr {m}min",
            f"{h}h {m}m",
            f"{h} {hour} {m} {minute}",
            f"{h} {hour} and {m} {minute}",
        ]
        tail = ""
    else:
        clock = f"{h}:{minutes:02}:{seconds:02}"
        s = str(seconds)
        forms = [
            f"{h} {minutes:02} {seconds:02}",
            f"{h}hr {m}min {s}sec",
            f"{h}h {m}m {s}s",
            f"{h} {hour} {m} {minute} {s} seconds",
            f"{h} {hour} {m} {minute} and {s} seconds",
        ]
        tail = f" and {s} seconds"
    if spoken[0] and spoken[1]:
        forms.append(f"{spoken[0]} {hour} {spoken[1]} {minute}{tail}")
    return Term(clock, tuple(forms)[:MAX_FORMS], weight * FIGURE_BOOST, written.strip())


def _decimals(point: str | None) -> str:
    """The digits of ``-point-four``, `` point two five``: ``4``, ``25``."""
    if not point:
        return ""
    words = re.findall(r"[a-z]+", point.lower())[1:]  # after "point"
    return "".join(str(NUMBER_WORDS[w]) for w in words)


def _small_number(digits: str, weight: float, written: str) -> Term:
    """A bare number under 100 (``27``, ``three``): in digits and, up to twenty, in words."""
    word = spelled(Decimal(digits))
    forms = (digits, word) if word else (digits,)
    return Term(digits, forms, weight * SMALL_NUMBER_WEIGHT, written)


def _percent(value: Decimal, weight: float, written: str) -> Term:
    digits = " ".join(tokens(_plain(value)))
    word = spelled(value)
    forms = (digits, f"{word} per cent", f"{word} percent") if word else (digits,)
    return Term(f"{_plain(value)}%", forms, weight * FIGURE_BOOST, written)


def _amount(value: Decimal, spellings: list[str], weight: float, written: str) -> Term:
    forms = tuple(dict.fromkeys(spellings))[:MAX_FORMS]
    return Term(_plain(value), forms, weight * FIGURE_BOOST, written.strip())


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _spellings(value: Decimal) -> tuple[str, ...]:
    """How outlets write ``value`` as FTS5 tokens: ``13000``, ``13 000``, ``13k``,
    ``13 thousand``, ``thirteen thousand``; ``4 2m``, ``4 2 million``; ``8 4bn``."""
    plain = _plain(value)
    found: list[str] = []
    for exponent in (9, 6, 3):
        scaled = value.scaleb(-exponent)
        if scaled < 1 or scaled != scaled.quantize(Decimal("0.01")):
            continue
        number = " ".join(tokens(_plain(scaled)))
        for unit in _UNIT_NAMES[exponent]:
            joined = len(unit) <= 2  # "13k", "4.2m": the unit sticks to the last digits
            found.append(f"{number}{unit}" if joined else f"{number} {unit}")
        word = spelled(scaled)
        if word:  # before the digits, so that MAX_FORMS keeps it
            found.insert(2, f"{word} {_UNIT_NAMES[exponent][-1]}")
        break
    if "." not in plain:
        found.append(plain)
        if len(plain) > 3:
            groups = [plain[max(i - 3, 0) : i] for i in range(len(plain), 0, -3)][::-1]
            found.append(" ".join(groups))
    else:
        found.append(" ".join(tokens(plain)))
    return tuple(dict.fromkeys(found))
