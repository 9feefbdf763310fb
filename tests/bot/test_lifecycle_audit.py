"""Servers rearranged under the bot: it is kicked and invited back, a routed channel or a role
is deleted, members leave, permissions go. Each test plays it through the Discord double as
Discord tells it (gateway events, and the answers Discord gives afterwards) and asserts what
moderators and members see."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import pytest

from bot.app import TopicBot
from tests.bot.harness import EPHEMERAL, Harness
from tests.bot.test_alerts import follow, posts, route, story
from tests.discord_double.client import running_bot
from tests.discord_double.plugin import GuildWorld
from tests.discord_double.state import GUILD_ANNOUNCEMENT, SEND_MESSAGES, Overwrite
from tests.waiting import eventually

PUBLIC_THREAD, GUILD_FORUM = 11, 15


def requests_to(harness: Harness, channel_id: int) -> int:
    """POSTs the bot made to a channel (accepted or refused)."""
    pattern = re.compile(rf"^/channels/{channel_id}/messages$")
    return sum(
        1 for r in harness.double.request_log if r.method == "POST" and pattern.search(r.path)
    )


def dm_requests_to(harness: Harness, user_id: int) -> int:
    channel = harness.double.world.dm_channels.get(user_id)
    return 0 if channel is None else requests_to(harness, channel.id)


async def kick(harness: Harness, guild: GuildWorld) -> None:
    """The bot is kicked from ``guild`` and has taken note."""
    await harness.double.remove_bot(guild.guild)
    await eventually(lambda: harness.bot.get_guild(guild.id) is None, "GUILD_DELETE seen")
    settings = harness.store.guild_settings
    await eventually(lambda: settings.is_gone(guild.id), "the store knows the bot left")


async def invite_back(harness: Harness, guild: GuildWorld) -> None:
    """The bot is invited back to ``guild`` (with its role) and has taken note."""
    await harness.double.add_bot(guild.guild, [guild.bot_role.id])
    await eventually(lambda: harness.bot.get_guild(guild.id) is not None, "GUILD_CREATE seen")
    settings = harness.store.guild_settings

    async def back() -> bool:
        return not await settings.is_gone(guild.id)

    await eventually(back, "the store knows the bot is back")


async def seed_topic(harness: Harness) -> None:
    """An unpublished article carrying the test's topics, so that /subscribe accepts them."""
    await story(harness, 0, published=False, topics=["Transport", "Energy"])


# --- kicked and invited back --------------------------------------------------------------


async def test_a_kicked_bot_sends_nothing_for_that_server_and_the_other_server_is_untouched(
    harness: Harness,
):
    a, b = harness.first, harness.second
    shared, only_a = a.members[0], a.members[1]
    harness.double.world.add_member(b.guild, shared)  # a member of both servers
    await seed_topic(harness)
    await route(harness, a, a.alerts.id)
    await route(harness, b, b.alerts.id)
    await follow(harness, a, only_a.id, "Transport")
    await follow(harness, b, shared.id, "Transport", delivery="daily")
    await follow(harness, a, shared.id, "Energy")

    await kick(harness, a)
    for n in (1, 2, 3, 4):  # more than disable_after_failures (3) refusals' worth
        await story(harness, n, title=f"Ferry pilot {n}", topics=["Transport", "Energy"])
        await harness.deliver()

    # nothing asked of Discord for the server that removed the bot: no post, no DM
    assert requests_to(harness, a.alerts.id) == 0
    assert dm_requests_to(harness, only_a.id) == 0
    assert harness.double.dms_to(a.moderator.id) == []
    # the other server goes on as before: its channel, and the shared member's digest there
    assert len(posts(harness, b.alerts.id)) == 4
    rows = await harness.store._db.fetch_all(
        "SELECT guild_id, target_id, state, mode FROM deliveries WHERE target_kind = 'dm'"
    )
    assert {(r[0], r[2], r[3]) for r in rows if r[1] == shared.id} == {(b.id, "pending", "daily")}
    # and the bot's set-up in the server it left is kept, unpaused, for its return
    (feed,) = await harness.store.feeds.for_guild(a.id)
    assert feed.disabled_reason is None
    failures = await harness.store._db.fetch_all("SELECT failure_count FROM feeds")
    assert [tuple(r) for r in failures] == [(0,), (0,)]
    (subscription,) = await harness.store.subscriptions.for_member(a.id, only_a.id)
    assert subscription.disabled_reason is None
    (subscription,) = await harness.store.subscriptions.for_member(b.id, shared.id)
    assert subscription.disabled_reason is None


async def test_alerts_waiting_when_the_bot_is_kicked_are_cancelled_not_sent_or_retried(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="bot.domain.servers")
    a = harness.first
    member = a.members[0]
    await seed_topic(harness)
    await route(harness, a, a.alerts.id)
    await follow(harness, a, member.id, "Transport", delivery="daily")
    await story(harness, 1)
    await harness.plan()  # a channel post and a digest row wait

    await kick(harness, a)
    harness.clock.advance(days=8)  # past any digest moment
    await harness.send()
    await harness.bot.dispatcher.send_digests()

    assert requests_to(harness, a.alerts.id) == 0
    assert dm_requests_to(harness, member.id) == 0
    states = await harness.store._db.fetch_all("SELECT state, last_error FROM deliveries")
    assert [tuple(r) for r in states] == [("cancelled", "the bot left the server")] * 2
    assert f"removed from server {a.id}: 2 waiting alerts cancelled" in caplog.text


async def test_invited_back_the_old_feeds_and_subscriptions_resume_without_a_flood(
    harness: Harness,
):
    a = harness.first
    member = a.members[0]
    await seed_topic(harness)
    await route(harness, a, a.alerts.id)
    await follow(harness, a, member.id, "Transport")

    await kick(harness, a)
    for n in (1, 2, 3, 4):
        await story(harness, n, title=f"While away {n}")
        await harness.deliver()
    await invite_back(harness, a)
    await harness.deliver()
    assert posts(harness, a.alerts.id) == []  # nothing published while it was gone floods in

    await story(harness, 5, title="After the return")
    await harness.deliver()
    (post,) = posts(harness, a.alerts.id)
    assert post.embeds[0]["title"] == "After the return"
    (dm,) = harness.double.dms_to(member.id)
    assert dm.embeds[0]["title"] == "After the return"
    listing = await harness.slash(a, a.moderator.id, "feed list")
    assert "paused" not in listing.embeds[0]["description"]


async def test_a_kick_and_an_invite_back_in_quick_succession_leave_the_server_served(
    harness: Harness,
):
    """Removed, then invited straight back (a moderator undoing a mistake): the two events
    are handled in the order Discord sent them, so the bot ends up serving the server, not
    marked as removed from it."""
    a = harness.first
    await seed_topic(harness)
    await route(harness, a, a.alerts.id)
    await harness.double.remove_bot(a.guild)
    await harness.double.add_bot(a.guild, [a.bot_role.id])
    await eventually(lambda: harness.bot.get_guild(a.id) is not None, "GUILD_CREATE seen")
    await asyncio.sleep(0.5)  # both events' handlers have had time to end, in whatever order

    assert not await harness.store.guild_settings.is_gone(a.id)
    await story(harness, 1, title="After the return")
    await harness.deliver()
    (post,) = posts(harness, a.alerts.id)
    assert post.embeds[0]["title"] == "After the return"


async def test_a_server_outage_is_not_a_kick(harness: Harness):
    a = harness.first
    await route(harness, a, a.alerts.id)
    await harness.double.guild_outage(a.guild)
    await eventually(
        lambda: harness.bot.get_guild(a.id) is None or harness.bot.get_guild(a.id).unavailable,  # type: ignore[union-attr]
        "the outage seen",
    )
    assert not await harness.store.guild_settings.is_gone(a.id)
    await story(harness, 1)
    await harness.deliver()
    assert len(posts(harness, a.alerts.id)) == 1


async def test_an_alert_from_a_server_that_removed_the_bot_can_still_be_unsubscribed_from(
    harness: Harness,
):
    a = harness.first
    member = a.members[0]
    harness.double.world.add_member(harness.second.guild, member)  # DMs still reach them
    await seed_topic(harness)
    await follow(harness, a, member.id, "Transport")
    await story(harness, 1)
    await harness.deliver()
    (alert,) = harness.double.dms_to(member.id)
    await kick(harness, a)
    button = alert.components[0]["components"][0]["custom_id"]
    clicked = await harness.double.click(alert, button, member.id)
    assert clicked.content == "Unsubscribed from **Transport** in guild1."  # its name kept
    assert await harness.store.subscriptions.for_member(a.id, member.id) == []


async def test_a_server_gone_past_left_server_days_is_deleted_and_invited_back_starts_fresh(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="bot.domain.retention")
    a, b = harness.first, harness.second
    member = a.members[0]
    await seed_topic(harness)
    await route(harness, a, a.alerts.id)
    await route(harness, b, b.alerts.id)
    await follow(harness, a, member.id, "Transport")
    await harness.slash(a, a.moderator.id, "settings", {"min_quality": 70})

    await kick(harness, a)
    harness.clock.advance(days=29)  # retention.left_server_days is 30 by default
    await harness.bot.housekeeper.run()
    assert await harness.store.feeds.count(a.id) == 1  # kept while it may still come back
    harness.clock.advance(days=2)
    await harness.bot.housekeeper.run()
    assert f"deleted the data of server {a.id}, which removed the bot on " in caplog.text
    # the member's /subscribe noted them present there: that answer goes too
    assert (
        ": 1 feeds, 1 subscriptions, 2 audit entries, 1 member checks, its settings\n"
        in caplog.text
    )

    await invite_back(harness, a)
    subscriptions = await harness.slash(a, member.id, "subscriptions")
    assert subscriptions.content == "You don't follow any topics here yet. Try `/subscribe`."
    listing = await harness.slash(a, a.moderator.id, "feed list")
    assert listing.embeds[0]["description"] == "No feeds yet. Add one with `/feed add`."
    audit = await harness.slash(a, a.moderator.id, "audit")
    assert "feed" not in str(audit.embeds or audit.content).lower()
    assert (await harness.store.guild_settings.get(a.id)).min_quality is None
    # the other server keeps its feed
    listing = await harness.slash(b, b.moderator.id, "feed list")
    assert f"<#{b.alerts.id}>" in listing.embeds[0]["description"]


async def test_invited_back_before_left_server_days_its_set_up_is_never_deleted(
    harness: Harness,
):
    a = harness.first
    member = a.members[0]
    await seed_topic(harness)
    await route(harness, a, a.alerts.id)
    await follow(harness, a, member.id, "Transport")

    await kick(harness, a)
    harness.clock.advance(days=29)
    await invite_back(harness, a)
    harness.clock.advance(days=400)
    run = await harness.bot.housekeeper.run()

    assert run.servers == 0
    listing = await harness.slash(a, a.moderator.id, "feed list")
    assert f"<#{a.alerts.id}>" in listing.embeds[0]["description"]
    subscriptions = await harness.slash(a, member.id, "subscriptions")
    assert "Transport" in subscriptions.embeds[0]["description"]


# --- permissions lost and given back ------------------------------------------------------------


async def test_a_channel_that_lost_send_messages_pauses_once_tells_once_and_resumes_cleanly(
    harness: Harness,
):
    a = harness.first
    await route(harness, a, a.alerts.id)
    a.alerts.overwrites.append(Overwrite(id=a.bot_role.id, deny=SEND_MESSAGES))
    await harness.double.update_channel(a.alerts)
    for n in (1, 2, 3, 4, 5):
        await story(harness, n, title=f"Story {n}")
        await harness.deliver()
        harness.clock.advance(minutes=10)
    assert requests_to(harness, a.alerts.id) == 3  # disable_after_failures, then no more asking
    (notice,) = harness.double.dms_to(a.moderator.id)
    assert "is paused: I can't post there" in notice.content
    listing = await harness.slash(a, a.moderator.id, "feed list")
    description = listing.embeds[0]["description"]
    assert "⚠️ paused: I can't post there" in description
    assert "I am missing Send Messages" in description

    a.alerts.overwrites.clear()
    await harness.double.update_channel(a.alerts)
    await route(harness, a, a.alerts.id)  # /feed add again resumes it
    await harness.deliver()
    assert posts(harness, a.alerts.id) == []  # the refused posts are not replayed
    await story(harness, 6, title="Story 6")
    await harness.deliver()
    (post,) = posts(harness, a.alerts.id)
    assert post.embeds[0]["title"] == "Story 6"
    assert len(harness.double.dms_to(a.moderator.id)) == 1


async def test_a_pause_whose_moderator_left_is_asked_of_discord_once_and_shown_in_feed_list(
    harness: Harness,
):
    a = harness.first
    await route(harness, a, a.alerts.id)
    await harness.double.remove_member(a.guild, a.moderator.id)  # their only server with the bot
    a.alerts.overwrites.append(Overwrite(id=a.bot_role.id, deny=SEND_MESSAGES))
    await harness.double.update_channel(a.alerts)
    for n in (1, 2, 3, 4):
        await story(harness, n, title=f"Story {n}")
        await harness.deliver()
        harness.clock.advance(minutes=10)
    assert dm_requests_to(harness, a.moderator.id) == 1  # refused (50007), never asked again
    listing = await harness.slash(a, a.owner.id, "feed list")
    assert "⚠️ paused: I can't post there" in listing.embeds[0]["description"]


# --- a routed channel deleted -------------------------------------------------------------


async def test_a_deleted_channel_takes_its_feeds_with_it(harness: Harness):
    a = harness.first
    await seed_topic(harness)
    await route(harness, a, a.alerts.id)
    await route(harness, a, a.alerts.id, topic="Energy", min_quality=10)
    await route(harness, a, a.general.id)
    await story(harness, 1)
    await harness.plan()  # a post waits for #alerts

    await harness.double.delete_channel(a.alerts)

    async def gone() -> bool:
        return [f.channel_id for f in await harness.store.feeds.for_guild(a.id)] == [a.general.id]

    await eventually(gone, "the deleted channel's feeds removed")
    await harness.send()
    await story(harness, 2, title="Next")
    await harness.deliver()
    assert requests_to(harness, a.alerts.id) == 0  # never a request to a channel known gone
    assert len(posts(harness, a.general.id)) == 2
    listing = await harness.slash(a, a.moderator.id, "feed list")
    assert str(a.alerts.id) not in listing.embeds[0]["description"]
    (entry, *_) = await harness.store.audit.recent(a.id)
    assert entry.action == "feed.remove"
    assert entry.detail["reason"] == "channel deleted"


# --- what /feed add accepts as a channel ----------------------------------------------------


async def test_feed_add_takes_an_announcement_channel_and_posts_there(harness: Harness):
    a = harness.first
    news = harness.double.world.add_channel(a.guild, "announcements", type=GUILD_ANNOUNCEMENT)
    await harness.double.create_channel(news)
    await eventually(lambda: harness.bot.get_channel(news.id) is not None, "channel cached")
    await route(harness, a, news.id)
    await story(harness, 1)
    await harness.deliver()
    assert len(posts(harness, news.id)) == 1


async def crafted_channel_option(
    harness: Harness, guild: GuildWorld, channel: dict[str, Any]
) -> Any:
    """/feed add naming ``channel`` (a channel object Discord's picker would not offer)."""
    return await harness.slash(
        guild,
        guild.moderator.id,
        "feed add",
        raw_options=[{"name": "channel", "type": 7, "value": channel["id"]}],
        resolved={"channels": {channel["id"]: channel}},
        force=True,
    )


async def test_feed_add_refuses_a_thread_or_a_forum_naming_the_option(harness: Harness):
    a = harness.first
    ids = harness.double.world.ids
    thread = {
        "id": str(ids.next()),
        "type": PUBLIC_THREAD,
        "guild_id": str(a.id),
        "parent_id": str(a.alerts.id),
        "name": "a thread",
        "owner_id": str(a.moderator.id),
        "member_count": 1,
        "message_count": 0,
        "permissions": str((1 << 51) - 1),
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": "2026-01-01T00:00:00+00:00",
            "locked": False,
        },
    }
    forum = {
        "id": str(ids.next()),
        "type": GUILD_FORUM,
        "guild_id": str(a.id),
        "name": "a forum",
        "permissions": str((1 << 51) - 1),
        "position": 9,
        "permission_overwrites": [],
    }
    for channel in (thread, forum):
        refused = await crafted_channel_option(harness, a, channel)
        assert refused.message.flags & EPHEMERAL
        assert refused.content == (
            "That value for `channel` isn't usable here. Pick one from the list."
        )
    assert await harness.store.feeds.for_guild(a.id) == []


async def test_a_channel_deleted_while_the_bot_was_away_goes_with_its_feeds_on_its_return(
    harness: Harness,
):
    a = harness.first
    await route(harness, a, a.alerts.id)
    await route(harness, a, a.general.id)
    await harness.double.remove_bot(a.guild)
    await eventually(lambda: harness.bot.get_guild(a.id) is None, "GUILD_DELETE seen")
    del a.guild.channels[a.alerts.id]  # deleted while the bot was not there to hear of it
    await invite_back(harness, a)

    async def gone() -> bool:
        return [f.channel_id for f in await harness.store.feeds.for_guild(a.id)] == [a.general.id]

    await eventually(gone, "the feeds of the channel deleted meanwhile removed")
    await story(harness, 1)
    await harness.deliver()
    assert requests_to(harness, a.alerts.id) == 0
    assert len(posts(harness, a.general.id)) == 1


async def test_a_kick_and_deletions_while_the_bot_was_offline_are_noticed_at_connection(
    harness: Harness,
):
    a, b = harness.first, harness.second
    member = a.members[0]
    await seed_topic(harness)
    await route(harness, a, a.alerts.id)
    await route(harness, b, b.alerts.id)
    await route(harness, b, b.general.id)
    await follow(harness, a, member.id, "Transport")
    await route(harness, b, b.alerts.id, mention_role=b.member_role.id)
    # while the bot is stopped: it is kicked from A, B's #general is deleted, and the role
    # B's feed mentions
    await harness.bot.close()
    a.guild.members.pop(harness.double.world.bot_user.id)
    del b.guild.channels[b.general.id]
    del b.guild.roles[b.member_role.id]
    restarted = TopicBot(
        settings=harness.bot.settings,
        store=harness.store,
        run_jobs=False,
        clock=harness.clock,
        guild_ready_timeout=0.05,
    )
    async with running_bot(harness.double, restarted):
        harness.bot = restarted
        settings = harness.store.guild_settings
        await eventually(lambda: settings.is_gone(a.id), "the kick noticed at connection")

        async def gone() -> bool:
            feeds = await harness.store.feeds.for_guild(b.id)
            return [(f.channel_id, f.mention_role_id) for f in feeds] == [(b.alerts.id, None)]

        await eventually(gone, "the deleted channel's feeds removed, the role dropped")
        assert not await settings.is_gone(b.id)
        await story(harness, 1)
        await harness.deliver()
    assert requests_to(harness, a.alerts.id) == 0
    assert dm_requests_to(harness, member.id) == 0
    assert requests_to(harness, b.general.id) == 0
    assert len(posts(harness, b.alerts.id)) == 1


# --- a role deleted -----------------------------------------------------------------------------


async def test_a_deleted_mention_role_is_dropped_from_its_feeds_and_posts_go_on_without_it(
    harness: Harness,
):
    a = harness.first
    role = a.member_role
    await route(harness, a, a.alerts.id, mention_role=role.id)
    await harness.double.delete_role(a.guild, role.id)

    async def dropped() -> bool:
        (feed,) = await harness.store.feeds.for_guild(a.id)
        return feed.mention_role_id is None

    await eventually(dropped, "the deleted role dropped from the feed")
    await story(harness, 1)
    await harness.deliver()
    (post,) = posts(harness, a.alerts.id)
    assert str(role.id) not in post.content  # no "@deleted-role" above every post
    assert post.allowed_mentions == {"parse": []}
    listing = await harness.slash(a, a.moderator.id, "feed list")
    assert str(role.id) not in listing.embeds[0]["description"]


async def test_a_deleted_moderator_role_is_no_longer_shown_and_managers_still_moderate(
    harness: Harness,
):
    a = harness.first
    helpers = harness.double.world.add_role(a.guild, "Helpers")
    await harness.double.create_role(a.guild, helpers)
    changed = await harness.slash(a, a.owner.id, "settings", {"moderator_role": helpers.id})
    assert "Helpers" in changed.content or str(helpers.id) in str(changed.embeds), changed.content
    await harness.double.delete_role(a.guild, helpers.id)

    async def cleared() -> bool:
        return (await harness.store.guild_settings.get(a.id)).moderator_role_id is None

    await eventually(cleared, "the deleted moderator role cleared")
    shown = await harness.slash(a, a.moderator.id, "settings")
    assert str(helpers.id) not in str(shown.embeds)


# --- members leaving, closed DMs ------------------------------------------------------------------


async def test_a_member_who_left_every_server_costs_one_check_no_dm_and_delays_no_one(
    harness: Harness,
):
    a = harness.first
    gone, staying = a.members[0], a.members[1]
    await seed_topic(harness)
    for member in (gone, staying):
        await follow(harness, a, member.id, "Transport")
    harness.clock.advance(days=1, minutes=1)  # their /subscribe no longer vouches for them
    await harness.double.remove_member(a.guild, gone.id)  # no members intent: no event
    for n in (1, 2, 3):
        await story(harness, n, title=f"Story {n}")
    await harness.deliver()
    await harness.deliver()
    # asked once (Unknown Member), so not one DM is tried; their subscription waits paused
    assert dm_requests_to(harness, gone.id) == 0
    asked = harness.double.requests("GET", "/guilds/{guild_id}/members/{user_id}")
    assert sorted(r.path for r in asked) == sorted(
        f"/guilds/{a.id}/members/{m.id}" for m in (gone, staying)
    )
    assert len(harness.double.dms_to(staying.id)) == 3
    (paused,) = await harness.store.subscriptions.for_member(a.id, gone.id)
    assert paused.disabled_reason and paused.disabled_reason.startswith("you left the server")


async def test_leaving_one_server_stops_its_alerts_keeps_the_others_and_old_buttons_work(
    harness: Harness,
):
    a, b = harness.first, harness.second
    member = a.members[0]
    harness.double.world.add_member(b.guild, member)
    await seed_topic(harness)
    await follow(harness, a, member.id, "Transport")
    await follow(harness, b, member.id, "Energy")
    await story(harness, 1, title="Transport news", topics=["Transport"])
    await harness.deliver()
    (from_a,) = harness.double.dms_to(member.id)  # an alert from A, while still there
    harness.clock.advance(days=1, minutes=1)
    await harness.double.remove_member(a.guild, member.id)
    await story(harness, 2, title="Energy news", topics=["Energy"])
    await story(harness, 3, title="More transport news", topics=["Transport"])
    await harness.deliver()
    titles = [m.embeds[0]["title"] for m in harness.double.dms_to(member.id)]
    # the bot asked Discord: A's alerts stop, B's go on
    assert titles == ["Transport news", "Energy news"]
    # the Unsubscribe button of A's earlier alert still works from the DM
    button = from_a.components[0]["components"][0]["custom_id"]
    clicked = await harness.double.click(from_a, button, member.id)
    assert clicked.content == (
        "Unsubscribed from **Transport** in guild1. `/subscribe` there brings it back."
    )
    assert await harness.store.subscriptions.for_member(a.id, member.id) == []
    assert len(await harness.store.subscriptions.for_member(b.id, member.id)) == 1


async def test_the_audit_log_says_what_a_deleted_channel_and_deleted_roles_took_with_them(
    harness: Harness,
):
    # A moderator opening /audit after someone deleted #alerts and the Helpers role (the
    # moderator role) reads what went and why, not "every topic" for two topic feeds nor a
    # bare "role.deleted".
    a = harness.first
    await seed_topic(harness)
    helpers = harness.double.world.add_role(a.guild, "Helpers")
    await harness.double.create_role(a.guild, helpers)
    await harness.slash(a, a.owner.id, "settings", {"moderator_role": helpers.id})
    await route(harness, a, a.alerts.id, topic="Energy")
    await route(harness, a, a.alerts.id, topic="Transport")
    await route(harness, a, a.general.id, mention_role=a.member_role.id)
    await route(harness, a, a.general.id, topic="Energy", mention_role=a.member_role.id)
    await harness.double.delete_channel(a.alerts)
    await harness.double.delete_role(a.guild, helpers.id)
    await harness.double.delete_role(a.guild, a.member_role.id)

    async def all_three() -> bool:
        return len(await harness.store.audit.recent(a.id)) == 8

    await eventually(all_three, "the channel and both roles noted in the audit log")
    shown = await harness.slash(a, a.moderator.id, "audit")
    lines = shown.embeds[0]["description"].splitlines()[:3]
    bot = f"<@{harness.double.world.bot_user.id}>"
    assert sorted(line.split("> ", 1)[1] for line in lines) == sorted(
        [
            f"{bot} removed 2 feeds of <#{a.alerts.id}> (channel deleted)",
            f"{bot} removed the deleted role <@&{helpers.id}> from the moderator role",
            f"{bot} removed the deleted role <@&{a.member_role.id}> from 2 feeds' mentions",
        ]
    )
