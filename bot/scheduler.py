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
        ingest = self._bot.settings.ingest
        self._scheduler.add_job(
            logged("scan_inbox", self.scan_inbox),
            "interval",
            seconds=ingest.interval_seconds,
            id="scan_inbox",
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
