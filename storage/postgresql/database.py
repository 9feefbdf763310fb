"""The pool every PostgreSQL repository runs its SQL through, with ``Store.transaction``'s
meaning: the calls a task makes inside ``transaction()`` share one connection and commit or
roll back together; other calls take any free connection for one statement."""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg

from storage.errors import ConnectionLost, connection_lost, session_ended
from storage.postgresql.connection import Connection
from storage.postgresql.params import bind
from storage.sql import Row

_NO_PARAMS: Mapping[str, Any] = {}
# The connection of the transaction the current task is in, if any.
_IN_TRANSACTION: contextvars.ContextVar[Connection | None] = contextvars.ContextVar(
    "topicbot_postgresql_transaction", default=None
)


class PgDatabase:
    """A pool, and the task's transaction when it has one."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.named = NamedStatements(self)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
        current = _IN_TRANSACTION.get()
        if current is not None:
            yield current
            return
        async with self._lent(one_statement=True) as lent:
            yield lent

    @asynccontextmanager
    async def _lent(self, *, one_statement: bool = False) -> AsyncIterator[Connection]:
        """A connection of the pool for the block; an ended session raised as
        ``ConnectionLost`` (the pool drops that connection and opens another next time).
        ``one_statement``: the block only runs a statement, so a network error in it is the
        session's, even before asyncpg has marked the connection closed."""
        raised: BaseException | None = None
        try:
            async with self.pool.acquire() as lent:
                try:
                    yield lent
                except Exception as error:
                    raised = error
                    closed = one_statement or lent.is_closed()
                    if session_ended(error, connection_closed=closed):
                        raise connection_lost(error) from error
                    raise
        except Exception as error:
            if error is raised or isinstance(error, ConnectionLost):
                raise
            # taking a connection, or giving it back (its reset), failed
            if session_ended(error, connection_closed=True):
                raise connection_lost(error) from error
            raise

    @property
    def in_transaction(self) -> bool:
        """Whether this task's calls are part of a transaction already (``transaction``)."""
        return _IN_TRANSACTION.get() is not None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Run the block's calls (from this task) in one transaction, rolled back if it
        raises; a transaction inside another is part of it."""
        if _IN_TRANSACTION.get() is not None:
            yield
            return
        async with self._lent() as lent, lent.transaction():
            token = _IN_TRANSACTION.set(lent)
            try:
                yield
            finally:
                _IN_TRANSACTION.reset(token)

    async def execute(self, sql: str, *args: Any) -> str:
        """Run one statement; its status (such as ``UPDATE 3``)."""
        async with self._connection() as connection:
            return await connection.execute(sql, *representable(args))

    async def fetch_all(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Every row of one statement."""
        async with self._connection() as connection:
            return await connection.fetch(sql, *representable(args))

    async def fetch_one(self, sql: str, *args: Any) -> asyncpg.Record | None:
        """The first row of one statement, or None."""
        async with self._connection() as connection:
            return await connection.fetchrow(sql, *representable(args))

    async def scalar(self, sql: str, *args: Any) -> Any:
        """The first column of the first row, or None."""
        async with self._connection() as connection:
            return await connection.fetchval(sql, *representable(args))

    async def copy_records(
        self, table: str, columns: Sequence[str], records: Sequence[Sequence[Any]]
    ) -> None:
        """COPY ``records`` (their text already ``holdable``) into ``table``'s ``columns``:
        one round trip for a whole batch."""
        async with self._connection() as connection:
            await connection.copy_records_to_table(table, records=records, columns=columns)

    async def close(self) -> None:
        """Close every connection of the pool."""
        await self.pool.close()


# Keyed locks of ``NamedStatements.hold_lock``, held to the end of the transaction; 0x7B0C is
# topicbot's prefix, so that the keys stay apart from any other application's on the server.
_HOLD_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('0x7B0C:' || $1, 0))"


class NamedStatements:
    """The pool with the calling convention of the repositories both engines share
    (``storage.sql.Statements``): ``:name`` parameters bound as ``$n`` (cast to ``types``
    where a value's own type says too little, ``storage.postgresql.params.bind``), rows as
    tuples, the count of rows changed."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def transaction(self) -> AbstractAsyncContextManager[None]:
        """The task's transaction (``PgDatabase.transaction``)."""
        return self._db.transaction()

    async def fetch_all(
        self,
        sql: str,
        params: Mapping[str, Any] = _NO_PARAMS,
        /,
        *,
        types: Mapping[str, str] | None = None,
    ) -> list[Row]:
        """Every row of one statement."""
        statement, args = bind(sql, params, types)
        return [tuple(row) for row in await self._db.fetch_all(statement, *args)]

    async def fetch_one(
        self,
        sql: str,
        params: Mapping[str, Any] = _NO_PARAMS,
        /,
        *,
        types: Mapping[str, str] | None = None,
    ) -> Row | None:
        """The first row of one statement, or None."""
        statement, args = bind(sql, params, types)
        row = await self._db.fetch_one(statement, *args)
        return None if row is None else tuple(row)

    async def scalar(
        self,
        sql: str,
        params: Mapping[str, Any] = _NO_PARAMS,
        /,
        *,
        types: Mapping[str, str] | None = None,
    ) -> Any:
        """The first column of the first row, or None."""
        statement, args = bind(sql, params, types)
        return await self._db.scalar(statement, *args)

    async def execute(
        self,
        sql: str,
        params: Mapping[str, Any] = _NO_PARAMS,
        /,
        *,
        types: Mapping[str, str] | None = None,
    ) -> int:
        """Run one statement; how many rows it changed."""
        statement, args = bind(sql, params, types)
        return changed(await self._db.execute(statement, *args))

    async def hold_lock(self, key: str, /) -> None:
        """Wait for the advisory lock named ``key`` and hold it to the end of the task's
        transaction (``storage.sql.Statements.hold_lock``)."""
        if not self._db.in_transaction:
            raise RuntimeError("hold_lock outside a transaction would hold nothing")
        await self._db.execute(_HOLD_LOCK, key)


def changed(status: str) -> int:
    """How many rows a statement changed, from its status (``UPDATE 3``, ``INSERT 0 5``)."""
    return int(status.rsplit(" ", 1)[-1])


def representable(args: Sequence[Any]) -> list[Any]:
    """``args`` with text PostgreSQL cannot hold made holdable: a NUL (which SQLite keeps) and
    lone surrogates (which a crafted interaction can carry) become U+FFFD, so a search for
    them finds nothing instead of failing, as on SQLite."""
    return [holdable(value) if isinstance(value, str) else value for value in args]


def holdable(text: str) -> str:
    """``text`` as PostgreSQL can hold it (see ``representable``); most text is returned
    as it is, after one quick look."""
    if text.isascii() and "\x00" not in text:
        return text
    cleaned = text.replace("\x00", "\ufffd")
    return cleaned.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
