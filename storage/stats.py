"""Counts that summarise the store."""

from __future__ import annotations

from dataclasses import dataclass

from storage.database import Database
from storage.models import StoreStats
from storage.outbox.rows import MODES, WHENEVER, pending_by
from storage.retention import RetentionRepository

_DELIVERY_STATES = ("pending", "sent", "failed", "dead", "skipped", "cancelled")


async def store_stats(db: Database) -> StoreStats:
    """Count articles by state, topics, subscriptions, feeds and deliveries by state (those
    pruned included), with the file's size and the last pruning run."""
    row = await db.fetch_one(
        "SELECT count(*), "
        "sum(coverage_only = 0 AND published = 1), "
        "sum(coverage_only = 0 AND published = 0), "
        "sum(coverage_only = 1), "
        "sum(plan_outcome = 'skipped_old') FROM articles"
    )
    total, published, pending, coverage, skipped = (int(v or 0) for v in row or (0,) * 5)
    deliveries = dict.fromkeys(_DELIVERY_STATES, 0)
    for state, count in await db.fetch_all("SELECT state, count(*) FROM deliveries GROUP BY state"):
        deliveries[str(state)] = int(count)
    retention = RetentionRepository(db)
    pruned = await retention.pruned_totals()
    for state, count in pruned.items():
        deliveries[state] = deliveries.get(state, 0) + count
    subscriptions = await db.fetch_one(
        "SELECT count(*), sum(disabled_reason IS NOT NULL) FROM subscriptions"
    )
    feeds = await db.fetch_one("SELECT count(*), sum(disabled_reason IS NOT NULL) FROM feeds")
    overrides = await db.fetch_one(
        "SELECT count(*), count(timezone), count(digest_time), count(digest_day) "
        "FROM guild_settings "
        "WHERE timezone IS NOT NULL OR digest_time IS NOT NULL OR digest_day IS NOT NULL"
    )
    servers, zone, at, day = (int(v or 0) for v in overrides or (0,) * 4)
    return StoreStats(
        articles=total,
        published=published,
        pending=pending,
        coverage_only=coverage,
        skipped_old=skipped,
        topics=int(await db.scalar("SELECT count(*) FROM topics") or 0),
        subscriptions=int(subscriptions[0] or 0) if subscriptions else 0,
        subscriptions_paused=int(subscriptions[1] or 0) if subscriptions else 0,
        feeds=int(feeds[0] or 0) if feeds else 0,
        feeds_paused=int(feeds[1] or 0) if feeds else 0,
        deliveries=deliveries,
        digest_overrides={
            "servers": servers,
            "timezone": zone,
            "digest_time": at,
            "digest_day": day,
        },
        deliveries_pruned={state: pruned.get(state, 0) for state in deliveries},
        size=await retention.size(),
        last_pruning=await retention.last_run(),
    )


@dataclass(frozen=True, slots=True)
class Gauges:
    """What the store holds now, cheap enough to read at every metrics scrape."""

    outbox_by_mode: dict[str, int]
    paused_feeds: int
    paused_subscriptions: int
    size_bytes: int


async def store_gauges(db: Database) -> Gauges:
    """Pending rows per delivery mode (each counted from its own partial index), paused
    feeds and subscriptions, and the file's size in pages."""
    outbox = {
        mode: int(
            await db.scalar(
                f"SELECT count(*) FROM deliveries WHERE {pending_by('?', modes=[mode], alias='')}",
                (WHENEVER,),
            )
            or 0
        )
        for mode in MODES
    }
    feeds = await db.scalar("SELECT count(*) FROM feeds WHERE disabled_reason IS NOT NULL")
    subscriptions = await db.scalar(
        "SELECT count(*) FROM subscriptions WHERE disabled_reason IS NOT NULL"
    )
    pages = await db.scalar("PRAGMA page_count")
    page_size = await db.scalar("PRAGMA page_size")
    return Gauges(
        outbox_by_mode=outbox,
        paused_feeds=int(feeds or 0),
        paused_subscriptions=int(subscriptions or 0),
        size_bytes=int(pages or 0) * int(page_size or 0),
    )
