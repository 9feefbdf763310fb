"""What alerts look like: channel posts and DMs, digests, the unsubscribe button."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import discord

from bot.domain.text import clip
from bot.errors import report_error
from bot.sending.sender import DiscordSender
from bot.ui.embeds import BRAND_COLOUR, article_embed, fit_lines, link_line, plain
from bot.ui.stale import in_range
from bot.wiring import ServiceBot
from storage.models import Article, Feed
from storage.outbox.rows import Delivery

DIGEST_TITLES = {"daily": "Your daily digest", "weekly": "Your weekly digest"}
# An embed's title may hold 256 characters.
TITLE_CHARACTERS = 256


def digest_title(mode: str, guild_names: Sequence[str]) -> str:
    """The title naming the servers ("Your daily digest from Harbour Club"), so that a member
    of several tells their digests apart: the names escaped (no markdown, no mention), listed
    when they fit the title, else counted."""
    title = DIGEST_TITLES.get(mode, "Your digest")
    names = [plain(name, 80) for name in sorted(set(guild_names), key=str.casefold)]
    if not names:
        return title
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    whole = f"{title} from {listed}"
    return whole if len(whole) <= TITLE_CHARACTERS else f"{title} from {len(names)} servers"


def alert_embed(
    article: Article,
    related: Sequence[Article],
    delivery: Delivery,
    guild_name: str | None = None,
) -> discord.Embed:
    """The article card; a DM also says why the member got it, naming the server whose
    subscription it came through (a member of several servers follows topics in each, and
    the Unsubscribe button stops only that server's)."""
    note = None
    if delivery.target_kind == "dm":
        topic = clip(delivery.topic_name or "a topic", 100)
        where = f" in {clip(guild_name, 80)}" if guild_name else ""
        note = " · ".join(
            part
            for part in (f"You follow {topic}{where} (quality {article.quality})", delivery.note)
            if part
        )
    return article_embed(article, related=related, note=note)


def _why(delivery: Delivery) -> str:
    """The topic that matched, and any note (such as a move to the digest)."""
    return " · ".join(part for part in (delivery.topic_name or "a topic", delivery.note) if part)


def digest_embeds(
    mode: str,
    rows: Sequence[Delivery],
    articles: Mapping[int, Article],
    guild_names: Mapping[int, str],
    *,
    limit: int,
) -> list[discord.Embed]:
    """One embed listing the best items (each once), with the count of the rest."""
    seen: set[int] = set()
    lines: list[str] = []
    servers: set[int] = set()
    for row in rows:
        article = articles.get(row.article_pk)
        if article is None or row.article_pk in seen:
            continue
        seen.add(row.article_pk)
        servers.add(row.guild_id)
        if len(lines) < limit:
            where = plain(guild_names.get(row.guild_id, ""), 60)
            lines.append(
                f"**{len(lines) + 1}.** {link_line(article, 320)} · quality {article.quality}"
                f"\n  _{plain(_why(row), 100)} · {where}_"
            )
    # whole items only: a cut one can end inside its link; the rest are counted below
    description, shown = fit_lines(lines, 4000, more=None)
    hidden = len(seen) - shown
    embed = discord.Embed(
        title=digest_title(mode, [guild_names.get(g, f"server {g}") for g in servers]),
        description=description,
        colour=BRAND_COLOUR,
    )
    footer = f"{len(seen)} new article{'s' if len(seen) != 1 else ''}"
    if hidden:
        footer += f" · {hidden} more not shown (see /latest)"
    embed.set_footer(text=footer)
    return [embed]


def paused_feed_notice(feed: Feed, guild_name: str, reason: str) -> str:
    """The one message moderators get when a feed stops posting."""
    topic = plain(feed.topic_name, 80) if feed.topic_name else "every topic"
    return clip(
        f"The topicbot feed for **{topic}** in <#{feed.channel_id}> "
        f"({plain(guild_name, 80)}) is paused: {reason}.",
        2000,
    )


class UnsubscribeButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"tb:unsub:(?P<guild>\d{1,20}):(?P<topic>\d{1,20})",
):
    """In an alert DM: stop following the topic that caused it (works after restarts)."""

    def __init__(self, guild_id: int, topic_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Unsubscribe from this topic",
                style=discord.ButtonStyle.secondary,
                custom_id=f"tb:unsub:{guild_id}:{topic_id}",
            )
        )
        self.guild_id = guild_id
        self.topic_id = topic_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> UnsubscribeButton:
        """Rebuild the button from its custom id (one whose numbers are out of range does
        nothing: the bot answers it as a button that no longer works)."""
        if not in_range(match["guild"], match["topic"]):
            return cls(0, 0)
        return cls(int(match["guild"]), int(match["topic"]))

    async def callback(  # type: ignore[override]  # registered on a ServiceBot only
        self, interaction: discord.Interaction[ServiceBot]
    ) -> None:
        """Unsubscribe the member who clicked (only ever themselves)."""
        if not self.guild_id:
            return
        try:
            name = await interaction.client.services.subscriptions.unsubscribe_topic_id(
                self.guild_id, interaction.user.id, self.topic_id
            )
            await interaction.response.send_message(
                await unsubscribed(interaction.client, self.guild_id, name), ephemeral=True
            )
        except Exception as error:
            await report_error(interaction, error, "unsubscribe button")


async def unsubscribed(client: ServiceBot, guild_id: int, topic_name: str) -> str:
    """The reply to Unsubscribe, naming the server whose subscription went: as Discord has it
    (this process's cache, else a request: the server may be another process's shard), or as
    it was when it removed the bot (nothing brings the subscription back then)."""
    topic = f"**{plain(topic_name, 80)}**"
    name = await client.services.servers.name_when_left(guild_id)
    if name is not None:
        return f"Unsubscribed from {topic} in {plain(name, 80)}."
    try:
        name = await DiscordSender(client).guild_name(guild_id)
    except (TimeoutError, aiohttp.ClientError, OSError):
        name = None
    if not name:
        return f"Unsubscribed from {topic} in the server this alert came from."
    return f"Unsubscribed from {topic} in {plain(name, 80)}. `/subscribe` there brings it back."
