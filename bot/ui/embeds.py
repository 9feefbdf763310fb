"""Article embeds that respect every Discord limit and never ping anyone, whatever the
article contains."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.domain.text import clip, headline, readable
from storage.models import Article
from storage.outbox.health import HealthCounts

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
FIELD_NAME_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000
MESSAGE_EMBEDS_LIMIT = 10
# What a listing's description holds: under DESCRIPTION_LIMIT, with room for "…and N more".
LISTING_CHARACTERS = 4000
EXCERPT_SHOWN = 700
ALSO_COVERED_SHOWN = 5
BRAND_COLOUR = discord.Colour(0x3B82F6)


def plain(text: str, limit: int) -> str:
    """Article text for display: read as a reader should (no HTML tags or entities, no
    direction overrides, see ``readable``), with markdown, mentions and Discord's ``<...>``
    syntax (``<#channel>``, ``<t:0:R>``, ``<:emoji:1>``) shown as written, clipped to ``limit``."""
    escaped = discord.utils.escape_mentions(discord.utils.escape_markdown(readable(text)))
    # escape_markdown escapes a masked link's "[" only for the first of several links and not
    # in "[[a]](url)"; an escaped "]" closes none. "<" starts Discord's own syntax.
    return clip(escaped.replace("]", "\\]").replace("<", "\\<"), limit)


def outlet(article: Article) -> str:
    """The outlet's name, or its domain, or "unknown outlet"; on one line."""
    name = " ".join((article.provider.name or article.provider.domain or "").split())
    return name or "unknown outlet"


UNKNOWN_DATE = "date unknown"


def timestamp(article: Article, style: discord.utils.TimestampStyle = "f") -> str:
    """A Discord timestamp that each member sees in their own time zone ("date unknown" for
    coverage whose file gave no date)."""
    if article.published_at is None:
        return UNKNOWN_DATE
    return discord.utils.format_dt(article.published_at, style)


LINK_TITLE_SHOWN = 120
LINK_TITLE_AT_LEAST = 24
_URL_QUOTED = str.maketrans({"(": "%28", ")": "%29", "<": "%3C", ">": "%3E", " ": "%20"})


def link_line(article: Article, limit: int = 300) -> str:
    """``[Title](url) — Outlet`` within ``limit``: the title is shortened to make room, never
    the address (a cut address shows the markdown raw and opens nothing). An address too long
    for a line leaves the title unlinked (the article's card, ``/related story``, links it)."""
    url = article.web_url.translate(_URL_QUOTED)
    where = f" — {plain(outlet(article), 60)}"
    room = min(limit - len(url) - len(where) - 4, LINK_TITLE_SHOWN)
    if room < LINK_TITLE_AT_LEAST:
        return clip(f"{plain(headline(article.title), LINK_TITLE_SHOWN)}{where}", limit)
    return f"[{link_text(headline(article.title), room)}]({url}){where}"


def link_text(title: str, limit: int) -> str:
    """A title as the text of a masked link: brackets cannot end it early, and an address
    written in it is not one Discord would show as where the link goes."""
    text = plain(title, limit).replace("\\[", "(").replace("\\]", ")")
    text = text.replace("[", "(").replace("]", ")")
    return text.replace("://", ":\u200b//")


def fit_lines(
    lines: Sequence[str], limit: int, more: str | None = "…and {n} more"
) -> tuple[str, int]:
    """Whole lines joined within ``limit`` (a line is never cut: a cut one can end inside a
    link), then ``more`` with how many were left out (nothing when None); the text and how
    many of ``lines`` it holds."""
    if sum(len(line) + 1 for line in lines) - 1 <= limit:
        return "\n".join(lines), len(lines)
    reserve = len(more.format(n=len(lines))) + 1 if more is not None else 0
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + reserve > limit:
            break
        kept.append(line)
        size += len(line) + 1
    shown = len(kept)
    if more is not None:
        kept.append(more.format(n=len(lines) - shown))
    return "\n".join(kept), shown


def _add_field(embed: discord.Embed, name: str, value: str, *, inline: bool = True) -> None:
    if value and len(embed.fields) < 25:
        embed.add_field(
            name=clip(name, FIELD_NAME_LIMIT), value=clip(value, FIELD_LIMIT), inline=inline
        )


def also_covered_by(related: Sequence[Article]) -> str:
    """Up to five other outlets' coverage, one per line, within a field's limit."""
    lines: list[str] = []
    for article in related[:ALSO_COVERED_SHOWN]:
        line = f"• {link_line(article, 260)}"
        if sum(len(x) + 1 for x in lines) + len(line) > FIELD_LIMIT - 20:
            break
        lines.append(line)
    hidden = len(related) - len(lines)
    if hidden > 0:
        lines.append(f"…and {hidden} more (`/related`)")
    return "\n".join(lines)


def article_embed(
    article: Article,
    *,
    related: Sequence[Article] = (),
    note: str | None = None,
    excerpt_limit: int = EXCERPT_SHOWN,
) -> discord.Embed:
    """The article card: linked title, excerpt, outlet, time, topics, quality, thumbnail,
    and "Also covered by"."""
    embed = discord.Embed(
        title=plain(headline(article.title), TITLE_LIMIT),
        url=article.web_url,
        description=plain(article.excerpt, min(excerpt_limit, DESCRIPTION_LIMIT)) or None,
        colour=BRAND_COLOUR,
        timestamp=article.published_at,
    )
    _add_field(embed, "Outlet", plain(outlet(article), 200))
    _add_field(embed, "Published", timestamp(article))
    _add_field(embed, "Quality", f"{article.quality}/100")
    _add_field(embed, "Topics", plain(", ".join(article.topics), 500), inline=False)
    _add_field(embed, "Also covered by", also_covered_by(related), inline=False)
    if note:
        _add_field(embed, "Why you got this", plain(note, 300), inline=False)
    if article.images:
        embed.set_thumbnail(url=article.images[0].url)
    embed.set_footer(text=f"id {article.id}")
    return fit_embed(embed)


def fit_embed(embed: discord.Embed, limit: int = EMBED_TOTAL_LIMIT) -> discord.Embed:
    """Shorten the description, then drop trailing fields, until the embed fits ``limit``."""
    while len(embed) > limit and embed.description:
        overflow = len(embed) - limit
        keep = max(len(embed.description) - overflow - 1, 0)
        embed.description = clip(embed.description, keep) if keep else None
    while len(embed) > limit and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed


def result_line(index: int, article: Article, reason: str) -> str:
    """One numbered line of a result list: link, outlet, date, quality, and why."""
    date = timestamp(article, "d")
    return clip(
        f"**{index}.** {link_line(article, 320)} · {date} · quality {article.quality}\n"
        f"  _{plain(reason, 120)}_",
        500,
    )


def health_text(counts: HealthCounts | None) -> str:
    """``sent 3 · pending 1 · failed 0`` (dead ones counted as failed)."""
    if counts is None:
        return "nothing sent yet"
    return f"sent {counts.sent} · pending {counts.pending} · failed {counts.failed + counts.dead}"
