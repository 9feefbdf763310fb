"""A slash command whose work outlasts Discord's 3 seconds (a loaded host, a busy store) is
still answered: acknowledged privately at ``ANSWER_WITHIN_S`` (the member sees "thinking…"),
then its reply, the same as a quick one's (text, embeds, buttons, private), in place of that.
A command answering in time is not acknowledged first. Each test holds one service call past
the deadline, through the Discord double, on both engines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot import answers
from tests.bot.harness import EPHEMERAL, Harness
from tests.discord_double.interactions import InteractionResult
from tests.discord_double.state import Message

# Past Discord's 3 s: what a loaded host or a busy store costs a command now and then.
SLOW_S = answers.ANSWER_WITHIN_S + 1.2
CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"
CALLBACK_PATH = r"^/interactions/\d+/[^/]+/callback$"


def held(monkeypatch: pytest.MonkeyPatch, service: Any, name: str, seconds: float) -> None:
    """``service.name`` answers ``seconds`` late (then as before)."""
    call: Callable[..., Awaitable[Any]] = getattr(service, name)

    async def late(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(seconds)
        return await call(*args, **kwargs)

    monkeypatch.setattr(service, name, late)


async def answered_late(result: InteractionResult) -> Message:
    """A slow command's answer: acknowledged privately in time, then one private reply."""
    assert result.callback_type == 5, "acknowledged (thinking…) before Discord's deadline"
    assert result.ack_latency is not None and result.ack_latency < 3.0
    # the acknowledgement itself is private (``ephemeral`` would read the reply that follows)
    assert result.original is not None and result.original.ephemeral and not result.late_ack
    (message,) = await result.wait_followups(1)
    assert message.flags & EPHEMERAL
    return message


def shown(message: Message) -> dict[str, Any]:
    """What a member sees of a message, and what its buttons do (a disabled label's custom id
    is random)."""
    buttons = [
        {k: v for k, v in c.items() if k != "custom_id" or v.startswith("tb:")}
        for row in message.components
        for c in row["components"]
    ]
    return {"content": message.content, "embeds": message.embeds, "buttons": buttons}


def no_unknown_interaction(harness: Harness) -> None:
    statuses = [r.status for r in harness.double.requests("POST", CALLBACK)]
    assert 404 not in statuses and 400 not in statuses, statuses


async def test_a_slow_listing_with_buttons_is_acknowledged_then_shown_with_them(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    g = harness.first
    member = g.members[0].id
    quick = await harness.slash(g, member, "topics")
    assert quick.callback_type == 4 and quick.followups == []  # no "thinking…" flash
    held(monkeypatch, harness.bot.services.catalog, "topics", SLOW_S)
    slow = await harness.slash(g, member, "topics")
    message = await answered_late(slow)
    assert shown(message) == shown(quick.message)
    assert any(c.get("label") == "Next ▶" for row in message.components for c in row["components"])
    no_unknown_interaction(harness)


async def test_a_slow_subscribe_is_acknowledged_then_answered_in_text(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    g = harness.first
    held(monkeypatch, harness.bot.services.subscriptions, "subscribe", SLOW_S)
    slow = await harness.slash(g, g.members[0].id, "subscribe", {"topic": "privacy"})
    message = await answered_late(slow)
    assert message.content == "Subscribed to **Privacy** — instant, quality 0+."
    no_unknown_interaction(harness)


async def test_a_slow_moderator_command_keeps_its_buttons_and_they_work(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    g = harness.first
    await harness.add_pending(2)
    quick = await harness.slash(g, g.moderator.id, "queue")
    held(monkeypatch, harness.bot.services.moderation, "queue", SLOW_S)
    slow = await harness.slash(g, g.moderator.id, "queue")
    message = await answered_late(slow)
    assert shown(message) == shown(quick.message)
    monkeypatch.undo()
    publish = next(
        c for row in message.components for c in row["components"] if c["label"] == "Publish 1"
    )
    pressed = await harness.double.click(message, publish["custom_id"], g.moderator.id)
    assert pressed.message.content == "✅ Published “Pending story number 1”."
    no_unknown_interaction(harness)


async def test_a_slow_settings_change_is_acknowledged_then_shown(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    g = harness.first
    held(monkeypatch, harness.bot.services.guild_settings, "update", SLOW_S)
    slow = await harness.slash(g, g.moderator.id, "settings", {"min_quality": 40})
    message = await answered_late(slow)
    assert message.content == "Saved."
    assert "40" in json.dumps(message.embeds)
    no_unknown_interaction(harness)


async def test_a_refusal_after_the_acknowledgement_reaches_the_member_privately(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    g = harness.first
    held(monkeypatch, harness.bot.services.subscriptions, "unsubscribe", SLOW_S)
    slow = await harness.slash(g, g.members[0].id, "unsubscribe", {"topic": "Privacy"})
    message = await answered_late(slow)
    assert message.content.startswith("You are not subscribed to “Privacy” here.")
    assert message.embeds == [] and message.components == []
    no_unknown_interaction(harness)


async def test_a_reply_on_its_way_when_the_deadline_comes_is_the_only_answer(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    """The reply leaves just before ``ANSWER_WITHIN_S`` and Discord takes a while to take it:
    the guard waits for it, sees it answered, and acknowledges nothing."""
    g = harness.first
    held(monkeypatch, harness.bot.services.catalog, "topics", answers.ANSWER_WITHIN_S - 0.2)
    harness.double.fail_next("POST", CALLBACK_PATH, None, delay=0.6)
    result = await harness.slash(g, g.members[0].id, "topics")
    assert result.callback_type == 4 and result.embeds[0]["title"] == "Topics"
    await asyncio.sleep(0.3)
    assert result.followups == []
    assert len(harness.double.requests("POST", CALLBACK)) == 1
    no_unknown_interaction(harness)


async def test_a_reply_ready_while_the_guard_acknowledges_follows_the_acknowledgement(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    """The reply is ready just after ``ANSWER_WITHIN_S``, while Discord is still taking the
    acknowledgement: it waits for it, then comes as the follow-up."""
    g = harness.first
    held(monkeypatch, harness.bot.services.catalog, "topics", answers.ANSWER_WITHIN_S + 0.1)
    harness.double.fail_next("POST", CALLBACK_PATH, None, delay=0.5)
    result = await harness.slash(g, g.members[0].id, "topics")
    message = await answered_late(result)
    assert message.embeds[0]["title"] == "Topics"
    assert len(harness.double.requests("POST", CALLBACK)) == 1
    no_unknown_interaction(harness)
