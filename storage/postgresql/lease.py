"""The worker lease on PostgreSQL: a session-level advisory lock held on a connection of its
own (not the pool's: a pooled connection goes back to the pool, and the lock with it).

The lock lasts exactly as long as that session. A holder killed outright (SIGKILL) closes its
socket and the server ends the session at once; a holder cut off without a word (network
lost, machine frozen) is found by the server's TCP keepalives on that connection (set below),
which end the session within ``KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_COUNT`` seconds.
Either way the lock goes with the session, and a standby polling every few seconds takes it:
within 15 s of the holder's death. The holder, for its part, checks every few seconds that its
session still holds the lock, and stops running the jobs as soon as it does not.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from storage.postgresql.connection import CONNECT_TIMEOUT_SECONDS, connect_problem, server_address

log = logging.getLogger(__name__)

# "topicbot" in ASCII: one fixed key, so every process of one database competes for one lock.
WORKER_LEASE_KEY = int.from_bytes(b"topicbot", "big")
KEEPALIVE_IDLE_SECONDS = 4
KEEPALIVE_INTERVAL_SECONDS = 2
KEEPALIVE_COUNT = 3
# a check that takes longer than this is taken as a lost connection
CHECK_TIMEOUT_SECONDS = 5.0

_HOLDS = """
SELECT EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
      AND classid = ($1::bigint >> 32)::oid AND objid = ($1::bigint & 4294967295)::oid
      AND objsubid = 1
)
"""


class PgWorkerLease:
    """The worker lease as an advisory lock on a connection of its own to ``url``."""

    def __init__(self, url: str, *, source: str, key: int = WORKER_LEASE_KEY) -> None:
        self._url = url
        self._source = source
        self._address = server_address(url, source=source)
        self._key = key
        self._connection: asyncpg.Connection | None = None
        self._holding = False

    async def acquire(self) -> bool:
        """Take the lock if it is free; a server that cannot be reached counts as not taken
        (logged) and is tried again at the next call."""
        if self._holding:
            return await self.held()
        try:
            connection = await self._connect()
            taken = await connection.fetchval(
                "SELECT pg_try_advisory_lock($1)", self._key, timeout=CHECK_TIMEOUT_SECONDS
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
            log.warning("worker lease: %s", connect_problem(error, self._address, self._source))
            await self._drop()
            return False
        self._holding = bool(taken)
        return self._holding

    async def held(self) -> bool:
        """Whether this session holds the lock now; False (and the connection dropped) when
        the session is gone or does not answer in time."""
        if not self._holding or self._connection is None:
            return False
        try:
            holds = await self._connection.fetchval(
                _HOLDS, self._key, timeout=CHECK_TIMEOUT_SECONDS
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
            log.warning(
                "worker lease lost: %s", connect_problem(error, self._address, self._source)
            )
            holds = False
        if not holds:
            await self._drop()
        return bool(holds)

    async def release(self) -> None:
        """Close the lock's connection: the lock goes with its session."""
        await self._drop()

    async def _connect(self) -> asyncpg.Connection:
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(
                self._url,
                timeout=CONNECT_TIMEOUT_SECONDS,
                server_settings={
                    "application_name": "topicbot worker lease",
                    "tcp_keepalives_idle": str(KEEPALIVE_IDLE_SECONDS),
                    "tcp_keepalives_interval": str(KEEPALIVE_INTERVAL_SECONDS),
                    "tcp_keepalives_count": str(KEEPALIVE_COUNT),
                },
            )
        return self._connection

    async def _drop(self) -> None:
        self._holding = False
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            try:
                await asyncio.wait_for(connection.close(), CHECK_TIMEOUT_SECONDS)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                connection.terminate()
