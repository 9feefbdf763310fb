"""Slash-command round trips through the Discord double on a large store (goal: p99 < 50 ms).

    python -m bench.bench_commands [--articles 100000] [--calls 300]

Builds (or reuses) the related-coverage benchmark store, connects the real bot to a Discord
double in-process, and times, from the interaction being dispatched to the answer arriving:
``/related story:`` (deferred, then the follow-up with results), autocomplete of ``story``
and of ``/subscribe topic``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

from bench.related.build import build_store
from bench.related.corpus import CorpusSpec, generate
from bot.app import TopicBot
from bot.config import Settings
from bot.domain.related import significant_terms
from bot.sync import sync_commands
from storage import Store
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


async def run(articles: int, calls: int, workdir: Path) -> dict[str, Any]:
    corpus = generate(CorpusSpec(articles=articles, seed=1))
    path = workdir / f"related-{articles}-1.db"
    if not path.exists():
        build_store(path, corpus)
    rng = random.Random(3)
    askable = [a for a in corpus if a.published and not a.coverage_only]
    sample = rng.sample(askable, k=min(calls, len(askable)))
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
        store = await Store.open(path)
        bot = TopicBot(settings=settings, store=store, run_jobs=False, guild_ready_timeout=0.05)
        try:
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
        finally:
            await store.close()
        if double.errors:
            raise SystemExit("the double refused requests:\n" + "\n".join(double.errors))
    return {
        "articles": articles,
        "calls": len(related),
        "related_story": percentiles(related),
        "autocomplete_story": percentiles(stories),
        "autocomplete_topic": percentiles(topics),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--workdir", default="/tmp/topicbot-bench")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(run(args.articles, args.calls, workdir))
    for name in ("related_story", "autocomplete_story", "autocomplete_topic"):
        figures = result[name]
        print(f"{name:20} p50 {figures['p50_ms']:6.1f} ms   p99 {figures['p99_ms']:6.1f} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
