"""The jobs run only in the process holding the worker lease (``storage.lease``). Every
``topicbot run`` competes for it (unless ``--no-jobs``); one holds it and runs the jobs, the
others stand by, trying to take it every few seconds, and the first to find it free takes
over. The holder checks every few seconds that it still holds the lease, and stands by the
moment it does not. On taking the lease a process first takes over the outbox rows another
process held (``on_taken``): their holder is dead or stale, and they need not wait for their
claims to run out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.observability.logs import log_failure
from bot.scheduler import Job, JobScheduler
from storage.lease import WorkerLease

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
KEEPALIVE_SECONDS = 2.0
# After taking over from another process, the jobs wait this long: Discord still counts the old
# holder's last posts against each channel's 5 messages per 5 s, which this process's pacer
# never saw, and sending at once would meet 429s.
SETTLE_SECONDS = 5.0


class JobLeadership:
    """Runs ``jobs`` while ``lease`` is held, and stands by while it is not."""

    def __init__(
        self,
        lease: WorkerLease,
        jobs: JobScheduler,
        *,
        poll_seconds: float = POLL_SECONDS,
        keepalive_seconds: float = KEEPALIVE_SECONDS,
        on_taken: Callable[[], Awaitable[None]] | None = None,
        settle_seconds: float = SETTLE_SECONDS,
        settle_at_start: bool = True,
    ) -> None:
        self._lease = lease
        self._jobs = jobs
        self._on_taken = on_taken
        self._settle = settle_seconds
        self._settle_at_start = settle_at_start
        self._poll = poll_seconds
        self._keepalive = keepalive_seconds
        self._task: asyncio.Task[None] | None = None
        self.holding = False

    async def start(self) -> None:
        """Try the lease once now: the jobs start when it is free (after the settle pause, if
        ``settle_at_start``: the process that held it until a moment ago, this one before a
        restart say, may have sent within Discord's windows), paused when not; then keep
        competing (or checking) in the background."""
        self.holding = await self._lease.acquire()
        if self.holding:
            await self._took_over()
        settling = self.holding and self._settle_at_start and self._settle > 0
        self._jobs.start(paused=not self.holding or settling)
        log.info(
            "worker lease %s", "taken: this process runs the jobs" if self.holding else "held "
            "by another process: standing by",
        )  # fmt: skip
        self._task = asyncio.create_task(self._watch(settling), name="worker-lease")

    async def stop(self) -> None:
        """Stop the jobs and give the lease up, so that a standby takes over at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._jobs.shutdown()
        await self._lease.release()
        self.holding = False

    async def _watch(self, settling: bool) -> None:
        if settling:
            await asyncio.sleep(self._settle)
            self._jobs.resume()
        while True:
            await asyncio.sleep(self._keepalive if self.holding else self._poll)
            try:
                await self._check()
            except Exception as error:
                log_failure(log, error, "worker lease check failed; trying again")

    async def _check(self) -> None:
        if self.holding:
            if not await self._lease.held():
                self.holding = False
                self._jobs.pause()
                log.warning("worker lease lost: standing by (another process takes over)")
        elif await self._lease.acquire():
            self.holding = True
            log.info("worker lease taken: this process runs the jobs")
            await self._took_over()
            await asyncio.sleep(self._settle)
            self._jobs.resume()

    async def _took_over(self) -> None:
        if self._on_taken is None:
            return
        try:
            await self._on_taken()
        except Exception as error:  # the rows come back when their claims run out, all the same
            log_failure(log, error, "taking over the previous holder's rows failed")


def while_held(lease: WorkerLease, job: Job) -> Job:
    """``job``, run only after checking that this process still holds the lease: a holder
    that lost it (its connection cut, say) and has not noticed yet sends nothing more."""

    async def run() -> str:
        if not await lease.held():
            log.warning("worker lease no longer held: this run is skipped")
            return ""
        return await job()

    return run
