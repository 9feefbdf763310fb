"""A member of several servers that run the bot, following the same topics in each with
different settings: what reaches their DMs, and what each server's alert says of where it came
from. Played through the Discord double on both engines."""

from __future__ import annotations

from tests.bot.harness import Harness
from tests.bot.test_alerts import follow, story
from tests.bot.test_lifecycle_audit import seed_topic


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
