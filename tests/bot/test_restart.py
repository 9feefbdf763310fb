"""Crash safety: `topicbot run` killed with SIGKILL in the middle of a dispatch, restarted, and
every due alert still arrives exactly once."""

from __future__ import annotations

import asyncio
import random
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.articles.article_file import parse_article
from storage import Store
from tests.bot.test_run import start_topicbot
from tests.discord_double import DiscordDouble
from tests.discord_double.plugin import build_world
from tests.factories import article_text

MEMBERS = 240


async def seed(path, guild_id: int, member_ids: list[int]) -> None:
    now = datetime.now(UTC)
    async with await Store.open(path) as store:
        for n, published in ((0, False), (1, True)):
            text = article_text(
                title=f"Harbour story {n}",
                webUrl=f"https://harbour-times.example/restart/{n}",
                originalUrl=...,
                related=[],
                topics=["Transport"],
                quality=80,
                published=published,
                publishedDateTime=(now - timedelta(minutes=10)).isoformat(),
            )
            await store.articles.upsert_batch([parse_article(text.encode(), source="t.md")], now)
        topic = await store.topics.get("Transport")
        assert topic is not None
        for user_id in member_ids:
            await store.subscriptions.save(
                guild_id=guild_id, user_id=user_id, topic_id=topic.id, min_quality=0,
                delivery="instant", now=now, cap=25,
            )  # fmt: skip


def dm_count(double: DiscordDouble, member_ids: list[int]) -> int:
    return sum(len(double.dms_to(user_id)) for user_id in member_ids)


async def test_sigkill_during_dispatch_loses_and_doubles_nothing(
    discord_double: DiscordDouble, tmp_path
):
    await kill_during_dispatch(discord_double, tmp_path, thresholds=(40, 120, 200))


@pytest.mark.slow
async def test_sigkill_during_dispatch_many_times_at_random_points(
    discord_double: DiscordDouble, tmp_path
):
    rng = random.Random(21)
    thresholds = sorted(rng.sample(range(5, MEMBERS - 5), 12))
    await kill_during_dispatch(discord_double, tmp_path, thresholds=tuple(thresholds))


def write_dispatch_config(config: Path, double: DiscordDouble, *, requests_per_second: int) -> None:
    """A bot on ``topicbot.db`` beside ``config`` whose jobs run every second, with no DM cap
    to speak of and its sending paced at ``requests_per_second``."""
    config.write_text(
        "discord:\n"
        f"  api_base: {double.api_base}\n"
        f"  gateway_url: {double.gateway_url}\n"
        "storage:\n  path: topicbot.db\n"
        "ingest:\n  inbox_dir: inbox\n"
        "delivery:\n  plan_interval_seconds: 1\n  send_interval_seconds: 1\n"
        f"  dm_cap_per_hour: 1000\n  global_requests_per_second: {requests_per_second}\n"
    )


async def kill_during_dispatch(
    discord_double: DiscordDouble, tmp_path, *, thresholds: tuple[int, ...]
) -> None:
    """Kill ``topicbot run`` once the DMs received reach each threshold, then let it finish."""
    world = build_world(discord_double, guilds=1, members=MEMBERS)
    member_ids = [m.id for m in world.first.members]
    config = tmp_path / "topicbot.yaml"
    write_dispatch_config(config, discord_double, requests_per_second=45)
    await seed(tmp_path / "topicbot.db", world.first.id, member_ids)

    kills = 0
    for threshold in thresholds:
        bot = await start_topicbot(config, discord_double.token)
        try:
            deadline = asyncio.get_running_loop().time() + 60
            while dm_count(discord_double, member_ids) < threshold:
                assert asyncio.get_running_loop().time() < deadline, bot.log
                assert bot.process.returncode is None, bot.log
                await asyncio.sleep(0.02)
        finally:
            bot.process.send_signal(signal.SIGKILL)
            await bot.finish()
        kills += 1

    bot = await start_topicbot(config, discord_double.token)
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while dm_count(discord_double, member_ids) < MEMBERS:
            assert asyncio.get_running_loop().time() < deadline, bot.log
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.5)  # two more send ticks: nothing more may arrive
    finally:
        assert await bot.stop() == 0, bot.log

    assert kills == len(thresholds)
    assert [len(discord_double.dms_to(user_id)) for user_id in member_ids] == [1] * MEMBERS
    async with await Store.open(tmp_path / "topicbot.db") as store:
        stats = await store.stats()
        assert stats.deliveries["sent"] == MEMBERS
        assert stats.deliveries["pending"] == 0
        assert await store.integrity_check() == "ok"
