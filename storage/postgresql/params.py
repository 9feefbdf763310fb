"""Parameters on PostgreSQL: statements shared with the SQLite store are written with SQLite's
placeholders; ``bind`` turns ``:name`` ones into asyncpg's ``$n``, ``numbered`` turns ``?`` ones.

Each placeholder is cast to its type, because PostgreSQL cannot infer the type of a
parameter that is only compared with NULL (``:guild IS NULL``). A None of no declared type is
left to the server to infer from where it stands (a column it is stored in or compared with);
where nothing tells, the statement fails with "could not determine data type": declare it."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

# ``:name``, but not the second colon of a cast (``x::bigint``) nor the first.
_PLACEHOLDER = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)\b(?!:)")
_TYPES: tuple[tuple[type, str], ...] = ((bool, "boolean"), (int, "bigint"), (str, "text"))


def bind(
    sql: str, params: Mapping[str, Any], types: Mapping[str, str] | None = None
) -> tuple[str, list[Any]]:
    """``sql`` with each ``:name`` as ``$n::type``, and the values in ``$n`` order. A type
    comes from ``types``, else from the value (bool, int, str); a value of another kind must
    be given a type, and a None of no given type stays ``$n``."""
    declared = types or {}
    numbers: dict[str, int] = {}
    args: list[Any] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise KeyError(f"no value for :{name}")
        if name not in numbers:
            numbers[name] = len(args) + 1
            args.append(params[name])
        value = params[name]
        sql_type = declared.get(name) or (None if value is None else _type_of(name, value))
        return f"${numbers[name]}" + (f"::{sql_type}" if sql_type else "")

    return _PLACEHOLDER.sub(number, sql), args


def _type_of(name: str, value: Any) -> str:
    for kind, sql_type in _TYPES:
        if isinstance(value, kind):
            return sql_type
    raise TypeError(f":{name} is {value!r}: give its SQL type")


def numbered(sql: str) -> str:
    """A statement written with SQLite's ``?`` placeholders, with PostgreSQL's ``$1``, ``$2``...
    instead, so both engines run one text (the statements passed have no ``?`` of their own)."""
    count = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)
