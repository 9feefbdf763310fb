"""A member of several servers that run the bot, following the same topics in each with
different settings: what reaches their DMs, and what each server's alert says of where it came
from. Played through the Discord double on both engines."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from tests.bot.harness import Harness
from tests.bot.test_alerts import follow, posts, route, story
from tests.bot.test_lifecycle_audit import seed_topic
from tests.discord_double import payloads
from tests.discord_double.plugin import GuildWorld


async def in_both(harness: Harness) -> int:
    """The first server's first member, in the second server too."""
    member = harness.first.members[0]
    harness.double.world.add_member(harness.second.guild, member)
    await seed_topic(harness)
    return member.id


def why(message) -> str:
    return next(f["value"] for f in message.embeds[0]["fields"] if f["name"] == "Why you got this")


async def test_one_dm_for_an_article_both_servers_send_naming_the_server_it_came_through(
    harness: Harness,
):
    a, b = harness.first, harness.second
    member = await in_both(harness)
    await follow(harness, a, member, "Transport")
    await follow(harness, b, member, "Transport", min_quality=50)
    await story(harness, 1, title="Shared news")
    await harness.deliver()
    (dm,) = harness.double.dms_to(member)
    assert why(dm) in (
        "You follow Transport in guild1 (quality 70)",
        "You follow Transport in guild2 (quality 70)",
    )
    # its Unsubscribe button stops that server's subscription only, and says which
    came_through = a if "guild1" in why(dm) else b
    other = b if came_through is a else a
    button = dm.components[0]["components"][0]["custom_id"]
    clicked = await harness.double.click(dm, button, member)
    assert clicked.content == (
        f"Unsubscribed from **Transport** in {came_through.guild.name}. "
        "`/subscribe` there brings it back."
    )
    assert await harness.store.subscriptions.for_member(came_through.id, member) == []
    assert len(await harness.store.subscriptions.for_member(other.id, member)) == 1


async def test_an_article_sent_at_once_through_one_server_is_not_in_the_others_digest(
    harness: Harness,
):
    a, b = harness.first, harness.second
    member = await in_both(harness)
    await follow(harness, a, member, "Transport")
    await follow(harness, b, member, "Transport", delivery="daily")
    await story(harness, 1, title="Shared news")
    await follow(harness, b, member, "Energy", delivery="daily")
    await story(harness, 3, title="Energy for the digest", topics=["Energy"])
    await harness.deliver()
    (alert,) = harness.double.dms_to(member)
    assert alert.embeds[0]["title"] == "Shared news"
    harness.clock.advance(days=1, minutes=1)
    await harness.bot.dispatcher.send_digests()
    (_, digest) = harness.double.dms_to(member)
    listed = digest.embeds[0]["description"]
    assert "Energy for the digest" in listed and "Shared news" not in listed
    assert digest.embeds[0]["footer"]["text"] == "1 new article"
    # one DM channel for the member, whichever server wrote
    assert len(harness.double.requests("POST", "/users/@me/channels")) == 1


async def test_one_alert_per_story_across_the_servers_a_member_follows_it_in(harness: Harness):
    a, b = harness.first, harness.second
    member = await in_both(harness)
    await follow(harness, a, member, "Transport")
    await follow(harness, b, member, "Transport")
    await story(
        harness, 1, title="Nexora Raises $40M Series B Led by Accel",
        provider={"name": "Alpha Wire", "domain": "alpha.example"},
    )  # fmt: skip
    await harness.deliver()
    await story(
        harness, 2, title="Nexora raises $40 million Series B led by Accel",
        provider={"name": "Beta News", "domain": "beta.example"},
    )  # fmt: skip
    await harness.deliver()
    (dm,) = harness.double.dms_to(member)
    assert dm.embeds[0]["title"] == "Nexora Raises $40M Series B Led by Accel"


async def test_dms_refused_pause_every_server_and_the_first_dm_through_resumes_them(make_harness):
    harness = await make_harness(delivery={"disable_after_failures": 1})
    a, b = harness.first, harness.second
    member = await in_both(harness)
    await follow(harness, a, member, "Transport")
    await follow(harness, b, member, "Energy")
    closed = harness.double.world.users[member]
    closed.accepts_dms = False  # Discord refuses a DM only when no shared server allows it
    await story(harness, 1, title="Refused", topics=["Transport"])
    await harness.deliver()
    for guild in (a, b):  # one DM channel: paused in both, and each says what to do
        listing = await harness.slash(guild, member, "subscriptions")
        assert "⚠️ paused: Discord refused my DMs" in listing.embeds[0]["description"]
    closed.accepts_dms = True
    again = await harness.slash(a, member, "subscribe", {"topic": "Transport"})
    assert again.content.startswith("Updated your subscription")
    await story(harness, 2, title="Through again", topics=["Transport"])
    await harness.deliver()
    # a DM went through: the other server's subscriptions paused for refused DMs resume too
    await story(harness, 3, title="From the other server", topics=["Energy"])
    await harness.deliver()
    assert [m.embeds[0]["title"] for m in harness.double.dms_to(member)] == [
        "Through again",
        "From the other server",
    ]
    listing = await harness.slash(b, member, "subscriptions")
    assert "paused" not in listing.embeds[0]["description"]


async def test_the_hourly_dm_cap_counts_every_servers_alerts_and_the_rest_wait_for_their_own(
    make_harness,
):
    harness = await make_harness(delivery={"dm_cap_per_hour": 2})
    a, b = harness.first, harness.second
    member = await in_both(harness)
    await follow(harness, a, member, "Transport")
    await follow(harness, b, member, "Energy")
    for n, topic in [(1, "Transport"), (2, "Transport"), (3, "Energy"), (4, "Energy")]:
        await story(harness, n, title=f"{topic} {n}", topics=[topic])
    summary = await harness.deliver()
    assert (summary.sent, summary.to_digest) == (2, 2)
    assert [m.embeds[0]["title"] for m in harness.double.dms_to(member)] == [
        "Transport 1",
        "Transport 2",
    ]
    harness.clock.advance(days=1, minutes=1)
    await harness.bot.dispatcher.send_digests()
    digest = harness.double.dms_to(member)[-1].embeds[0]
    assert digest["title"] == "Your daily digest from guild2"
    assert "Energy 3" in digest["description"] and "Energy 4" in digest["description"]
    assert "over 2 alerts an hour · guild2" in digest["description"]


async def test_another_servers_own_article_in_a_shared_story_shows_nowhere_here(
    harness: Harness,
):
    a, b = harness.first, harness.second
    await seed_topic(harness)
    reader = b.members[0].id
    await follow(harness, b, reader, "Transport")
    await route(harness, b, b.alerts.id)
    added = await harness.slash(
        a,
        a.moderator.id,
        "article add",
        {
            "url": "https://intranet-a.example/nexora",
            "title": "Nexora Raises $40M Series B Led by Accel",
            "topics": "Transport",
            "publish": True,
            "quality": 90,
        },
    )
    assert added.content.startswith("Added")
    own = await harness.store.articles.get_by_url("https://intranet-a.example/nexora")
    assert own is not None
    await harness.deliver()
    shared = await story(
        harness, 2, title="Nexora raises $40 million Series B led by Accel",
        provider={"name": "Beta News", "domain": "beta.example"},
    )  # fmt: skip
    stories = harness.store.stories
    assert await stories.story_of(own.id) == await stories.story_of(shared.id)
    await harness.deliver()
    (dm,) = harness.double.dms_to(reader)
    (post,) = posts(harness, b.alerts.id)
    assert dm.embeds[0]["title"] == post.embeds[0]["title"] == shared.title
    related = await harness.slash(b, reader, "related", {"story": shared.id})
    latest = await harness.slash(b, reader, "latest", {})
    seen = json.dumps(
        [dm.embeds, post.embeds]
        + [m.embeds for r in (related, latest) for m in [r.message, *r.followups]]
    )
    assert "intranet-a" not in seen and own.id not in seen
    # where it is its own server's, the same story lists it
    at_home = await harness.slash(a, a.members[1].id, "related", {"story": shared.id})
    assert "intranet-a" in json.dumps([m.embeds for m in [at_home.message, *at_home.followups]])


async def test_each_servers_digest_comes_at_its_own_moment_with_its_own_items(harness: Harness):
    a, b = harness.first, harness.second
    harness.clock.now = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    member = await in_both(harness)
    tokyo = await harness.slash(b, b.moderator.id, "settings", {"timezone": "Asia/Tokyo"})
    assert tokyo.content == "Saved."
    await follow(harness, a, member, "Transport", delivery="daily")
    await follow(harness, b, member, "Energy", delivery="daily")
    await story(harness, 1, title="Transport news", topics=["Transport"])
    await story(harness, 2, title="Energy news", topics=["Energy"])
    await harness.deliver()
    # A's moderator moves A's digest an hour later: B's rows stay where they were
    later = await harness.slash(a, a.moderator.id, "settings", {"digest_time": "09:00"})
    assert later.content == "Saved."
    sent: list[tuple[str, str]] = []
    for hour, minute in [(23, 0), (8, 0), (9, 0)]:  # 08:00 in Tokyo, then 08:00 and 09:00 UTC
        day = 10 if hour == 23 else 11
        harness.clock.now = datetime(2026, 6, day, hour, minute, 30, tzinfo=UTC)
        await harness.bot.dispatcher.send_digests()
        sent += [
            (f"{hour:02}:{minute:02}", m.embeds[0]["description"])
            for m in harness.double.dms_to(member)[len(sent) :]
        ]
    assert [(at, "Energy news" in text, "Transport news" in text) for at, text in sent] == [
        ("23:00", True, False),
        ("09:00", False, True),
    ]
    assert "_Energy · guild2_" in sent[0][1] and "_Transport · guild1_" in sent[1][1]


async def test_a_kept_dm_channel_discord_no_longer_knows_is_opened_afresh_not_paused(
    harness: Harness,
):
    a, b = harness.first, harness.second
    member = await in_both(harness)
    await follow(harness, a, member, "Transport")
    await follow(harness, b, member, "Energy")
    # the DM channel id kept for the member (every server's DMs go there) is unknown to Discord
    # now: a store moved to another bot application, say
    await harness.store.deliveries.save_dm_channel(member, 999_999_999_999)
    await story(harness, 1, title="Transport news", topics=["Transport"])
    summary = await harness.deliver()
    assert (summary.sent, summary.retried, summary.failed) == (0, 1, 0)
    harness.clock.advance(minutes=20)
    await story(harness, 2, title="Energy news", topics=["Energy"])
    await harness.deliver()
    assert sorted(m.embeds[0]["title"] for m in harness.double.dms_to(member)) == [
        "Energy news",
        "Transport news",
    ]
    assert len(harness.double.requests("POST", "/users/@me/channels")) == 1
    for guild in (a, b):  # nothing paused, nothing says to use a moderator's command
        listing = await harness.slash(guild, member, "subscriptions")
        assert "paused" not in listing.embeds[0]["description"]


async def renamed(harness: Harness, guild: GuildWorld, name: str) -> None:
    """A server's owner renames it: Discord tells the bot (GUILD_UPDATE)."""
    guild.guild.name = name
    await harness.double.gateway.dispatch(
        "GUILD_UPDATE", payloads.guild(harness.double.world, guild.guild, full=False)
    )
    for _ in range(200):
        cached = harness.bot.get_guild(guild.id)
        if cached is not None and cached.name == name:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the bot never read the new name")


async def test_each_digest_names_the_server_it_came_through_escaped(harness: Harness):
    a, b = harness.first, harness.second
    harness.clock.now = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    member = await in_both(harness)
    await renamed(harness, b, "@everyone **Quay** <@&1> `x`")
    await follow(harness, a, member, "Transport", delivery="daily")
    await follow(harness, b, member, "Energy", delivery="weekly")
    await story(harness, 1, title="Transport news", topics=["Transport"])
    await story(harness, 2, title="Energy news", topics=["Energy"])
    await harness.deliver()
    harness.clock.now = datetime(2026, 6, 11, 8, 0, 30, tzinfo=UTC)  # daily, Thursday
    await harness.bot.dispatcher.send_digests()
    harness.clock.now = datetime(2026, 6, 15, 8, 0, 30, tzinfo=UTC)  # weekly, Monday
    await harness.bot.dispatcher.send_digests()
    daily, weekly = harness.double.dms_to(member)
    assert daily.embeds[0]["title"] == "Your daily digest from guild1"
    assert weekly.embeds[0]["title"] == (
        "Your weekly digest from @\u200beveryone \\*\\*Quay\\*\\* \\<@&1> \\`x\\`"
    )
    assert not weekly.allowed_mentions.get("parse")


async def test_a_long_server_name_is_cut_within_the_title_limit(harness: Harness):
    a, b = harness.first, harness.second
    harness.clock.now = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    member = await in_both(harness)
    await follow(harness, a, member, "Transport", delivery="daily")
    await follow(harness, b, member, "Energy", delivery="daily")
    await story(harness, 1, title="Transport news", topics=["Transport"])
    await story(harness, 2, title="Energy news", topics=["Energy"])
    await harness.deliver()
    await renamed(harness, b, "Quay " + "x" * 200)
    harness.clock.now = datetime(2026, 6, 11, 8, 0, 30, tzinfo=UTC)
    await harness.bot.dispatcher.send_digests()
    (both,) = harness.double.dms_to(member)
    title = both.embeds[0]["title"]
    assert title == "Your daily digest from guild1 and Quay " + "x" * 74 + "…"
    assert len(title) <= 256
    assert "_Energy · Quay xxx" in both.embeds[0]["description"]


async def test_one_digest_of_two_servers_names_both(harness: Harness):
    a, b = harness.first, harness.second
    harness.clock.now = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    member = await in_both(harness)
    await follow(harness, a, member, "Transport", delivery="daily")
    await follow(harness, b, member, "Energy", delivery="daily")
    await story(harness, 1, title="Transport news", topics=["Transport"])
    await story(harness, 2, title="Energy news", topics=["Energy"])
    await harness.deliver()
    harness.clock.now = datetime(2026, 6, 11, 8, 0, 30, tzinfo=UTC)
    await harness.bot.dispatcher.send_digests()
    (both,) = harness.double.dms_to(member)
    assert both.embeds[0]["title"] == "Your daily digest from guild1 and guild2"
