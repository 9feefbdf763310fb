"""The bot's jobs, as the scheduler runs them: each a coroutine function returning its
summary ("" when it did nothing worth a log line). Built where the app is wired."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.config import IngestSettings
from bot.domain.associations import AssociationLearner
from bot.domain.delivery import DeliveryPlanner
from bot.domain.retention import Housekeeper, describe
from bot.domain.subscriptions import Clock, utc_now
from bot.ingest.inbox import scan_inbox
from bot.observability.metrics import Metrics
from bot.scheduler import Job
from bot.sending.dispatcher import Dispatcher
from storage.api import StoreApi

HOUSEKEEPING_SECONDS = 3600
SEND_BATCH = 500  # rows a sending run claims at once (12.5 s of sending at 40/s)


def inbox_job(
    store: StoreApi,
    ingest: IngestSettings,
    metrics: Metrics | None = None,
    *,
    clock: Clock = utc_now,
) -> Job:
    """Ingest what waits in the inbox."""

    async def run() -> str:
        report = await scan_inbox(
            store,
            ingest.inbox_dir,
            limits=ingest.parse_limits(clock()),
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


def sending_job(
    dispatcher: Dispatcher,
    still_held: Callable[[], Awaitable[bool]] | None = None,
    *,
    batch: int = SEND_BATCH,
) -> Job:
    """Send the posts and DMs that are due, paced: batch after batch while a batch comes back
    full (a backlog is sent at the paced rate, not a batch per interval), checking before each
    further batch that this process ``still_held`` the worker lease."""

    async def run() -> str:
        summary = await dispatcher.send_due(batch=batch, more=still_held or _always)
        return str(summary) if summary.anything else ""

    return run


async def _always() -> bool:
    return True


def digest_job(dispatcher: Dispatcher) -> Job:
    """Send the digests whose moment has come."""

    async def run() -> str:
        summary = await dispatcher.send_digests()
        return str(summary) if summary.anything else ""

    return run


def housekeeping_job(store: StoreApi, housekeeper: Housekeeper) -> Job:
    """Prune what retention lets go, give freed pages back, relearn term associations from
    the stories (off the ingest path: bot/domain/associations.py), keep the file tidy."""

    async def run() -> str:
        pruned = describe(await housekeeper.run())
        learned = await AssociationLearner(store).run()
        await store.optimize()
        done = f"learned {learned} term associations; optimized the store"
        return f"{pruned}; {done}" if pruned else done

    return run
