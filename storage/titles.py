"""Headline normalisation shared by story grouping and the related engine.

Outlets dress one headline differently: ``Analysis:`` prefixes, ``| Outlet`` suffixes, Title
Case, ``$40M`` or ``$40 million``, ``70,000`` or ``70000``. These functions strip that dressing
so that the words left say what the story is.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from itertools import combinations

STOPWORDS = frozenset(
    (
        "a an and are as at be by for from has have how in is it its new of on or over says "
        "that the their this to up was what when who why will with after into than more about "
        "s"
    ).split()
)
_PREFIX = re.compile(r"^\s*[\w&-]{2,20}\s*:\s+")
_SUFFIX = re.compile(r"\s+[|–—]\s+[^|–—]{1,60}$|\s+-\s+[^-]{1,40}$")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_MONEY = re.compile(r"\$?(\d+(?:\.\d+)?)\s*(m|mn|million|bn|b|billion|k|thousand)\b", re.IGNORECASE)
_MONEY_UNITS = {"m": "m", "mn": "m", "million": "m", "bn": "b", "b": "b", "billion": "b"}
_WORD = re.compile(r"\w+")
_DIGIT = re.compile(r"\d")
KEY_WORDS = 4
KEY_SIZE = 3


# Letters that carry their mark in their shape rather than as a combining one, so that
# decomposing leaves them whole: the common ones of European languages, spelled as an English
# keyboard types them ("tromso" for Tromsø, "lodz" for Łódź). Casefolding has taken the
# capitals by then (and made ß "ss"); the search indexes of SQLite spell out the same letters
# and their capitals (migration 0027), PostgreSQL's unaccent does likewise.
UNDECOMPOSED = {
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ħ": "h",
    "ı": "i",
    "ŀ": "l",
    "ё": "е",  # Cyrillic: the one letter unaccent takes the mark off
}
SPELLED_OUT = str.maketrans(UNDECOMPOSED)
# Scripts whose marks belong to the letter in every index (FTS5 and PostgreSQL keep them):
# Cyrillic (й, ї), Hebrew, Arabic, the Indic scripts and Thai, Hangul, the Japanese kana.
# Decomposed, their words were ones no index holds ("российский" searched as "россиискии",
# 서울 as its jamo, हिन्दी without its virama).
_KEPT_SCRIPTS = (
    "\u0400-\u052f\u0590-\u06ff\u0900-\u0e7f\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\uac00-\ud7af"
)
# A run of such letters (their own marks are of their blocks; a Latin accent left on one after
# composing, as a stress mark on Cyrillic, goes like any other).
_KEPT_WHOLE = re.compile(f"[{_KEPT_SCRIPTS}]+")


def fold(text: str) -> str:
    """Case-folded, without diacritics (but those of ``_KEPT_WHOLE``'s scripts) and with
    ``UNDECOMPOSED`` spelled out, as the search indexes hold words (FTS5's
    ``remove_diacritics`` over migration 0027's views; PostgreSQL's unaccent)."""
    if text.isascii():
        return text.casefold()
    folded = unicodedata.normalize("NFC", text.casefold())
    parts: list[str] = []
    done = 0
    for run in _KEPT_WHOLE.finditer(folded):
        parts += (_stripped(folded[done : run.start()]), run.group())
        done = run.end()
    parts.append(_stripped(folded[done:]))
    return "".join(parts).translate(SPELLED_OUT)


def _stripped(text: str) -> str:
    """``text`` decomposed (compatibility forms too: ﬁ, full-width letters) without marks."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _money(match: re.Match[str]) -> str:
    unit = _MONEY_UNITS.get(match.group(2).lower(), "k")
    return f"{match.group(1)}{unit}"


def undressed(title: str) -> str:
    """The headline without an outlet's prefix (``Analysis:``) or suffix (``| Outlet``)."""
    # Each pattern runs only where its required character is (most headlines have few), so
    # a plain headline costs a few scans instead of four regex passes.
    text = _PREFIX.sub("", title, count=1) if ":" in title else title
    if "-" in text or "|" in text or "–" in text or "—" in text:
        text = _SUFFIX.sub("", text, count=1)
    return text


def headline(title: str) -> str:
    """The headline without an outlet's prefix or suffix and with numbers in one style."""
    text = undressed(title)
    if _DIGIT.search(text) is None:
        return text
    if "," in text:
        text = _THOUSANDS.sub("", text)
    return _MONEY.sub(_money, text)


def title_words(title: str) -> list[str]:
    """The significant words of a headline, in order, once each."""
    words = _WORD.findall(fold(headline(title)))
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS))


def numbers_differ(a: AbstractSet[str], b: AbstractSet[str]) -> bool:
    """True when both headlines carry figures and the figures are not the same."""
    figures_a = {w for w in a if w[0].isdigit()}
    figures_b = {w for w in b if w[0].isdigit()}
    return bool(figures_a and figures_b and figures_a != figures_b)


def similarity(a: set[str], b: set[str]) -> float:
    """Jaccard similarity of two headlines' word sets; 0 when their figures differ."""
    if not a or not b or numbers_differ(a, b):
        return 0.0
    return len(a & b) / len(a | b)


def title_keys(words: Iterable[str]) -> list[int]:
    """Signed 64-bit keys for every three of the headline's four lowest-hash words.

    Headlines whose word sets are near-identical share most of their lowest-hash words, so
    they share a key (a bottom-k sketch); unrelated headlines rarely share three words.
    """
    ranked = sorted({zlib.crc32(w.encode("utf-8")) for w in words})[:KEY_WORDS]
    if len(ranked) < KEY_SIZE:
        return [_key(ranked)] if ranked else []
    return [_key(trio) for trio in combinations(ranked, KEY_SIZE)]


def _key(hashes: Iterable[int]) -> int:
    mixed = 0
    for value in hashes:
        mixed = (mixed * 0x9E3779B1 + value) & 0xFFFFFFFFFFFFFFFF
    return mixed - (1 << 63)


def analyse(title: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """A headline's significant words and its grouping keys, computed once."""
    words = title_words(title)
    return tuple(words), tuple(title_keys(words))
