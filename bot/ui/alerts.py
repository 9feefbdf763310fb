"""What alerts look like: channel posts and DMs, digests, the unsubscribe button."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord

from bot.answers import answered_in_time, reply
from bot.domain.text import clip
from bot.errors import report_error
from bot.sending.sender import DiscordSender
from bot.ui.embeds import (
    BRAND_COLOUR,
    EMBED_TOTAL_LIMIT,
    LISTING_CHARACTERS,
    MESSAGE_EMBEDS_LIMIT,
    article_embed,
    fit_lines,
    link_line,
    plain,
)
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


# A digest keeps some of a message's 6,000 characters for its footer, and sends what does not
# fit in further messages.
MESSAGE_CHARACTERS = EMBED_TOTAL_LIMIT - 200
# How many compact lines are built for one message at most: more never fit in 6,000.
LINES_PER_MESSAGE = 250
# A listed item's line: its address whole, then a title of up to ~80 characters and the outlet.
COMPACT_TITLE_ROOM = 160
COMPACT_LINE_LIMIT = 1200


@dataclass(frozen=True, slots=True)
class DigestMessage:
    """One message of a digest: its embeds, the rows it shows (every row of each article
    listed, and rows whose article is gone), and how many articles it lists."""

    embeds: list[discord.Embed]
    rows: list[Delivery]
    articles: int


def _digest_items(
    rows: Sequence[Delivery], articles: Mapping[int, Article]
) -> tuple[list[tuple[Article, list[Delivery]]], list[Delivery]]:
    """Each article once (in the rows' order, best first) with all its rows, and the rows
    whose article is gone (nothing to show: they go with the first message)."""
    items: dict[int, tuple[Article, list[Delivery]]] = {}
    gone: list[Delivery] = []
    for row in rows:
        article = articles.get(row.article_pk)
        if article is None:
            gone.append(row)
        elif row.article_pk in items:
            items[row.article_pk][1].append(row)
        else:
            items[row.article_pk] = (article, [row])
    return list(items.values()), gone


def _full_line(number: int, article: Article, row: Delivery, where: str) -> str:
    return (
        f"**{number}.** {link_line(article, 320)} · quality {article.quality}"
        f"\n  _{plain(_why(row), 100)} · {where}_"
    )


def _compact_line(number: int, article: Article, row: Delivery, where: str | None) -> str:
    """A linked title with why it came: the digest's items past the best ones."""
    why = plain(row.topic_name or "a topic", 40)
    if where:
        why += f" · {where}"
    # room for the whole address and a short title: a linked title is all a listed item has
    room = min(len(article.web_url) + COMPACT_TITLE_ROOM, COMPACT_LINE_LIMIT)
    return f"**{number}.** {link_line(article, room)} · _{why}_"


def digest_message(
    mode: str,
    rows: Sequence[Delivery],
    articles: Mapping[int, Article],
    guild_names: Mapping[int, str],
    *,
    limit: int,
    start: int = 0,
    last: bool = False,
) -> DigestMessage:
    """The next message of a digest whose first ``start`` articles went in earlier ones:
    the first shows the best ``limit`` in full, then as many of the rest as fit as numbered
    linked titles; a later one (titled "continued") goes on with linked titles. Every item
    reaches the member: what one message cannot hold comes in the next, unless this is the
    ``last`` message a digest may take, which counts what it leaves out."""
    items, gone = _digest_items(rows, articles)
    servers = {row.guild_id for _, item_rows in items for row in item_rows}
    several = len(servers) > 1
    title = digest_title(mode, [guild_names.get(g, f"server {g}") for g in servers])
    embed = discord.Embed(colour=BRAND_COLOUR)
    shown = 0
    if start == 0:
        embed.title = title
        lines = [
            _full_line(
                n, article, item_rows[0], plain(guild_names.get(item_rows[0].guild_id, ""), 60)
            )
            for n, (article, item_rows) in enumerate(items[:limit], start=1)
        ]
        # whole items only: a cut one can end inside its link
        embed.description, shown = fit_lines(lines, LISTING_CHARACTERS, more=None)
    else:
        embed.title = clip(f"{title} (continued)", TITLE_CHARACTERS)
    embeds = [embed]
    shown += _add_compact(embeds, items, shown, start, guild_names if several else None)
    total = start + len(items)
    end = start + shown
    footer = f"{total} new article{'s' if total != 1 else ''}"
    if start > 0 or end < total:
        footer = f"Articles {start + 1}–{end} of {total}"
        if end < total:
            more = f"{total - end} more not shown (see /latest)"
            footer += f" · {more}" if last else " · continued in the next message"
    embeds[-1].set_footer(text=footer)
    taken = [row for _, item_rows in items[:shown] for row in item_rows]
    return DigestMessage(embeds, taken + gone, shown)


def _add_compact(
    embeds: list[discord.Embed],
    items: Sequence[tuple[Article, list[Delivery]]],
    first: int,
    start: int,
    guild_names: Mapping[int, str] | None,
) -> int:
    """Add ``items`` from ``first`` on as linked titles, in the last embed when it holds no
    list yet, else in new ones, within the message's limits; how many were added."""
    lines = [
        _compact_line(
            start + n + 1,
            article,
            item_rows[0],
            plain(guild_names.get(item_rows[0].guild_id, ""), 40) if guild_names else None,
        )
        for n, (article, item_rows) in enumerate(
            items[first : first + LINES_PER_MESSAGE], start=first
        )
    ]
    used = sum(len(e.title or "") + len(e.description or "") for e in embeds)
    added = 0
    while added < len(lines):
        if embeds[-1].description:
            if len(embeds) == MESSAGE_EMBEDS_LIMIT:
                break
            embeds.append(discord.Embed(colour=BRAND_COLOUR))
        room = min(LISTING_CHARACTERS, MESSAGE_CHARACTERS - used)
        text, count = fit_lines(lines[added:], room, more=None)
        if count == 0:
            if not embeds[-1].description:
                embeds.pop()
            break
        embeds[-1].description = text
        used += len(text)
        added += count
    return added


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
        """Unsubscribe the member who clicked (only ever themselves); acknowledged in time
        when the work (the server's name may be asked of Discord) is slow."""
        if not self.guild_id:
            return
        async with answered_in_time(interaction):
            try:
                name = await interaction.client.services.subscriptions.unsubscribe_topic_id(
                    self.guild_id, interaction.user.id, self.topic_id
                )
                await reply(
                    interaction, await unsubscribed(interaction.client, self.guild_id, name)
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
