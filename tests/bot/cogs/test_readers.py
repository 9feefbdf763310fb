"""Readers' commands end to end: a member types a slash command, the double shows the reply."""

from __future__ import annotations

import pytest

from bot.ui.readers import LOOSE_HEADING
from tests.bot.harness import EPHEMERAL, Harness, recent


async def test_subscribe_then_list_then_unsubscribe(harness: Harness):
    member = harness.first.members[0].id
    result = await harness.slash(
        harness.first,
        member,
        "subscribe",
        {"topic": "privacy", "min_quality": 40, "delivery": "daily"},
    )
    assert result.callback_type == 4
    assert result.message.flags & EPHEMERAL
    assert result.content == "Subscribed to **Privacy** — daily, quality 40+."

    again = await harness.slash(
        harness.first, member, "subscribe", {"topic": "PRIVACY ", "delivery": "weekly"}
    )
    assert again.content == "Updated your subscription to **Privacy** — weekly, quality 0+."

    listing = await harness.slash(harness.first, member, "subscriptions")
    assert listing.message.flags & EPHEMERAL
    assert listing.embeds[0]["title"] == "Your subscriptions"
    assert listing.embeds[0]["description"] == (
        "**Privacy** — weekly, quality 0+\n  sent 0 · pending 0 · failed 0"
    )

    gone = await harness.slash(harness.first, member, "unsubscribe", {"topic": "Privacy"})
    assert gone.content == "Unsubscribed from **Privacy**."
    empty = await harness.slash(harness.first, member, "subscriptions")
    assert empty.content == "You don't follow any topics here yet. Try `/subscribe`."


async def test_subscribe_autocomplete_is_case_insensitive_prefix_then_substring_most_used_first(
    harness: Harness,
):
    member = harness.first.members[0].id
    choices = await harness.autocomplete(
        harness.first, member, "subscribe", {"topic": "i"}, "topic"
    )
    names = [c["value"] for c in choices]
    assert names[0] == "ai"  # prefix match, and the most-used topic
    assert "Privacy" in names  # substring match
    assert "Open Source" not in names
    assert all(len(c["name"]) <= 100 for c in choices)
    assert (
        len(await harness.autocomplete(harness.first, member, "subscribe", {"topic": ""}, "topic"))
        <= 25
    )


async def test_subscribe_to_an_unknown_topic_says_how_to_find_one(harness: Harness):
    result = await harness.slash(
        harness.first,
        harness.first.members[0].id,
        "subscribe",
        {"topic": "Underwater Basket Weaving"},
    )
    assert result.message.flags & EPHEMERAL
    assert result.content.startswith("There is no topic called “Underwater Basket Weaving”.")
    assert "/topics" in result.content


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"name": "min_quality", "type": 4, "value": 500},
            "`min_quality` must be a whole number from 0 to 100 (you gave 500).",
        ),
        (
            {"name": "min_quality", "type": 4, "value": "lots"},
            "`min_quality` must be a whole number from 0 to 100 (you gave lots).",
        ),
        (
            {"name": "delivery", "type": 3, "value": "hourly"},
            "`delivery` must be one of: instant, daily, weekly.",
        ),
    ],
)
async def test_crafted_out_of_range_options_get_a_clear_private_error(
    harness: Harness, raw, expected
):
    options = [{"name": "topic", "type": 3, "value": "AI"}, raw]
    result = await harness.slash(
        harness.first, harness.first.members[0].id, "subscribe", raw_options=options
    )
    assert result.message.flags & EPHEMERAL
    assert result.content == expected
    assert (
        await harness.store.subscriptions.count(harness.first.id, harness.first.members[0].id) == 0
    )


async def test_subscription_cap_per_member(harness: Harness, tmp_path):
    member = harness.first.members[1].id
    harness.bot.services.subscriptions._max_per_member = 2
    for topic in ("AI", "Privacy"):
        await harness.slash(harness.first, member, "subscribe", {"topic": topic})
    third = await harness.slash(harness.first, member, "subscribe", {"topic": "Climate"})
    assert (
        third.content
        == "You already follow 2 topics here, the most allowed. Use `/unsubscribe` to make room."
    )
    resubscribe = await harness.slash(
        harness.first, member, "subscribe", {"topic": "AI", "min_quality": 10}
    )
    assert resubscribe.content.startswith("Updated your subscription to **ai**")


async def test_unsubscribe_autocomplete_offers_only_own_topics_in_this_guild(harness: Harness):
    member = harness.first.members[0].id
    harness.double.world.add_member(harness.second.guild, harness.first.members[0])
    await harness.slash(harness.first, member, "subscribe", {"topic": "Climate"})
    await harness.slash(harness.second, member, "subscribe", {"topic": "Privacy"})
    here = await harness.autocomplete(harness.first, member, "unsubscribe", {"topic": ""}, "topic")
    assert [c["value"] for c in here] == ["Climate"]
    missing = await harness.slash(harness.first, member, "unsubscribe", {"topic": "Privacy"})
    assert missing.content.startswith("You are not subscribed to “Privacy” here.")


async def test_guild_commands_in_dms_say_they_need_a_server(harness: Harness):
    result = await harness.slash(None, harness.first.members[0].id, "subscriptions", force=True)
    assert result.content == "This command works in a server, not in direct messages."


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("subscribe", {"topic": "AI"}),
        ("latest", {}),
        ("related", {"query": "parcel"}),
        ("publish", {"article": "x"}),
        ("article add", {"url": "https://x.example/a", "title": "t", "topics": "AI"}),
        ("feed list", {}),
        ("settings", {}),
    ],
)
async def test_every_other_command_in_dms_says_it_needs_a_server(
    harness: Harness, command, options
):
    # README: "in DMs the commands say they need a server" (members' and moderators' alike)
    user = harness.first.moderator.id
    result = await harness.slash(None, user, command, options, force=True)
    assert result.content == "This command works in a server, not in direct messages."
    assert result.message.flags & EPHEMERAL


async def test_topics_are_paginated_with_buttons(harness: Harness):
    for n in range(45):
        await harness.add_article(
            webUrl=f"https://many.example/{n}",
            originalUrl=...,
            related=[],
            topics=[f"Topic {n:02}"],
            published=True,
        )
    member = harness.first.members[0].id
    first = await harness.slash(harness.first, member, "topics")
    assert first.message.flags & EPHEMERAL
    embed = first.embeds[0]
    assert embed["footer"]["text"].startswith("50 topics · page 1 of 3")
    # ai: Riverton and the open model; the grid story carries it too, but is pending
    assert embed["description"].splitlines()[0] == "**ai** — 2 articles"
    buttons = [c for row in first.message.components for c in row["components"]]
    assert [b.get("label") for b in buttons] == ["◀ Previous", "1 / 3", "Next ▶"]
    assert buttons[0]["disabled"] is True

    second = await harness.double.click(first.message, buttons[2]["custom_id"], member)
    assert second.callback_type == 7
    assert second.message.embeds[0]["footer"]["text"].startswith("50 topics · page 2 of 3")
    assert len(second.message.embeds[0]["description"].splitlines()) == 20


async def test_related_story_lists_curated_coverage_first_then_similar(harness: Harness):
    riverton = await harness.store.articles.get_by_url(
        "https://www.riverton-ledger.example/news/2026/11/20/council-bans-face-scanning"
    )
    assert riverton is not None
    member = harness.first.members[0].id
    choices = await harness.autocomplete(
        harness.first, member, "related", {"story": "river"}, "story"
    )
    assert riverton.id in [c["value"] for c in choices]
    assert all("Riverton" in c["name"] for c in choices)
    result = await harness.slash(harness.first, member, "related", {"story": riverton.id})
    assert result.callback_type == 5
    (message,) = result.followups
    assert message.flags & EPHEMERAL
    story, related = message.embeds
    assert story["title"] == "Riverton City Council Votes to Ban Face Scanning by Police"
    lines = related["description"].splitlines()
    assert "Police face-recognition ban passes in Riverton" in lines[0]
    assert "Valley Post" in lines[0]
    assert "curated coverage" in lines[1]
    assert "What Riverton's facial recognition ban means" in lines[2]


async def test_related_query_and_argument_mistakes(harness: Harness):
    member = harness.first.members[0].id
    found = await harness.slash(harness.first, member, "related", {"query": "language model"})
    assert "Open-Weights Language Model" in found.followups[0].embeds[0]["description"]
    neither = await harness.slash(harness.first, member, "related")
    assert (
        neither.content == "Give either `story` (pick one from the list) or `query` (some words)."
    )
    unknown = await harness.slash(harness.first, member, "related", {"story": "no-such-id"})
    assert unknown.followups[0].content.startswith("I can't find the story “no-such-id”.")


async def test_latest_shows_published_items_above_the_guild_bar(harness: Harness):
    member = harness.first.members[0].id
    result = await harness.slash(harness.first, member, "latest")
    description = result.embeds[0]["description"]
    assert "Open-Weights Language Model" in description
    assert "Riverton City Council" in description
    assert "Data Breach at Parcel Firm" not in description  # not published
    privacy = await harness.slash(harness.first, member, "latest", {"topic": "privacy"})
    assert "Open-Weights" not in privacy.embeds[0]["description"]
    assert privacy.embeds[0]["title"] == "Latest in Privacy"


def ferry_take(n: int, **fields: object) -> dict[str, object]:
    """A related entry (without a date unless given one)."""
    return {
        "title": f"Ferry take {n}",
        "webUrl": f"https://outlet{n}.example/ferries",
        "provider": {"name": f"Outlet {n}"},
        "quality": 40,
        **fields,
    }


async def test_related_shows_coverage_of_unknown_date_as_such(harness: Harness):
    story = await harness.add_article(
        title="Harbour ferries sail without captains",
        webUrl="https://harbour-times.example/ferries/captainless",
        originalUrl=...,
        published=True,
        related=[
            ferry_take(1),  # no publishedDateTime
            ferry_take(2, publishedDateTime="2026-11-01T12:00:00Z"),
            ferry_take(3, publishedDateTime="the day before"),
        ],
    )
    member = harness.first.members[0].id
    result = await harness.slash(harness.first, member, "related", {"story": story.id})
    (message,) = result.followups
    lines = message.embeds[1]["description"].splitlines()
    titles = [line.split("** [")[1].split("]")[0] for line in lines[::2][:3]]
    assert titles == ["Ferry take 1", "Ferry take 2", "Ferry take 3"]  # the file's order
    assert " · date unknown · quality 40" in lines[0]
    assert " · <t:1793534400:d> · quality 40" in lines[2]
    assert " · date unknown · quality 40" in lines[4]

    undated = await harness.store.articles.get_by_url("https://outlet1.example/ferries")
    assert undated is not None
    itself = await harness.slash(harness.first, member, "related", {"story": undated.id})
    card, coverage = itself.followups[0].embeds
    assert card["title"] == "Ferry take 1"
    assert "timestamp" not in card
    assert {f["name"]: f["value"] for f in card["fields"]}["Published"] == "date unknown"
    assert "Harbour ferries sail without captains" in coverage["description"].splitlines()[0]

    found = await harness.slash(harness.first, member, "related", {"query": "ferry take"})
    # The three takes, then the story itself (its "ferries" is a form of "ferry").
    listed = found.followups[0].embeds[0]["description"].splitlines()[::2][:3]
    assert sorted(line.split("** [")[1].split("]")[0] for line in listed) == [
        "Ferry take 1", "Ferry take 2", "Ferry take 3"
    ]  # fmt: skip
    assert sum(" · date unknown · " in line for line in listed) == 2


async def test_the_rest_of_a_story_lists_coverage_of_unknown_date_last(harness: Harness):
    story = await harness.add_article(
        title="Harbour ferries sail without captains",
        webUrl="https://harbour-times.example/ferries/captainless",
        originalUrl=...,
        published=True,
        publishedDateTime="2026-11-01T08:00:00Z",
        related=[],
    )
    await harness.add_article(
        title="Round-up: the week in shipping",
        webUrl="https://roundup.example/week",
        originalUrl=...,
        published=True,
        related=[
            {"title": story.title, "webUrl": story.web_url, "publishedDateTime": "2026-11-01"},
            ferry_take(1),  # no date
            ferry_take(2, publishedDateTime="2026-11-20T08:00:00Z"),
            ferry_take(3, publishedDateTime="2026-11-02T08:00:00Z"),
        ],
    )
    member = harness.first.members[0].id
    result = await harness.slash(harness.first, member, "related", {"story": story.id})
    lines = result.followups[0].embeds[1]["description"].splitlines()
    titles = [line.split("** [")[1].split("]")[0] for line in lines[::2][:4]]
    assert titles == [
        "Round-up: the week in shipping", "Ferry take 3", "Ferry take 2", "Ferry take 1"
    ]  # fmt: skip
    assert "lists this story as related" in lines[1]
    assert "same story" in lines[3]
    assert " · date unknown · " in lines[6]


async def test_related_shows_what_shares_little_with_the_story_under_a_heading(harness: Harness):
    story = await harness.add_article(
        title="Harbour Bridge closed after divers find cracked pier",
        excerpt="Port Halden shut the Harbour Bridge to all traffic after divers found a cracked "
        "pier under the main span.",
        webUrl="https://haldenpost.example/bridge-closed",
        originalUrl=...,
        provider={"name": "Halden Post", "domain": "haldenpost.example"},
        publishedDateTime=recent(5),
        published=True,
        related=[],
    )
    await harness.add_article(
        title="Cracked pier forces Port Halden to shut its Harbour Bridge",
        excerpt="Engineers will inspect the damaged pier before the span reopens.",
        webUrl="https://coastwire.example/halden-bridge",
        originalUrl=...,
        provider={"name": "Coast Wire", "domain": "coastwire.example"},
        publishedDateTime=recent(2),
        published=True,
        related=[],
    )
    await harness.add_article(
        title="Council to review the timing of city traffic lights",
        excerpt="Drivers have complained about long waits at junctions.",
        webUrl="https://towncrier.example/traffic-lights",
        originalUrl=...,
        provider={"name": "Town Crier", "domain": "towncrier.example"},
        publishedDateTime=recent(24 * 20),
        published=True,
        related=[],
    )
    member = harness.first.members[0].id
    result = await harness.slash(harness.first, member, "related", {"story": story.id})
    lines = result.followups[0].embeds[1]["description"].splitlines()
    assert "Cracked pier forces Port Halden to shut its Harbour Bridge" in lines[0]
    # after the other outlet's report and its reason, what shares one word with the story
    assert lines[2] == LOOSE_HEADING
    assert lines[3].startswith("**2.** [Council to review the timing of city traffic lights]")


async def test_the_subscription_cap_is_commands_max_subscriptions_per_member(make_harness):
    # README: "at most `commands.max_subscriptions_per_member`": the key, not a fixed number
    harness = await make_harness(commands={"max_subscriptions_per_member": 2})
    g, member = harness.first, harness.first.members[1].id
    for topic in ("AI", "Privacy"):
        followed = await harness.slash(g, member, "subscribe", {"topic": topic})
        assert followed.content.startswith("Subscribed to"), followed.content
    third = await harness.slash(g, member, "subscribe", {"topic": "Climate"})
    assert third.message.flags & EPHEMERAL
    assert third.content == (
        "You already follow 2 topics here, the most allowed. Use `/unsubscribe` to make room."
    )
    assert await harness.store.subscriptions.count(g.id, member) == 2
