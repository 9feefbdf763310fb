"""What /feed list shows: one line per feed."""

from __future__ import annotations

from bot.ui.embeds import health_text, plain
from storage.models import Feed
from storage.outbox.health import HealthCounts


def describe_feed(
    feed: Feed,
    default_bar: int,
    health: HealthCounts | None = None,
    problem: str | None = None,
) -> str:
    """One line about a feed: where, what, the bar, the mention, what the bot cannot do
    there, and its health."""
    topic = f"**{plain(feed.topic_name, 80)}**" if feed.topic_name else "**every topic**"
    bar = feed.min_quality if feed.min_quality is not None else default_bar
    line = f"<#{feed.channel_id}> ← {topic}, quality {bar}+"
    if feed.mention_role_id:
        line += f", mentions <@&{feed.mention_role_id}>"
    if feed.disabled_reason:
        line += f" — ⚠️ paused: {plain(feed.disabled_reason, 160)}"
    if problem:
        line += f" — ⚠️ {problem}"
    if health is not None:
        line += f"\n  {health_text(health)}"
    return line
