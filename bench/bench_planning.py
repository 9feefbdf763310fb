"""Planning fan-out: one published article to N subscribers (goal: < 0.2 s at 100k on SQLite,
<= 0.5 s on PostgreSQL).

    python -m bench.bench_planning --subscribers 100000 [--guilds 50] [--feeds 200]
        [--backend sqlite|postgresql] [--url URL]

Builds a store with the subscribers spread over guilds and topics (bulk SQL: this measures
planning, not setup), publishes one article and times ``DeliveryPlanner.plan()``, which
writes every outbox row and marks the article planned in one transaction.

With ``--backend postgresql`` the server comes from ``--url`` (default
``$TOPICBOT_TEST_DATABASE_URL``); the bench creates a database of its own next to the one the
URL names and drops it afterwards. When that server runs on this machine, the bench also
reports the CPU time its processes spent per plan: on a loaded machine the wall time is mostly
waiting for a core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench.servers import server_cpu_seconds
from bot.articles.article_file import parse_article
from bot.config import Settings
from bot.domain.delivery import DeliveryPlanner
from storage import Store
from storage.postgresql.store import PgStore
from tests.factories import article_text

TOPICS = ["Transport", "AI", "Climate", "Privacy", "Energy", "Health", "Space", "Security"]
GOALS_MS = {"sqlite": 200, "postgresql": 500}
_SUBSCRIBER = ("guild_id", "user_id", "topic_id", "min_quality", "delivery", "created_at")


def subscriber_rows(
    rng: random.Random, topic_ids: list[int], subscribers: int, guilds: int, stamp: int
) -> list[tuple[Any, ...]]:
    modes = ["instant"] * 6 + ["daily"] * 3 + ["weekly"]
    return [
        (
            1000 + rng.randrange(guilds),
            10_000_000 + n,
            rng.choice(topic_ids),
            rng.choice([0, 0, 20, 50]),
            rng.choice(modes),
            stamp,
        )
        for n in range(subscribers)
    ]


def feed_rows(
    rng: random.Random, topic_ids: list[int], feeds: int, guilds: int, stamp: int
) -> list[tuple[Any, ...]]:
    return [
        (1000 + rng.randrange(guilds), 5_000_000 + n, rng.choice([None, *topic_ids]), 1, stamp)
        for n in range(feeds)
    ]


def article(n: int, now: datetime, **fields: Any) -> Any:
    text = article_text(webUrl=f"https://bench.example/{n}", originalUrl=..., related=[], **fields)
    return parse_article(text.encode(), source="bench.md")


class Bench:
    """A store on either engine: articles through its API, subscribers and feeds in bulk."""

    def __init__(self, store: Any) -> None:
        self.store = store

    async def server_seconds(self) -> float | None:
        """CPU time the database server has spent for this store so far (None: not known)."""
        return None

    async def seed(self, subscribers: int, guilds: int, feeds: int, now: datetime) -> None:
        await self.store.articles.upsert_batch([article(0, now, topics=TOPICS)], now)
        topic_ids = [t.id for t in await self.store.topics.most_used(limit=100)]
        rng, stamp = random.Random(7), int(now.timestamp())
        await self.bulk(
            [(*row, stamp) for row in subscriber_rows(rng, topic_ids, subscribers, guilds, stamp)],
            feed_rows(rng, topic_ids, feeds, guilds, stamp),
        )

    async def bulk(
        self, subscriptions: list[tuple[Any, ...]], feeds: list[tuple[Any, ...]]
    ) -> None:
        raise NotImplementedError

    async def publish(self, n: int, now: datetime) -> None:
        fresh = article(
            n,
            now,
            topics=TOPICS,
            quality=80,
            published=True,
            publishedDateTime=(now - timedelta(minutes=5)).isoformat(),
        )
        await self.store.articles.upsert_batch([fresh], now)


class SqliteBench(Bench):
    async def bulk(
        self, subscriptions: list[tuple[Any, ...]], feeds: list[tuple[Any, ...]]
    ) -> None:
        db = self.store._db
        async with db.transaction():
            await db.executemany(
                "INSERT OR IGNORE INTO subscriptions (guild_id, user_id, topic_id, min_quality, "
                "delivery, created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
                subscriptions,
            )
            await db.executemany(
                "INSERT OR IGNORE INTO feeds (guild_id, channel_id, topic_id, created_by, "
                "created_at) VALUES (?,?,?,?,?)",
                feeds,
            )


class PostgresqlBench(Bench):
    async def bulk(
        self, subscriptions: list[tuple[Any, ...]], feeds: list[tuple[Any, ...]]
    ) -> None:
        db = self.store._db
        async with db.pool.acquire() as connection, connection.transaction():
            await connection.copy_records_to_table(
                "subscriptions", records=subscriptions, columns=[*_SUBSCRIBER, "updated_at"]
            )
            await connection.executemany(
                "INSERT INTO feeds (guild_id, channel_id, topic_id, created_by, created_at) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                feeds,
            )
        # as autovacuum would have by then: the fan-out reads the index alone
        await db.execute("VACUUM ANALYZE subscriptions")

    async def server_seconds(self) -> float | None:
        return await server_cpu_seconds(self.store._db)


@asynccontextmanager
async def bench_store(backend: str, url: str | None) -> AsyncIterator[Any]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            store = await Store.open(Path(folder) / "bench.db")
            try:
                yield SqliteBench(store)
            finally:
                await store.close()
        return
    assert url is not None
    name = f"topicbot_bench_planning_{os.getpid()}"
    await _administer(url, f'CREATE DATABASE "{name}"')
    try:
        parts = urlsplit(url)
        store = await PgStore.open(urlunsplit(parts._replace(path=f"/{name}")), source="--url")
        try:
            yield PostgresqlBench(store)
        finally:
            await store.close()
    finally:
        await _administer(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _administer(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def run(
    subscribers: int, guilds: int, feeds: int, repeats: int, backend: str, url: str | None
) -> dict[str, Any]:
    settings = Settings()
    timings: list[float] = []
    server: list[float] = []
    counts = (0, 0)
    async with bench_store(backend, url) as bench:
        await bench.seed(subscribers, guilds, feeds, datetime.now(UTC))
        for n in range(1, repeats + 1):
            now = datetime.now(UTC)
            await bench.publish(n, now)
            planner = DeliveryPlanner(
                bench.store, settings.delivery, settings.digests, clock=lambda at=now: at
            )
            cpu_before = await bench.server_seconds()
            started = time.perf_counter()
            summary = await planner.plan()
            timings.append(time.perf_counter() - started)
            cpu_after = await bench.server_seconds()
            if cpu_before is not None and cpu_after is not None:
                server.append(cpu_after - cpu_before)
            counts = (summary.channel_posts, summary.direct_messages)
    timings.sort()
    return {
        "backend": backend,
        "subscribers": subscribers,
        "channel_posts": counts[0],
        "direct_messages": counts[1],
        "best_s": round(timings[0], 4),
        "median_s": round(timings[len(timings) // 2], 4),
        "worst_s": round(timings[-1], 4),
        "server_cpu_median_s": round(sorted(server)[len(server) // 2], 3) if server else None,
        "load_average": os.getloadavg()[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--guilds", type=int, default=50)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--url", default=os.environ.get("TOPICBOT_TEST_DATABASE_URL"))
    args = parser.parse_args()
    if args.backend == "postgresql" and not args.url:
        print("bench_planning: give --url or set TOPICBOT_TEST_DATABASE_URL", file=sys.stderr)
        return 2
    result = asyncio.run(
        run(args.subscribers, args.guilds, args.feeds, args.repeats, args.backend, args.url)
    )
    print(
        f"{args.backend}: planned one article for {result['subscribers']:,} subscribers: "
        f"{result['direct_messages']:,} DMs + {result['channel_posts']} channel posts; "
        f"median {result['median_s'] * 1000:.0f} ms (best {result['best_s'] * 1000:.0f}, "
        f"worst {result['worst_s'] * 1000:.0f}); goal < {GOALS_MS[args.backend]} ms; "
        f"load average {result['load_average']:.1f}"
    )
    if result["server_cpu_median_s"] is not None:
        print(f"database server CPU per plan: median {result['server_cpu_median_s'] * 1000:.0f} ms")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
