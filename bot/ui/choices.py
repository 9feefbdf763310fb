"""Autocomplete choices within Discord's limits (25 choices, 100 characters each)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
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


# Of a name too long for a choice with its count, this much of its end is kept: long topic
# names often differ only there ("... part one", "... (2026)").
KEPT_END = 24


def _shortened(name: str, room: int) -> str:
    """``name`` within ``room`` characters: its start, an ellipsis and its end when cut."""
    name = " ".join(name.split())
    if len(name) <= room:
        return name
    end = name[-KEPT_END:].lstrip()
    return name[: room - 1 - len(end)].rstrip() + "…" + end


def topic_choices(topics: Iterable[Topic]) -> list[app_commands.Choice[str]]:
    """Topic names, with how many articles carry each (a long name is shortened in its
    middle, so that its end and the count still show)."""
    choices = []
    for t in list(topics)[:MAX_CHOICES]:
        count = f" ({t.article_count})"
        choices.append(_choice(_shortened(t.name, MAX_CHOICE_LENGTH - len(count)) + count, t.name))
    return choices


def subscription_choices(subscriptions: Iterable[Subscription]) -> list[app_commands.Choice[str]]:
    """The member's own topics."""
    return [_choice(s.topic_name, s.topic_name) for s in list(subscriptions)[:MAX_CHOICES]]


def article_choices(
    items: Iterable[GuildArticle], *, mark_retracted: bool = False
) -> list[app_commands.Choice[str]]:
    """Article titles with their outlet (and, with ``mark_retracted``, "not published" on one
    turned down or retracted here); the value is the article's short id."""
    shown = list(items)[:MAX_CHOICES]
    names = [_article_name(item, mark_retracted=mark_retracted) for item in shown]
    alike = {name for name in names if names.count(name) > 1}
    choices = []
    for item, name in zip(shown, names, strict=True):
        # one outlet's recurring headline ("Morning briefing"): each told by its date
        dated = name in alike and item.article.published_at is not None
        choices.append(
            _choice(
                _article_name(item, mark_retracted=mark_retracted, dated=dated), item.article.id
            )
        )
    return choices


def _article_name(item: GuildArticle, *, mark_retracted: bool, dated: bool = False) -> str:
    outlet = item.article.provider.name or item.article.provider.domain
    suffix = (f" — {outlet}" if outlet else "")[:40]
    if dated and item.article.published_at is not None:
        suffix += f" · {item.article.published_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if mark_retracted and item.state == "retracted":
        suffix += " · not published"
    title = clip(headline(item.article.title), MAX_CHOICE_LENGTH - len(suffix))
    return title + suffix


def zone_choices(zones: Iterable[str], now: datetime) -> list[app_commands.Choice[str]]:
    """Time zone names with their offset and the time there now, so the right one shows."""
    return [
        _choice(
            f"{zone} · {utc_offset(zone, now)} · {now.astimezone(ZoneInfo(zone)):%H:%M} now", zone
        )
        for zone in list(zones)[:MAX_CHOICES]
    ]
