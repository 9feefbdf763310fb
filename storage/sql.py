"""Small helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from storage.titles import SPELLED_OUT

Row = tuple[Any, ...]


class Statements(Protocol):
    """A database as a repository that serves both engines uses it: statements written once,
    with named parameters (``:name``; PostgreSQL's database binds them as ``$n``), rows as
    tuples, the number of rows a statement changed, and the task's transaction.

    SQLite's ``storage.database.Database`` is one as it is; PostgreSQL's is
    ``storage.postgresql.database.PgDatabase.named``.
    """

    def transaction(self) -> AbstractAsyncContextManager[None]: ...

    async def fetch_all(self, sql: str, params: Mapping[str, Any] = ..., /) -> list[Row]: ...

    async def fetch_one(self, sql: str, params: Mapping[str, Any] = ..., /) -> Row | None: ...

    async def scalar(self, sql: str, params: Mapping[str, Any] = ..., /) -> Any: ...

    async def execute(self, sql: str, params: Mapping[str, Any] = ..., /) -> int:
        """Run one statement; how many rows it changed."""

    async def hold_lock(self, key: str, /) -> None:
        """Inside a transaction: wait until no other transaction holds the lock named ``key``,
        and hold it until this one ends (a check then a write, such as a cap counted before a
        row is added, is then one step for every process)."""


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
    """One FTS5 string: nothing inside it is read as query syntax, and letters the indexes
    spell out (``storage.titles.UNDECOMPOSED``, migration 0027) spelled out as they are. A NUL
    would end the string early for FTS5's parser ("unterminated string"), and no indexed word
    holds one."""
    spelled = term if term.isascii() else term.casefold().translate(SPELLED_OUT)
    return '"' + spelled.replace("\x00", "").replace('"', '""') + '"'


def fts_match(terms: Sequence[str], *, prefix_last: bool = False, any_term: bool = False) -> str:
    """An FTS5 query requiring every term (or, with ``any_term``, one of them); the last may
    match as a prefix (autocomplete)."""
    quoted = [fts_phrase(term) for term in terms if term]
    if quoted and prefix_last:
        quoted[-1] += "*"
    return (" OR " if any_term else " ").join(quoted)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with LIKE's wildcards escaped by '\\'."""
    return f"%{like_prefix(text)}"


def like_prefix(text: str) -> str:
    """A LIKE pattern matching what starts with ``text``, LIKE's wildcards escaped by '\\'."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def named_placeholders(prefix: str, count: int) -> str:
    """``:p0, :p1, ...`` (``prefix`` p) for an IN list of ``count`` named parameters."""
    return ", ".join(f":{prefix}{n}" for n in range(count))


def named_values(prefix: str, values: Sequence[Any]) -> dict[str, Any]:
    """The parameters ``named_placeholders(prefix, len(values))`` names."""
    return {f"{prefix}{n}": value for n, value in enumerate(values)}
