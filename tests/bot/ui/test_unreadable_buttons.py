"""A button the bot cannot read (from an older or newer version of it, or crafted: an unknown
kind, a number out of range) is answered, privately, with what to run instead: never left
unanswered ("This interaction failed") nor met with "something went wrong"."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bot.harness import EPHEMERAL, Harness


def button(message: Any, label: str) -> dict[str, Any]:
    return next(
        c for row in message.components for c in row["components"] if c.get("label") == label
    )


NO_LONGER = "This button no longer works (it comes from another version of topicbot)."


@pytest.mark.parametrize(
    ("custom_id", "instead"),
    [
        ("tb:page:nosuchlist:2", "Run the command again for fresh buttons."),
        ("tb:page:auditolder:99999999999999999999999", "Run `/audit` again for fresh buttons."),
        ("tb:queue:publish:abc:1234567", "Run `/queue` again for fresh buttons."),
        ("tb:queue:sideways:abc", "Run `/queue` again for fresh buttons."),
        ("tb:page:topics:1:2", "Run `/topics` again for fresh buttons."),
        ("tb:retract:delete:ABC", "Run `/unpublish` again for fresh buttons."),
        ("tb:unsub:1:2:3", "Run `/unsubscribe` in its server instead."),
        ("tb:unsub:99999999999999999999:1", "Run `/unsubscribe` in its server instead."),
        ("tb:newer:feature", "Run the command again for fresh buttons."),
    ],
)
async def test_a_button_the_bot_cannot_read_says_what_to_run_instead(
    harness: Harness, custom_id: str, instead: str
):
    # the message as an older (or newer) version sent it: a button with that id
    g = harness.first
    queue = await harness.slash(g, g.moderator.id, "queue")
    assert queue.message is not None
    button(queue.message, "Publish 1")["custom_id"] = custom_id
    pressed = await harness.double.click(queue.message, custom_id, g.moderator.id)
    assert pressed.message is not None, "never answered"
    assert pressed.message.flags & EPHEMERAL
    assert pressed.content == f"{NO_LONGER} {instead}"


async def test_a_readable_button_is_answered_once(harness: Harness):
    g = harness.first
    queue = await harness.slash(g, g.moderator.id, "queue")
    assert queue.message is not None
    button(queue.message, "Publish 1")["custom_id"] = "tb:page:queue:2"
    pressed = await harness.double.click(queue.message, "tb:page:queue:2", g.moderator.id)
    assert pressed.callback_type == 7  # the page, in place
    assert pressed.followups == []
