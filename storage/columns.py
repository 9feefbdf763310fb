"""One declared column list per entity, building both its SELECT list and its row mapping.

A row is read by name, never by position: adding a column to an entity is one edit (its entry
here), and its SELECT and its mapping cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

T = TypeVar("T")


class Column(NamedTuple):
    """One selected value: the field (or ``make`` argument) it fills, the SQL expression that
    yields it, and how the stored value becomes the field's (None: as stored)."""

    field: str
    sql: str
    read: Callable[[Any], Any] | None = None


class Columns(Generic[T]):
    """The columns an entity is read from, in SELECT order, and ``make`` that builds it from
    them by keyword."""

    def __init__(self, make: Callable[..., T], *columns: Column) -> None:
        self._make = make
        self.columns = columns
        self.select = ", ".join(column.sql for column in columns)
        self.width = len(columns)
        self._fields = tuple(column.field for column in columns)
        self._readers = tuple(
            (position, column.read)
            for position, column in enumerate(columns)
            if column.read is not None
        )

    def index(self, field: str) -> int:
        """Where ``field``'s value sits in a row of ``select``."""
        return self._fields.index(field)

    def from_row(self, row: Sequence[Any], start: int = 0) -> T:
        """The entity from a row holding ``select``'s values from ``start`` on (values before
        and after them are the caller's)."""
        values = list(row[start : start + self.width])
        for position, read in self._readers:
            values[position] = read(values[position])
        return self._make(**dict(zip(self._fields, values, strict=True)))
