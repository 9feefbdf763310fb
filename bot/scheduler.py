"""Background jobs on APScheduler. All state lives in the store, so a job that runs twice
does no harm; a failing run is logged and tried again on the next tick."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.domain.article_file import ParseLimits
from bot.domain.ingest import scan_inbox

if TYPE_CHECKING:
    from bot.app import TopicBot

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[str]]
HOUSEKEEPING_SECONDS = 3600


def logged(name: str, job: Job) -> Callable[[], Awaitable[None]]:
    """Run ``job``, logging what it did and how long it took; never let it raise."""

    async def run() -> None:
        started = time.monotonic()
        try:
            summary = await job()
        except Exception:
            log.exception("job %s failed; it will run again on its next tick", name)
            return
        elapsed = time.monotonic() - started
        if summary:
            log.info("job %s: %s (%.3fs)", name, summary, elapsed)

    return run


class JobScheduler:
    """The bot's periodic jobs (started in setup_hook, shut down on close)."""

    def __init__(self, bot: TopicBot) -> None:
        self._bot = bot
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30},
        )

    def start(self) -> None:
        """Add the jobs with fixed ids and start ticking."""
        settings = self._bot.settings
        jobs: list[tuple[str, Job, float]] = [
            ("scan_inbox", self.scan_inbox, settings.ingest.interval_seconds),
            ("plan_deliveries", self.plan_deliveries, settings.delivery.plan_interval_seconds),
            ("send_deliveries", self.send_deliveries, settings.delivery.send_interval_seconds),
            ("send_digests", self.send_digests, settings.digests.check_interval_seconds),
            ("housekeeping", self.housekeeping, HOUSEKEEPING_SECONDS),
        ]
        for job_id, job, seconds in jobs:
            self._scheduler.add_job(
                logged(job_id, job),
                "interval",
                seconds=seconds,
                id=job_id,
                replace_existing=True,
                next_run_time=datetime.now(UTC),
            )
        self._scheduler.start()

    def shutdown(self) -> None:
        """Stop ticking; a run in progress is not waited for."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def scan_inbox(self) -> str:
        """Ingest what waits in the inbox."""
        ingest = self._bot.settings.ingest
        report = await scan_inbox(
            self._bot.store,
            ingest.inbox_dir,
            limits=ParseLimits(max_file_bytes=ingest.max_file_bytes),
            batch_size=ingest.batch_size,
            settle_seconds=ingest.settle_seconds,
        )
        if not report.files:
            return ""
        return (
            f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
            f"{len(report.rejected)} rejected"
        )

    async def plan_deliveries(self) -> str:
        """Fan new publications out to the outbox."""
        summary = await self._bot.planner.plan()
        busy = summary.publications or summary.skipped_old
        return str(summary) if busy else ""

    async def send_deliveries(self) -> str:
        """Send what is due, paced; wait for the gateway first so views can be dispatched."""
        if not self._bot.is_ready():
            return ""
        summary = await self._bot.dispatcher.send_due()
        return str(summary) if summary.anything else ""

    async def send_digests(self) -> str:
        """Send the digests whose time has come."""
        if not self._bot.is_ready():
            return ""
        summary = await self._bot.dispatcher.send_digests()
        return str(summary) if summary.anything else ""

    async def housekeeping(self) -> str:
        """Keep the database file tidy."""
        await self._bot.store.optimize()
        return "optimized the store"
