"""The outbox's repository on both engines (``storage.api.DeliveriesApi``): planning with its
rules, sending outcomes, digests and health, from rows written with plain SQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from storage.outbox.plans import PlanCounts, SchedulesChanged
from storage.timestamps import to_timestamp
from tests.storage.outbox_data import HOUR, NOW, Outbox, sql

CUTOFF = NOW - timedelta(hours=48)
DAILY, WEEKLY = NOW + 10 * HOUR, NOW + 100 * HOUR
G1, G2 = 7, 8


async def plan_all(store: Any, **changes: Any) -> list[PlanCounts]:
    """What the planner does: skip the backlog, then plan every fresh publication."""
    await store.deliveries.skip_backlog(CUTOFF, NOW)
    written = []
    for publication in await store.deliveries.unplanned(CUTOFF, limit=100):
        fields = {
            "now": NOW,
            "cutoff": CUTOFF,
            "default_bar": 0,
            "default_due": (DAILY, WEEKLY),
            "digest_due": {},
            "story_since": NOW - 72 * HOUR,
            "schedules_version": await store.deliveries.schedules_version(),
        } | changes
        written.append(await store.deliveries.write_plan(publication, **fields))
    return written


def targets(rows: list[tuple[Any, ...]]) -> list[tuple[int, str, int]]:
    return [(guild, kind, target) for guild, kind, target, *_ in rows]


async def test_one_alert_per_member_and_one_post_per_channel_with_the_most_immediate_mode(
    any_store,
):
    outbox = Outbox(any_store)
    ai, rail = await outbox.topic("AI"), await outbox.topic("Rail")
    await outbox.subscribe(G1, 100, ai, delivery="weekly")
    await outbox.subscribe(G1, 100, rail, delivery="daily")  # both match: daily wins
    await outbox.subscribe(G1, 101, rail, min_quality=90)  # bar above the article
    await outbox.subscribe(G1, 102, ai, disabled="paused")
    await outbox.subscribe(G2, 100, ai)  # the same member in another guild
    await outbox.feed(G1, 500, ai)
    await outbox.feed(G1, 500, None)  # same channel, every topic: one post
    await outbox.feed(G2, 600, None, min_quality=70)  # bar above the article
    pk = await outbox.article("trains", [ai, rail], quality=60)

    assert await plan_all(any_store) == [PlanCounts(channel_posts=1, direct_messages=2)]
    assert await outbox.rows() == [
        (G1, "channel", 500, pk, "instant", "pending", to_timestamp(NOW)),
        (G1, "dm", 100, pk, "daily", "pending", to_timestamp(DAILY)),
        (G2, "dm", 100, pk, "instant", "pending", to_timestamp(NOW)),
    ]
    assert await any_store.deliveries.unplanned(CUTOFF, limit=10) == []  # planned once


async def test_a_members_alert_comes_from_their_most_immediate_subscription_that_qualifies(
    any_store,
):
    outbox = Outbox(any_store)
    ai, rail, ships, art = [await outbox.topic(name) for name in ("AI", "Rail", "Ships", "Art")]
    await outbox.subscribe(G1, 100, ai, min_quality=90)  # instant, but bar above the article
    await outbox.subscribe(G1, 100, rail, delivery="weekly")
    await outbox.subscribe(G1, 100, ships, delivery="daily")  # the best that qualifies
    await outbox.subscribe(G1, 101, art)  # a topic the article has not
    await outbox.subscribe(G1, 102, ships, delivery="weekly")
    await outbox.subscribe(G1, 102, rail, delivery="weekly")  # two alike: one alert
    await outbox.subscribe(G2, 100, ai, delivery="daily")
    await outbox.subscribe(G2, 103, rail)
    await outbox.settings(G2, min_quality=70)  # G2's bar is above the article: no one there
    pk = await outbox.article("tracks", [ai, rail, ships], quality=60)

    assert await plan_all(any_store) == [PlanCounts(channel_posts=0, direct_messages=2)]
    assert await outbox.rows() == [
        (G1, "dm", 100, pk, "daily", "pending", to_timestamp(DAILY)),
        (G1, "dm", 102, pk, "weekly", "pending", to_timestamp(WEEKLY)),
    ]


async def test_a_moderators_publication_reaches_only_its_guilds_members(any_store):
    outbox = Outbox(any_store)
    ai, rail = await outbox.topic("AI"), await outbox.topic("Rail")
    for guild in (G1, G2):
        await outbox.subscribe(guild, 100, ai, delivery="weekly")
        await outbox.subscribe(guild, 100, rail)
        await outbox.subscribe(guild, 101, rail, delivery="daily")
    own = await outbox.article("own", [ai, rail], published=False, origin_guild=G1)
    await outbox.decide(G1, own, "published")

    assert await plan_all(any_store) == [PlanCounts(channel_posts=0, direct_messages=2)]
    assert await outbox.rows() == [
        (G1, "dm", 100, own, "instant", "pending", to_timestamp(NOW)),
        (G1, "dm", 101, own, "daily", "pending", to_timestamp(DAILY)),
    ]


async def test_a_guilds_own_digest_schedule_sets_its_rows_times(any_store):
    outbox = Outbox(any_store)
    ai = await outbox.topic("AI")
    await outbox.settings(G1, timezone="Asia/Tokyo")
    await outbox.subscribe(G1, 100, ai, delivery="daily")
    await outbox.subscribe(G2, 100, ai, delivery="weekly")
    await outbox.article("chips", [ai])
    tokyo = (NOW + 3 * HOUR, NOW + 30 * HOUR)
    await plan_all(any_store, digest_due={("Asia/Tokyo", None, None): tokyo})
    due = {(guild, mode): at for guild, _, _, _, mode, _, at in await outbox.rows()}
    assert due == {(G1, "daily"): to_timestamp(tokyo[0]), (G2, "weekly"): to_timestamp(WEEKLY)}


async def test_old_publications_are_skipped_never_planned(any_store):
    outbox = Outbox(any_store)
    ai = await outbox.topic("AI")
    await outbox.subscribe(G1, 100, ai)
    old = await outbox.article("old", [ai], age=timedelta(hours=49))
    fresh = await outbox.article("fresh", [ai])
    assert await any_store.deliveries.skip_backlog(CUTOFF, NOW) == 1
    [publication] = await any_store.deliveries.unplanned(CUTOFF, limit=10)
    assert publication.article_pk == fresh
    # re-dated by an ingest after it was selected: the plan itself checks the age again
    assert await outbox.article("fresh", [ai], age=timedelta(days=30)) == fresh
    [counts] = [
        await any_store.deliveries.write_plan(
            publication,
            now=NOW,
            cutoff=CUTOFF,
            default_bar=0,
            default_due=(DAILY, WEEKLY),
            digest_due={},
            story_since=NOW - 72 * HOUR,
            schedules_version=None,
        )
    ]
    assert counts == PlanCounts(0, 0, skipped_old=True)
    assert await outbox.rows() == []
    outcomes = await sql(any_store, "SELECT pk, plan_outcome FROM articles ORDER BY pk")
    assert outcomes == [(old, "skipped_old"), (fresh, "skipped_old")]


async def test_one_alert_per_story_within_the_window(any_store):
    outbox = Outbox(any_store)
    ai = await outbox.topic("AI")
    await outbox.subscribe(G1, 100, ai)
    await outbox.subscribe(G1, 101, ai)
    headline = "Harbour City trials driverless ferries"
    first = await outbox.article("first", [ai], title=headline)
    await outbox.add_row(G1, "dm", 100, first, state="sent", created=NOW - 2 * HOUR)
    await outbox.add_row(G1, "dm", 101, first, state="sent", created=NOW - 80 * HOUR)
    await sql(any_store, "UPDATE articles SET planned_at = 1 WHERE pk = :pk", pk=first)
    second = await outbox.article("second", [ai], title=headline, outlet="coast.example")
    stories = await sql(any_store, "SELECT DISTINCT story_id FROM articles")
    assert len(stories) == 1  # one story
    await plan_all(any_store)
    planned = [target for _, _, target, pk, *_ in await outbox.rows() if pk == second]
    assert planned == [101]  # 100 heard of the story 2 hours ago; 101 too long ago


async def test_plans_follow_what_each_guild_sees(any_store):
    outbox = Outbox(any_store)
    ai = await outbox.topic("AI")
    for guild in (G1, G2):
        await outbox.subscribe(guild, 100, ai)
    retracted = await outbox.article("retracted", [ai])
    await outbox.decide(G1, retracted, "retracted")
    own = await outbox.article("own", [ai], published=False, origin_guild=G2)
    await outbox.decide(G2, own, "published")
    await plan_all(any_store)
    rows = [(guild, pk) for guild, _, _, pk, *_ in await outbox.rows()]
    # the source's publication reaches G2 only (G1 retracted it); G2's own article, G2 only
    assert sorted(rows) == [(G2, retracted), (G2, own)]


async def test_a_moderators_publication_of_a_planned_article_adds_no_second_alert(any_store):
    outbox = Outbox(any_store)
    ai = await outbox.topic("AI")
    await outbox.subscribe(G1, 100, ai)
    await outbox.feed(G1, 500, ai)
    pk = await outbox.article("twice", [ai])
    await outbox.decide(G1, pk, "published")  # the source's and G1's own publication
    counts = await plan_all(any_store)
    assert sorted(counts, key=lambda c: c.direct_messages) == [PlanCounts(0, 0), PlanCounts(1, 1)]
    assert targets(await outbox.rows()) == [(G1, "channel", 500), (G1, "dm", 100)]
    assert await any_store.deliveries.unplanned(CUTOFF, limit=10) == []


async def test_sending_outcomes_and_the_hourly_cap_counts(any_store):
    outbox = Outbox(any_store)
    ai = await outbox.topic("AI")
    sub = await outbox.subscribe(G1, 100, ai)
    pks = [await outbox.article(f"a{n}", [ai]) for n in range(4)]
    for n, pk in enumerate(pks):
        await outbox.add_row(G1, "dm", 100, pk, subscription=sub, due=NOW - n * HOUR)
    await outbox.add_row(G1, "dm", 101, pks[0], mode="daily")  # not instant: not due here
    deliveries = any_store.deliveries
    due = await deliveries.due(NOW, limit=10)
    assert [row.article_pk for row in due] == pks[::-1]  # oldest first
    assert due[0].topic_name == "AI" and due[0].subscription_id == sub
    first, second, third, fourth = due
    await deliveries.mark_sent([first], 9001, NOW)
    await deliveries.retry_later([second], NOW + HOUR, "503")
    await deliveries.give_up([third], "dead", "retries ran out")
    await deliveries.move_to_digest(fourth, DAILY, "over 10 alerts an hour")
    states = await sql(
        any_store,
        "SELECT article_pk, mode, state, attempts, message_id, last_error, note "
        "FROM deliveries WHERE target_id = 100 ORDER BY next_attempt_at",
    )
    assert states == [
        (first.article_pk, "instant", "sent", 0, 9001, None, ""),
        (third.article_pk, "instant", "dead", 1, None, "retries ran out", ""),
        (second.article_pk, "instant", "pending", 1, None, "503", ""),
        (fourth.article_pk, "daily", "pending", 0, None, None, "over 10 alerts an hour"),
    ]
    assert await deliveries.instant_dms_since(100, NOW - HOUR) == 1
    assert await deliveries.already_told(100, first.article_pk)
    assert not await deliveries.already_told(100, second.article_pk)
    assert await deliveries.due(NOW, limit=10) == []


async def test_a_refused_target_fails_its_other_rows_and_pauses_at_the_threshold(any_store):
    outbox = Outbox(any_store)
    ai = await outbox.topic("AI")
    feed = await outbox.feed(G1, 500, ai)
    pks = [await outbox.article(f"a{n}", [ai]) for n in range(3)]
    for pk in pks:
        await outbox.add_row(G1, "channel", 500, pk, feed=feed)
    deliveries = any_store.deliveries
    [row, *_] = await deliveries.due(NOW, limit=10)
    await deliveries.give_up([row], "failed", "403")
    assert await deliveries.fail_pending_for_target("channel", 500, "403") == 2
    assert not await deliveries.record_failure(row, "no access", threshold=2, now=NOW)
    assert await deliveries.record_failure(row, "no access", threshold=2, now=NOW)
    [(reason, failures)] = await sql(any_store, "SELECT disabled_reason, failure_count FROM feeds")
    assert (reason, failures) == ("no access (since 2026-11-26 12:00 UTC)", 2)
    assert [f.id for f in await any_store.feeds.paused_untold(10)] == [feed]
    assert await any_store.feeds.claim_pause_notice(feed, NOW)
    assert not await any_store.feeds.claim_pause_notice(feed, NOW)  # told once per pause
    assert await any_store.feeds.paused_untold(10) == []
    await any_store.feeds.release_pause_notice(feed)  # Discord did not answer the DM
    assert [f.id for f in await any_store.feeds.paused_untold(10)] == [feed]
    await deliveries.record_success(row)
    assert await sql(any_store, "SELECT failure_count FROM feeds") == [(0,)]
    health = await deliveries.feed_health(G1)
    assert (health[feed].failed, health[feed].pending) == (3, 0)


async def test_stale_rows_are_cancelled_and_a_retraction_cancels_what_waits(any_store):
    outbox = Outbox(any_store)
    ai = await outbox.topic("AI")
    sub = await outbox.subscribe(G1, 100, ai)
    gone = await outbox.subscribe(G1, 101, ai)
    kept, retracted = await outbox.article("kept", [ai]), await outbox.article("gone", [ai])
    await outbox.add_row(G1, "dm", 100, kept, subscription=sub)
    await outbox.add_row(G1, "dm", 101, kept, subscription=gone)
    await outbox.add_row(G1, "dm", 100, retracted, subscription=sub, due=NOW + HOUR)
    await sql(any_store, "DELETE FROM subscriptions WHERE id = :id", id=gone)
    assert await any_store.deliveries.cancel_stale_due(NOW, default_bar=20) == 1
    await outbox.decide(G1, retracted, "retracted")
    assert await any_store.deliveries.cancel_for_guild(G1, outbox.ids[retracted]) == 1
    states = [(target, pk, state) for _, _, target, pk, _, state, _ in await outbox.rows()]
    assert sorted(states) == [
        (100, kept, "pending"),
        (100, retracted, "cancelled"),
        (101, kept, "cancelled"),
    ]
    health = await any_store.deliveries.subscription_health(G1, 100)
    assert health[sub].pending == 1


async def test_digest_rows_come_grouped_by_member_best_first(any_store):
    outbox = Outbox(any_store)
    ai = await outbox.topic("AI")
    low = await outbox.article("low", [ai], quality=20)
    high = await outbox.article("high", [ai], quality=90)
    for target in (101, 100):
        for pk in (low, high):
            await outbox.add_row(G1, "dm", target, pk, mode="daily", due=NOW - HOUR)
    await outbox.add_row(G2, "dm", 102, low, mode="weekly", due=NOW + HOUR)  # not yet
    rows = await any_store.deliveries.due_digest_rows(NOW, limit=10)
    assert [(row.target_id, row.article_pk) for row in rows] == [
        (100, high),
        (100, low),
        (101, high),
        (101, low),
    ]
    assert await any_store.deliveries.dm_channel(100) is None
    await any_store.deliveries.save_dm_channel(100, 4242)
    await any_store.deliveries.save_dm_channel(100, 4343)
    assert await any_store.deliveries.dm_channel(100) == 4343


async def test_the_next_digest_moment_is_the_earliest_waiting_digest_row(any_store):
    outbox = Outbox(any_store)
    assert await any_store.deliveries.next_digest_due() is None
    pk = await outbox.article("a1", [])
    rows = [  # (target, mode, state, due in hours)
        (1, "instant", "pending", 1),  # not a digest
        (2, "daily", "sent", 2),  # already sent
        (3, "weekly", "pending", 30),
        (4, "daily", "pending", 5),
        (5, "daily", "pending", 9),
    ]
    for target, mode, state, hours in rows:
        await outbox.add_row(G1, "dm", target, pk, mode=mode, state=state, due=NOW + hours * HOUR)
    assert await any_store.deliveries.next_digest_due() == NOW + 5 * HOUR
    await sql(any_store, "UPDATE deliveries SET state = 'sent' WHERE mode = 'daily'")
    assert await any_store.deliveries.next_digest_due() == NOW + 30 * HOUR


async def test_a_new_schedule_moves_only_the_guilds_digest_rows_not_yet_due(any_store):
    outbox = Outbox(any_store)
    pk = await outbox.article("a1", [])
    rows = [  # (guild, target, mode, state, due in hours)
        (G1, 1, "daily", "pending", 21),  # moves
        (G1, 2, "weekly", "pending", 117),  # moves, to the weekly moment
        (G1, 3, "daily", "pending", -1),  # already due: goes out as it is
        (G1, 4, "daily", "sent", 21),
        (G1, 5, "instant", "pending", 21),
        (G2, 6, "daily", "pending", 21),  # another guild
    ]
    for guild, target, mode, state, hours in rows:
        await outbox.add_row(
            guild, "dm", target, pk, mode=mode, state=state, due=NOW + hours * HOUR
        )
    daily, weekly = NOW + 12 * HOUR, NOW + 108 * HOUR
    assert await any_store.deliveries.reschedule_digests(G1, NOW, daily, weekly) == 2
    assert await any_store.deliveries.reschedule_digests(G1, NOW, daily, weekly) == 0
    hours = {
        target: (at - to_timestamp(NOW)) // 3600
        for _, _, target, _, _, _, at in await outbox.rows()
    }
    assert hours == {1: 12, 2: 108, 3: -1, 4: 21, 5: 21, 6: 21}


async def test_an_articles_deliveries_go_with_it(any_store):
    outbox = Outbox(any_store)
    gone, kept = await outbox.article("a1", []), await outbox.article("a2", [])
    for pk in (gone, kept):
        await outbox.add_row(G1, "dm", 5, pk)
    await sql(any_store, "DELETE FROM articles WHERE pk = :pk", pk=gone)
    assert [pk for _, _, _, pk, *_ in await outbox.rows()] == [kept]


async def test_a_plan_read_from_digest_schedules_changed_since_is_rolled_back(any_store):
    """A plan whose digest moments were read before a guild's schedule changed writes nothing
    (``SchedulesChanged``): the planner writes it again with the new moments."""
    outbox = Outbox(any_store)
    ai = await outbox.topic("AI")
    await outbox.subscribe(G1, 100, ai, delivery="daily")
    pk = await outbox.article("trains", [ai])
    read = await any_store.deliveries.schedules_version()
    async with any_store.transaction():  # as /settings changes a schedule
        await any_store.deliveries.reschedule_digests(G1, NOW, DAILY, WEEKLY)
    with pytest.raises(SchedulesChanged):
        await plan_all(any_store, schedules_version=read)
    assert await outbox.rows() == []
    assert [p.article_pk for p in await any_store.deliveries.unplanned(CUTOFF, limit=9)] == [pk]
    assert await any_store.deliveries.schedules_version() != read
    assert await plan_all(any_store) == [PlanCounts(channel_posts=0, direct_messages=1)]
