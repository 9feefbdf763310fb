"""The data of servers that removed the bot, deleted by housekeeping once
``retention.left_server_days`` have passed: every row keyed by the server goes, another
server's rows and the shared articles stay, a server invited back keeps everything, and a run
done twice changes nothing more. The same tests on both engines."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest

from bot.config import RetentionSettings
from bot.domain.retention import Housekeeper
from tests.engines import ENGINES, open_store, postgresql_url
from tests.storage.outbox_data import NOW, Outbox, sql

GONE, SOON, STAYS = 11, 22, 33  # left 31 days ago, left 29 days ago, never left
ONLY_HERE, EVERYWHERE = 500, 600  # members: of one server only, of every server
DAY = timedelta(days=1)

# Every table keyed by a server (read from every migration of both engines), and how its
# rows are found.
GUILD_TABLES = {
    "deliveries": "SELECT count(*) FROM deliveries WHERE guild_id = :guild",
    "delivery_counts": "SELECT count(*) FROM delivery_counts WHERE guild_id = :guild",
    "subscriptions": "SELECT count(*) FROM subscriptions WHERE guild_id = :guild",
    "feeds": "SELECT count(*) FROM feeds WHERE guild_id = :guild",
    "guild_publication": "SELECT count(*) FROM guild_publication WHERE guild_id = :guild",
    "audit_log": "SELECT count(*) FROM audit_log WHERE guild_id = :guild",
    "guild_settings": "SELECT count(*) FROM guild_settings WHERE guild_id = :guild",
    "guilds_left": "SELECT count(*) FROM guilds_left WHERE guild_id = :guild",
    "member_checks": "SELECT count(*) FROM member_checks WHERE guild_id = :guild",
    "own articles": "SELECT count(*) FROM articles WHERE origin_guild_id = :guild",
}


async def held(store: Any, guild: int) -> dict[str, int]:
    """How many rows of each table the server has."""
    return {
        table: int((await sql(store, query, guild=guild))[0][0])
        for table, query in GUILD_TABLES.items()
    }


async def dm_channels(store: Any) -> set[int]:
    return {int(row[0]) for row in await sql(store, "SELECT user_id FROM dm_channels")}


async def shared_articles(store: Any) -> int:
    rows = await sql(store, "SELECT count(*) FROM articles WHERE origin_guild_id IS NULL")
    return int(rows[0][0])


async def set_up(store: Any, guild: int, topic: int, shared: int, outbox: Outbox) -> None:
    """A server with one of everything a server can have."""
    feed = await outbox.feed(guild, guild * 10, topic)
    subscription = await outbox.subscribe(guild, ONLY_HERE + guild, topic)
    await outbox.subscribe(guild, EVERYWHERE, topic, delivery="daily")
    await outbox.settings(guild, min_quality=40, timezone="Asia/Tokyo")
    await outbox.decide(guild, shared, "published")
    own = await outbox.article(f"own{guild}", [topic], origin_guild=guild)
    await outbox.decide(guild, own, "published")
    await outbox.add_row(guild, "channel", guild * 10, shared, feed=feed, state="sent")
    await outbox.add_row(guild, "dm", ONLY_HERE + guild, own, subscription=subscription)
    await sql(
        store,
        "INSERT INTO delivery_counts (guild_id, target_kind, target_id, source_id, state, total) "
        "VALUES (:guild, 'channel', :channel, :feed, 'sent', 4)",
        guild=guild,
        channel=guild * 10,
        feed=feed,
    )
    await store.audit.record(guild, 9, "feed.add", NOW - 40 * DAY, article_id=None)
    await store.members.record(guild, {ONLY_HERE + guild: True, EVERYWHERE: True}, NOW)
    for user in (ONLY_HERE + guild, EVERYWHERE):
        await sql(
            store,
            "INSERT INTO dm_channels (user_id, channel_id) VALUES (:user, :channel) "
            "ON CONFLICT DO NOTHING",
            user=user,
            channel=user * 7,
        )


@pytest.fixture
async def world(any_store: Any) -> Any:
    """Three servers set up alike: one gone 31 days, one gone 29 days, one still here."""
    outbox = Outbox(any_store)
    topic = await outbox.topic("Transport")
    shared = await outbox.article("shared", [topic])
    for guild in (GONE, SOON, STAYS):
        await set_up(any_store, guild, topic, shared, outbox)
    await any_store.guild_settings.left(GONE, NOW - 31 * DAY)
    await any_store.guild_settings.left(SOON, NOW - 29 * DAY)
    return any_store


def housekeeper(store: Any, *, now: Any = NOW, **settings: Any) -> Housekeeper:
    return Housekeeper(
        store,
        RetentionSettings(**settings),
        story_window=timedelta(hours=72),
        clock=lambda: now,
        pause_seconds=0,
    )


async def test_a_server_gone_past_the_deadline_loses_every_row_and_the_others_keep_theirs(
    world: Any, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="bot.domain.retention")
    before = {guild: await held(world, guild) for guild in (SOON, STAYS)}
    assert all(before[STAYS][table] for table in GUILD_TABLES if table != "guilds_left")

    run = await housekeeper(world).run()

    assert run.servers == 1
    assert await held(world, GONE) == dict.fromkeys(GUILD_TABLES, 0)
    assert {guild: await held(world, guild) for guild in (SOON, STAYS)} == before
    assert await shared_articles(world) == 1
    # a member's DM channel goes with the last server they follow something in
    assert await dm_channels(world) == {ONLY_HERE + SOON, ONLY_HERE + STAYS, EVERYWHERE}
    date = (NOW - 31 * DAY).date().isoformat()
    assert caplog.messages == [
        f"deleted the data of server {GONE}, which removed the bot on {date}: 1 feeds, "
        "2 subscriptions, 2 publication decisions, 1 audit entries, 2 deliveries, "
        "1 delivery counts, 1 DM channel ids, 2 member checks, 1 articles of its own, "
        "its settings"
    ]
    assert (await world.retention.last_run()).servers == 1


async def test_a_run_twice_changes_nothing_more(world: Any):
    await housekeeper(world).run()
    after = {guild: await held(world, guild) for guild in (GONE, SOON, STAYS)}
    again = await housekeeper(world).run()
    assert again.servers == 0
    assert {guild: await held(world, guild) for guild in (GONE, SOON, STAYS)} == after


async def test_invited_back_before_the_deadline_it_keeps_everything(world: Any):
    kept = await held(world, SOON)
    assert await world.guild_settings.returned(SOON)
    await housekeeper(world, now=NOW + 60 * DAY, deliveries_days=None).run()
    assert await held(world, SOON) == kept | {"guilds_left": 0}


async def test_left_server_days_null_keeps_their_data_forever(world: Any):
    kept = await held(world, GONE)
    keeper = housekeeper(world, now=NOW + 3650 * DAY, left_server_days=None, deliveries_days=None)
    run = await keeper.run()
    assert run.servers == 0
    assert await held(world, GONE) == kept


async def test_a_shorter_setting_takes_the_server_gone_29_days_too(world: Any):
    run = await housekeeper(world, left_server_days=7).run()
    assert run.servers == 2
    assert await held(world, SOON) == dict.fromkeys(GUILD_TABLES, 0)
    assert (await held(world, STAYS))["feeds"] == 1


async def test_a_big_server_goes_in_steps_of_at_most_batch_rows(any_store: Any, monkeypatch):
    outbox = Outbox(any_store)
    topic = await outbox.topic("Transport")
    await sql(
        any_store,
        "INSERT INTO subscriptions (guild_id, user_id, topic_id, created_at, updated_at) "
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250) "
        "SELECT :guild, 1000 + i, :topic, 0, 0 FROM n",
        guild=GONE,
        topic=topic,
    )
    await outbox.feed(GONE, 1, topic)
    await any_store.guild_settings.left(GONE, NOW - 40 * DAY)
    asked: list[int] = []
    step = any_store.left_servers.delete_data

    async def recorded(guild_id: int, cutoff: Any, *, limit: int) -> Any:
        asked.append(limit)
        return await step(guild_id, cutoff, limit=limit)

    monkeypatch.setattr(any_store.left_servers, "delete_data", recorded)
    run = await housekeeper(any_store, batch_rows=100).run()
    assert run.servers == 1
    assert await held(any_store, GONE) == dict.fromkeys(GUILD_TABLES, 0)
    assert len(asked) > 2 and max(asked) <= 100


async def test_a_server_invited_back_during_its_deletion_keeps_what_is_left(any_store: Any):
    outbox = Outbox(any_store)
    topic = await outbox.topic("Transport")
    for user in range(30):
        await outbox.subscribe(GONE, 1000 + user, topic)
    await outbox.feed(GONE, 1, topic)
    await any_store.guild_settings.left(GONE, NOW - 40 * DAY)
    cutoff = NOW - 30 * DAY
    assert await any_store.left_servers.delete_data(GONE, cutoff, limit=10) == {"subscriptions": 10}
    assert await any_store.guild_settings.returned(GONE)
    assert await any_store.left_servers.delete_data(GONE, cutoff, limit=10) is None
    assert (await held(any_store, GONE))["subscriptions"] == 20
    assert (await held(any_store, GONE))["feeds"] == 1


async def test_stats_count_the_servers_waiting_and_the_first_to_go(world: Any):
    stats = await world.stats()
    assert (stats.servers_left, stats.first_left_at) == (2, NOW - 31 * DAY)
    await housekeeper(world).run()
    stats = await world.stats()
    assert (stats.servers_left, stats.first_left_at) == (1, NOW - 29 * DAY)


@pytest.fixture(params=ENGINES)
async def two_processes(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    """Two stores on one database, as two processes of a deployment open it."""
    url = postgresql_url(request)
    first = await open_store(tmp_path / "topicbot.db", url)
    second = await open_store(tmp_path / "topicbot.db", url)
    async with first, second:
        yield first, second


async def test_two_processes_deleting_at_once_delete_each_server_once(two_processes: Any):
    first, second = two_processes
    outbox = Outbox(first)
    topic = await outbox.topic("Transport")
    shared = await outbox.article("shared", [topic])
    for guild in (GONE, STAYS):
        await set_up(first, guild, topic, shared, outbox)
    for user in range(300):
        await outbox.subscribe(GONE, 2000 + user, topic)
    await first.guild_settings.left(GONE, NOW - 31 * DAY)
    kept = await held(first, STAYS)

    runs = await asyncio.gather(
        housekeeper(first, batch_rows=100).run(), housekeeper(second, batch_rows=100).run()
    )

    assert sum(run.servers for run in runs) == 1
    assert await held(second, GONE) == dict.fromkeys(GUILD_TABLES, 0)
    assert await held(second, STAYS) == kept
