"""Moderators' commands: /publish, /unpublish, /queue (with buttons), /article add."""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TopicBot
from bot.checks import (
    NOT_A_MODERATOR,
    guild_id_of,
    member_is_moderator,
    moderator_only,
)
from bot.domain.text import clip, headline
from bot.errors import report_error
from bot.ui.choices import article_choices
from bot.ui.embeds import BRAND_COLOUR, plain
from bot.ui.moderation import queue_item_embed
from bot.ui.pages import nav_buttons, page_renderer

QUEUE_PAGE_SIZE = 4  # two buttons per item on its own row, plus a row for paging


class QueueDecision(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"tb:queue:(?P<action>publish|reject):(?P<article>[a-z0-9]{1,40}):(?P<page>\d{1,6})",
):
    """Publish or Reject one queued article; the queue message is updated in place."""

    def __init__(self, action: str, article_id: str, page: int, *, index: int = 0) -> None:
        publish = action == "publish"
        super().__init__(
            discord.ui.Button(
                label=f"{'Publish' if publish else 'Reject'} {index}".strip(),
                style=discord.ButtonStyle.success if publish else discord.ButtonStyle.danger,
                custom_id=f"tb:queue:{action}:{article_id}:{page}",
                row=index - 1 if index else None,
            )
        )
        self.action = action
        self.article_id = article_id
        self.page = page

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> QueueDecision:
        """Rebuild the button from its custom id."""
        return cls(match["action"], match["article"], int(match["page"]))

    async def callback(  # type: ignore[override]  # registered on a TopicBot only
        self, interaction: discord.Interaction[TopicBot]
    ) -> None:
        """Record the decision, then show the queue page again with a note of what happened."""
        try:
            if not await member_is_moderator(interaction):
                raise app_commands.CheckFailure(NOT_A_MODERATOR)
            moderation = interaction.client.services.moderation
            guild_id, actor = guild_id_of(interaction), interaction.user.id
            if self.action == "publish":
                decided = await moderation.publish(guild_id, actor, self.article_id)
                note = f"✅ Published “{plain(headline(decided.article.title), 150)}”."
            else:
                decided = await moderation.reject(guild_id, actor, self.article_id)
                note = f"🗑️ Rejected “{plain(headline(decided.article.title), 150)}”."
            embeds, view = await render_queue_page(interaction, self.page)
            await interaction.response.edit_message(content=note, embeds=embeds, view=view)
        except Exception as error:
            await report_error(interaction, error, f"queue {self.action}")


@page_renderer("queue")
async def render_queue_page(
    interaction: discord.Interaction[TopicBot], page: int
) -> tuple[list[discord.Embed], discord.ui.View]:
    """One page of the review queue, with a Publish and a Reject button per article."""
    if not await member_is_moderator(interaction):
        raise app_commands.CheckFailure(NOT_A_MODERATOR)
    listing = await interaction.client.services.moderation.queue(
        guild_id_of(interaction), page, page_size=QUEUE_PAGE_SIZE
    )
    view = discord.ui.View(timeout=None)
    embeds = []
    for index, item in enumerate(listing.items, start=1):
        embeds.append(queue_item_embed(index, item))
        for action in ("publish", "reject"):
            view.add_item(QueueDecision(action, item.article.id, listing.number, index=index))
    if not embeds:
        embeds.append(
            discord.Embed(
                title="Review queue", description="Nothing is waiting. 🎉", colour=BRAND_COLOUR
            )
        )
    if listing.pages > 1:
        for button in nav_buttons("queue", listing.number, listing.pages, row=4):
            view.add_item(button)
    embeds[-1].set_footer(
        text=clip(
            f"{embeds[-1].footer.text + ' · ' if embeds[-1].footer.text else ''}"
            f"{listing.total} pending · page {listing.number} of {listing.pages}",
            300,
        )
    )
    return embeds, view


article_group = app_commands.Group(
    name="article",
    description="Add articles by hand",
    guild_only=True,
    default_permissions=discord.Permissions(manage_guild=True),
)


class Moderation(commands.Cog):
    """Publication decisions for the moderators of each server."""

    article = article_group

    def __init__(self, bot: TopicBot) -> None:
        self.bot = bot
        self.moderation = bot.services.moderation

    @app_commands.command(name="publish", description="Publish a pending article in this server")
    @app_commands.describe(article="A pending article (start typing its title)")
    @moderator_only()
    async def publish(self, interaction: discord.Interaction[TopicBot], article: str) -> None:
        """Publish an article here."""
        decided = await self.moderation.publish(
            guild_id_of(interaction), interaction.user.id, article
        )
        title = plain(headline(decided.article.title), 200)
        await interaction.response.send_message(
            f"Published “{title}” (`{decided.article.id}`) here.", ephemeral=True
        )

    @publish.autocomplete("article")
    async def publish_article(
        self, interaction: discord.Interaction[TopicBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Articles pending in this server."""
        if interaction.guild_id is None or not await member_is_moderator(interaction):
            return []
        return article_choices(
            await self.moderation.suggest(interaction.guild_id, current, "pending")
        )

    @app_commands.command(name="unpublish", description="Retract an article in this server")
    @app_commands.describe(article="A published article (start typing its title)")
    @moderator_only()
    async def unpublish(self, interaction: discord.Interaction[TopicBot], article: str) -> None:
        """Retract an article here."""
        decided = await self.moderation.unpublish(
            guild_id_of(interaction), interaction.user.id, article
        )
        title = plain(headline(decided.article.title), 200)
        await interaction.response.send_message(
            f"Retracted “{title}” (`{decided.article.id}`) here.", ephemeral=True
        )

    @unpublish.autocomplete("article")
    async def unpublish_article(
        self, interaction: discord.Interaction[TopicBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Articles published in this server."""
        if interaction.guild_id is None or not await member_is_moderator(interaction):
            return []
        return article_choices(
            await self.moderation.suggest(interaction.guild_id, current, "published")
        )

    @app_commands.command(name="queue", description="Review pending articles")
    @moderator_only()
    async def queue(self, interaction: discord.Interaction[TopicBot]) -> None:
        """Pending articles, newest first, with Publish and Reject buttons."""
        embeds, view = await render_queue_page(interaction, 1)
        await interaction.response.send_message(embeds=embeds, view=view, ephemeral=True)

    @article.command(name="add", description="Add an article by hand")
    @app_commands.describe(
        url="The article's link (https://...)",
        title="Its headline",
        topics="Topics, separated by commas",
        excerpt="A sentence or two about it (optional)",
        quality="0-100 (default 50)",
        publish="Publish it here at once (default no)",
    )
    @moderator_only()
    async def article_add(
        self,
        interaction: discord.Interaction[TopicBot],
        url: app_commands.Range[str, 1, 2048],
        title: app_commands.Range[str, 1, 300],
        topics: app_commands.Range[str, 1, 1000],
        excerpt: app_commands.Range[str, 0, 2000] = "",
        quality: app_commands.Range[int, 0, 100] = 50,
        publish: bool = False,
    ) -> None:
        """StoreApi an article for this server only, optionally publishing it."""
        added = await self.moderation.add_article(
            guild_id_of(interaction),
            interaction.user.id,
            url=url,
            title=title,
            topics=topics,
            excerpt=excerpt,
            quality=quality,
            publish=publish,
        )
        state = "and published it" if added.state == "published" else "to the queue"
        await interaction.response.send_message(
            f"Added “{plain(headline(added.article.title), 200)}” (`{added.article.id}`) {state}.",
            ephemeral=True,
        )


async def setup(bot: TopicBot) -> None:
    """Load the moderators' commands and their restart-proof buttons."""
    bot.add_dynamic_items(QueueDecision)
    await bot.add_cog(Moderation(bot))
