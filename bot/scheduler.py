"""Background jobs on APScheduler. All state lives in the store, so a job that runs twice
does no harm; a failing run is logged and tried again at the job's next turn.

Each job runs at least every so many seconds. A job may also say when it is next wanted (the
digest job: the moment its earliest waiting row is due, read from the store), and is then
woken at that moment by its trigger; this is read again after each of its runs and after any
job that did something (planning writes digest rows, sending moves rows to the digest), and
after every run of a job that ``rereads`` (where other processes share the store, a moderator's
/settings answered by another process moves digests this one cannot see otherwise). A job that
needs the gateway skips a run made before the gateway is ready and runs as soon as it is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.observability.logs import job_context, log_failure

if TYPE_CHECKING:
    from bot.observability.metrics import Metrics

log = logging.getLogger(__name__)

# A job's summary of what it did; "" when it did nothing worth a log line.
Job = Callable[[], Awaitable[str]]
NextWanted = Callable[[], Awaitable[datetime | None]]
Clock = Callable[[], datetime]
Outcome = Literal["waiting for the gateway", "failed", "idle", "did something"]


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """A job: its id (in the logs), what it runs, the longest it waits between runs, when it
    is next wanted sooner (by the bot's clock), whether it needs the gateway, and whether each
    of its runs, even one that did nothing, reads when the jobs are next wanted again."""

    job_id: str
    run: Job
    every_seconds: float
    next_wanted: NextWanted | None = None
    needs_gateway: bool = False
    rereads: bool = False


class _SkippedTurns(logging.Filter):
    """Drops APScheduler's warning for a turn skipped because the job's last run is still
    going: one run at a time is the design, and a long run (a backlog sent batch after batch)
    would otherwise warn at every interval."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


def _quiet_skipped_turns(logger: logging.Logger) -> None:
    if not any(isinstance(f, _SkippedTurns) for f in logger.filters):
        logger.addFilter(_SkippedTurns())


class JobScheduler:
    """Runs the bot's jobs (started in setup_hook, shut down on close)."""

    def __init__(
        self,
        jobs: Sequence[ScheduledJob],
        *,
        clock: Clock,
        gateway_ready: Callable[[], bool],
        metrics: Metrics | None = None,
    ) -> None:
        self._jobs = {job.job_id: job for job in jobs}
        self._clock = clock
        self._gateway_ready = gateway_ready
        self._metrics = metrics
        self._running: set[str] = set()
        self.standing_by = False
        # time.monotonic() of each job's last run that did not raise (the start, before one)
        self._last_ran: dict[str, float] = {}
        self._last_failed: set[str] = set()
        # Two instances, one run at a time all the same (``_running``): a run that ends with
        # its job due again (a digest batch cut short, rows due meanwhile) wakes it from inside
        # itself, before APScheduler has counted that run as ended; with one instance that
        # turn was skipped and the job slept a whole interval.
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"max_instances": 2, "coalesce": True, "misfire_grace_time": 30},
        )
        # Each run that did something gets one line from us, named by its job id; APScheduler's
        # own two lines for every run (every few seconds) would bury those.
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
        _quiet_skipped_turns(logging.getLogger("apscheduler.scheduler"))

    def start(self, *, paused: bool = False) -> None:
        """Start, then add the jobs under their ids; each runs once at once (or, ``paused``,
        at once when resumed)."""
        self._scheduler.start(paused=paused)
        self.standing_by = paused
        started = time.monotonic()
        self._last_ran = dict.fromkeys(self._jobs, started)
        for job in self._jobs.values():
            self._scheduler.add_job(
                self._runner(job),
                "interval",
                seconds=job.every_seconds,
                id=job.job_id,
                name=job.job_id,
                replace_existing=True,
                next_run_time=datetime.now(UTC),
            )

    def pause(self) -> None:
        """Stand by: no job starts until ``resume`` (one running now runs to its end)."""
        self.standing_by = True
        self._scheduler.pause()

    def resume(self) -> None:
        """Run the jobs again, each at once."""
        now, moment = time.monotonic(), datetime.now(UTC)
        self._last_ran = dict.fromkeys(self._jobs, now)
        for job_id in self._jobs:
            self._scheduler.modify_job(job_id, next_run_time=moment)
        self.standing_by = False
        self._scheduler.resume()

    def shutdown(self) -> None:
        """Stop; a run in progress is not waited for."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def overdue(self) -> list[str]:
        """Jobs that have not run (without raising) within twice their interval, each as a
        sentence for /healthz. A job running now counts as running on time: a dispatch of
        many messages takes longer than the sending interval."""
        if self.standing_by:
            return []  # another process runs them
        now = time.monotonic()
        late = []
        for job_id, job in self._jobs.items():
            since = now - self._last_ran.get(job_id, now)
            if job_id in self._running or since <= 2 * job.every_seconds:
                continue
            why = "; its last run failed" if job_id in self._last_failed else ""
            late.append(
                f"job {job_id} last ran {since:.0f}s ago (every {job.every_seconds:g}s){why}"
            )
        return late

    def gateway_is_ready(self) -> None:
        """The gateway is ready: run now the jobs that skipped their turn waiting for it."""
        for job in self._jobs.values():
            if job.needs_gateway:
                self._run_at(job.job_id, self._clock())

    async def wake_when_wanted(self) -> None:
        """Read when jobs are next wanted and have them run at that moment."""
        for job in self._jobs.values():
            if job.next_wanted is None or (job.needs_gateway and not self._gateway_ready()):
                continue  # a job waiting for the gateway runs when it is ready
            try:
                moment = await job.next_wanted()
            except Exception as error:
                log_failure(
                    log,
                    error,
                    "could not tell when job %s is next wanted",
                    job.job_id,
                    extra={"job": job.job_id},
                )
                continue
            if moment is not None:
                self._run_at(job.job_id, moment)

    def _run_at(self, job_id: str, moment: datetime) -> None:
        """Bring the job's next run forward to ``moment`` (by the bot's clock), if sooner."""
        scheduled = self._scheduler.get_job(job_id)
        if scheduled is None or job_id in self._running:
            return  # a running job reads its next moment again when it ends
        # The clock first, then the wall: never earlier than the moment by the bot's clock.
        delay = max(moment - self._clock(), timedelta(0))
        wall = datetime.now(UTC) + delay
        if scheduled.next_run_time is None or wall < scheduled.next_run_time:
            scheduled.modify(next_run_time=wall)

    def _runner(self, job: ScheduledJob) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if job.job_id in self._running:
                return  # a turn while a run is going: that run reads its next moment at its end
            try:
                await self._run_then_wake(job)
            except asyncio.CancelledError:
                # the scheduler's shutdown (SIGTERM, SIGINT) cancels a run under way, or its
                # reading of when the jobs are next wanted: its rows are left for the next
                # run, here or in another process; no traceback
                log.info("job %s stopped by the shutdown", job.job_id, extra={"job": job.job_id})

        return run

    async def _run_then_wake(self, job: ScheduledJob) -> None:
        self._running.add(job.job_id)
        try:
            outcome = await self._run_logged(job)
        finally:
            self._running.discard(job.job_id)
        # After a failure the job waits for its next turn: waking it at a row it could not
        # send would only fail again at once.
        reads_again = job.next_wanted is not None or job.rereads
        if outcome == "did something" or (outcome == "idle" and reads_again):
            await self.wake_when_wanted()

    async def _run_logged(self, job: ScheduledJob) -> Outcome:
        if job.needs_gateway and not self._gateway_ready():
            # not late: /healthz names the gateway, the job's own wait is no second problem
            self._last_ran[job.job_id] = time.monotonic()
            return "waiting for the gateway"
        started = time.monotonic()
        ids = {"job": job.job_id}
        try:
            with job_context(job.job_id):
                summary = await job.run()
        except Exception as error:
            log_failure(log, error, "job %s failed; it runs again at its next turn", job.job_id,
                        extra=ids)  # fmt: skip
            self._finished(job.job_id, started, failed=True)
            return "failed"
        self._finished(job.job_id, started, failed=False)
        if not summary:
            return "idle"
        log.info("job %s: %s (%.3fs)", job.job_id, summary, time.monotonic() - started, extra=ids)
        return "did something"

    def _finished(self, job_id: str, started: float, *, failed: bool) -> None:
        if self._metrics is not None:
            self._metrics.job_seconds.labels(job_id).observe(time.monotonic() - started)
            if failed:
                self._metrics.job_failures.labels(job_id).inc()
        if failed:
            self._last_failed.add(job_id)
        else:
            self._last_failed.discard(job_id)
            self._last_ran[job_id] = time.monotonic()
