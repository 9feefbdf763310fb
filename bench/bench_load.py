"""Load: 1,000 slash commands from 200 members within 10 s, through the Discord double, on a
100k-article store. Every one must be acknowledged within Discord's 3 s.

    python -m bench.bench_load [--articles 100000] [--commands 1000] [--members 200] [--seconds 10]

The mix is what members do: ``/related story:`` (deferred), ``/related query:``, ``/latest``,
``/subscribe``, ``/topics``, and autocomplete of stories and topics. Reports the time from an
interaction being dispatched to its acknowledgement (p50, p99, max) and how many were late.
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

ACK_DEADLINE = 3.0


def store_path(articles: int, workdir: Path) -> tuple[Path, list[Any]]:
    """The benchmark store (built once, then reused) and its corpus."""
    corpus = generate(CorpusSpec(articles=articles, seed=1))
    path = workdir / f"related-{articles}-1.db"
    if not path.exists():
        build_store(path, corpus, log=False)
    return path, corpus


def plan_calls(
    corpus: list[Any], members: list[int], count: int, seed: int = 5
) -> list[tuple[int, str, dict[str, Any], str | None]]:
    """(member, command, options, focused option for autocomplete or None)."""
    rng = random.Random(seed)
    published = [a for a in corpus if a.published and not a.coverage_only]
    calls = []
    for n in range(count):
        member = members[n % len(members)]
        article = rng.choice(published)
        word = significant_terms(article.title)[0]
        kind = rng.random()
        if kind < 0.25:
            calls.append((member, "related", {"story": short_id(article.url)}, None))
        elif kind < 0.35:
            calls.append(
                (member, "related", {"query": " ".join(significant_terms(article.title)[:2])}, None)
            )
        elif kind < 0.5:
            calls.append((member, "latest", {}, None))
        elif kind < 0.6:
            calls.append((member, "subscribe", {"topic": article.topics[0]}, None))
        elif kind < 0.65:
            calls.append((member, "topics", {}, None))
        elif kind < 0.85:
            calls.append((member, "related", {"story": word[:4]}, "story"))
        else:
            calls.append((member, "subscribe", {"topic": word[:2]}, "topic"))
    return calls


async def run(
    articles: int, commands: int, members: int, seconds: float, workdir: Path
) -> dict[str, Any]:
    path, corpus = store_path(articles, workdir)
    async with DiscordDouble() as double:
        world = build_guild(double, "load", members=members)
        member_ids = [m.id for m in world.members]
        settings = Settings.model_validate(
            {
                "storage": {"path": str(path)},
                # members here really are this busy; the cooldowns are measured elsewhere
                "commands": {"related_per_minute": 600, "latest_per_minute": 600,
                             "autocomplete_per_10s": 1000},
            }
        )  # fmt: skip
        store = await Store.open(path)
        bot = TopicBot(settings=settings, store=store, run_jobs=False, guild_ready_timeout=0.05)
        try:
            async with running_bot(double, bot):
                # a fresh double knows no commands, whatever the store's hash says
                await sync_commands(bot.tree, bot.store.meta, guild_id=None, force=True)
                calls = plan_calls(corpus, member_ids, commands)
                gap = seconds / len(calls)
                started = time.perf_counter()
                pending = []
                for n, (member, command, options, focused) in enumerate(calls):
                    delay = started + n * gap - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    if focused:
                        pending.append(
                            asyncio.create_task(
                                double.autocomplete(
                                    world.id, member, command, options, focused, timeout_s=10
                                )
                            )
                        )
                    else:
                        pending.append(
                            asyncio.create_task(
                                double.slash(world.id, member, command, options, timeout_s=10)
                            )
                        )
                sent_in = time.perf_counter() - started
                await asyncio.gather(*pending)
        finally:
            await store.close()
        results = list(double.interactions.values())
        latencies = sorted(r.ack_latency for r in results if r.ack_latency is not None)
        unanswered = sum(1 for r in results if r.ack_latency is None)
        late = sum(1 for value in latencies if value > ACK_DEADLINE) + unanswered
        errors = list(double.errors)
    return {
        "articles": articles,
        "commands": len(results),
        "members": members,
        "dispatched_in_s": round(sent_in, 2),
        "ack_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "ack_p99_ms": round(
            latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1
        ),
        "ack_max_ms": round(latencies[-1] * 1000, 1),
        "late_or_unanswered": late,
        "double_errors": errors[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workdir", default="/tmp/topicbot-bench")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(run(args.articles, args.commands, args.members, args.seconds, workdir))
    print(
        f"{result['commands']} interactions from {result['members']} members in "
        f"{result['dispatched_in_s']} s: ack p50 {result['ack_p50_ms']} ms, p99 "
        f"{result['ack_p99_ms']} ms, max {result['ack_max_ms']} ms; "
        f"late or unanswered: {result['late_or_unanswered']}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
