"""Small helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

# Keeps every IN (...) list well under SQLite's bound-parameter limit.
IN_CHUNK = 900


def chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    """Slices of at most ``size`` values."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def placeholders(count: int) -> str:
    """``?,?,?`` for ``count`` parameters."""
    return ",".join("?" * count)


def fts_phrase(term: str) -> str:
    """One FTS5 string: nothing inside it is read as query syntax. A NUL would end the string
    early for FTS5's parser ("unterminated string"), and no indexed word holds one."""
    return '"' + term.replace("\x00", "").replace('"', '""') + '"'


def fts_match(terms: Sequence[str], *, prefix_last: bool = False, any_term: bool = False) -> str:
    """An FTS5 query requiring every term (or, with ``any_term``, one of them); the last may
    match as a prefix (autocomplete)."""
    quoted = [fts_phrase(term) for term in terms if term]
    if quoted and prefix_last:
        quoted[-1] += "*"
    return (" OR " if any_term else " ").join(quoted)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with LIKE's wildcards escaped by '\\'."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
