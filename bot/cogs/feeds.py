"""/feed add, /feed remove, /feed list: route topics to channels (moderators only)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.answers import reply
from bot.app import TopicBot
from bot.checks import (
    NOT_A_MODERATOR,
    check_can_post,
    check_not_a_bots_role,
    check_same_guild,
    guild_id_of,
    member_is_moderator,
    moderator_only,
)
from bot.domain.feeds import check_mention_role, feed_topics_matching
from bot.domain.replans import now_passing
from bot.domain.text import clip, readable
from bot.permissions import permission_problem
from bot.ui.choices import topic_choices
from bot.ui.embeds import BRAND_COLOUR
from bot.ui.feeds import describe_feed
from bot.ui.pages import lines_page, page_renderer, view_of
from storage.outbox.health import HealthCounts


@page_renderer("feeds")
async def render_feeds_page(
    interaction: discord.Interaction[TopicBot], page: int
) -> tuple[list[discord.Embed], discord.ui.View]:
    """Page ``page`` of /feed list: every feed of this server with its health, with the
    navigation when there is more than one page (a server may have up to
    ``commands.max_feeds_per_guild``)."""
    if not await member_is_moderator(interaction):
        raise app_commands.CheckFailure(NOT_A_MODERATOR)
    services = interaction.client.services
    guild_id = guild_id_of(interaction)
    feeds = await services.feeds.of_guild(guild_id)
    health = await services.feeds.health(guild_id)
    bar = await services.guild_settings.min_quality(guild_id)
    guild = interaction.guild
    assert guild is not None  # a moderator is a member of this server
    lines = [
        describe_feed(
            f,
            bar,
            health.get(f.id, HealthCounts()),
            permission_problem(guild, f.channel_id, f.mention_role_id),
        )
        for f in feeds
    ]
    shown = lines_page("feeds", lines, page)
    embed = discord.Embed(
        title="Feeds",
        description=shown.text or "No feeds yet. Add one with `/feed add`.",
        colour=BRAND_COLOUR,
    )
    footer = f"server quality bar: {bar}"
    if shown.pages > 1:
        footer += f" · {len(feeds)} feeds · page {shown.number} of {shown.pages}"
    embed.set_footer(text=footer)
    return [embed], view_of(shown.buttons)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class FeedCommands(
    commands.GroupCog, group_name="feed", group_description="Route topics to channels"
):
    """Channel feeds."""

    def __init__(self, bot: TopicBot) -> None:
        self.bot = bot
        self.feeds = bot.services.feeds
        super().__init__()

    @app_commands.command(name="add", description="Post a topic's new articles in a channel")
    @app_commands.describe(
        channel="Where to post",
        topic="Which topic (leave out for every topic)",
        min_quality="Only articles at least this good (0-100; default: the server's bar)",
        mention_role="A role to mention with each post (optional)",
    )
    @moderator_only()
    async def add(
        self,
        interaction: discord.Interaction[TopicBot],
        channel: discord.TextChannel,
        topic: str | None = None,
        min_quality: app_commands.Range[int, 0, 100] | None = None,
        mention_role: discord.Role | None = None,
    ) -> None:
        """Create or update a feed."""
        check_same_guild(interaction, channel, "channel")
        if mention_role is not None:
            check_same_guild(interaction, mention_role, "role")
            check_mention_role(guild_id_of(interaction), mention_role.id)  # before its permission
            check_not_a_bots_role(
                mention_role,
                "mention_role",
                ", so it would ping no one. Pick a role your readers have, or leave it out.",
            )
        check_can_post(interaction, channel.id, mention_role)
        added = await self.feeds.add(
            guild_id_of(interaction),
            channel.id,
            topic_text=topic,
            min_quality=min_quality,
            mention_role_id=mention_role.id if mention_role else None,
            actor_id=interaction.user.id,
        )
        bar = await self.bot.services.guild_settings.min_quality(guild_id_of(interaction))
        verb = "Added" if added.saved.created else "Updated"
        passing = now_passing(added.now_passing, f"will be posted in <#{channel.id}> shortly")
        await reply(
            interaction,
            f"{verb} feed: {describe_feed(added.saved.feed, bar)}"
            + (f"\n{passing}" if passing else ""),
        )

    @add.autocomplete("topic")
    async def add_topic(
        self, interaction: discord.Interaction[TopicBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Known topics."""
        if interaction.guild_id is None:
            return []
        topics = self.bot.services.subscriptions
        return topic_choices(await topics.suggest_topics(interaction.guild_id, current))

    @app_commands.command(name="remove", description="Stop posting in a channel")
    @app_commands.describe(
        channel="The channel", topic="Only this topic's feed (leave out for all of the channel's)"
    )
    @moderator_only()
    async def remove(
        self,
        interaction: discord.Interaction[TopicBot],
        channel: discord.TextChannel,
        topic: str | None = None,
    ) -> None:
        """Remove one feed, or all of a channel's feeds."""
        check_same_guild(interaction, channel, "channel")
        removed = await self.feeds.remove(
            guild_id_of(interaction), channel.id, topic_text=topic, actor_id=interaction.user.id
        )
        await reply(
            interaction,
            f"Removed {removed} feed{'s' if removed != 1 else ''} from <#{channel.id}>.",
        )

    @remove.autocomplete("topic")
    async def remove_topic(
        self, interaction: discord.Interaction[TopicBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Topics this server has feeds for that hold the typed text, accents or none
        (``bot.domain.feeds.feed_topics_matching``)."""
        if interaction.guild_id is None:
            return []
        feeds = await self.feeds.of_guild(interaction.guild_id)
        names = feed_topics_matching(feeds, current)
        return [
            app_commands.Choice(name=clip(readable(n), 100) or "?", value=n[:100])
            for n in names[:25]
        ]

    @app_commands.command(name="list", description="This server's feeds")
    @moderator_only()
    async def list_feeds(self, interaction: discord.Interaction[TopicBot]) -> None:
        """Every feed of this server, with its health, a page at a time."""
        embeds, view = await render_feeds_page(interaction, 1)
        await reply(interaction, embeds=embeds, view=view)


async def setup(bot: TopicBot) -> None:
    """Load the feed commands."""
    await bot.add_cog(FeedCommands(bot))
