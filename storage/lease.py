"""The worker lease: the right to run the jobs (inbox, planning, sending, digests,
housekeeping), held by exactly one process at a time.

On PostgreSQL several processes compete for it (``storage.postgresql.lease``); on SQLite only
one process may open the store at all (``storage.exclusive``), so that process always holds it.
"""

from __future__ import annotations

from typing import Protocol


class WorkerLease(Protocol):
    """What the job runner needs of a lease."""

    async def acquire(self) -> bool:
        """Try to take the lease now, without waiting; whether this process holds it."""
        ...

    async def held(self) -> bool:
        """Whether this process still holds it (checked before each run of the jobs and
        every few seconds: False once it is lost, whatever the reason)."""
        ...

    async def release(self) -> None:
        """Give it up (at shutdown), so that a standby takes over at once."""
        ...


class SoleProcessLease:
    """The lease of a store only one process opens: always held."""

    async def acquire(self) -> bool:
        return True

    async def held(self) -> bool:
        return True

    async def release(self) -> None:
        return None
