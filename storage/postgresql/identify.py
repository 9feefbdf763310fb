"""Identify turns shared by every process of one bot, through the database: before a shard
identifies, its process takes the advisory lock of the shard's rate-limit bucket and keeps it
for the identify window (5 s), so that across all processes at most one session per bucket
starts per window, as Discord allows (``session_start_limit.max_concurrency`` buckets).

No table and no clock: the lock itself is the turn, and the server orders the waiters. A
process that dies inside its window frees the bucket early; the worst that follows is one
identify Discord refuses (INVALID_SESSION), which discord.py meets by identifying again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from storage.postgresql.dedicated import CONNECTION_ERRORS, DedicatedConnection

log = logging.getLogger(__name__)

# Bucket b's lock is IDENTIFY_LOCK_BASE + b: "topicb" then 0x01 0x00, so that up to 256
# buckets never meet the worker lease's key ("topicbot").
IDENTIFY_LOCK_BASE = int.from_bytes(b"topicb\x01\x00", "big")
POLL_SECONDS = 0.25


class PgIdentifySlots:
    """``bot.sharding.IdentifySlots`` through advisory locks on a connection of its own."""

    def __init__(self, url: str, *, source: str, poll_seconds: float = POLL_SECONDS) -> None:
        self._connection = DedicatedConnection(
            url, source=source, settings={"application_name": "topicbot identify turns"}
        )
        self._poll = poll_seconds
        self._query = asyncio.Lock()  # one statement at a time on the connection
        # A session takes its own advisory lock again without waiting: a bucket this process
        # holds is waited for here first.
        self._buckets: dict[int, asyncio.Lock] = {}
        self._releases: set[asyncio.Task[None]] = set()

    async def reserve(self, bucket: int, window: float) -> float:
        """Wait for the bucket's turn (shared with every process), then hold it for
        ``window`` seconds from now; 0: the caller may identify at once. When the database
        cannot be reached, the turn is taken without it (logged)."""
        local = self._buckets.setdefault(bucket, asyncio.Lock())
        await local.acquire()
        try:
            held = await self._take(IDENTIFY_LOCK_BASE + bucket)
        except BaseException:
            local.release()
            raise
        task = asyncio.create_task(self._release_after(bucket, window, held, local))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)
        return 0.0

    async def _take(self, key: int) -> bool:
        """Poll for the lock; False when the database failed and the turn goes without it."""
        started = time.monotonic()
        while True:
            try:
                async with self._query:
                    connection = await self._connection.get()
                    if await connection.fetchval("SELECT pg_try_advisory_lock($1)", key):
                        return True
            except CONNECTION_ERRORS as error:
                problem = self._connection.problem(error)
                log.warning("identify turns: %s; identifying without them", problem)
                await self._connection.drop()
                return False
            if time.monotonic() - started > 60:
                log.warning("identify turns: waited 60 s for a turn; identifying anyway")
                return False
            await asyncio.sleep(self._poll)

    async def _release_after(
        self, bucket: int, window: float, held: bool, local: asyncio.Lock
    ) -> None:
        try:
            await asyncio.sleep(window)
            connection = self._connection.current
            if held and connection is not None:
                with contextlib.suppress(*CONNECTION_ERRORS):
                    async with self._query:
                        await connection.execute(
                            "SELECT pg_advisory_unlock($1)", IDENTIFY_LOCK_BASE + bucket
                        )
        finally:
            local.release()

    async def close(self) -> None:
        """Stop waiting to give turns back, and close the connection (which gives them back)."""
        for task in list(self._releases):
            task.cancel()
        await asyncio.gather(*self._releases, return_exceptions=True)
        await self._connection.drop()
