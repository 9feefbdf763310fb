"""Buttons the bot cannot read: a custom id from an older or newer version of topicbot (an
unknown kind, a number out of range) is answered privately with what to run instead, rather
than left unanswered (Discord's "This interaction failed")."""

from __future__ import annotations

import re
from collections.abc import Iterable

# The largest number the store keeps (a signed 64-bit integer).
LARGEST = 2**63 - 1

NO_LONGER = "This button no longer works (it comes from another version of topicbot)."

# What to run instead, by the start of the custom id; the first that fits.
_INSTEAD = [
    ("tb:page:queue", "Run `/queue` again for fresh buttons."),
    ("tb:queue:", "Run `/queue` again for fresh buttons."),
    ("tb:page:audit", "Run `/audit` again for fresh buttons."),
    ("tb:page:topics", "Run `/topics` again for fresh buttons."),
    ("tb:page:subscriptions", "Run `/subscriptions` again for fresh buttons."),
    ("tb:page:feeds", "Run `/feed list` again for fresh buttons."),
    ("tb:retract:", "Run `/unpublish` again for fresh buttons."),
    ("tb:unsub:", "Run `/unsubscribe` in its server instead."),
]


def stale_reply(custom_id: str) -> str:
    """The private answer to a button that no longer works, naming what to run instead."""
    instead = next(
        (text for start, text in _INSTEAD if custom_id.startswith(start)),
        "Run the command again for fresh buttons.",
    )
    return f"{NO_LONGER} {instead}"


def in_range(*numbers: str) -> bool:
    """Whether every number read from a custom id fits the store."""
    return all(abs(int(number)) <= LARGEST for number in numbers if number)


def readable(custom_id: str, templates: Iterable[re.Pattern[str]]) -> bool:
    """Whether a button of this bot reads ``custom_id``: a template of it matches whole, and
    every number in it fits the store."""
    for template in templates:
        match = template.fullmatch(custom_id)
        if match is not None:
            return in_range(*(g for g in match.groups() if g and g.lstrip("-").isdigit()))
    return False
