"""What members of a real community see of alerts and digests when things change under them:
unsubscribing or a retraction while items wait, a moderator changing their mind, the digest
schedule changed between two digests or crossing a daylight-saving change, a member in two
servers, a member changing how they want alerts, an article edited after it went out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.bot.conftest import MakeHarness
from tests.bot.harness import Harness
from tests.bot.test_alerts import follow, posts, route, story


def at(zone: str, text: str) -> datetime:
    """A wall-clock time in ``zone`` (the first showing of a repeated one), in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def digest_titles(message: Any) -> list[str]:
    """The article titles a digest DM lists, in its order."""
    lines = message.embeds[0]["description"].splitlines()
    return [line.split("[")[1].split("]")[0] for line in lines if line.startswith("**")]


async def settings(harness: Harness, guild: Any, **options: Any) -> None:
    result = await harness.slash(guild, guild.moderator.id, "settings", options)
    assert result.content == "Saved.", result.content


async def digests_at(harness: Harness, moment: datetime) -> int:
    """Run the digest job at ``moment``; how many items it sent."""
    harness.clock.now = moment
    return (await harness.bot.dispatcher.send_digests()).sent


@pytest.fixture
async def bare(make_harness: MakeHarness) -> Harness:
    """No example articles: the clock is set far from today in some tests, and examples dated
    near today would then be fresh news."""
    harness = await make_harness(seed=False)
    harness.clock.now = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)  # a Wednesday
    await story(harness, 0, published=False, topics=["Transport", "Energy", "Ports"])
    return harness


# --- waiting items that should no longer go out -----------------------------------------


async def test_a_member_who_unsubscribes_gets_no_digest_of_that_topic(bare: Harness):
    harness, g = bare, bare.first
    reader = g.members[0].id
    await follow(harness, g, reader, "Transport", delivery="daily")
    await story(harness, 1, title="Ferry timetable changes")
    await harness.deliver()  # waits for 08:00 UTC tomorrow
    result = await harness.slash(g, reader, "unsubscribe", {"topic": "Transport"})
    assert result.content.startswith("Unsubscribed")

    assert await digests_at(harness, datetime(2026, 6, 11, 8, 0, tzinfo=UTC)) == 0
    assert harness.double.dms_to(reader) == []


async def test_a_member_who_unsubscribes_and_subscribes_again_before_the_digest_gets_it(
    bare: Harness,
):
    harness, g = bare, bare.first
    reader = g.members[0].id
    await follow(harness, g, reader, "Transport", delivery="daily")
    article = await story(harness, 1, title="Ferry timetable changes")
    await harness.deliver()
    await harness.slash(g, reader, "unsubscribe", {"topic": "Transport"})
    await follow(harness, g, reader, "Transport", delivery="daily")

    assert await digests_at(harness, datetime(2026, 6, 11, 8, 0, tzinfo=UTC)) == 1
    (digest,) = harness.double.dms_to(reader)
    assert digest_titles(digest) == [article.title]


@pytest.mark.parametrize("left", ["Transport", "Energy"])
async def test_a_member_who_leaves_one_of_two_matching_topics_still_gets_the_digest_item(
    bare: Harness, left: str
):
    harness, g = bare, bare.first
    reader = g.members[0].id
    await follow(harness, g, reader, "Transport", delivery="daily")
    await follow(harness, g, reader, "Energy", delivery="daily")
    article = await story(harness, 1, topics=["Transport", "Energy"], title="Electric ferries")
    await harness.deliver()
    result = await harness.slash(g, reader, "unsubscribe", {"topic": left})
    assert result.content.startswith("Unsubscribed")

    assert await digests_at(harness, datetime(2026, 6, 11, 8, 0, tzinfo=UTC)) == 1
    (digest,) = harness.double.dms_to(reader)
    assert digest_titles(digest) == [article.title]
    kept = ({"Transport", "Energy"} - {left}).pop()
    assert f"_{kept} · {g.guild.name}_" in digest.embeds[0]["description"]


async def test_an_article_its_file_retracts_leaves_the_waiting_digest(bare: Harness):
    harness, g = bare, bare.first
    reader = g.members[0].id
    await follow(harness, g, reader, "Transport", delivery="daily")
    kept = await story(harness, 1, title="Ferry timetable changes")
    withdrawn = await story(harness, 2, title="Ferry operator goes bust (withdrawn)")
    await harness.deliver()
    # the outlet withdraws the story: the file comes again with `published: false`
    await story(harness, 2, title=withdrawn.title, published=False)

    assert await digests_at(harness, datetime(2026, 6, 11, 8, 0, tzinfo=UTC)) == 1
    (digest,) = harness.double.dms_to(reader)
    assert digest_titles(digest) == [kept.title]


async def test_an_article_its_file_retracts_is_not_posted_when_its_post_is_due(bare: Harness):
    harness, g = bare, bare.first
    await route(harness, g, g.alerts.id, topic="Transport")
    withdrawn = await story(harness, 1, title="Ferry operator goes bust (withdrawn)")
    await harness.plan()
    await story(harness, 1, title=withdrawn.title, published=False)
    await harness.send()
    assert posts(harness, g.alerts.id) == []


async def test_a_digest_item_retracted_by_a_moderator_leaves_the_digest(bare: Harness):
    harness, g = bare, bare.first
    reader = g.members[0].id
    await follow(harness, g, reader, "Transport", delivery="daily")
    kept = await story(harness, 1, title="Ferry timetable changes")
    retracted = await story(harness, 2, title="Unverified ferry rumour")
    await harness.deliver()
    result = await harness.slash(g, g.moderator.id, "unpublish", {"article": retracted.id})
    assert result.content.startswith("Retracted")

    await digests_at(harness, datetime(2026, 6, 11, 8, 0, tzinfo=UTC))
    (digest,) = harness.double.dms_to(reader)
    assert digest_titles(digest) == [kept.title]


async def test_a_bar_raised_while_items_wait_holds_back_those_under_it(bare: Harness):
    # A moderator raises the server's bar at noon: "publishing an article whose quality is
    # under the server's bar says that members will not see it", so tomorrow's digest must
    # not carry a story under the new bar that was planned under the old one, nor must a
    # post still waiting for its turn go out; what passes the new bar still does.
    harness, g = bare, bare.first
    reader = g.members[0].id
    await follow(harness, g, reader, "Transport", delivery="daily")
    await route(harness, g, g.alerts.id, topic="Transport")
    low = await story(harness, 1, title="Ferry timetable changes", quality=40)
    high = await story(harness, 2, title="Ferry fares frozen", quality=80)
    await harness.plan()
    await settings(harness, g, min_quality=60)

    await harness.send()
    assert [m.embeds[0]["title"] for m in posts(harness, g.alerts.id)] == [high.title]
    assert await digests_at(harness, datetime(2026, 6, 11, 8, 0, tzinfo=UTC)) == 1
    (digest,) = harness.double.dms_to(reader)
    assert digest_titles(digest) == [high.title]
    assert low.title not in str(harness.double.dms_to(reader)[0].embeds)


async def test_a_feeds_raised_bar_leaves_the_post_to_another_feed_of_the_channel_that_takes_it(
    bare: Harness,
):
    # #alerts takes Transport (no bar of its own) and every topic from 30 up. Raising the
    # Transport feed's bar to 60 does not stop a 50 story the every-topic feed still takes;
    # raising that one's to 60 too does.
    harness, g = bare, bare.first
    await route(harness, g, g.alerts.id, topic="Transport")
    await route(harness, g, g.alerts.id, min_quality=30)
    kept = await story(harness, 1, title="Ferry timetable changes", quality=50)
    await harness.plan()
    await route(harness, g, g.alerts.id, topic="Transport", min_quality=60)
    await harness.send()
    assert [m.embeds[0]["title"] for m in posts(harness, g.alerts.id)] == [kept.title]

    await story(harness, 2, title="Ferry fares frozen", quality=50)
    await harness.plan()
    await route(harness, g, g.alerts.id, min_quality=60)
    await harness.send()
    assert [m.embeds[0]["title"] for m in posts(harness, g.alerts.id)] == [kept.title]


async def test_a_member_who_raises_their_own_bar_gets_no_waiting_item_under_it(bare: Harness):
    harness, g = bare, bare.first
    reader = g.members[0].id
    await follow(harness, g, reader, "Transport", delivery="daily")
    await story(harness, 1, title="Ferry timetable changes", quality=40)
    high = await story(harness, 2, title="Ferry fares frozen", quality=80)
    await harness.deliver()
    await follow(harness, g, reader, "Transport", delivery="daily", min_quality=60)

    assert await digests_at(harness, datetime(2026, 6, 11, 8, 0, tzinfo=UTC)) == 1
    (digest,) = harness.double.dms_to(reader)
    assert digest_titles(digest) == [high.title]


async def test_a_moderator_who_retracts_then_publishes_again_before_the_post_sees_it_posted(
    bare: Harness,
):
    harness, g = bare, bare.first
    reader = g.members[0].id
    await route(harness, g, g.alerts.id, topic="Transport")
    await follow(harness, g, reader, "Transport", delivery="daily")
    article = await story(harness, 1, published=False, title="Ferry strike called off")
    for command in ("publish", "unpublish", "publish"):
        result = await harness.slash(g, g.moderator.id, command, {"article": article.id})
        assert result.content.startswith(("Published", "Retracted")), result.content
        if command == "publish":
            await harness.plan()  # planned at once, before the moderator changed their mind

    await harness.send()
    (post,) = posts(harness, g.alerts.id)
    assert post.embeds[0]["title"] == article.title
    await digests_at(harness, datetime(2026, 6, 11, 8, 0, tzinfo=UTC))
    (digest,) = harness.double.dms_to(reader)
    assert digest_titles(digest) == [article.title]


async def test_a_file_withdrawn_then_published_again_before_its_post_is_posted_once(
    bare: Harness,
):
    harness, g = bare, bare.first
    await route(harness, g, g.alerts.id, topic="Transport")
    article = await story(harness, 1, title="Ferry strike called off")
    await harness.plan()
    await story(harness, 1, title=article.title, published=False)
    await harness.send()  # what waited is cancelled
    await story(harness, 1, title=article.title)
    for _ in range(2):
        await harness.deliver()
    (post,) = posts(harness, g.alerts.id)
    assert post.embeds[0]["title"] == article.title


async def test_an_article_posted_then_retracted_and_published_again_is_not_posted_twice(
    bare: Harness,
):
    harness, g = bare, bare.first
    await route(harness, g, g.alerts.id, topic="Transport")
    article = await story(harness, 1, title="Ferry strike called off")
    await harness.deliver()
    for command in ("unpublish", "publish"):
        result = await harness.slash(g, g.moderator.id, command, {"article": article.id})
        assert result.content.startswith(("Published", "Retracted")), result.content
        await harness.deliver()
    assert len(posts(harness, g.alerts.id)) == 1


# --- the digest schedule changed, and daylight saving ------------------------------------


async def test_a_later_digest_time_set_after_todays_digest_brings_the_next_one_once(
    bare: Harness,
):
    harness, g = bare, bare.first
    reader = g.members[0].id
    await follow(harness, g, reader, "Transport", delivery="daily")
    await story(harness, 1, title="Morning story")
    await harness.deliver()
    assert await digests_at(harness, datetime(2026, 6, 11, 8, 0, tzinfo=UTC)) == 1

    harness.clock.now = datetime(2026, 6, 11, 9, 0, tzinfo=UTC)
    await story(harness, 2, title="Mid-morning story")
    await harness.deliver()  # for Friday 08:00
    await settings(harness, g, digest_time="18:00")  # moved to Thursday 18:00

    assert await digests_at(harness, datetime(2026, 6, 11, 17, 59, 59, tzinfo=UTC)) == 0
    assert await digests_at(harness, datetime(2026, 6, 11, 18, 0, tzinfo=UTC)) == 1
    assert await digests_at(harness, datetime(2026, 6, 12, 8, 0, tzinfo=UTC)) == 0
    assert await digests_at(harness, datetime(2026, 6, 12, 18, 0, tzinfo=UTC)) == 0
    first, second = harness.double.dms_to(reader)
    assert digest_titles(first) == ["Morning story"]
    assert digest_titles(second) == ["Mid-morning story"]


async def test_a_daily_digest_over_londons_repeated_hour_comes_once(bare: Harness):
    # 25 October 2026: London's clocks show 01:00-02:00 twice (BST, then GMT)
    harness, g = bare, bare.first
    zone = "Europe/London"
    reader = g.members[0].id
    await settings(harness, g, timezone=zone, digest_time="01:30")
    await follow(harness, g, reader, "Transport", delivery="daily")
    harness.clock.now = at(zone, "2026-10-24T12:00")
    await story(harness, 1, title="Before the change")
    await harness.deliver()

    first_showing = at(zone, "2026-10-25T01:30")  # 00:30 UTC
    assert await digests_at(harness, first_showing - timedelta(seconds=1)) == 0
    assert await digests_at(harness, first_showing) == 1
    harness.clock.now = first_showing + timedelta(minutes=20)  # 01:50 BST, in the first hour
    await story(harness, 2, title="In the repeated hour")
    await harness.deliver()
    # the second 01:30 (GMT, 01:30 UTC) is not a second digest
    assert await digests_at(harness, datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == 0
    assert await digests_at(harness, datetime(2026, 10, 26, 1, 29, tzinfo=UTC)) == 0
    assert await digests_at(harness, datetime(2026, 10, 26, 1, 30, tzinfo=UTC)) == 1
    first, second = harness.double.dms_to(reader)
    assert digest_titles(first) == ["Before the change"]
    assert digest_titles(second) == ["In the repeated hour"]


async def test_a_daily_digest_at_a_time_new_york_skips_comes_an_hour_later(bare: Harness):
    # 8 March 2026: New York's clocks go from 02:00 to 03:00; 02:30 does not exist that night
    harness, g = bare, bare.first
    zone = "America/New_York"
    reader = g.members[0].id
    await settings(harness, g, timezone=zone, digest_time="02:30")
    await follow(harness, g, reader, "Transport", delivery="daily")
    harness.clock.now = at(zone, "2026-03-07T12:00")
    await story(harness, 1, title="Saturday story")
    await harness.deliver()

    three_thirty = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT
    assert await digests_at(harness, three_thirty - timedelta(seconds=1)) == 0
    assert await digests_at(harness, three_thirty) == 1
    harness.clock.now = three_thirty + timedelta(minutes=5)
    await story(harness, 2, title="Sunday story")
    await harness.deliver()
    monday = at(zone, "2026-03-09T02:30")  # 06:30 UTC, on daylight time
    assert await digests_at(harness, monday - timedelta(seconds=1)) == 0
    assert await digests_at(harness, monday) == 1
    assert [digest_titles(m) for m in harness.double.dms_to(reader)] == [
        ["Saturday story"],
        ["Sunday story"],
    ]


async def test_a_weekly_digest_on_sydneys_fall_back_sunday_and_kolkatas_half_hour(
    bare: Harness,
):
    # 5 April 2026: Sydney's clocks show 02:00-03:00 twice; Kolkata is UTC+05:30 all year
    harness, sydney, kolkata = bare, bare.first, bare.second
    reader, other = sydney.members[0].id, kolkata.members[0].id
    await settings(
        harness, sydney, timezone="Australia/Sydney", digest_time="02:30", digest_day="sunday"
    )
    await settings(harness, kolkata, timezone="Asia/Kolkata", digest_time="08:00")
    await follow(harness, sydney, reader, "Transport", delivery="weekly")
    await follow(harness, kolkata, other, "Transport", delivery="daily")
    harness.clock.now = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)  # a Monday
    await story(harness, 1, title="Harbour bridge closure")
    await harness.deliver()

    kolkata_eight = datetime(2026, 3, 31, 2, 30, tzinfo=UTC)
    assert await digests_at(harness, kolkata_eight - timedelta(seconds=1)) == 0
    assert await digests_at(harness, kolkata_eight) == 1
    first_showing = datetime(2026, 4, 4, 15, 30, tzinfo=UTC)  # 02:30 AEDT on Sunday
    assert await digests_at(harness, first_showing - timedelta(seconds=1)) == 0
    assert await digests_at(harness, first_showing) == 1
    assert await digests_at(harness, datetime(2026, 4, 4, 16, 30, tzinfo=UTC)) == 0  # AEST
    (weekly,) = harness.double.dms_to(reader)
    assert weekly.embeds[0]["title"] == "Your weekly digest from guild1"
    (daily,) = harness.double.dms_to(other)
    assert daily.embeds[0]["title"] == "Your daily digest from guild2"


# --- members in two servers, changing their minds ---------------------------------------


async def test_a_member_of_two_servers_gets_each_servers_digest_at_its_own_time(bare: Harness):
    harness, home, tokyo = bare, bare.first, bare.second
    reader = home.members[0].id
    harness.double.world.add_member(tokyo.guild, home.members[0], [tokyo.member_role])
    await settings(harness, tokyo, timezone="Asia/Tokyo")  # 08:00 there: 23:00 UTC
    await follow(harness, home, reader, "Transport", delivery="daily")
    await follow(harness, tokyo, reader, "Transport", delivery="daily")
    both = await story(harness, 1, title="Published everywhere")
    mine = await story(harness, 2, published=False, title="Published in Tokyo only")
    result = await harness.slash(tokyo, tokyo.moderator.id, "publish", {"article": mine.id})
    assert result.content.startswith("Published")
    ours = await story(harness, 3, published=False, title="Published at home only")
    result = await harness.slash(home, home.moderator.id, "publish", {"article": ours.id})
    assert result.content.startswith("Published")
    await harness.deliver()

    assert await digests_at(harness, datetime(2026, 6, 10, 23, 0, tzinfo=UTC)) == 2
    assert await digests_at(harness, datetime(2026, 6, 11, 8, 0, tzinfo=UTC)) == 1
    tokyo_digest, home_digest = harness.double.dms_to(reader)
    assert digest_titles(tokyo_digest) == [both.title, mine.title]
    # what Tokyo's digest brought them is not listed again (since audmulti: it was)
    assert digest_titles(home_digest) == [ours.title]


async def test_a_member_following_three_of_an_articles_topics_gets_one_dm(bare: Harness):
    harness, g = bare, bare.first
    reader = g.members[0].id
    await follow(harness, g, reader, "Transport", delivery="weekly")
    await follow(harness, g, reader, "Energy")
    await follow(harness, g, reader, "Ports", delivery="daily")
    await story(harness, 1, topics=["Transport", "Energy", "Ports"], title="Electric ferries")
    await harness.deliver()
    (dm,) = harness.double.dms_to(reader)
    assert dm.embeds[0]["title"] == "Electric ferries"
    assert await digests_at(harness, datetime(2026, 6, 15, 8, 0, tzinfo=UTC)) == 0
    assert len(harness.double.dms_to(reader)) == 1


async def test_a_member_switching_from_daily_to_instant_gets_what_waits_at_once(
    bare: Harness,
):
    """Decided otherwise since this audit (which kept what waits in the mode it was planned
    with): a member who asks for instant alerts expects what waits now, not in tomorrow's
    digest (README, /subscribe)."""
    harness, g = bare, bare.first
    reader = g.members[0].id
    await follow(harness, g, reader, "Transport", delivery="daily")
    await story(harness, 1, title="Planned for the digest")
    await harness.deliver()
    await follow(harness, g, reader, "Transport")  # instant from now on
    await story(harness, 2, title="After the switch")
    await harness.deliver()
    titles = [dm.embeds[0]["title"] for dm in harness.double.dms_to(reader)]
    assert titles == ["Planned for the digest", "After the switch"]
    assert await digests_at(harness, datetime(2026, 6, 11, 8, 0, tzinfo=UTC)) == 0


async def test_an_article_edited_after_its_post_is_not_posted_again_and_digests_show_the_edit(
    bare: Harness,
):
    harness, g = bare, bare.first
    reader = g.members[0].id
    await route(harness, g, g.alerts.id, topic="Transport")
    await follow(harness, g, reader, "Transport", delivery="daily")
    first = await story(harness, 1, title="Ferry fares to rise 10%")
    await harness.deliver()
    await story(harness, 1, title="Ferry fares to rise 12% (corrected)")
    await harness.deliver()
    (post,) = posts(harness, g.alerts.id)
    assert post.embeds[0]["title"] == first.title
    await digests_at(harness, datetime(2026, 6, 11, 8, 0, tzinfo=UTC))
    (digest,) = harness.double.dms_to(reader)
    assert digest_titles(digest) == ["Ferry fares to rise 12% (corrected)"]


async def test_a_post_waiting_when_its_topic_feed_goes_is_posted_by_the_channels_other_feed(
    bare: Harness,
):
    harness, g = bare, bare.first
    await route(harness, g, g.alerts.id, topic="Transport")  # the row will name this feed
    await route(harness, g, g.alerts.id)  # every topic, same channel
    await story(harness, 1, title="Night ferry added")
    await harness.plan()
    removed = await harness.slash(
        g, g.moderator.id, "feed remove", {"channel": g.alerts.id, "topic": "Transport"}
    )
    assert removed.content.startswith("Removed"), removed.content
    await harness.send()
    assert [m.embeds[0]["title"] for m in posts(harness, g.alerts.id)] == ["Night ferry added"]


async def test_a_post_waiting_when_the_channels_only_feed_goes_is_not_posted(bare: Harness):
    harness, g = bare, bare.first
    await route(harness, g, g.alerts.id, topic="Transport")
    await route(harness, g, g.general.id)  # another channel's feed does not keep it
    await story(harness, 1, title="Night ferry added")
    await harness.plan()
    await harness.slash(
        g, g.moderator.id, "feed remove", {"channel": g.alerts.id, "topic": "Transport"}
    )
    await harness.send()
    assert posts(harness, g.alerts.id) == []
    assert [m.embeds[0]["title"] for m in posts(harness, g.general.id)] == ["Night ferry added"]


async def test_an_unpublish_mid_send_stops_the_alerts_already_read_for_sending(
    make_harness: MakeHarness,
):
    # paced at 10 requests a second, the 30 members' DMs take seconds; the moderator retracts
    # after the first few: what the sending run had already read goes no further
    harness = await make_harness(delivery={"global_requests_per_second": 10}, members=31)
    g = harness.first
    readers = [m.id for m in g.members[1:]]
    article = await story(harness, 1, title="Ferry strike called off")  # the topic exists now
    for reader in readers:
        await follow(harness, g, reader, "Transport")
    await harness.plan()

    def alerted() -> int:
        return sum(len(harness.double.dms_to(reader)) for reader in readers)

    sending = asyncio.create_task(harness.send())
    while alerted() < 3:
        assert not sending.done(), "the run ended before the retraction"
        await asyncio.sleep(0.05)
    result = await harness.slash(g, g.moderator.id, "unpublish", {"article": article.id})
    assert result.content.startswith("Retracted"), result.content
    at_answer = alerted()
    summary = await sending
    # one may have been on its way (checked just before the retraction committed)
    assert alerted() - at_answer <= 1
    assert at_answer < len(readers)
    assert summary.taken_over >= len(readers) - at_answer - 1
