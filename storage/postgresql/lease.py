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

from storage.postgresql.dedicated import CONNECTION_ERRORS, DedicatedConnection

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
        self._connection = DedicatedConnection(
            url,
            source=source,
            settings={
                "application_name": "topicbot worker lease",
                "tcp_keepalives_idle": str(KEEPALIVE_IDLE_SECONDS),
                "tcp_keepalives_interval": str(KEEPALIVE_INTERVAL_SECONDS),
                "tcp_keepalives_count": str(KEEPALIVE_COUNT),
            },
        )
        self._key = key
        self._holding = False
        # One statement at a time on the connection: the jobs check the lease at the same
        # moment (when the gateway is ready), and asyncpg refuses a second statement under
        # way, which would be taken for a lost connection and give the lease up.
        self._turn = asyncio.Lock()

    async def acquire(self) -> bool:
        """Take the lock if it is free; a server that cannot be reached counts as not taken
        (logged) and is tried again at the next call."""
        async with self._turn:
            return await self._acquire()

    async def held(self) -> bool:
        """Whether this session holds the lock now; False (and the connection dropped) when
        the session is gone or does not answer in time."""
        async with self._turn:
            return await self._held()

    async def release(self) -> None:
        """Close the lock's connection: the lock goes with its session."""
        async with self._turn:
            await self._release()

    async def _acquire(self) -> bool:
        if self._holding:
            return await self._held()
        try:
            connection = await self._connection.get()
            taken = await connection.fetchval(
                "SELECT pg_try_advisory_lock($1)", self._key, timeout=CHECK_TIMEOUT_SECONDS
            )
        except CONNECTION_ERRORS as error:
            log.warning("worker lease: %s", self._connection.problem(error))
            await self._release()
            return False
        self._holding = bool(taken)
        return self._holding

    async def _held(self) -> bool:
        if not self._holding:
            return False
        connection = self._connection.current
        if connection is None:  # closed under us: the session, and the lock, are gone
            await self._release()
            return False
        try:
            holds = bool(
                await connection.fetchval(_HOLDS, self._key, timeout=CHECK_TIMEOUT_SECONDS)
            )
        except CONNECTION_ERRORS as error:
            log.warning("worker lease lost: %s", self._connection.problem(error))
            holds = False
        if not holds:
            await self._release()
        return holds

    async def _release(self) -> None:
        self._holding = False
        await self._connection.drop()
