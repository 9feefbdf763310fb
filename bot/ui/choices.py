"""Autocomplete choices within Discord's limits (25 choices, 100 characters each)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from discord import app_commands

from bot.domain.digests import utc_offset
from bot.domain.text import clip, headline, readable
from storage.models import GuildArticle, Subscription, Topic

MAX_CHOICES = 25
MAX_CHOICE_LENGTH = 100


def _choice(name: str, value: str) -> app_commands.Choice[str]:
    return app_commands.Choice(
        name=clip(" ".join(readable(name).split()), MAX_CHOICE_LENGTH) or "?",
        value=value[:MAX_CHOICE_LENGTH],
    )


def topic_choices(topics: Iterable[Topic]) -> list[app_commands.Choice[str]]:
    """Topic names, with how many articles carry each."""
    return [_choice(f"{t.name} ({t.article_count})", t.name) for t in list(topics)[:MAX_CHOICES]]


def subscription_choices(subscriptions: Iterable[Subscription]) -> list[app_commands.Choice[str]]:
    """The member's own topics."""
    return [_choice(s.topic_name, s.topic_name) for s in list(subscriptions)[:MAX_CHOICES]]


def article_choices(items: Iterable[GuildArticle]) -> list[app_commands.Choice[str]]:
    """Article titles with their outlet; the value is the article's short id."""
    choices = []
    for item in list(items)[:MAX_CHOICES]:
        outlet = item.article.provider.name or item.article.provider.domain
        suffix = f" — {outlet}" if outlet else ""
        title = clip(headline(item.article.title), MAX_CHOICE_LENGTH - len(suffix[:40]))
        choices.append(_choice(title + suffix[:40], item.article.id))
    return choices


def zone_choices(zones: Iterable[str], now: datetime) -> list[app_commands.Choice[str]]:
    """Time zone names with their offset and the time there now, so the right one shows."""
    return [
        _choice(
            f"{zone} · {utc_offset(zone, now)} · {now.astimezone(ZoneInfo(zone)):%H:%M} now", zone
        )
        for zone in list(zones)[:MAX_CHOICES]
    ]
