"""A lowered bar's re-plan: a server of N subscribers lowers its quality bar under the recent
articles it held back; how long the command's own work takes (counting what now passes and
recording the request) and how long the planning run that re-plans them takes.

    python -m bench.bench_replan --subscribers 50000 [--others 50000] [--articles 10]
        [--backend sqlite|postgresql] [--url URL]

The server (guild 1000) has ``--subscribers`` members following the bench's 8 topics (each
article carries all 8) and 4 feeds; ``--others`` more subscribers are spread over 49 other
servers. ``--articles`` fresh articles of quality 45 are published and planned while the
server's bar is 60 (so it gets none of them); then ``/settings min_quality 40``
(``GuildSettingsService.update``) is timed, then ``DeliveryPlanner.plan()``, which re-plans.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.bench_planning import TOPICS, Bench, article, bench_store, feed_rows, subscriber_rows
from bot.config import Settings
from bot.domain.delivery import DeliveryPlanner
from bot.wiring import build_services

SERVER = 1000


async def seed(bench: Bench, subscribers: int, others: int, now: datetime) -> None:
    await bench.store.articles.upsert_batch([article(0, now, topics=TOPICS)], now)
    topic_ids = [t.id for t in await bench.store.topics.most_used(limit=100)]
    rng, stamp = random.Random(7), int(now.timestamp())
    ours = subscriber_rows(rng, topic_ids, subscribers, 1, stamp)
    theirs = [
        (SERVER + 1 + row[0] % 49, 20_000_000 + n, *row[2:])
        for n, row in enumerate(subscriber_rows(rng, topic_ids, others, 49, stamp))
    ]
    await bench.bulk(
        [(*row, stamp) for row in ours + theirs], feed_rows(rng, topic_ids, 4, 1, stamp)
    )


async def publish(bench: Bench, count: int, now: datetime) -> None:
    held_back = [
        article(
            n,
            now,
            topics=TOPICS,
            quality=45,
            published=True,
            publishedDateTime=(now - timedelta(hours=n)).isoformat(),
        )
        for n in range(1, count + 1)
    ]
    await bench.store.articles.upsert_batch(held_back, now)


async def run(
    subscribers: int, others: int, articles: int, backend: str, url: str | None
) -> dict[str, Any]:
    settings = Settings()
    now = datetime.now(UTC)
    async with bench_store(backend, url) as bench:
        await seed(bench, subscribers, others, now)
        services = build_services(bench.store, settings, clock=lambda: now)
        await services.guild_settings.update(SERVER, 1, min_quality=60)
        await publish(bench, articles, now)
        planner = DeliveryPlanner(
            bench.store, settings.delivery, settings.digests, clock=lambda: now
        )
        before = await planner.plan()
        started = time.perf_counter()
        saved = await services.guild_settings.update(SERVER, 1, min_quality=40)
        command_s = time.perf_counter() - started
        started = time.perf_counter()
        replanned = await planner.plan()
        replan_s = time.perf_counter() - started
    return {
        "backend": backend,
        "subscribers": subscribers,
        "others": others,
        "articles": articles,
        "planned_before": before.direct_messages + before.channel_posts,
        "now_passing": saved.now_passing,
        "command_ms": round(command_s * 1000, 1),
        "replan_s": round(replan_s, 3),
        "direct_messages": replanned.direct_messages,
        "channel_posts": replanned.channel_posts,
        "load_average": os.getloadavg()[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=50_000)
    parser.add_argument("--others", type=int, default=50_000)
    parser.add_argument("--articles", type=int, default=10)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--url", default=os.environ.get("TOPICBOT_TEST_DATABASE_URL"))
    args = parser.parse_args()
    if args.backend == "postgresql" and not args.url:
        print("bench_replan: give --url or set TOPICBOT_TEST_DATABASE_URL", file=sys.stderr)
        return 2
    result = asyncio.run(run(args.subscribers, args.others, args.articles, args.backend, args.url))
    print(
        f"{args.backend}: /settings min_quality 60 -> 40 in a server of "
        f"{result['subscribers']:,} subscribers ({result['others']:,} in other servers): "
        f"the command's work {result['command_ms']} ms ({result['now_passing']} articles now "
        f"pass); the re-plan {result['replan_s']} s for {result['direct_messages']:,} DMs and "
        f"digest items + {result['channel_posts']} posts; load average "
        f"{result['load_average']:.1f}"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
