"""Folding the write-ahead log back into the database file, off the writer's path."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from pathlib import Path
from typing import Self

import aiosqlite

log = logging.getLogger(__name__)

# The main connection still checkpoints by itself past this many WAL pages (about 64 MiB), in
# case this task cannot keep up or is not running.
SAFETY_NET_PAGES = 16384
# After a checkpoint SQLite truncates a larger WAL file back to this size.
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024


class WalCheckpointer:
    """Runs PASSIVE checkpoints every ``interval`` seconds on a connection (and thread) of its own.

    SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold (1000
    pages), so whichever write happened to cross it paid for copying and syncing every page
    of the log: a plan of 100k deliveries spent a tenth of its time there. A PASSIVE checkpoint
    from another connection works alongside readers and the writer, so commits only append.
    """

    def __init__(self, connection: aiosqlite.Connection, interval: float) -> None:
        self._connection = connection
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, path: Path, *, interval: float = 1.0) -> Self:
        """Open a connection to ``path`` and start checkpointing from it."""
        connection = await aiosqlite.connect(path, isolation_level=None)
        try:
            await connection.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")
        except BaseException:
            await connection.close()
            raise
        checkpointer = cls(connection, interval)
        checkpointer._task = asyncio.create_task(checkpointer._run(), name="wal-checkpoint")
        return checkpointer

    async def checkpoint(self) -> tuple[int, int]:
        """Copy what readers allow into the file now; return (log pages, pages copied)."""
        async with self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)") as cursor:
            row = await cursor.fetchone()
        return (int(row[1]), int(row[2])) if row else (0, 0)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.checkpoint()
            except sqlite3.Error as error:
                # The main connection's own checkpoint is the safety net; say so and go on.
                log.warning("WAL checkpoint failed (will retry): %s", error)

    async def close(self) -> None:
        """Stop the task and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._connection.close()
