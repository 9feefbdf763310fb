"""Crash safety: `topicbot run` killed with SIGKILL in the middle of a dispatch, restarted, and
every due alert still arrives exactly once."""

from __future__ import annotations

import asyncio
import random
import re
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.articles.article_file import parse_article
from storage import Store
from tests.bot.cogs.test_moderation_audit import button
from tests.bot.cogs.test_retraction_posts_interrupted import HungDelete
from tests.bot.test_run import start_topicbot
from tests.discord_double import DiscordDouble
from tests.discord_double.plugin import build_world
from tests.discord_double.state import Message
from tests.factories import article_text
from tests.waiting import eventually

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


async def test_sigkill_while_deleting_a_retracted_post_offers_it_again_after_the_restart(
    discord_double: DiscordDouble, tmp_path
):
    # A moderator presses "Delete 2 posts": #general's goes, and Discord has not answered the
    # DELETE of #alerts' when the process is killed. Restarted, the bot offers #alerts' post
    # again (it is still up) and the press deletes it: a post counts as removed only once
    # Discord said it is gone. /audit says what each press removed, the killed one's too.
    world = build_world(discord_double, guilds=1)
    guild, moderator = world.first, world.first.moderator.id
    config = tmp_path / "topicbot.yaml"
    write_dispatch_config(config, discord_double, requests_per_second=45)
    await seed(tmp_path / "topicbot.db", guild.id, [])
    async with await Store.open(tmp_path / "topicbot.db") as store:
        article = await store.articles.get_by_url("https://harbour-times.example/restart/1")
        for channel in (guild.general, guild.alerts):
            await store.feeds.save(
                guild_id=guild.id, channel_id=channel.id, topic_id=None, min_quality=None,
                mention_role_id=None, created_by=moderator, now=datetime.now(UTC), cap=25,
            )  # fmt: skip
    assert article is not None
    hung = HungDelete(guild.alerts.id)
    hung.install(discord_double)
    removed_one = f"<@{moderator}> removed 1 post of “Harbour story 1” (`{article.id}`)"

    bot = await start_topicbot(config, discord_double.token)
    try:
        await bot.wait_for_log("connected as")
        await eventually(
            lambda: (
                bot_posts(discord_double, guild.general.id)
                and bot_posts(discord_double, guild.alerts.id)
            ),
            "the posts",
            60,
        )
        (post,) = bot_posts(discord_double, guild.alerts.id)
        reply = await discord_double.slash(
            guild.id, moderator, "unpublish", {"article": article.id}, timeout_s=10
        )
        assert reply.message is not None
        await discord_double.click(
            reply.message, button(reply.message, "Delete 2 posts")["custom_id"], moderator
        )
        await asyncio.wait_for(hung.arrived.wait(), 30)
        assert bot_posts(discord_double, guild.general.id) == []
        # written with #general's deletion, before #alerts' DELETE was sent
        assert await audit(discord_double, guild.id, moderator) == [removed_one]
    finally:
        bot.process.send_signal(signal.SIGKILL)
        await bot.finish()

    bot = await start_topicbot(config, discord_double.token)
    try:
        await bot.wait_for_log("connected as")
        assert (await audit(discord_double, guild.id, moderator))[0] == removed_one
        again = await discord_double.slash(
            guild.id, moderator, "unpublish", {"article": article.id}, timeout_s=10
        )
        where = f"https://discord.com/channels/{guild.id}/{guild.alerts.id}/{post.id}"
        assert again.content == (
            f"“Harbour story 1” is already not published here. Still up: the post {where}. "
            "Press “Delete 1 post” to take the post down."
        )
        assert "1 post an earlier run was deleting is offered to delete again" in bot.log
        assert again.message is not None
        pressed = await discord_double.click(
            again.message, button(again.message, "Delete 1 post")["custom_id"], moderator
        )
        await pressed.wait_edits(1)
        assert pressed.content == "Deleted 1 post of “Harbour story 1”."
        assert bot_posts(discord_double, guild.alerts.id) == []
        assert (await audit(discord_double, guild.id, moderator))[:2] == [removed_one] * 2
    finally:
        hung.release()
        assert await bot.stop() == 0, bot.log


async def audit(double: DiscordDouble, guild_id: int, moderator: int) -> list[str]:
    """The lines of /audit about posts removed, newest first, without their time."""
    shown = await double.slash(guild_id, moderator, "audit", timeout_s=10)
    lines = shown.embeds[0]["description"].splitlines() if shown.embeds else []
    return [re.sub(r"^<t:\d+:f> ", "", line) for line in lines if " removed " in line]


def bot_posts(double: DiscordDouble, channel_id: int) -> list[Message]:
    """The bot's posts everyone in the channel sees."""
    return [m for m in double.messages_in(channel_id, include_ephemeral=False) if m.embeds]
