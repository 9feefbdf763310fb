"""What moderators see in /queue: one card per waiting article."""

from __future__ import annotations

import discord

from bot.domain.text import clip, headline, readable
from bot.ui.embeds import BRAND_COLOUR, outlet, plain, timestamp
from storage.models import GuildArticle


def queue_item_embed(index: int, item: GuildArticle) -> discord.Embed:
    """A compact card for one queued article (ten fit within a message's 6,000 characters)."""
    article = item.article
    embed = discord.Embed(
        title=clip(f"{index}. {plain(headline(article.title), 200)}", 256),
        url=article.web_url,
        description=plain(article.excerpt, 280) or None,
        colour=BRAND_COLOUR,
    )
    embed.add_field(name="Outlet", value=plain(outlet(article), 100))
    embed.add_field(name="Published", value=timestamp(article))
    embed.add_field(name="Quality", value=f"{article.quality}/100")
    topics = readable(", ".join(article.topics))  # a footer shows text as it is, no markdown
    embed.set_footer(text=clip(f"id {article.id} · {topics}", 200))
    return embed
