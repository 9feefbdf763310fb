"""A member who leaves a server gets nothing more from it, though the bot has no members intent
and hears of no one leaving: before a server's DM or digest goes out, Discord is asked whether
the member is still in it (GET /guilds/{guild}/members/{user}), at most once per
``delivery.member_check_hours``, and a command the member uses there answers for free. Each
test plays it through the Discord double (``remove_member`` sends no event to a bot without the
intent) on both engines and asserts what members see and what Discord was asked."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from tests.bot.conftest import MakeHarness
from tests.bot.harness import EPHEMERAL, Harness
from tests.bot.test_alerts import follow, story
from tests.bot.test_lifecycle_audit import dm_requests_to, seed_topic
from tests.discord_double.plugin import GuildWorld

MEMBER_ROUTE = "/guilds/{guild_id}/members/{user_id}"
MEMBER_PATH = r"^/guilds/\d+/members/\d+$"


def checks(harness: Harness, guild: GuildWorld | None = None) -> int:
    """How many times the bot asked Discord whether a member is in a server (in ``guild``)."""
    asked = harness.double.requests("GET", MEMBER_ROUTE)
    return sum(1 for r in asked if guild is None or r.path.startswith(f"/guilds/{guild.id}/"))


def titles(harness: Harness, user_id: int) -> list[str]:
    """The titles of the alerts (and digests) the member got by DM, in order."""
    return [m.embeds[0]["title"] for m in harness.double.dms_to(user_id) if m.embeds]


async def in_both(harness: Harness) -> int:
    """A member of both servers following Transport in the first and Energy in the second,
    whose last command was a day ago (so the bot has to ask about them again)."""
    a, b = harness.first, harness.second
    member = a.members[0]
    harness.double.world.add_member(b.guild, member)
    await seed_topic(harness)
    await follow(harness, a, member.id, "Transport")
    await follow(harness, b, member.id, "Energy")
    harness.clock.advance(days=1, minutes=1)
    return member.id


async def test_a_member_who_left_gets_no_more_dms_from_that_server_and_the_others_go_on(
    harness: Harness,
):
    a, b = harness.first, harness.second
    member = await in_both(harness)
    await harness.double.remove_member(a.guild, member)  # no event reaches the bot
    await story(harness, 1, title="Transport news", topics=["Transport"])
    await story(harness, 2, title="Energy news", topics=["Energy"])
    summary = await harness.deliver()
    assert titles(harness, member) == ["Energy news"]
    assert summary.left == 1 and "1 cancelled (the member left the server)" in str(summary)
    assert (checks(harness, a), checks(harness, b)) == (1, 1)
    (left,) = await harness.store.subscriptions.for_member(a.id, member)
    assert left.disabled_reason is not None
    assert left.disabled_reason.startswith("you left the server: any command you use there")
    (kept,) = await harness.store.subscriptions.for_member(b.id, member)
    assert kept.disabled_reason is None
    # nothing more is asked, and nothing more is sent from the server they left
    await story(harness, 3, title="More transport news", topics=["Transport"])
    await harness.deliver()
    assert titles(harness, member) == ["Energy news"]
    assert checks(harness, a) == 1 and dm_requests_to(harness, member) == 1


async def test_a_digest_leaves_out_the_server_the_member_left_and_keeps_the_other(
    harness: Harness,
):
    a, b = harness.first, harness.second
    member = a.members[0]
    harness.double.world.add_member(b.guild, member)
    await seed_topic(harness)
    await follow(harness, a, member.id, "Transport", delivery="daily")
    await follow(harness, b, member.id, "Energy", delivery="daily")
    await story(harness, 1, title="Transport news", topics=["Transport"])
    await story(harness, 2, title="Energy news", topics=["Energy"])
    await harness.deliver()
    await harness.double.remove_member(a.guild, member.id)
    harness.clock.advance(days=1, minutes=1)
    summary = await harness.bot.dispatcher.send_digests()
    assert (summary.sent, summary.left) == (1, 1)
    (digest,) = harness.double.dms_to(member.id)
    assert digest.embeds[0]["title"] == "Your daily digest from guild2"
    text = str(digest.embeds)
    assert "Energy news" in text and "Transport news" not in text
    stats = await harness.store.stats()
    assert stats.deliveries["cancelled"] == 1 and stats.deliveries.get("pending", 0) == 0


async def test_the_answer_is_kept_a_command_counts_and_it_is_asked_again_once_old(
    harness: Harness,
):
    a = harness.first
    member = a.members[0].id
    await seed_topic(harness)
    await follow(harness, a, member, "Transport")
    await story(harness, 1, title="Story 1")
    await harness.deliver()
    assert checks(harness) == 0  # /subscribe a moment ago said they are here
    harness.clock.advance(hours=25)
    for n in (2, 3):
        await story(harness, n, title=f"Story {n}")
        await harness.deliver()
    assert checks(harness) == 1  # asked once, the answer kept for the next alert
    reopened = await harness.reopen()  # another process, or after a restart: the store's answer
    try:
        since = harness.clock.now - timedelta(hours=24)
        assert await reopened.members.known(a.id, [member], since) == {member: True}
    finally:
        await reopened.close()
    harness.clock.advance(hours=25)
    await harness.slash(a, member, "subscriptions")  # a command in the server: present, free
    await story(harness, 4, title="Story 4")
    await harness.deliver()
    assert checks(harness) == 1
    harness.clock.advance(hours=25)
    await story(harness, 5, title="Story 5")
    await harness.deliver()
    assert checks(harness) == 2
    assert titles(harness, member) == [f"Story {n}" for n in range(1, 6)]


async def test_a_check_discord_fails_to_answer_sends_as_before(make_harness: MakeHarness):
    harness = await make_harness(delivery={"request_timeout_seconds": 0.5})
    a = harness.first
    member = await in_both(harness)
    harness.double.fail_next("GET", MEMBER_PATH, 503)  # discord.py does not retry a 503
    await story(harness, 1, title="Transport news", topics=["Transport"])
    await harness.deliver()
    assert titles(harness, member) == ["Transport news"]
    harness.double.fail_next("GET", MEMBER_PATH, None, delay=2)  # no answer in time
    await story(harness, 2, title="More transport news", topics=["Transport"])
    await harness.deliver()
    assert titles(harness, member) == ["Transport news", "More transport news"]
    # "don't know" is not kept: the next alert asks again, and is answered
    await story(harness, 3, title="Transport, third", topics=["Transport"])
    await harness.deliver()
    assert checks(harness, a) == 3 and len(titles(harness, member)) == 3
    (subscription,) = await harness.store.subscriptions.for_member(a.id, member)
    assert subscription.disabled_reason is None


async def test_back_in_the_server_the_next_command_resumes_and_says_so(harness: Harness):
    a, b = harness.first, harness.second
    member = await in_both(harness)
    await harness.double.remove_member(a.guild, member)
    await story(harness, 1, title="Transport news", topics=["Transport"])
    await harness.deliver()
    assert titles(harness, member) == []
    # they rejoin: what was published while they were away does not flood in
    harness.double.world.add_member(a.guild, harness.double.world.users[member])
    await story(harness, 2, title="While away", topics=["Transport"])
    await harness.deliver()
    assert titles(harness, member) == []
    # a command in the other server resumes nothing here
    other = await harness.slash(b, member, "subscriptions")
    (paused,) = await harness.store.subscriptions.for_member(a.id, member)
    assert paused.disabled_reason is not None
    shown = await harness.slash(a, member, "subscriptions")
    assert shown.ephemeral
    listing = str(shown.embeds)
    assert "Transport" in listing and "paused" not in listing
    await shown.wait_followups(1)
    (notice,) = shown.followups
    assert notice.content.startswith("Welcome back: your subscription here, paused when you")
    assert notice.flags & EPHEMERAL
    again = await harness.slash(a, member, "subscriptions")
    await asyncio.sleep(0.3)  # a notice would follow the reply at once
    assert again.followups == [] and other.followups == []  # told once, and only there
    await story(harness, 3, title="Back again", topics=["Transport"])
    await harness.deliver()
    assert titles(harness, member) == ["Back again"]


async def test_300_members_in_one_digest_run_cost_one_check_each(make_harness: MakeHarness):
    # paced as a bot granted more than 50 requests a second: 900 requests in a few seconds
    harness = await make_harness(
        seed=False,
        members=300,
        delivery={"global_requests_per_second": 1000, "member_check_hours": 48},
    )
    a = harness.first
    await story(harness, 0, published=False)
    topic = await harness.store.topics.get("Transport")
    assert topic is not None
    for member in a.members:  # no command: the bot knows nothing of them yet
        await harness.store.subscriptions.save(
            guild_id=a.id,
            user_id=member.id,
            topic_id=topic.id,
            min_quality=0,
            delivery="daily",
            now=harness.clock.now,
            cap=25,
        )
    gone = a.members[::10]
    for member in gone:
        await harness.double.remove_member(a.guild, member.id)
    for n in (1, 2):
        await story(harness, n, title=f"Story {n}")
    await harness.plan()
    harness.clock.advance(days=1, minutes=1)
    summary = await harness.bot.dispatcher.send_digests()
    assert (summary.sent, summary.left) == (270 * 2, 30 * 2)
    assert checks(harness) == 300
    asked = [r.path for r in harness.double.requests("GET", MEMBER_ROUTE)]
    assert len(set(asked)) == 300  # one check each
    got = {m.id: len(harness.double.dms_to(m.id)) for m in a.members}
    assert sorted(got.values()) == [0] * 30 + [1] * 270
    assert all(got[m.id] == 0 for m in gone)
    # the next day's digest asks no one again (the answers are 48 hours good)
    await story(harness, 3, title="Story 3")
    await harness.plan()
    harness.clock.advance(days=1)
    summary = await harness.bot.dispatcher.send_digests()
    assert summary.sent == 270 and checks(harness) == 300


async def unsubscribe_after(harness: Harness, gone) -> tuple[str, int]:
    """A member gets an alert from the first server, then ``gone`` (they leave it, say), then
    they press the alert's Unsubscribe button: the reply, and their subscriptions left there."""
    a = harness.first
    member = a.members[0].id
    await seed_topic(harness)
    await follow(harness, a, member, "Transport")
    await story(harness, 1, title="Transport news", topics=["Transport"])
    await harness.deliver()
    (dm,) = harness.double.dms_to(member)
    await gone(member)
    button = dm.components[0]["components"][0]["custom_id"]
    clicked = await harness.double.click(dm, button, member)
    assert clicked.message.flags & EPHEMERAL
    return clicked.content, len(await harness.store.subscriptions.for_member(a.id, member))


async def test_unsubscribing_from_a_dm_after_leaving_the_server_names_it(harness: Harness):
    async def leave(member: int) -> None:
        await harness.double.remove_member(harness.first.guild, member)

    reply, left = await unsubscribe_after(harness, leave)
    assert reply == "Unsubscribed from **Transport** in guild1. `/subscribe` there brings it back."
    assert left == 0


# --- what a member who left leaves behind: retention.left_member_days (30 by default) ---------


async def gone_from_first(harness: Harness, member: int) -> None:
    """The member leaves the first server and the next alert's check finds them gone."""
    await harness.double.remove_member(harness.first.guild, member)
    await story(harness, 11, title="Transport after leaving", topics=["Transport"])
    await harness.deliver()


async def test_a_member_gone_past_left_member_days_loses_what_they_left_there_only(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="bot.domain.retention")
    a, b = harness.first, harness.second
    member = await in_both(harness)
    await story(harness, 1, title="Energy news", topics=["Energy"])
    await gone_from_first(harness, member)
    assert titles(harness, member) == ["Energy news"]
    assert (await harness.store.stats()).members_left == 1

    harness.clock.advance(days=29)
    assert (await harness.bot.housekeeper.run()).members == 0
    (kept,) = await harness.store.subscriptions.for_member(a.id, member)  # for their return
    assert kept.disabled_reason and kept.disabled_reason.startswith("you left the server")
    harness.clock.advance(days=2)
    assert (await harness.bot.housekeeper.run()).members == 1

    assert await harness.store.subscriptions.for_member(a.id, member) == []
    assert len(await harness.store.subscriptions.for_member(b.id, member)) == 1
    assert await harness.store.deliveries.dm_channel(member) is not None  # B still DMs them
    assert (
        "deleted the data of 1 members in servers they left: 1 subscriptions, "
        "0 DM channel ids, 0 waiting alerts" in caplog.text
    )
    assert (await harness.store.stats()).members_left == 0
    # back in A later, they start fresh there; B's alerts go on
    harness.double.world.add_member(a.guild, harness.double.world.users[member])
    shown = await harness.slash(a, member, "subscriptions")
    assert shown.content == "You don't follow any topics here yet. Try `/subscribe`."
    await story(harness, 2, title="More energy", topics=["Energy"])
    await harness.deliver()
    assert titles(harness, member)[-1] == "More energy"


async def test_a_member_gone_from_every_server_loses_their_dm_channel_id_too(harness: Harness):
    a = harness.first
    member = a.members[0].id
    await seed_topic(harness)
    await follow(harness, a, member, "Transport")
    await story(harness, 1, title="Transport news", topics=["Transport"])
    await harness.deliver()
    assert await harness.store.deliveries.dm_channel(member) is not None
    harness.clock.advance(days=1, minutes=1)
    await gone_from_first(harness, member)  # or their account was deleted: Unknown Member too
    harness.clock.advance(days=31)
    run = await harness.bot.housekeeper.run()
    assert run.members == 1
    assert await harness.store.subscriptions.for_member(a.id, member) == []
    assert await harness.store.deliveries.dm_channel(member) is None
    assert (await harness.store.stats()).members_left == 0
    assert (await harness.bot.housekeeper.run()).members == 0  # nothing more to find


async def test_back_within_left_member_days_their_subscriptions_are_never_deleted(
    harness: Harness,
):
    a = harness.first
    member = await in_both(harness)
    await gone_from_first(harness, member)
    harness.clock.advance(days=20)
    harness.double.world.add_member(a.guild, harness.double.world.users[member])
    await harness.slash(a, member, "subscriptions")  # any command there resumes them
    harness.clock.advance(days=400)
    assert (await harness.bot.housekeeper.run()).members == 0
    (subscription,) = await harness.store.subscriptions.for_member(a.id, member)
    assert subscription.disabled_reason is None
    assert (await harness.store.stats()).members_left == 0


async def test_back_without_a_command_the_deadline_asks_discord_and_keeps_them(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="bot.domain.retention")
    a = harness.first
    member = await in_both(harness)
    await gone_from_first(harness, member)
    harness.double.world.add_member(a.guild, harness.double.world.users[member])  # quietly
    harness.clock.advance(days=31)
    asked = checks(harness, a)
    assert (await harness.bot.housekeeper.run()).members == 0
    assert checks(harness, a) == asked + 1  # asked once more before anything goes
    assert "1 members found back in a server they had left: kept and resumed" in caplog.text
    (subscription,) = await harness.store.subscriptions.for_member(a.id, member)
    assert subscription.disabled_reason is None
    await story(harness, 12, title="Transport once back", topics=["Transport"])
    await harness.deliver()
    assert titles(harness, member)[-1] == "Transport once back"
