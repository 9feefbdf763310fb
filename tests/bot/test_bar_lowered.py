"""A lowered quality bar brings what now passes: a moderator who lowers the server's bar (or a
feed's), or a member who lowers their subscription's, gets the recent articles that were held
back by it, once, and nothing older than ``delivery.max_age_hours``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.bot.conftest import MakeHarness
from tests.bot.harness import GuildWorld, Harness
from tests.bot.test_alerts import follow, posts, route, story

SERVER_PASSING = (
    "Saved. {count} the bar and will go out shortly to the feeds and members that take {them}."
)


@pytest.fixture
async def bare(make_harness: MakeHarness) -> Harness:
    harness = await make_harness(seed=False)
    harness.clock.now = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)  # a Wednesday
    await story(harness, 0, published=False, topics=["Transport", "Energy"])
    return harness


async def settings(harness: Harness, guild: GuildWorld, **options: Any) -> str:
    result = await harness.slash(guild, guild.moderator.id, "settings", options)
    return str(result.content)


def titles(harness: Harness, channel_id: int) -> list[str]:
    return [m.embeds[0]["title"] for m in posts(harness, channel_id)]


def dm_titles(harness: Harness, user_id: int) -> list[str]:
    return [m.embeds[0]["title"] for m in harness.double.dms_to(user_id)]


async def test_an_article_published_under_the_bar_is_posted_once_the_bar_is_lowered(
    bare: Harness,
):
    # /publish said members would not see it and that /settings min_quality changes the bar:
    # the moderator lowers the bar, and the post and the alert come.
    harness, g = bare, bare.first
    reader = g.members[0].id
    await route(harness, g, g.alerts.id, topic="Transport")
    await follow(harness, g, reader, "Transport")
    assert await settings(harness, g, min_quality=60) == "Saved."
    article = await story(harness, 1, published=False, quality=45, title="Harbour dues")
    await harness.slash(g, g.moderator.id, "publish", {"article": article.id})
    await harness.deliver()
    assert titles(harness, g.alerts.id) == []

    reply = await settings(harness, g, min_quality=40)
    assert reply == SERVER_PASSING.format(count="1 recent article now passes", them="it")
    await harness.deliver()
    await harness.deliver()
    assert titles(harness, g.alerts.id) == ["Harbour dues"]
    assert dm_titles(harness, reader) == ["Harbour dues"]


async def test_raising_then_lowering_the_bar_sends_what_the_raise_held_back_once(bare: Harness):
    harness, g = bare, bare.first
    reader = g.members[0].id
    await route(harness, g, g.alerts.id)
    await follow(harness, g, reader, "Transport", delivery="daily")
    await story(harness, 1, quality=50, title="Ferry fares frozen")
    await story(harness, 2, quality=55, title="New quay opens")
    await story(harness, 3, quality=90, title="Bridge reopens")
    await harness.plan()  # all three wait: posts to send, items for tomorrow's digest
    await settings(harness, g, min_quality=70)
    await harness.send()
    assert titles(harness, g.alerts.id) == ["Bridge reopens"]

    reply = await settings(harness, g, min_quality=40)
    assert reply == SERVER_PASSING.format(count="2 recent articles now pass", them="them")
    await harness.deliver()
    await settings(harness, g, min_quality=45)  # lowered from 70 twice: nothing twice
    await harness.deliver()
    assert sorted(titles(harness, g.alerts.id)) == [
        "Bridge reopens",
        "Ferry fares frozen",
        "New quay opens",
    ]
    harness.clock.now = datetime(2026, 6, 11, 8, 0, tzinfo=UTC)
    assert (await harness.bot.dispatcher.send_digests()).sent == 3
    (digest,) = harness.double.dms_to(reader)
    assert all(t in digest.embeds[0]["description"] for t in ("Ferry", "quay", "Bridge"))


async def test_what_went_out_before_a_raise_does_not_go_again_after_a_lowering(bare: Harness):
    harness, g = bare, bare.first
    reader = g.members[0].id
    await route(harness, g, g.alerts.id)
    await follow(harness, g, reader, "Transport")
    await story(harness, 1, quality=50, title="Ferry fares frozen")
    await harness.deliver()
    await settings(harness, g, min_quality=70)
    assert await settings(harness, g, min_quality=20) == "Saved."  # nothing new passes
    await harness.deliver()
    assert titles(harness, g.alerts.id) == ["Ferry fares frozen"]
    assert dm_titles(harness, reader) == ["Ferry fares frozen"]


async def test_nothing_older_than_max_age_hours_comes_when_the_bar_is_lowered(bare: Harness):
    harness, g = bare, bare.first
    await route(harness, g, g.alerts.id)
    await settings(harness, g, min_quality=60)
    await story(harness, 1, quality=45, title="Old news")
    await harness.deliver()
    harness.clock.now += timedelta(hours=harness.bot.settings.delivery.max_age_hours)
    await story(harness, 2, quality=45, title="Fresh news")
    await harness.deliver()

    reply = await settings(harness, g, min_quality=40)
    assert reply == SERVER_PASSING.format(count="1 recent article now passes", them="it")
    await harness.deliver()
    assert titles(harness, g.alerts.id) == ["Fresh news"]


async def test_a_member_told_through_another_server_is_not_told_again(bare: Harness):
    # The same member follows Transport in two servers; the first's bar let the story
    # through and its DM went out; the second lowers its bar: its channel gets the post, the
    # member no second DM.
    harness, a, b = bare, bare.first, bare.second
    reader = a.members[0].id
    harness.double.world.add_member(b.guild, a.members[0], [b.member_role])
    await follow(harness, a, reader, "Transport")
    await follow(harness, b, reader, "Transport")
    await route(harness, b, b.alerts.id)
    await settings(harness, b, min_quality=60)
    await story(harness, 1, quality=45, title="Ferry fares frozen")
    await harness.deliver()
    assert dm_titles(harness, reader) == ["Ferry fares frozen"]

    await settings(harness, b, min_quality=40)
    await harness.deliver()
    await harness.deliver()
    assert titles(harness, b.alerts.id) == ["Ferry fares frozen"]
    assert dm_titles(harness, reader) == ["Ferry fares frozen"]


async def test_a_feeds_lowered_bar_posts_there_and_alerts_no_one(bare: Harness):
    harness, g = bare, bare.first
    reader = g.members[0].id
    await follow(harness, g, reader, "Transport", min_quality=80)
    await route(harness, g, g.alerts.id, topic="Transport", min_quality=60)
    await story(harness, 1, quality=45, title="Ferry fares frozen")
    await story(harness, 2, quality=45, title="Wind farm approved", topics=["Energy"])
    await harness.deliver()

    result = await harness.slash(
        g,
        g.moderator.id,
        "feed add",
        {"channel": g.alerts.id, "topic": "Transport", "min_quality": 30},
    )
    assert result.content.endswith(
        f"\n1 recent article now passes the bar and will be posted in <#{g.alerts.id}> shortly."
    )
    await harness.deliver()
    assert titles(harness, g.alerts.id) == ["Ferry fares frozen"]
    assert harness.double.dms_to(reader) == []


async def test_a_members_lowered_bar_alerts_them_and_posts_nowhere(bare: Harness):
    harness, g = bare, bare.first
    reader, other = g.members[0].id, g.members[1].id
    await route(harness, g, g.alerts.id, min_quality=90)
    await follow(harness, g, reader, "Transport", min_quality=80)
    await follow(harness, g, other, "Transport", min_quality=80)
    await story(harness, 1, quality=45, title="Ferry fares frozen")
    await harness.deliver()

    result = await harness.slash(g, reader, "subscribe", {"topic": "Transport", "min_quality": 30})
    assert result.content.endswith(
        "\n1 recent article now passes the bar and will come by DM shortly."
    )
    await harness.deliver()
    assert dm_titles(harness, reader) == ["Ferry fares frozen"]
    assert harness.double.dms_to(other) == []
    assert titles(harness, g.alerts.id) == []


async def test_resetting_the_bar_to_a_lower_default_brings_what_now_passes(bare: Harness):
    harness, g = bare, bare.first
    await route(harness, g, g.alerts.id)
    await settings(harness, g, min_quality=60)
    await story(harness, 1, quality=45, title="Ferry fares frozen")
    await harness.deliver()
    reply = await settings(harness, g, reset="min_quality")  # delivery.default_min_quality: 20
    assert reply == SERVER_PASSING.format(count="1 recent article now passes", them="it")
    await harness.deliver()
    assert titles(harness, g.alerts.id) == ["Ferry fares frozen"]


async def test_a_member_who_raises_then_lowers_their_bar_gets_the_held_back_item_in_a_digest(
    bare: Harness,
):
    harness, g = bare, bare.first
    reader = g.members[0].id
    await follow(harness, g, reader, "Transport", delivery="daily")
    await story(harness, 1, quality=50, title="Ferry fares frozen")
    await harness.deliver()  # waits for tomorrow's 08:00 digest
    await follow(harness, g, reader, "Transport", delivery="daily", min_quality=60)
    harness.clock.now = datetime(2026, 6, 11, 8, 0, tzinfo=UTC)
    assert (await harness.bot.dispatcher.send_digests()).sent == 0

    harness.clock.now = datetime(2026, 6, 11, 9, 0, tzinfo=UTC)
    result = await harness.slash(
        g, reader, "subscribe", {"topic": "Transport", "delivery": "daily", "min_quality": 40}
    )
    assert result.content.endswith(
        "\n1 recent article now passes the bar and will come in your next daily digest."
    )
    await harness.deliver()
    harness.clock.now = datetime(2026, 6, 12, 8, 0, tzinfo=UTC)
    assert (await harness.bot.dispatcher.send_digests()).sent == 1
    harness.clock.now = datetime(2026, 6, 13, 8, 0, tzinfo=UTC)
    assert (await harness.bot.dispatcher.send_digests()).sent == 0
    (digest,) = harness.double.dms_to(reader)
    assert "Ferry fares frozen" in digest.embeds[0]["description"]
