"""Sizes and limits as real communities reach them: many topics, feeds, subscribers and
articles; long arguments; a backlog at start-up. Every reply stays within Discord's limits
(the double refuses what Discord would) and says what it leaves out."""

from __future__ import annotations

import asyncio
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.ingest.writer import ingest_paths
from bot.jobs import inbox_job
from tests.bot.conftest import MakeHarness
from tests.bot.harness import EPHEMERAL, Harness
from tests.bot.test_alerts import follow, posts, route, story
from tests.bot.test_delivery_audit import digest_titles, digests_at
from tests.bot.test_digest_overflow import listed as listed_items
from tests.discord_double.interactions import InteractionResult
from tests.factories import article_text


def topic_names(count: int) -> list[str]:
    """``count`` distinct, realistic-length topic names."""
    return [f"Regional affairs {n:04d} and policy" for n in range(count)]


async def carry_topics(harness: Harness, names: list[str]) -> None:
    """Published articles carrying ``names`` (an article file holds 50 topics at most)."""
    for start in range(0, len(names), 50):
        await story(harness, 9000 + start, topics=names[start : start + 50])


def buttons(result: InteractionResult) -> list[dict[str, Any]]:
    return [c for row in result.message.components for c in row["components"]]


async def every_page(harness: Harness, first: InteractionResult, user_id: int) -> list[str]:
    """The description of each page of a paged listing, following its Next button."""
    pages = [first.message.embeds[0]["description"]]
    current = first
    while True:
        nav = buttons(current)
        if not nav or nav[-1]["disabled"]:
            return pages
        current = await harness.double.click(current.message, nav[-1]["custom_id"], user_id)
        assert current.callback_type == 7
        pages.append(current.message.embeds[0]["description"])


def bold_names(text: str) -> list[str]:
    return re.findall(r"\*\*(.+?)\*\*", text)


# --- one member, many topics -------------------------------------------------------------


async def test_a_member_following_200_topics_sees_each_in_subscriptions_a_page_at_a_time(
    make_harness: MakeHarness,
):
    harness = await make_harness(seed=False, commands={"max_subscriptions_per_member": 200})
    g = harness.first
    member = g.members[0].id
    names = topic_names(201)
    await carry_topics(harness, names)
    for name in names[:200]:
        result = await harness.slash(g, member, "subscribe", {"topic": name})
        assert result.content.startswith("Subscribed"), result.content
    refused = await harness.slash(g, member, "subscribe", {"topic": names[200]})
    assert refused.content == (
        "You already follow 200 topics here, the most allowed. Use `/unsubscribe` to make room."
    )

    listing = await harness.slash(g, member, "subscriptions")
    assert listing.message.flags & EPHEMERAL
    footer = listing.message.embeds[0]["footer"]["text"]
    assert footer.startswith("200 of the 200 topics you may follow here · page 1 of ")
    pages = await every_page(harness, listing, member)
    assert len(pages) == int(footer.rsplit(" ", 1)[1])
    assert all(len(page) <= 4000 for page in pages)
    shown = [name for page in pages for name in bold_names(page)]
    assert shown == names[:200]  # each once, in order

    # /unsubscribe offers 25 of them, and the one typed first
    offered = await harness.autocomplete(g, member, "unsubscribe", {"topic": ""}, "topic")
    assert len(offered) == 25
    typed = names[180].upper()
    offered = await harness.autocomplete(g, member, "unsubscribe", {"topic": typed}, "topic")
    assert offered[0] == {"name": names[180], "value": names[180]}


async def test_a_few_subscriptions_are_one_page_without_buttons(harness: Harness):
    g = harness.first
    member = g.members[0].id
    await harness.slash(g, member, "subscribe", {"topic": "AI"})
    listing = await harness.slash(g, member, "subscriptions")
    embed = listing.message.embeds[0]
    assert bold_names(embed["description"]) == ["ai"]
    assert embed["footer"]["text"] == "1 of the 25 topics you may follow here"
    assert listing.message.components == []


# --- one server, many feeds --------------------------------------------------------------


async def test_feed_list_shows_all_fifty_feeds_a_server_may_have(make_harness: MakeHarness):
    harness = await make_harness(seed=False)
    g = harness.first
    names = topic_names(50)
    await carry_topics(harness, names)
    for i, name in enumerate(names):
        channel = (g.alerts, g.general)[i % 2].id
        added = await harness.slash(
            g, g.moderator.id, "feed add", {"channel": channel, "topic": name}
        )
        assert added.content.startswith("Added"), added.content
    refused = await harness.slash(g, g.moderator.id, "feed add", {"channel": g.alerts.id})
    assert refused.content.startswith("This server already has 50 feeds, the most allowed.")

    listing = await harness.slash(g, g.moderator.id, "feed list")
    footer = listing.message.embeds[0]["footer"]["text"]
    assert footer.startswith("server quality bar: 20 · 50 feeds · page 1 of ")
    pages = await every_page(harness, listing, g.moderator.id)
    lines = [line for page in pages for line in page.splitlines() if line.startswith("<#")]
    assert sorted(bold_names("\n".join(lines))) == sorted(names)
    # every line whole: the channel, the topic, the bar
    assert all(re.fullmatch(r"<#\d+> ← \*\*.+\*\*, quality 20\+", line) for line in lines)
    # a member who is not a moderator cannot page through it
    before = listing.message.embeds[0]["description"]
    other = await harness.double.click(
        listing.message, buttons(listing)[0]["custom_id"], g.members[0].id
    )
    assert other.content.startswith("Only moderators can do this"), other.content
    assert other.message.flags & EPHEMERAL
    assert listing.message.embeds[0]["description"] == before


# --- a server with thousands of topics ----------------------------------------------------


async def test_the_topic_a_member_types_in_full_is_offered_first_among_thousands(
    make_harness: MakeHarness,
):
    harness = await make_harness(seed=False)
    g = harness.first
    member = g.members[0].id
    # 3,000 topics, the busiest sharing the first letters of rarer ones
    await carry_topics(harness, topic_names(2950))
    busy = [f"Air{w}" for w in ("lines", "ports", "craft", "bus", "bnb", "waves", "space")]
    busy += [f"Aid {n:02d}" for n in range(30)] + ["Metropolitan", "Policing", "Taiwan"]
    for n in range(3):
        await story(harness, n, topics=busy)
    await story(harness, 5, topics=["AI", "Generative AI", "Climate policy"])

    for command, options in [
        ("subscribe", {}),
        ("latest", {}),
        ("feed add", {"channel": g.alerts.id}),
    ]:
        user = g.moderator.id if command == "feed add" else member
        for typed in ("ai", "AI", " Ai "):
            offered = await harness.autocomplete(
                g, user, command, {**options, "topic": typed}, "topic"
            )
            assert len(offered) == 25
            assert offered[0] == {"name": "AI (1)", "value": "AI"}, (command, typed)
    # then the names starting so (busiest first), then a word starting so, then the rest
    pol = await harness.autocomplete(g, member, "subscribe", {"topic": "pol"}, "topic")
    names = [c["value"] for c in pol]
    assert names[:2] == ["Policing", "Climate policy"]
    assert "Metropolitan" not in names  # 2,950 topics hold a word starting so
    assert all(name.endswith(" and policy") for name in names[2:])
    several = await harness.autocomplete(g, member, "subscribe", {"topic": "CLIMATE  pol"}, "topic")
    assert [c["value"] for c in several] == ["Climate policy"]
    # /topics pages through all of them, busiest first
    listing = await harness.slash(g, member, "topics")
    assert listing.message.embeds[0]["footer"]["text"].startswith("2993 topics · page 1 of 150")
    assert bold_names(listing.message.embeds[0]["description"])[:3] == [
        "Aid 00",
        "Aid 01",
        "Aid 02",
    ]


async def test_a_100_character_unicode_topic_is_followed_listed_and_offered(harness: Harness):
    g = harness.first
    member = g.members[0].id
    name = ("Économie — 東京の港湾 🚢 " * 10)[:100].strip()
    await story(harness, 1, topics=[name])
    offered = await harness.autocomplete(g, member, "subscribe", {"topic": "東京"}, "topic")
    assert offered[0]["value"] == name and len(offered[0]["name"]) <= 100
    followed = await harness.slash(g, member, "subscribe", {"topic": offered[0]["value"]})
    assert followed.content.startswith("Subscribed to **Économie — 東京の港湾 🚢")
    listing = await harness.slash(g, member, "subscriptions")
    assert "Économie — 東京の港湾 🚢" in listing.message.embeds[0]["description"]
    mine = await harness.autocomplete(g, member, "unsubscribe", {"topic": "économie"}, "topic")
    assert [c["value"] for c in mine] == [name]
    left = await harness.slash(g, member, "unsubscribe", {"topic": name})
    assert left.content.startswith("Unsubscribed from **Économie")


@pytest.mark.slow  # 61 commands at once against a pool of 10: a stress, slow on a loaded machine
async def test_a_member_firing_sixty_commands_at_once_leaves_others_answered(harness: Harness):
    g = harness.first
    spammer, other = g.members[0].id, g.members[1].id
    commands = [("topics", None), ("subscriptions", None), ("related", {"query": "ferry"})]
    burst = [
        asyncio.create_task(harness.slash(g, spammer, command, options, timeout_s=30))
        for command, options in commands * 20
    ]
    answered = await harness.slash(g, other, "topics", timeout_s=30)
    assert answered.message.embeds[0]["title"] == "Topics"
    results = await asyncio.gather(*burst)
    assert all(r.acknowledged for r in results)
    slowed = [r for r in results if (r.content or "").startswith("Slow down a little")]
    assert len(slowed) == 20 - 6  # /related: 6 a minute, then told to slow down


# --- digests ------------------------------------------------------------------------------


async def test_a_digest_of_150_articles_shows_the_ten_best_then_lists_the_rest(
    make_harness: MakeHarness,
):
    harness = await make_harness(seed=False)
    harness.clock.now = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)
    g = harness.first
    reader, idle = g.members[0].id, g.members[1].id
    await story(harness, 0, published=False, topics=["Transport", "Ports"])
    await follow(harness, g, reader, "Transport", delivery="daily")
    await follow(harness, g, idle, "Ports", delivery="daily")  # gets nothing today
    qualities = [(n * 37) % 80 + 20 for n in range(150)]  # 20..99, shuffled
    for n, quality in enumerate(qualities, start=1):
        await story(harness, n, title=f"Ferry timetable change {n:03d}", quality=quality)
    await harness.deliver()
    assert harness.double.dms_to(reader) == []

    assert await digests_at(harness, datetime(2026, 6, 11, 8, 0, tzinfo=UTC)) == 150
    digest, *more = harness.double.dms_to(reader)
    best = sorted(range(150), key=lambda n: -qualities[n])[:10]
    shown = digest_titles(digest)[:10]
    assert sorted(shown) == sorted(f"Ferry timetable change {n + 1:03d}" for n in best)
    listed = [title for message in (digest, *more) for _, title in listed_items(message)]
    assert sorted(listed) == [f"Ferry timetable change {n:03d}" for n in range(1, 151)]
    assert more[-1].embeds[-1]["footer"]["text"].endswith("of 150")
    assert harness.double.dms_to(idle) == []  # nothing to say: no DM at all
    # and nothing twice
    assert await digests_at(harness, datetime(2026, 6, 12, 8, 0, tzinfo=UTC)) == 0
    assert len(harness.double.dms_to(reader)) == 1 + len(more)


# --- one topic, many subscribers -----------------------------------------------------------


async def test_510_subscribers_to_one_topic_each_get_one_dm_across_two_sending_batches(
    make_harness: MakeHarness,
):
    # at Discord's 50 requests/s this is a 22 s test: paced as a bot granted more
    harness = await make_harness(
        seed=False, members=510, delivery={"global_requests_per_second": 1000}
    )
    g = harness.first
    await story(harness, 0, published=False)
    for member in g.members:
        await harness.bot.services.subscriptions.subscribe(g.id, member.id, "Transport")
    await route(harness, g, g.alerts.id, topic="Transport")
    article = await story(harness, 1)

    await harness.plan()
    while (await harness.send()).sent:  # a sending run claims 500 rows at a time
        pass
    received = {m.id: harness.double.dms_to(m.id) for m in g.members}
    assert sorted(len(dms) for dms in received.values()) == [1] * 510
    assert all(dms[0].embeds[0]["title"] == article.title for dms in received.values())
    assert len(posts(harness, g.alerts.id)) == 1
    stats = await harness.store.stats()
    assert stats.deliveries["sent"] == 511


# --- a backlog arriving at once -------------------------------------------------------------


def backlog(harness: Harness, folder: Path, hours_ago: list[float]) -> None:
    """Article files dated ``hours_ago``, named as exports name them (by a hash), so that
    the order of their names says nothing of their dates."""
    template = article_text(
        title="Ferry news from HOURS hours ago",
        webUrl="https://harbour-times.example/backlog/HOURS",
        originalUrl=...,
        related=[],
        topics=["Transport"],
        published=True,
        quality=70,
        publishedDateTime="WHEN",
    )
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    for hours in hours_ago:
        when = (harness.clock.now - timedelta(hours=hours)).isoformat()
        text = template.replace("HOURS", f"{hours:g}").replace("WHEN", when)
        (folder / f"{rng.getrandbits(64):016x}.md").write_text(text, encoding="utf-8")


async def test_a_backlog_is_posted_and_dmed_in_the_order_the_news_happened(
    make_harness: MakeHarness, tmp_path: Path
):
    harness = await make_harness(seed=False)
    g = harness.first
    reader = g.members[0].id
    await story(harness, 0, published=False)
    await route(harness, g, g.alerts.id, topic="Transport")
    await follow(harness, g, reader, "Transport")
    hours = [3, 1, 5, 2, 4]
    backlog(harness, tmp_path / "inbox", hours)
    report = await ingest_paths(harness.store, [tmp_path / "inbox"])
    assert report.new == 5

    await harness.deliver()
    oldest_first = [f"Ferry news from {h} hours ago" for h in sorted(hours, reverse=True)]
    assert [p.embeds[0]["title"] for p in posts(harness, g.alerts.id)] == oldest_first
    assert [m.embeds[0]["title"] for m in harness.double.dms_to(reader)] == oldest_first


async def test_a_backlog_larger_than_a_planning_run_is_planned_oldest_first(
    make_harness: MakeHarness, tmp_path: Path
):
    harness = await make_harness(seed=False)
    hours = [h / 10 for h in range(1, 251)]
    random.Random(1).shuffle(hours)
    backlog(harness, tmp_path / "inbox", hours)
    await ingest_paths(harness.store, [tmp_path / "inbox"])
    cutoff = harness.clock.now - timedelta(hours=48)
    first_run = await harness.store.deliveries.unplanned(cutoff, limit=200)
    dates = [p.published_at for p in first_run]
    assert dates == sorted(dates)
    assert min(dates) == harness.clock.now - timedelta(hours=25)


# --- long arguments, old news ----------------------------------------------------------------


async def test_an_article_arriving_years_late_is_stored_but_never_alerted(harness: Harness):
    g = harness.first
    member = g.members[0].id
    await story(harness, 76, published=False, topics=["Ports"])
    await route(harness, g, g.alerts.id)
    await follow(harness, g, member, "Ports")
    late = await story(
        harness,
        77,
        title="Harbour dredging plan approved",
        publishedDateTime="2019-03-04T10:00:00Z",
        topics=["Ports"],
    )
    await harness.deliver()
    assert posts(harness, g.alerts.id) == []
    assert harness.double.dms_to(member) == []
    # /latest lists it by its date: after this year's news, with its own date
    latest = await harness.slash(g, member, "latest")
    lines = latest.message.embeds[0]["description"].splitlines()
    titled = [line for line in lines if line.startswith("**")]
    assert late.title in titled[-1]
    assert f"<t:{int(late.published_at.timestamp())}:d>" in titled[-1]


async def test_a_6000_character_query_is_answered_and_echoed_short(harness: Harness):
    g = harness.first
    member = g.members[0].id
    await story(harness, 77, title="Harbour dredging plan approved", topics=["Ports"])
    query = ("dredging harbour " * 400)[:6000]  # Discord's longest string option
    result = await harness.slash(g, member, "related", {"query": query})
    (answer,) = result.followups
    assert answer.flags & EPHEMERAL
    embed = answer.embeds[0]
    assert len(embed["title"]) <= 256 and embed["title"].endswith("…”")
    assert "[Harbour dredging plan approved]" in embed["description"].splitlines()[0]
    # nothing but symbols: told what to type
    symbols = await harness.slash(g, member, "related", {"query": "🚢" * 3000})
    assert symbols.followups[0].content == (
        "Type a few words to search for, such as `facial recognition`."
    )


@pytest.mark.slow  # stores 2,100 files with worker processes: a stress of both cores
async def test_commands_are_answered_while_a_full_inbox_is_stored(make_harness: MakeHarness):
    harness = await make_harness(ingest={"settle_seconds": 0})
    g = harness.first
    # past one write batch (2,000 files) and the size that takes worker processes
    backlog(harness, harness.bot.settings.ingest.inbox_dir, [h / 100 for h in range(1, 2101)])
    scan = asyncio.create_task(
        inbox_job(harness.store, harness.bot.settings.ingest, clock=harness.clock)()
    )
    answered = 0
    rounds = 0
    while not scan.done():
        member = g.members[rounds % len(g.members)].id
        rounds += 1
        for command in ("subscriptions", "topics"):
            result = await harness.slash(g, member, command, timeout_s=30)
            assert result.message.flags & EPHEMERAL
            answered += 1
        offered = await harness.autocomplete(g, member, "subscribe", {"topic": "priv"}, "topic")
        assert offered[0]["value"] == "Privacy", offered
        await asyncio.wait({scan}, timeout=0.1)  # members type at a human pace
    assert (await scan).startswith("2100 new,")
    # answered while the files were stored, not after them (no time limit: speed is the
    # benchmarks' to measure)
    assert answered >= 4


async def test_an_article_carrying_30_of_a_members_50_topics_is_one_dm_and_one_post(
    make_harness: MakeHarness,
):
    harness = await make_harness(seed=False, commands={"max_subscriptions_per_member": 50})
    g = harness.first
    member = g.members[0].id
    names = topic_names(50)
    await story(harness, 0, published=False, topics=names)
    for i, name in enumerate(names):
        await follow(harness, g, member, name, delivery="daily" if i % 2 else "instant")
    for name in names[10:15]:  # five feeds of one channel take it
        await route(harness, g, g.general.id, topic=name)
    article = await story(harness, 1, topics=names[10:40])

    await harness.deliver()
    (dm,) = harness.double.dms_to(member)
    assert dm.embeds[0]["title"] == article.title
    why = next(f for f in dm.embeds[0]["fields"] if f["name"] == "Why you got this")
    assert why["value"] == f"You follow {names[10]} in guild1 (quality 70)"
    assert len(posts(harness, g.general.id)) == 1
    assert await digests_at(harness, harness.clock.now + timedelta(days=1)) == 0


async def test_after_the_caps_are_lowered_members_and_moderators_are_told_the_real_counts(
    harness: Harness,
):
    """Subscriptions and feeds made while the operator allowed more (the configuration now
    says 25 and 50): what is refused says how many there are and how many must go."""
    g = harness.first
    member = g.members[0].id
    names = topic_names(60)
    await carry_topics(harness, names)
    store, now = harness.store, harness.clock.now
    for name in names[:40]:
        topic = await store.topics.get(name)
        assert topic is not None
        await store.subscriptions.save(
            guild_id=g.id, user_id=member, topic_id=topic.id, min_quality=0,
            delivery="instant", now=now, cap=200,
        )  # fmt: skip
    for name, channel in zip(names, [g.alerts.id, g.general.id] * 30, strict=True):
        topic = await store.topics.get(name)
        assert topic is not None
        await store.feeds.save(
            guild_id=g.id, channel_id=channel, topic_id=topic.id, min_quality=None,
            mention_role_id=None, created_by=g.moderator.id, now=now, cap=100,
        )  # fmt: skip

    refused = await harness.slash(g, member, "subscribe", {"topic": names[50]})
    assert refused.content == (
        "You follow 40 topics here, and at most 25 are allowed now. "
        "Use `/unsubscribe` on 16 of them to make room."
    )
    changed = await harness.slash(g, member, "subscribe", {"topic": names[0], "delivery": "daily"})
    assert changed.content.startswith("Updated your subscription")  # what they have stays theirs
    listing = await harness.slash(g, member, "subscriptions")
    assert listing.message.embeds[0]["footer"]["text"].startswith(
        "40 topics, more than the 25 now allowed here · page 1 of "
    )
    no_feed = await harness.slash(g, g.moderator.id, "feed add", {"channel": g.alerts.id})
    assert no_feed.content == (
        "This server has 60 feeds, and at most 50 are allowed now. "
        "Remove 11 with `/feed remove` first."
    )


async def test_feed_remove_offers_the_topic_typed_in_full_first(make_harness: MakeHarness):
    harness = await make_harness()  # the examples carry the topic "ai"
    g = harness.first
    busy = [f"Aid {n:02d}" for n in range(30)]
    await story(harness, 1, topics=busy)
    for name in [*busy, "ai"]:
        await route(harness, g, g.alerts.id, topic=name)
    offered = await harness.autocomplete(
        g, g.moderator.id, "feed remove", {"channel": g.alerts.id, "topic": "AI"}, "topic"
    )
    assert len(offered) == 25
    assert offered[0] == {"name": "ai", "value": "ai"}
    assert [c["value"] for c in offered[1:3]] == ["Aid 00", "Aid 01"]


async def test_long_topic_names_that_differ_at_their_end_are_told_apart_in_suggestions(
    harness: Harness,
):
    g = harness.first
    # the longest names a file may give, alike but for their last character
    start = "Regional transport policy and harbour development in the northern coastal districts, reviews "
    names = [f"{start}2025-0{n}" for n in (1, 2)]
    assert [len(name) for name in names] == [100, 100]
    await story(harness, 1, topics=names)
    await story(harness, 2, topics=names[1:])
    offered = await harness.autocomplete(
        g, g.members[0].id, "subscribe", {"topic": "regional transport"}, "topic"
    )
    assert [c["value"] for c in offered] == [names[1], names[0]]
    shown = [c["name"] for c in offered]
    assert all(len(name) <= 100 for name in shown)
    assert shown[0].startswith("Regional transport policy")
    assert shown[0].endswith("reviews 2025-02 (2)") and shown[1].endswith("reviews 2025-01 (1)")
