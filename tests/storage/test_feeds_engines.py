"""Channel feeds and the moderators' audit log, the same tests on both engines
(``storage.api.FeedsApi``, ``AuditApi``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from storage.feeds import FeedCapReached
from tests.storage.rows import add_article, run, value

NOW = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)
GUILD, OTHER, CHANNEL, MOD = 7, 8, 70, 99


async def topic(store, name: str) -> int:
    await run(store, "INSERT INTO topics (key, name) VALUES (?, ?)", name.lower(), name)
    return int(await value(store, "SELECT id FROM topics WHERE key = ?", name.lower()))


async def route(store, topic_id, *, channel=CHANNEL, guild=GUILD, cap=10, **changes):
    fields = {"min_quality": None, "mention_role_id": None, "created_by": MOD, "now": NOW}
    return await store.feeds.save(
        guild_id=guild, channel_id=channel, topic_id=topic_id, cap=cap, **(fields | changes)
    )


async def test_a_feed_is_created_then_updated_and_re_enabled(any_store):
    ai = await topic(any_store, "AI")
    created = await route(any_store, ai, min_quality=40)
    assert created.created
    feed = created.feed
    assert (feed.topic_key, feed.topic_name, feed.min_quality) == ("ai", "AI", 40)
    await run(any_store, "UPDATE feeds SET disabled_reason = 'missing access', failure_count = 3")

    updated = await route(any_store, ai, min_quality=None, mention_role_id=5)
    assert not updated.created
    assert updated.feed.id == feed.id
    assert (updated.feed.min_quality, updated.feed.mention_role_id) == (None, 5)
    assert updated.feed.disabled_reason is None
    assert await any_store.feeds.count(GUILD) == 1


async def test_an_every_topic_feed_is_its_own_route(any_store):
    ai = await topic(any_store, "AI")
    every = await route(any_store, None)
    assert every.created and every.feed.topic_key is None
    assert (await route(any_store, None, min_quality=10)).feed.id == every.feed.id
    await route(any_store, ai)
    listed = await any_store.feeds.for_guild(GUILD)
    assert [feed.topic_key for feed in listed] == [None, "ai"]  # every-topic feeds first

    assert await any_store.feeds.remove(GUILD, CHANNEL, None) == 1
    assert [feed.topic_key for feed in await any_store.feeds.for_guild(GUILD)] == ["ai"]
    assert await any_store.feeds.remove(GUILD, CHANNEL, None) == 0


async def test_the_cap_refuses_a_new_feed_but_not_an_update(any_store):
    ai, ports = await topic(any_store, "AI"), await topic(any_store, "Ports")
    await route(any_store, ai, cap=1)
    with pytest.raises(FeedCapReached):
        await route(any_store, ports, cap=1)
    assert (await route(any_store, ai, cap=1, min_quality=70)).feed.min_quality == 70
    assert await route(any_store, ports, guild=OTHER, cap=1)  # the cap is per guild
    assert await any_store.feeds.count(GUILD) == 1


async def test_saves_at_once_never_pass_the_cap(any_store):
    topics = [await topic(any_store, f"T{n}") for n in range(6)]
    saved = await asyncio.gather(
        *(route(any_store, t, channel=CHANNEL + n, cap=3) for n, t in enumerate(topics)),
        return_exceptions=True,
    )
    assert sum(not isinstance(result, FeedCapReached) for result in saved) == 3
    assert await any_store.feeds.count(GUILD) == 3


async def test_every_feed_by_guild_and_a_channel_removed_whole(any_store):
    ai, ports = await topic(any_store, "AI"), await topic(any_store, "Ports")
    await route(any_store, ai, guild=OTHER)
    await route(any_store, ports, channel=71)
    await route(any_store, ai)
    await route(any_store, None)
    every = await any_store.feeds.every()
    assert [(f.guild_id, f.channel_id, f.topic_key) for f in every] == [
        (GUILD, CHANNEL, "ai"),
        (GUILD, CHANNEL, None),
        (GUILD, 71, "ports"),
        (OTHER, CHANNEL, "ai"),
    ]
    assert await any_store.feeds.remove_channel(GUILD, CHANNEL) == 2
    assert [f.channel_id for f in await any_store.feeds.for_guild(GUILD)] == [71]


async def test_the_audit_log_keeps_entries_newest_first_with_their_article(any_store):
    article = await add_article(any_store, "harbour", at=1_700_000_000)
    await any_store.audit.record(GUILD, MOD, "publish", NOW, article_id=article)
    await any_store.audit.record(
        GUILD, MOD, "settings", NOW + timedelta(minutes=1), detail={"min_quality": 40, "note": "é"}
    )
    await any_store.audit.record(OTHER, MOD, "retract", NOW, article_id="unknown")

    newest, oldest = await any_store.audit.recent(GUILD)
    assert (newest.action, newest.detail, newest.article_id) == (
        "settings",
        {"min_quality": 40, "note": "é"},
        None,
    )
    assert (oldest.action, oldest.article_id, oldest.at, oldest.actor_id) == (
        "publish",
        article,
        NOW,
        MOD,
    )
    assert [e.article_id for e in await any_store.audit.recent(OTHER)] == [None]
    assert len(await any_store.audit.recent(GUILD, limit=1)) == 1
