"""Discord failing on chosen calls: the bot retries, dead-letters or pauses exactly as promised,
and never repeats a request Discord refused for good."""

from __future__ import annotations

import asyncio

from tests.bot.harness import Harness
from tests.bot.processes import wait_until
from tests.bot.test_alerts import follow, posts, route, story
from tests.storage.outbox_data import Outbox


def channel_posts_path(channel_id: int) -> str:
    return rf"^/channels/{channel_id}/messages$"


def requests_to(harness: Harness, path_regex: str) -> int:
    import re

    pattern = re.compile(path_regex)
    return sum(
        1 for r in harness.double.request_log if r.method == "POST" and pattern.search(r.path)
    )


async def delivery_rows(harness: Harness) -> list[tuple]:
    return await harness.store._db.fetch_all(
        "SELECT target_kind, target_id, state, attempts, last_error FROM deliveries ORDER BY created_at, article_pk"
    )


async def test_a_momentary_500_is_retried_at_once_by_discord_py(harness: Harness):
    g = harness.first
    await route(harness, g, g.alerts.id)
    harness.double.fail_next("POST", channel_posts_path(g.alerts.id), 500)
    await story(harness)
    assert (await harness.deliver()).sent == 1
    assert len(posts(harness, g.alerts.id)) == 1
    assert requests_to(harness, channel_posts_path(g.alerts.id)) == 2


async def test_a_server_error_is_retried_later_with_backoff_and_then_sent_once(harness: Harness):
    g = harness.first
    await route(harness, g, g.alerts.id)
    harness.double.fail_next("POST", channel_posts_path(g.alerts.id), 503)
    await story(harness)
    first = await harness.deliver()
    assert (first.sent, first.retried) == (0, 1)
    (row,) = await delivery_rows(harness)
    assert row[2:4] == ("pending", 1)
    assert row[4].startswith("503")
    assert (await harness.send()).sent == 0  # not due yet: backoff
    harness.clock.advance(minutes=1)
    assert (await harness.send()).sent == 1
    assert len(posts(harness, g.alerts.id)) == 1


async def test_a_429_with_retry_after_is_waited_out(harness: Harness):
    g = harness.first
    await route(harness, g, g.alerts.id)
    harness.double.fail_next("POST", channel_posts_path(g.alerts.id), 429, retry_after=0.2)
    await story(harness)
    summary = await harness.deliver()
    assert summary.sent == 1
    assert len(posts(harness, g.alerts.id)) == 1
    assert requests_to(harness, channel_posts_path(g.alerts.id)) == 2


async def test_a_timeout_is_retried_with_the_same_nonce_and_posts_once(make_harness):
    harness = await make_harness(delivery={"request_timeout_seconds": 0.3})
    g = harness.first
    await route(harness, g, g.alerts.id)
    # Discord is slow but does accept the message after we stopped waiting.
    harness.double.fail_next("POST", channel_posts_path(g.alerts.id), None, delay=0.8)
    await story(harness)
    first = await harness.deliver()
    assert first.retried == 1
    await asyncio.sleep(1.0)
    harness.clock.advance(minutes=1)
    assert (await harness.send()).sent == 1
    assert len(posts(harness, g.alerts.id)) == 1
    assert requests_to(harness, channel_posts_path(g.alerts.id)) == 2


async def test_retries_run_out_into_dead_letters(make_harness):
    harness = await make_harness(delivery={"max_attempts": 3})
    g = harness.first
    await route(harness, g, g.alerts.id)
    harness.double.fail_next("POST", channel_posts_path(g.alerts.id), 503, times=10)
    await story(harness)
    await harness.plan()
    for _ in range(5):
        await harness.send()
        harness.clock.advance(hours=1)
    (row,) = await delivery_rows(harness)
    assert row[2:4] == ("dead", 3)
    assert requests_to(harness, channel_posts_path(g.alerts.id)) == 3
    assert (await harness.store.stats()).deliveries["dead"] == 1


async def test_cannot_dm_fails_every_pending_dm_for_that_member_with_one_request(harness: Harness):
    g = harness.first
    closed, open_ = g.members[0], g.members[1]
    closed.accepts_dms = False
    await story(harness, 0, published=False, topics=["Transport", "Energy"])
    for member in (closed, open_):
        await follow(harness, g, member.id, "Transport")
    await follow(harness, g, closed.id, "Energy")
    for n in range(1, 4):
        await story(harness, n, title=f"Story {n}")
    await harness.deliver()
    await harness.deliver()

    dm_channel = harness.double.world.dm_channel_for(closed.id).id
    assert requests_to(harness, channel_posts_path(dm_channel)) == 1
    assert len(harness.double.dms_to(open_.id)) == 3
    rows = [r for r in await delivery_rows(harness) if r[1] == closed.id]
    assert [r[2] for r in rows] == ["failed", "failed", "failed"]
    assert "50007" in rows[0][4]
    listing = await harness.slash(g, closed.id, "subscriptions")
    assert "failed 3" in listing.embeds[0]["description"]


async def test_repeated_refusals_pause_a_subscription_with_the_reason(make_harness):
    harness = await make_harness(delivery={"disable_after_failures": 2})
    g = harness.first
    closed = g.members[0]
    closed.accepts_dms = False
    await story(harness, 0, published=False)
    await follow(harness, g, closed.id, "Transport")
    for n in (1, 2, 3):
        await story(harness, n, title=f"Story {n}")
        await harness.deliver()
    dm_channel = harness.double.world.dm_channel_for(closed.id).id
    assert requests_to(harness, channel_posts_path(dm_channel)) == 2  # paused after the 2nd
    (subscription,) = await harness.store.subscriptions.for_member(g.id, closed.id)
    assert subscription.disabled_reason is not None
    assert subscription.disabled_reason.startswith("Discord refused my DMs")
    listing = await harness.slash(g, closed.id, "subscriptions")
    assert "⚠️ paused: Discord refused my DMs" in listing.embeds[0]["description"]
    again = await harness.slash(g, closed.id, "subscribe", {"topic": "Transport"})
    assert again.content.startswith("Updated your subscription")
    (subscription,) = await harness.store.subscriptions.for_member(g.id, closed.id)
    assert subscription.disabled_reason is None


async def test_an_unknown_channel_pauses_the_feed_at_once_and_tells_its_moderator_once(
    harness: Harness,
):
    g = harness.first
    await route(harness, g, g.alerts.id)
    harness.double.fail_next(
        "POST", channel_posts_path(g.alerts.id), 404, code=10003, message="Unknown Channel", times=5
    )
    for n in (1, 2):
        await story(harness, n, title=f"Story {n}")
    await harness.deliver()
    await story(harness, 3, title="Story 3")
    await harness.deliver()

    assert requests_to(harness, channel_posts_path(g.alerts.id)) == 1
    (feed,) = await harness.store.feeds.for_guild(g.id)
    assert feed.disabled_reason is not None
    assert feed.disabled_reason.startswith("the channel no longer exists")
    notices = harness.double.dms_to(g.moderator.id)
    assert len(notices) == 1
    assert notices[0].content.startswith("The topicbot feed for **every topic** in")
    assert "is paused: the channel no longer exists" in notices[0].content
    listing = await harness.slash(g, g.moderator.id, "feed list")
    assert "⚠️ paused: the channel no longer exists" in listing.embeds[0]["description"]
    stats = await harness.store.stats()
    assert stats.feeds_paused == 1


async def test_missing_permissions_count_towards_pausing_without_retrying(make_harness):
    harness = await make_harness(delivery={"disable_after_failures": 2})
    g = harness.first
    await route(harness, g, g.alerts.id)
    harness.double.fail_next(
        "POST",
        channel_posts_path(g.alerts.id),
        403,
        code=50013,
        message="Missing Permissions",
        times=10,
    )
    for n in (1, 2, 3):
        await story(harness, n, title=f"Story {n}")
        await harness.deliver()
        harness.clock.advance(hours=1)
    assert requests_to(harness, channel_posts_path(g.alerts.id)) == 2
    (feed,) = await harness.store.feeds.for_guild(g.id)
    assert feed.disabled_reason is not None
    assert feed.disabled_reason.startswith("I can't post there")


async def test_a_long_429_goes_back_to_the_outbox_for_at_least_retry_after(harness: Harness):
    g = harness.first
    await route(harness, g, g.alerts.id)
    harness.double.fail_next("POST", channel_posts_path(g.alerts.id), 429, retry_after=120)
    await story(harness)
    first = await harness.deliver()
    assert (first.sent, first.retried) == (0, 1)
    harness.clock.advance(seconds=100)
    assert (await harness.send()).sent == 0
    harness.clock.advance(seconds=60)
    assert (await harness.send()).sent == 1
    assert len(posts(harness, g.alerts.id)) == 1


async def test_a_global_429_mid_backlog_breeds_no_more(harness: Harness):
    # discord.py holds every request for a global 429's retry-after; the pacer went on
    # letting alerts go into that hold, and when it ended they reached Discord together with
    # the next second's, far over the global limit: one 429 bred a score more
    g = harness.first
    channels = [harness.double.world.add_channel(g.guild, f"news-{n}").id for n in range(30)]
    outbox = Outbox(harness.store)
    for channel in channels:  # stored, not added by /feed add: the bot's cache has not them
        await outbox.feed(g.guild.id, channel, None)
    for n in range(5):
        await story(harness, n)
    await harness.plan()
    harness.double.enforce_rate_limits(per_channel=(5, 5.0), global_per_second=50)
    sending = asyncio.create_task(harness.send())
    await wait_until(lambda: len(message_creates(harness)) >= 60, 30, "over a second of posts")
    harness.double.fail_next(
        "POST", r"^/channels/\d+/messages$", 429, retry_after=1.0, is_global=True
    )
    assert (await sending).sent == 150
    # Discord's own limits: met at most twice. The double counts fixed one-second windows and
    # the bot paces by its own clock, so on a loaded machine (CI's eight test processes) a
    # stalled event loop can put a request over at a window's edge, once before the hold and
    # once after it (seen in CI, 2 of 150); the bug bred a score.
    assert harness.double.rate_limit_hits <= 2


def message_creates(harness: Harness) -> list[float]:
    return [
        r.time
        for r in harness.double.request_log
        if r.method == "POST" and r.route == "/channels/{channel_id}/messages"
    ]


async def pause_by_unknown_channel(harness: Harness, n: int) -> None:
    g = harness.first
    harness.double.fail_next(
        "POST", channel_posts_path(g.alerts.id), 404, code=10003, message="Unknown Channel"
    )
    await story(harness, n, title=f"Story {n}")
    await harness.deliver()


async def test_a_feed_paused_again_after_a_moderator_restored_it_tells_them_again(
    harness: Harness,
):
    g = harness.first
    await route(harness, g, g.alerts.id)
    await pause_by_unknown_channel(harness, 1)
    assert len(harness.double.dms_to(g.moderator.id)) == 1
    harness.clock.advance(minutes=30)
    await route(harness, g, g.alerts.id)  # the moderator fixed the channel and added it again
    await story(harness, 2, title="Story 2")
    await harness.deliver()
    assert [p.embeds[0]["title"] for p in posts(harness, g.alerts.id)] == ["Story 2"]
    await pause_by_unknown_channel(harness, 3)
    notices = harness.double.dms_to(g.moderator.id)
    assert len(notices) == 2
    assert "is paused: the channel no longer exists" in notices[1].content


async def test_a_pause_notice_discord_did_not_answer_is_sent_by_a_later_run_once(
    harness: Harness,
):
    g = harness.first
    await route(harness, g, g.alerts.id)
    # no answer at the pause, nor when the run looks again right after
    harness.double.fail_next("POST", r"^/users/@me/channels$", 503, times=2)
    await pause_by_unknown_channel(harness, 1)
    assert harness.double.dms_to(g.moderator.id) == []
    (feed,) = await harness.store.feeds.for_guild(g.id)
    assert feed.disabled_reason is not None
    await harness.send()  # not yet: the paused feeds are looked at every quarter of an hour
    assert harness.double.dms_to(g.moderator.id) == []
    harness.clock.advance(minutes=16)
    await harness.send()
    harness.clock.advance(minutes=16)
    await harness.send()
    (notice,) = harness.double.dms_to(g.moderator.id)
    assert "is paused: the channel no longer exists" in notice.content
