"""Article embeds that respect every Discord limit and never ping anyone, whatever the
article contains."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.domain.text import clip
from storage.models import Article
from storage.outbox.health import HealthCounts

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
FIELD_NAME_LIMIT = 256
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
EMBEDS_PER_MESSAGE_TOTAL = 6000
CONTENT_LIMIT = 2000
EXCERPT_SHOWN = 700
ALSO_COVERED_SHOWN = 5
BRAND_COLOUR = discord.Colour(0x3B82F6)


def plain(text: str, limit: int) -> str:
    """Article text for display: markdown and mentions neutralised, clipped to ``limit``."""
    escaped = discord.utils.escape_mentions(discord.utils.escape_markdown(text))
    return clip(escaped, limit)


def outlet(article: Article) -> str:
    """The outlet's name, or its domain, or a dash."""
    return article.provider.name or article.provider.domain or "unknown outlet"


UNKNOWN_DATE = "date unknown"


def timestamp(article: Article, style: discord.utils.TimestampStyle = "f") -> str:
    """A Discord timestamp that each member sees in their own time zone ("date unknown" for
    coverage whose file gave no date)."""
    if article.published_at is None:
        return UNKNOWN_DATE
    return discord.utils.format_dt(article.published_at, style)


def link_line(article: Article, limit: int = 300) -> str:
    """``[Title](url) — Outlet`` with the title made safe for a masked link."""
    title = plain(article.title, 120).replace("[", "(").replace("]", ")")
    url = article.web_url.replace("(", "%28").replace(")", "%29")
    return clip(f"[{title}]({url}) — {plain(outlet(article), 60)}", limit)


def _add_field(embed: discord.Embed, name: str, value: str, *, inline: bool = True) -> None:
    if value and len(embed.fields) < 25:
        embed.add_field(
            name=clip(name, FIELD_NAME_LIMIT), value=clip(value, FIELD_LIMIT), inline=inline
        )


def also_covered_by(related: Sequence[Article]) -> str:
    """Up to five other outlets' coverage, one per line, within a field's limit."""
    lines: list[str] = []
    for article in related[:ALSO_COVERED_SHOWN]:
        line = f"• {link_line(article, 200)}"
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
        title=plain(article.title, TITLE_LIMIT),
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
        f"**{index}.** {link_line(article, 240)} · {date} · quality {article.quality}\n"
        f"  _{plain(reason, 120)}_",
        500,
    )


def health_text(counts: HealthCounts | None) -> str:
    """``sent 3 · pending 1 · failed 0`` (dead ones counted as failed)."""
    if counts is None:
        return "nothing sent yet"
    return f"sent {counts.sent} · pending {counts.pending} · failed {counts.failed + counts.dead}"
