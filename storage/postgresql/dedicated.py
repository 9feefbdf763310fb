"""A connection of its own, outside the pool, for what lives as long as one session: the
advisory locks of the worker lease and of the identify turns (a pooled connection goes back
to the pool, and a session lock would stay with it)."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from storage.postgresql.connection import CONNECT_TIMEOUT_SECONDS, connect_problem, server_address

# What a lost or unreachable server raises through asyncpg (InternalClientError: a
# connection cut in the middle of a statement, then used or closed).
CONNECTION_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)
CLOSE_TIMEOUT_SECONDS = 5.0


class DedicatedConnection:
    """Opened on first use, opened again after ``drop``; never shows the URL (it may hold a
    password), only ``source``, where it came from."""

    def __init__(self, url: str, *, source: str, settings: dict[str, str]) -> None:
        self._url = url
        self._source = source
        self._address = server_address(url, source=source)
        self._settings = settings
        self._connection: asyncpg.Connection | None = None

    async def get(self) -> asyncpg.Connection:
        """The open connection, connecting when there is none."""
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(
                self._url, timeout=CONNECT_TIMEOUT_SECONDS, server_settings=self._settings
            )
        return self._connection

    @property
    def current(self) -> asyncpg.Connection | None:
        """The connection if one is open (its session's locks are still held)."""
        connection = self._connection
        return connection if connection is not None and not connection.is_closed() else None

    def problem(self, error: BaseException) -> str:
        """What went wrong, in one line without secrets."""
        return connect_problem(error, self._address, self._source)

    async def drop(self) -> None:
        """Close it, ending its session and every lock the session held."""
        connection, self._connection = self._connection, None
        if connection is None or connection.is_closed():
            return
        try:
            await asyncio.wait_for(connection.close(), CLOSE_TIMEOUT_SECONDS)
        except CONNECTION_ERRORS:
            with contextlib.suppress(Exception):
                connection.terminate()
