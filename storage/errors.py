"""What the store raises on either engine, for callers above ``storage/`` to catch."""

from __future__ import annotations

import sqlite3

import asyncpg


class TextIndexTooLarge(Exception):
    """An article holds more distinct words than the engine's full-text index of one article
    can (PostgreSQL's tsvector: 1 MiB; SQLite's FTS5 has no such limit)."""


# What a batch of articles raises, on either engine, when the database refuses one of its rows
# (a CHECK, a key, a value out of range, text too large to index): nothing of the batch is
# stored, and the caller may store its files one by one to find the row.
ROW_REFUSED: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.DataError,
    TextIndexTooLarge,
)
