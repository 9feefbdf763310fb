"""Digests arrive at their minute in the server's time zone, with the jobs running as in
`topicbot run`, also when the bot was down at that minute (and only once)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from bot.app import TopicBot
from bot.articles.article_file import parse_article
from bot.config import Settings
from storage import Store
from tests.bot.harness import RunningClock, settings_for
from tests.discord_double import DiscordDouble
from tests.discord_double.client import running_bot
from tests.discord_double.plugin import build_world
from tests.factories import article_text
from tests.waiting import eventually

ZONE = "America/New_York"
# 08:00 in New York on Wednesday 10 June 2026 (12:00 UTC): the daily digest and, on
# Wednesdays, the weekly one.
MINUTE = datetime(2026, 6, 10, 8, 0, tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


def digest_settings(tmp_path: Path) -> Settings:
    return settings_for(
        tmp_path,
        digests={"timezone": ZONE, "daily_time": "08:00", "weekly_day": "wednesday"},
        delivery={"plan_interval_seconds": 1},
        ingest={"interval_seconds": 3600},
    )


async def seed(store: Store, guild_id: int, readers: dict[int, str], now: datetime) -> None:
    """A published article on Transport, followed by each reader with their delivery mode."""
    text = article_text(
        title="Harbour ferries run all night",
        webUrl="https://harbour-times.example/digest-timing",
        originalUrl=...,
        related=[],
        topics=["Transport"],
        quality=80,
        published=True,
        publishedDateTime=(now - timedelta(hours=1)).isoformat(),
    )
    await store.articles.upsert_batch([parse_article(text.encode(), source="t.md")], now)
    topic = await store.topics.get("Transport")
    assert topic is not None
    for user_id, delivery in readers.items():
        await store.subscriptions.save(
            guild_id=guild_id, user_id=user_id, topic_id=topic.id, min_quality=0,
            delivery=delivery, now=now, cap=25,  # type: ignore[arg-type]
        )  # fmt: skip


class Deployment:
    """One store and config; ``topicbot run`` started and stopped over it with its jobs."""

    def __init__(self, double: DiscordDouble, settings: Settings, store: Store) -> None:
        self.double = double
        self.settings = settings
        self.store = store

    def running(self, clock: RunningClock) -> contextlib.AbstractAsyncContextManager[TopicBot]:
        bot = TopicBot(
            settings=self.settings, store=self.store, clock=clock, guild_ready_timeout=0.05
        )
        return running_bot(self.double, bot)

    async def pending(self) -> int:
        return (await self.store.stats()).deliveries["pending"]


@pytest_asyncio.fixture
async def deployment(discord_double: DiscordDouble, tmp_path: Path) -> AsyncIterator[Deployment]:
    settings = digest_settings(tmp_path)
    async with await Store.open(settings.storage.path) as store:
        yield Deployment(discord_double, settings, store)


async def first_dm(double: DiscordDouble, user_id: int, clock: RunningClock, timeout_s: float):
    """The bot's clock when the member's first DM arrived; past ``timeout_s``, a failure with
    what the bot logged and asked of Discord meanwhile (a late digest should explain itself)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not double.dms_to(user_id):
        if asyncio.get_running_loop().time() > deadline:
            requests = [f"{r.method} {r.path}" for r in double.request_log[-15:]]
            raise AssertionError(
                f"no DM within {timeout_s}s (bot clock {clock()}); last requests:\n"
                + "\n".join(requests)
                + "\nlog:\n"
                + "\n".join(LOGGED[-40:])
            )
        await asyncio.sleep(0.02)
    return clock()


# What the bot and its scheduler logged in this test (INFO and up), for a failure to show.
LOGGED: list[str] = []


class _Remember(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        LOGGED.append(
            f"{record.created:.3f} {record.name} {record.levelname} {record.getMessage()}"
        )


@pytest.fixture(autouse=True)
def remember_logs() -> Iterator[None]:
    LOGGED.clear()
    handler = _Remember(logging.INFO)
    loggers = [logging.getLogger(name) for name in ("bot", "apscheduler")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


async def test_daily_and_weekly_digests_arrive_at_their_minute(deployment: Deployment):
    world = build_world(deployment.double, guilds=1, members=2)
    daily, weekly = (m.id for m in world.first.members)
    clock = RunningClock(MINUTE - timedelta(seconds=4))
    await seed(deployment.store, world.first.id, {daily: "daily", weekly: "weekly"}, clock())
    async with deployment.running(clock):
        arrived = await first_dm(deployment.double, daily, clock, timeout_s=15)
        other = await first_dm(deployment.double, weekly, clock, timeout_s=5)
    for moment in (arrived, other):
        assert MINUTE <= moment <= MINUTE + timedelta(seconds=5), moment - MINUTE
    (digest,) = deployment.double.dms_to(daily)
    assert digest.embeds[0]["title"] == "Your daily digest from guild1"
    (digest,) = deployment.double.dms_to(weekly)
    assert digest.embeds[0]["title"] == "Your weekly digest from guild1"


@pytest.mark.parametrize(
    "back_at", [timedelta(seconds=3), timedelta(hours=5)], ids=["just-after", "long-after"]
)
async def test_a_digest_missed_while_down_is_sent_once_on_ready(
    deployment: Deployment, back_at: timedelta
):
    world = build_world(deployment.double, guilds=1, members=1)
    reader = world.first.members[0].id
    clock = RunningClock(MINUTE - timedelta(seconds=20))
    await seed(deployment.store, world.first.id, {reader: "daily"}, clock())
    async with deployment.running(clock):
        # the digest row waits for 08:00
        await eventually(lambda: _waiting(deployment, 1), "the digest row planned", 10)
    assert deployment.double.dms_to(reader) == []

    clock.set(MINUTE + back_at)  # down over the minute
    async with deployment.running(clock):
        ready = clock()
        arrived = await first_dm(deployment.double, reader, clock, timeout_s=15)
    assert arrived - ready <= timedelta(seconds=10)

    async with deployment.running(clock):  # and once more: nothing is sent again
        await asyncio.sleep(2)
    assert len(deployment.double.dms_to(reader)) == 1
    assert await deployment.pending() == 0


async def _waiting(deployment: Deployment, rows: int) -> bool:
    return await deployment.pending() == rows


async def set_zone(deployment: Deployment, guild, zone: str) -> None:
    await deployment.double.wait_for_commands("settings", guild_id=None)
    result = await deployment.double.slash(
        guild.id, guild.moderator.id, "settings", {"timezone": zone}
    )
    assert result.content == "Saved.", result.content


async def test_a_zone_set_just_before_its_minute_brings_the_waiting_digest_then(
    discord_double: DiscordDouble, tmp_path: Path
):
    # the deployment's default is 08:00 UTC; the server moves to New York at 07:59:5x there
    settings = settings_for(tmp_path, delivery={"plan_interval_seconds": 1})
    world = build_world(discord_double, guilds=1, members=1)
    reader = world.first.members[0].id
    clock = RunningClock(MINUTE - timedelta(seconds=6))
    async with await Store.open(settings.storage.path) as store:
        deployment = Deployment(discord_double, settings, store)
        await seed(store, world.first.id, {reader: "daily"}, clock())
        async with deployment.running(clock):
            # for 08:00 UTC tomorrow
            await eventually(lambda: _waiting(deployment, 1), "the digest row planned", 10)
            await set_zone(deployment, world.first, "America/New_York")
            arrived = await first_dm(discord_double, reader, clock, timeout_s=25)
            # nothing left for the old moment (the row sent is marked so once Discord answers:
            # on a loaded machine, after the DM shows)
            await eventually(lambda: _waiting(deployment, 0), "no digest row waiting", 10)
        assert MINUTE <= arrived <= MINUTE + timedelta(seconds=5), arrived - MINUTE
        assert len(discord_double.dms_to(reader)) == 1


async def test_a_zone_set_just_before_the_minute_moves_the_digest_to_the_new_one(
    deployment: Deployment,
):
    # waiting for 08:00 in New York; moved to 08:00 in Tokyo (23:00 UTC) a few seconds before
    world = build_world(deployment.double, guilds=1, members=1)
    reader = world.first.members[0].id
    clock = RunningClock(MINUTE - timedelta(seconds=6))
    await seed(deployment.store, world.first.id, {reader: "daily"}, clock())
    tokyo = datetime(2026, 6, 11, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo")).astimezone(UTC)
    async with deployment.running(clock):
        await eventually(lambda: _waiting(deployment, 1), "the digest row planned", 10)
        await set_zone(deployment, world.first, "Asia/Tokyo")
        assert clock() < MINUTE
        await asyncio.sleep((MINUTE + timedelta(seconds=3) - clock()).total_seconds())
    assert deployment.double.dms_to(reader) == []

    clock.set(tokyo - timedelta(seconds=3))
    async with deployment.running(clock):
        arrived = await first_dm(deployment.double, reader, clock, timeout_s=15)
    assert tokyo <= arrived <= tokyo + timedelta(seconds=5), arrived - tokyo
    assert len(deployment.double.dms_to(reader)) == 1


async def test_a_member_switching_to_daily_just_before_the_minute_gets_the_digest_then(
    discord_double: DiscordDouble, tmp_path: Path
):
    # waiting for Monday's weekly digest (the defaults: 08:00 UTC, Mondays); the member turns
    # to daily at 07:59:5x on a Wednesday, and the digest job, asleep until Monday or its next
    # check, is woken for 08:00
    settings = settings_for(tmp_path, delivery={"plan_interval_seconds": 1})
    world = build_world(discord_double, guilds=1, members=1)
    reader = world.first.members[0].id
    minute = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
    clock = RunningClock(minute - timedelta(seconds=10))  # room for a loaded machine
    async with await Store.open(settings.storage.path) as store:
        deployment = Deployment(discord_double, settings, store)
        await seed(store, world.first.id, {reader: "weekly"}, clock())
        async with deployment.running(clock):
            await eventually(lambda: _waiting(deployment, 1), "the digest row planned", 10)
            await discord_double.wait_for_commands("subscribe", guild_id=None)
            result = await discord_double.slash(
                world.first.id, reader, "subscribe", {"topic": "Transport", "delivery": "daily"}
            )
            if result.callback_type == 5:  # acknowledged first (a loaded machine)
                await result.wait_followups(1)
            assert result.content.startswith("Updated"), result.content
            assert clock() < minute, f"switched only at {clock()}: the test needs a quieter machine"
            arrived = await first_dm(discord_double, reader, clock, timeout_s=25)
            # nothing left for Monday (the row sent is marked so once Discord answers)
            await eventually(lambda: _waiting(deployment, 0), "no digest row waiting", 10)
        assert minute <= arrived <= minute + timedelta(seconds=5), arrived - minute
        (digest,) = discord_double.dms_to(reader)
        assert digest.embeds[0]["title"] == "Your daily digest from guild1"
