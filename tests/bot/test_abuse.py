"""Abuse: cooldowns, autocomplete bursts, oversized and forged options, mention injection."""

from __future__ import annotations

import pytest

from tests.bot.harness import EPHEMERAL, Harness

HUGE = "x" * 6000


def no_ping(message) -> None:
    """Nothing in the message can notify anyone."""
    assert message.allowed_mentions.get("parse") == []
    assert not message.allowed_mentions.get("roles")
    assert not message.allowed_mentions.get("users")


async def test_related_is_limited_per_member_with_a_friendly_message(make_harness):
    harness = await make_harness(commands={"related_per_minute": 3})
    g = harness.first
    member, other = g.members[0].id, g.members[1].id
    for _ in range(3):
        result = await harness.slash(g, member, "related", {"query": "wind"})
        assert result.callback_type == 5
    slowed = await harness.slash(g, member, "related", {"query": "wind"})
    assert slowed.message.flags & EPHEMERAL
    assert slowed.content.startswith("Slow down a little: try again in ")
    assert slowed.content.endswith(" s.")
    fine = await harness.slash(g, other, "related", {"query": "wind"})
    assert fine.callback_type == 5  # another member is not affected


async def test_latest_is_limited_per_member(make_harness):
    harness = await make_harness(commands={"latest_per_minute": 2})
    g = harness.first
    member = g.members[0].id
    for _ in range(2):
        assert (await harness.slash(g, member, "latest")).embeds
    assert (await harness.slash(g, member, "latest")).content.startswith("Slow down a little")


async def test_an_autocomplete_burst_gets_a_slow_down_choice(make_harness):
    harness = await make_harness(commands={"autocomplete_per_10s": 5})
    g = harness.first
    member = g.members[0].id
    for _ in range(5):
        choices = await harness.autocomplete(g, member, "subscribe", {"topic": "a"}, "topic")
        assert choices
        assert choices[0]["value"]
    (slow,) = await harness.autocomplete(g, member, "subscribe", {"topic": "a"}, "topic")
    assert slow["name"].startswith("⏳ Too many requests")
    other = await harness.autocomplete(g, g.members[1].id, "subscribe", {"topic": "a"}, "topic")
    assert other[0]["value"]


@pytest.mark.parametrize(
    ("command", "options", "starts"),
    [
        ("subscribe", {"topic": HUGE}, "There is no topic called “xxxx"),
        ("related", {"query": HUGE}, None),
        ("unsubscribe", {"topic": HUGE}, "You are not subscribed to “xxxx"),
        ("latest", {"topic": HUGE}, "There is no topic called “xxxx"),
    ],
)
async def test_six_thousand_character_options_get_bounded_replies(
    harness: Harness, command, options, starts
):
    result = await harness.slash(
        harness.first, harness.first.members[0].id, command, options, force=True
    )
    message = result.followups[0] if result.callback_type == 5 else result.message
    assert message.flags & EPHEMERAL
    assert len(message.content or "") <= 2000
    if starts:
        assert message.content.startswith(starts)
    no_ping(message)


async def test_oversized_article_add_fields_are_refused_with_what_to_type(harness: Harness):
    g = harness.first
    result = await harness.slash(
        g, g.moderator.id, "article add", force=True,
        raw_options=[
            {"name": "url", "type": 3, "value": "https://big.example/a"},
            {"name": "title", "type": 3, "value": HUGE},
            {"name": "topics", "type": 3, "value": "AI"},
        ],
    )  # fmt: skip
    assert result.content.startswith("`title`: String should have at most 1000 characters")
    assert await harness.store.articles.get_by_url("https://big.example/a") is None


async def test_forged_option_types_are_refused_politely(harness: Harness):
    g = harness.first
    role_as_channel = [{"name": "channel", "type": 7, "value": str(g.member_role.id)}]
    result = await harness.slash(g, g.moderator.id, "feed add", raw_options=role_as_channel)
    assert result.message.flags & EPHEMERAL
    assert "channel" in result.content
    assert "Pick one from the list" in result.content
    assert await harness.store.feeds.for_guild(g.id) == []


@pytest.mark.parametrize("text", ["@everyone", "@here", "<@&1234567890>", "<@1234567890>"])
async def test_member_text_echoed_back_never_pings(harness: Harness, text):
    g = harness.first
    member = g.members[0].id
    for command, options in [
        ("subscribe", {"topic": text}),
        ("unsubscribe", {"topic": text}),
        ("related", {"query": f"{text} wind"}),
        ("related", {"story": text}),
    ]:
        result = await harness.slash(g, member, command, options)
        message = result.followups[0] if result.callback_type == 5 else result.message
        no_ping(message)
        shown = (message.content or "") + str(message.embeds)
        assert "@everyone" not in shown.replace("@\u200beveryone", "")
        assert "@here" not in shown.replace("@\u200bhere", "")
