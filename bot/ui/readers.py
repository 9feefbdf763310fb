"""What the readers' commands show: subscriptions, related results, the latest articles."""

from __future__ import annotations

import discord

from bot.domain.errors import StoryNotFound
from bot.domain.related import RelatedResult, first_loose
from bot.domain.text import clip, shown
from bot.ui.embeds import (
    BRAND_COLOUR,
    LISTING_CHARACTERS,
    fit_lines,
    health_text,
    outlet,
    plain,
    result_line,
)
from storage.models import Article, Subscription
from storage.outbox.health import HealthCounts


def describe_subscription(subscription: Subscription, health: HealthCounts | None = None) -> str:
    """One line about a subscription, with its settings and health."""
    line = (
        f"**{plain(subscription.topic_name, 80)}** — {subscription.delivery}, "
        f"quality {subscription.min_quality}+"
    )
    if subscription.disabled_reason:
        line += f" — ⚠️ paused: {plain(subscription.disabled_reason, 160)}"
    if health is not None:
        line += f"\n  {health_text(health)}"
    return line


# Topics listed by an article in `/latest`; more are counted.
TOPICS_SHOWN = 3
LOOSE_HEADING = "**Less closely related** (they share little with this story)"


def results_embed(
    title: str, results: list[RelatedResult], empty: str, more: str | None = None
) -> discord.Embed:
    """A numbered list of related articles with why each is there; those that share little
    with the story (they come last) under a heading of their own; ``more`` under it when the
    list was cut."""
    lines = [result_line(i, r.article, r.reason) for i, r in enumerate(results, start=1)]
    loose = first_loose(results)
    if loose is not None:
        lines.insert(loose, LOOSE_HEADING)
    embed = discord.Embed(title=clip(title, 256), colour=BRAND_COLOUR)
    embed.description = fit_lines(lines, LISTING_CHARACTERS)[0] if lines else empty
    if more is not None:
        embed.set_footer(text=more)
    return embed


def topics_of(article: Article, shown: int = TOPICS_SHOWN) -> str:
    """The article's first topics, and how many more it has ("Transport, Ports, Energy +2")."""
    if not article.topics:
        return "no topic"
    listed = ", ".join(article.topics[:shown])
    hidden = len(article.topics) - shown
    return f"{listed} +{hidden}" if hidden > 0 else listed


def latest_embed(
    items: list[Article],
    topic: str | None,
    bar: int,
    *,
    under_bar: bool = False,
    more: bool = False,
) -> discord.Embed:
    """The newest published articles; when there are none above the server's quality bar
    but some under it (``under_bar``), says so, since `/topics` counts those; when older ones
    exist (``more``), how to find them."""
    lines = [
        result_line(i, article, topics_of(article)) for i, article in enumerate(items, start=1)
    ]
    scope = f" in {plain(topic, 80)}" if topic else ""
    embed = discord.Embed(title=f"Latest{scope}", colour=BRAND_COLOUR)
    if lines:
        embed.description = fit_lines(lines, LISTING_CHARACTERS)[0]
    elif under_bar:
        embed.description = (
            f"Nothing published here{scope} reaches this server's quality bar ({bar}) yet: "
            "what is published under it is left out here and in alerts. `/related query:` "
            "finds it all."
        )
    else:
        embed.description = f"Nothing published here{scope} yet."
    footer = f"quality {bar}+ · /related story: for other outlets' coverage"
    if lines and more:  # in the footer: a description cut to fit never drops it
        narrow = "" if topic else "/latest topic: shows one topic's, "
        footer = (
            f"The {len(items)} newest shown; older ones are published here"
            f"{f' in {clip(topic, 80)}' if topic else ''}: {narrow}"
            f"/related query: finds them by their words.\n{footer}"
        )
    embed.set_footer(text=footer)
    return embed


def story_not_found(error: StoryNotFound) -> str:
    """The answer to a story not found: with the stories whose headline holds the words
    typed, when there are some (a member who sent a few words without picking one)."""
    if not error.near:
        return error.message
    named = " or ".join(f"“{plain(a.title, 90)}” ({plain(outlet(a), 40)})" for a in error.near)
    return (
        f"I can't find the story “{shown(error.story)}”. Did you mean {named}? Start typing its "
        "title and pick it from the suggestions, or search with `/related query:`."
    )
