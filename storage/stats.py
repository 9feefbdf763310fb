"""Counts that summarise the store, on either engine: the SQL here is read alike by SQLite
and PostgreSQL, and takes no parameters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from storage.models import Gauges, StoreStats
from storage.outbox.rows import MODES, WHENEVER, pending_by
from storage.timestamps import from_timestamp

if TYPE_CHECKING:
    from storage.api import RetentionApi


class Counts(Protocol):
    """What the counting needs of an engine's database: statements without parameters."""

    # Rows are tuples on SQLite, asyncpg records on PostgreSQL: read by position either way.
    async def fetch_all(self, sql: str, /) -> Sequence[Any]: ...

    async def fetch_one(self, sql: str, /) -> Any: ...

    async def scalar(self, sql: str, /) -> Any: ...


def _count_of(condition: str) -> str:
    return f"sum(CASE WHEN {condition} THEN 1 ELSE 0 END)"


_SKIPPED_OLD = "plan_outcome = 'skipped_old'"
_DELIVERY_STATES = ("pending", "sent", "failed", "dead", "skipped", "cancelled")


async def store_stats(db: Counts, retention: RetentionApi) -> StoreStats:
    """Count articles by state, topics, subscriptions, feeds and deliveries by state (those
    pruned included), with the store's size and the last pruning run."""
    row = await db.fetch_one(
        f"SELECT count(*), {_count_of('coverage_only = 0 AND published = 1')}, "
        f"{_count_of('coverage_only = 0 AND published = 0')}, {_count_of('coverage_only = 1')}, "
        f"{_count_of(_SKIPPED_OLD)} FROM articles"
    )
    total, published, pending, coverage, skipped = (int(v or 0) for v in row or (0,) * 5)
    deliveries = dict.fromkeys(_DELIVERY_STATES, 0)
    for state, count in await db.fetch_all("SELECT state, count(*) FROM deliveries GROUP BY state"):
        deliveries[str(state)] = int(count)
    pruned = await retention.pruned_totals()
    for state, count in pruned.items():
        deliveries[state] = deliveries.get(state, 0) + count
    paused = _count_of("disabled_reason IS NOT NULL")
    subscriptions = await db.fetch_one(f"SELECT count(*), {paused} FROM subscriptions")
    feeds = await db.fetch_one(f"SELECT count(*), {paused} FROM feeds")
    overrides = await db.fetch_one(
        "SELECT count(*), count(timezone), count(digest_time), count(digest_day) "
        "FROM guild_settings "
        "WHERE timezone IS NOT NULL OR digest_time IS NOT NULL OR digest_day IS NOT NULL"
    )
    servers, zone, at, day = (int(v or 0) for v in overrides or (0,) * 4)
    left = await db.fetch_one("SELECT count(*), min(left_at) FROM guilds_left")
    servers_left, first_left = (left[0], left[1]) if left else (0, None)
    gone = await db.fetch_one(
        "SELECT count(*), min(checked_at) FROM member_checks WHERE present = 0"
    )
    members_left, first_gone = (gone[0], gone[1]) if gone else (0, None)
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
        servers_left=int(servers_left or 0),
        first_left_at=None if first_left is None else from_timestamp(int(first_left)),
        members_left=int(members_left or 0),
        first_member_left_at=None if first_gone is None else from_timestamp(int(first_gone)),
    )


async def store_gauges(db: Counts, size_bytes: int) -> Gauges:
    """Pending rows per delivery mode (each counted from its own partial index), paused
    feeds and subscriptions, with the store's size as given."""
    outbox = {
        mode: int(
            await db.scalar(
                "SELECT count(*) FROM deliveries "
                f"WHERE {pending_by(str(WHENEVER), modes=[mode], alias='')}"
            )
            or 0
        )
        for mode in MODES
    }
    feeds = await db.scalar("SELECT count(*) FROM feeds WHERE disabled_reason IS NOT NULL")
    subscriptions = await db.scalar(
        "SELECT count(*) FROM subscriptions WHERE disabled_reason IS NOT NULL"
    )
    return Gauges(
        outbox_by_mode=outbox,
        paused_feeds=int(feeds or 0),
        paused_subscriptions=int(subscriptions or 0),
        size_bytes=size_bytes,
    )
