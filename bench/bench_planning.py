"""Planning fan-out: one published article to N subscribers (goal: < 0.2 s at 100k).

    python -m bench.bench_planning --subscribers 100000 [--guilds 50] [--feeds 200]

Builds a store with the subscribers spread over guilds and topics (bulk SQL: this measures
planning, not setup), publishes one article and times ``DeliveryPlanner.plan()``, which
writes every outbox row and marks the article planned in one transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.articles.article_file import parse_article
from bot.config import Settings
from bot.domain.delivery import DeliveryPlanner
from storage import Store
from tests.factories import article_text

TOPICS = ["Transport", "AI", "Climate", "Privacy", "Energy", "Health", "Space", "Security"]


async def build(path: Path, subscribers: int, guilds: int, feeds: int) -> Store:
    store = await Store.open(path)
    now = datetime.now(UTC)
    text = article_text(webUrl="https://seed.example/0", originalUrl=..., related=[], topics=TOPICS)
    seed = parse_article(text.encode(), source="seed.md")
    await store.articles.upsert_batch([seed], now)
    topic_ids = [t.id for t in await store.topics.most_used(limit=100)]
    rng = random.Random(7)
    stamp = int(now.timestamp())
    modes = ["instant"] * 6 + ["daily"] * 3 + ["weekly"]
    rows = [
        (
            1000 + rng.randrange(guilds),
            10_000_000 + n,
            rng.choice(topic_ids),
            rng.choice([0, 0, 20, 50]),
            rng.choice(modes),
            stamp,
            stamp,
        )
        for n in range(subscribers)
    ]
    async with store._db.transaction():
        await store._db.executemany(
            "INSERT OR IGNORE INTO subscriptions (guild_id, user_id, topic_id, min_quality, "
            "delivery, created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
            rows,
        )
        await store._db.executemany(
            "INSERT OR IGNORE INTO feeds (guild_id, channel_id, topic_id, created_by, created_at) "
            "VALUES (?,?,?,?,?)",
            [
                (
                    1000 + rng.randrange(guilds),
                    5_000_000 + n,
                    rng.choice([None, *topic_ids]),
                    1,
                    stamp,
                )
                for n in range(feeds)
            ],
        )
    return store


async def run(subscribers: int, guilds: int, feeds: int, repeats: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        store = await build(Path(folder) / "bench.db", subscribers, guilds, feeds)
        settings = Settings()
        timings: list[float] = []
        counts = (0, 0)
        try:
            for n in range(repeats):
                now = datetime.now(UTC)
                article = parse_article(
                    article_text(
                        webUrl=f"https://bench.example/{n}",
                        originalUrl=...,
                        related=[],
                        topics=TOPICS,
                        quality=80,
                        published=True,
                        publishedDateTime=(now - timedelta(minutes=5)).isoformat(),
                    ).encode(),
                    source="bench.md",
                )
                await store.articles.upsert_batch([article], now)
                planner = DeliveryPlanner(
                    store, settings.delivery, settings.digests, clock=lambda at=now: at
                )
                started = time.perf_counter()
                summary = await planner.plan()
                timings.append(time.perf_counter() - started)
                counts = (summary.channel_posts, summary.direct_messages)
        finally:
            await store.close()
    timings.sort()
    return {
        "subscribers": subscribers,
        "channel_posts": counts[0],
        "direct_messages": counts[1],
        "best_s": round(timings[0], 4),
        "median_s": round(timings[len(timings) // 2], 4),
        "worst_s": round(timings[-1], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--guilds", type=int, default=50)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    result = asyncio.run(run(args.subscribers, args.guilds, args.feeds, args.repeats))
    print(
        f"planned one article for {result['subscribers']:,} subscribers: "
        f"{result['direct_messages']:,} DMs + {result['channel_posts']} channel posts; "
        f"median {result['median_s'] * 1000:.0f} ms (best {result['best_s'] * 1000:.0f}, "
        f"worst {result['worst_s'] * 1000:.0f}); goal < 200 ms"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
