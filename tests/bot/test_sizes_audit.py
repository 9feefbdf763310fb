"""Sizes and limits as real communities reach them: many topics, feeds, subscribers and
articles; long arguments; a backlog at start-up. Every reply stays within Discord's limits
(the double refuses what Discord would) and says what it leaves out."""

from __future__ import annotations

import re
from typing import Any

from tests.bot.conftest import MakeHarness
from tests.bot.harness import EPHEMERAL, Harness
from tests.bot.test_alerts import story
from tests.discord_double.interactions import InteractionResult


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


async def test_probe_autocomplete(make_harness: MakeHarness):
    harness = await make_harness(seed=False)
    g = harness.first
    member = g.members[0].id
    busy = [
        f"Air{w}" for w in ("lines", "ports", "craft", "bus", "bnb", "waves", "space", "show")
    ] + [f"Aid {n:02d}" for n in range(30)]
    await story(harness, 1, topics=["AI", "Écologie", "Climate policy", "Anticlimax"])
    for n in range(2, 5):
        await story(harness, n, topics=busy)
    for typed in ("ai", "AI", "eco", "écol", "clim", "climate pol", "policy"):
        got = await harness.autocomplete(g, member, "subscribe", {"topic": typed}, "topic")
        print(typed, [c["name"] for c in got][:6], len(got))
