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


class ConnectionLost(Exception):
    """The database session ended under a statement, or no session could be had: the server
    restarted, an administrator ended it, the network dropped. Nothing of the statement (or
    its transaction) was committed; the next call takes a new session. The message is one
    line, without the URL."""


# Ended sessions and unreachable servers, as asyncpg raises them: SQLSTATE class 08, and the
# administrator's or a crash's shutdown of the session (57P01-57P03).
_SESSION_ENDED: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
)
# A lost session when the connection is closed by then (or none was had), else another fault:
# the network's errors, and asyncpg's own state errors (a reset of a connection cut
# mid-statement raises "another operation is in progress").
_WHEN_CLOSED: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


def session_ended(error: BaseException, *, connection_closed: bool) -> bool:
    """Whether ``error`` says the PostgreSQL session ended (or could not be had), not that
    the statement or the code was wrong."""
    if isinstance(error, _SESSION_ENDED):
        return True
    return connection_closed and isinstance(error, _WHEN_CLOSED)


def connection_lost(error: BaseException) -> ConnectionLost:
    """``error`` as the one line callers log."""
    said = " ".join(str(error).split()) or "no detail"
    return ConnectionLost(f"the PostgreSQL session ended ({type(error).__name__}: {said})")
