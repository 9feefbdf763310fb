"""Counts that summarise the store."""

from __future__ import annotations

import aiosqlite

from storage.models import StoreStats

_DELIVERY_STATES = ("pending", "sent", "failed", "dead", "skipped", "cancelled")


async def _scalar(connection: aiosqlite.Connection, sql: str) -> int:
    async with connection.execute(sql) as cursor:
        row = await cursor.fetchone()
    return int(row[0] or 0) if row else 0


async def store_stats(connection: aiosqlite.Connection) -> StoreStats:
    """Count articles by state, topics, subscriptions, feeds and deliveries by state."""
    async with connection.execute(
        "SELECT count(*), "
        "sum(coverage_only = 0 AND published = 1), "
        "sum(coverage_only = 0 AND published = 0), "
        "sum(coverage_only = 1) FROM articles"
    ) as cursor:
        row = await cursor.fetchone()
    total, published, pending, coverage = (int(v or 0) for v in row) if row else (0, 0, 0, 0)
    deliveries = dict.fromkeys(_DELIVERY_STATES, 0)
    async with connection.execute(
        "SELECT state, count(*) FROM deliveries GROUP BY state"
    ) as cursor:
        async for state, count in cursor:
            deliveries[str(state)] = int(count)
    return StoreStats(
        articles=total,
        published=published,
        pending=pending,
        coverage_only=coverage,
        topics=await _scalar(connection, "SELECT count(*) FROM topics"),
        subscriptions=await _scalar(connection, "SELECT count(*) FROM subscriptions"),
        feeds=await _scalar(connection, "SELECT count(*) FROM feeds"),
        deliveries=deliveries,
    )
