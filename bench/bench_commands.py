"""Slash-command round trips through the Discord double on a large store (goal: p99 < 50 ms).

    python -m bench.bench_commands [--articles 100000] [--calls 300]
                                   [--backend sqlite|postgresql]

Builds (or reuses) the related-coverage benchmark store, connects the real bot to a Discord
double in-process, and times, from the interaction being dispatched to the answer arriving:
``/related story:`` (deferred, then the follow-up with results), autocomplete of ``story``
and of ``/subscribe topic``.

``--backend postgresql`` copies that store with ``topicbot migrate-store``'s copy into a new
database beside the one ``$TOPICBOT_DATABASE_URL`` names (dropped after) and serves the bot
from it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bench.pg_copy import scratch_database
from bench.related.build import build_store
from bench.related.corpus import CorpusSpec, generate
from bench.servers import postgresql_url
from bot.app import TopicBot
from bot.config import Settings
from bot.domain.related import significant_terms
from bot.sync import sync_commands
from storage import Store
from storage.api import StoreApi
from storage.postgresql.from_sqlite import copy_sqlite_file
from storage.postgresql.store import PgStore
from storage.prepare import short_id
from tests.discord_double import DiscordDouble
from tests.discord_double.client import running_bot
from tests.discord_double.plugin import build_guild


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
    }


@asynccontextmanager
async def opened(path: Path, backend: str) -> AsyncIterator[StoreApi]:
    """The store at ``path``, or its copy on PostgreSQL."""
    if backend == "sqlite":
        async with await Store.open(path) as store:
            yield store
        return
    url = postgresql_url()
    async with scratch_database(url) as scratch:
        started = time.perf_counter()
        await copy_sqlite_file(path, scratch, source="$TOPICBOT_DATABASE_URL")
        print(f"copied to PostgreSQL in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        async with await PgStore.open(scratch, source="$TOPICBOT_DATABASE_URL") as store:
            await store.optimize()  # the planner's statistics, as autovacuum would gather
            yield store


async def run(articles: int, calls: int, workdir: Path, backend: str) -> dict[str, Any]:
    corpus = generate(CorpusSpec(articles=articles, seed=1))
    path = workdir / f"related-{articles}-1.db"
    if not path.exists():
        build_store(path, corpus)
    rng = random.Random(3)
    askable = [a for a in corpus if a.published and not a.coverage_only]
    sample = rng.sample(askable, k=min(calls, len(askable)))
    load_before = os.getloadavg()
    async with DiscordDouble() as double:
        world = build_guild(double, "bench", members=1)
        member = world.members[0].id
        settings = Settings.model_validate(
            {
                "storage": {"path": str(path)},
                # one member asks hundreds of times here; cooldowns are tested elsewhere
                "commands": {"related_per_minute": 600, "autocomplete_per_10s": 1000},
            }
        )
        async with opened(path, backend) as store:
            bot = TopicBot(settings=settings, store=store, run_jobs=False, guild_ready_timeout=0.05)
            async with running_bot(double, bot):
                # a fresh double knows no commands, whatever the store's hash says
                await sync_commands(bot.tree, bot.store.meta, guild_id=None, force=True)
                related, stories, topics = [], [], []
                for n, article in enumerate(sample):
                    typed = significant_terms(article.title)[0][: rng.randint(3, 6)]
                    started = time.perf_counter()
                    result = await double.slash(
                        world.id, member, "related", {"story": short_id(article.url)}
                    )
                    await result.wait_followups(1)
                    elapsed = time.perf_counter() - started
                    started = time.perf_counter()
                    await double.autocomplete(
                        world.id, member, "related", {"story": typed}, "story"
                    )
                    story_elapsed = time.perf_counter() - started
                    started = time.perf_counter()
                    await double.autocomplete(
                        world.id, member, "subscribe", {"topic": typed[:2]}, "topic"
                    )
                    topic_elapsed = time.perf_counter() - started
                    if n >= 20:  # the first calls warm the caches
                        related.append(elapsed)
                        stories.append(story_elapsed)
                        topics.append(topic_elapsed)
        if double.errors:
            raise SystemExit("the double refused requests:\n" + "\n".join(double.errors))
    return {
        "backend": backend,
        "articles": articles,
        "calls": len(related),
        "related_story": percentiles(related),
        "autocomplete_story": percentiles(stories),
        "autocomplete_topic": percentiles(topics),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--workdir", default="/tmp/topicbot-bench")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(run(args.articles, args.calls, workdir, args.backend))
    for name in ("related_story", "autocomplete_story", "autocomplete_topic"):
        figures = result[name]
        print(f"{name:20} p50 {figures['p50_ms']:6.1f} ms   p99 {figures['p99_ms']:6.1f} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
