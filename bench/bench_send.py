"""Sustained sending against a Discord double that enforces Discord's limits.

    python -m bench.bench_send [--channels 8] [--per-channel 30] [--dm-members 0]

The double answers message creates with real rate-limit headers and 429s past 5 messages per
5 s per channel and 50 requests per second overall. The bot (in-process, the real
discord.py client) sends a planned backlog; the benchmark reports the achieved rate against
the permitted one and how many 429s it met (goal: >= 90% of the permitted rate, zero 429s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import TopicBot
from bot.articles.article_file import parse_article
from bot.config import Settings
from storage import Store
from tests.discord_double import DiscordDouble
from tests.discord_double.client import running_bot
from tests.discord_double.plugin import build_guild
from tests.factories import article_text

PER_CHANNEL_LIMIT = 5
PER_CHANNEL_WINDOW = 5.0
GLOBAL_LIMIT = 50


async def seed(store: Store, guild_id: int, channel_ids: list[int], articles: int) -> None:
    now = datetime.now(UTC)
    drafts = [
        parse_article(
            article_text(
                title=f"Benchmark story number {n}",
                webUrl=f"https://bench.example/{n}",
                originalUrl=...,
                related=[],
                topics=["Transport"],
                quality=80,
                published=True,
                publishedDateTime=(now - timedelta(minutes=30)).isoformat(),
            ).encode(),
            source="bench.md",
        )
        for n in range(articles)
    ]
    await store.articles.upsert_batch(drafts, now)
    for channel_id in channel_ids:
        await store.feeds.save(
            guild_id=guild_id,
            channel_id=channel_id,
            topic_id=None,
            min_quality=None,
            mention_role_id=None,
            created_by=1,
            now=now,
            cap=1000,
        )


def permitted(total: int, per_channel: int) -> float:
    """The fastest rate Discord's limits allow for ``total`` messages, ``per_channel`` to each
    channel: a channel may send a burst of 5, then one every second; so may every channel at
    once, up to the global limit."""
    per_channel_time = max(
        0.0, (per_channel - PER_CHANNEL_LIMIT) * PER_CHANNEL_WINDOW / PER_CHANNEL_LIMIT
    )
    return min(GLOBAL_LIMIT, total / per_channel_time if per_channel_time else GLOBAL_LIMIT)


async def run(channels: int, per_channel: int) -> dict[str, float]:
    async with DiscordDouble() as double:
        world = build_guild(double, "bench", members=1)
        channel_ids = [world.general.id, world.alerts.id]
        channel_ids += [
            double.world.add_channel(world.guild, f"news-{n}").id for n in range(channels - 2)
        ]
        double.enforce_rate_limits(
            per_channel=(PER_CHANNEL_LIMIT, PER_CHANNEL_WINDOW), global_per_second=GLOBAL_LIMIT
        )
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings.model_validate({"storage": {"path": str(Path(folder) / "b.db")}})
            store = await Store.open(settings.storage.path)
            await seed(store, world.id, channel_ids, per_channel)
            bot = TopicBot(settings=settings, store=store, run_jobs=False, guild_ready_timeout=0.05)
            try:
                async with running_bot(double, bot):
                    await bot.planner.plan()
                    total = channels * per_channel
                    started = time.perf_counter()
                    sent = 0
                    while sent < total:
                        sent += (await bot.dispatcher.send_due(batch=total)).sent
                    wall = time.perf_counter() - started
            finally:
                await store.close()
        posted = [m.created_at for cid in channel_ids for m in double.messages_in(cid)]
        # Discord sees the first to the last accepted message; discord.py then holds the last
        # call of an exhausted bucket until the bucket resets, which is not sending time.
        elapsed = max(posted) - min(posted)
        if double.errors:
            raise SystemExit("the double refused requests:\n" + "\n".join(double.errors))
        hits = double.rate_limit_hits
    permitted_rate = permitted(total, per_channel)
    achieved = total / elapsed
    return {
        "messages": total,
        "channels": channels,
        "seconds": round(elapsed, 2),
        "wall_seconds": round(wall, 2),
        "achieved_per_s": round(achieved, 2),
        "permitted_per_s": round(permitted_rate, 2),
        "share_of_permitted": round(achieved / permitted_rate, 3),
        "rate_limit_429s": hits,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--per-channel", type=int, default=30)
    args = parser.parse_args()
    result = asyncio.run(run(args.channels, args.per_channel))
    print(
        f"{result['messages']} posts to {result['channels']} channels in {result['seconds']} s: "
        f"{result['achieved_per_s']}/s of a permitted {result['permitted_per_s']}/s "
        f"({result['share_of_permitted']:.0%}); 429s: {result['rate_limit_429s']} "
        "(goal: >= 90%, zero 429s)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
