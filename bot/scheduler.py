"""Background jobs on APScheduler. All state lives in the store, so a job that runs twice
does no harm; a failing run is logged and tried again at the job's next turn.

Each job runs at least every so many seconds. A job may also say when it is next wanted (the
digest job: the moment its earliest waiting row is due, read from the store), and is then
woken at that moment by its trigger; this is read again after each of its runs and after any
job that did something (planning writes digest rows, sending moves rows to the digest). A job
that needs the gateway skips a run made before the gateway is ready and runs as soon as it is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.articles.article_file import ParseLimits
from bot.config import IngestSettings
from bot.domain.retention import describe
from bot.ingest.inbox import scan_inbox
from bot.observability.logs import job_context

if TYPE_CHECKING:
    from bot.alerts import Dispatcher
    from bot.domain.delivery import DeliveryPlanner
    from bot.domain.retention import Housekeeper
    from bot.observability.metrics import Metrics
    from storage import Store

log = logging.getLogger(__name__)

# A job's summary of what it did; "" when it did nothing worth a log line.
Job = Callable[[], Awaitable[str]]
NextWanted = Callable[[], Awaitable[datetime | None]]
Clock = Callable[[], datetime]
Outcome = Literal["waiting for the gateway", "failed", "idle", "did something"]
HOUSEKEEPING_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """A job: its id (in the logs), what it runs, the longest it waits between runs, when it
    is next wanted sooner (by the bot's clock), and whether it needs the gateway."""

    job_id: str
    run: Job
    every_seconds: float
    next_wanted: NextWanted | None = None
    needs_gateway: bool = False


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
        # time.monotonic() of each job's last run that did not raise (the start, before one)
        self._last_ran: dict[str, float] = {}
        self._last_failed: set[str] = set()
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30},
        )
        # Each run that did something gets one line from us, named by its job id; APScheduler's
        # own two lines for every run (every few seconds) would bury those.
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)

    def start(self) -> None:
        """Start, then add the jobs under their ids; each runs once at once."""
        self._scheduler.start()
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

    def shutdown(self) -> None:
        """Stop; a run in progress is not waited for."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def overdue(self) -> list[str]:
        """Jobs that have not run (without raising) within twice their interval, each as a
        sentence for /healthz. A job running now counts as running on time: a dispatch of
        many messages takes longer than the sending interval."""
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
            except Exception:
                log.exception(
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
            self._running.add(job.job_id)
            try:
                outcome = await self._run_logged(job)
            finally:
                self._running.discard(job.job_id)
            # After a failure the job waits for its next turn: waking it at a row it could
            # not send would only fail again at once.
            if outcome == "did something" or (outcome == "idle" and job.next_wanted is not None):
                await self.wake_when_wanted()

        return run

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
        except Exception:
            log.exception("job %s failed; it runs again at its next turn", job.job_id, extra=ids)
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


def inbox_job(store: Store, ingest: IngestSettings, metrics: Metrics | None = None) -> Job:
    """Ingest what waits in the inbox."""

    async def run() -> str:
        report = await scan_inbox(
            store,
            ingest.inbox_dir,
            limits=ParseLimits(max_file_bytes=ingest.max_file_bytes),
            batch_size=ingest.batch_size,
            settle_seconds=ingest.settle_seconds,
        )
        if metrics is not None:
            metrics.count_ingest(report)
        if not report.files:
            return ""
        return (
            f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
            f"{len(report.rejected)} rejected"
        )

    return run


def planning_job(planner: DeliveryPlanner, metrics: Metrics | None = None) -> Job:
    """Fan new publications out to the outbox."""

    async def run() -> str:
        summary = await planner.plan()
        if metrics is not None:
            metrics.count_plan(summary)
        return str(summary) if summary.publications or summary.skipped_old else ""

    return run


def sending_job(dispatcher: Dispatcher) -> Job:
    """Send the posts and DMs that are due, paced."""

    async def run() -> str:
        summary = await dispatcher.send_due()
        return str(summary) if summary.anything else ""

    return run


def digest_job(dispatcher: Dispatcher) -> Job:
    """Send the digests whose moment has come."""

    async def run() -> str:
        summary = await dispatcher.send_digests()
        return str(summary) if summary.anything else ""

    return run


def housekeeping_job(store: Store, housekeeper: Housekeeper) -> Job:
    """Prune what retention lets go, give freed pages back, keep the file tidy."""

    async def run() -> str:
        pruned = describe(await housekeeper.run())
        await store.optimize()
        return f"{pruned}; optimized the store" if pruned else "optimized the store"

    return run
