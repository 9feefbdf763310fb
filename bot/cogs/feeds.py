"""/feed add, /feed remove, /feed list: route topics to channels (moderators only)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TopicBot
from bot.checks import check_can_post, check_same_guild, guild_id_of, moderator_only
from bot.domain.feeds import check_mention_role
from bot.domain.text import clip, readable
from bot.permissions import permission_problem
from bot.ui.choices import topic_choices
from bot.ui.embeds import BRAND_COLOUR, fit_lines
from bot.ui.feeds import describe_feed
from storage.outbox.health import HealthCounts


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
        check_can_post(interaction, channel.id, mention_role)
        saved = await self.feeds.add(
            guild_id_of(interaction),
            channel.id,
            topic_text=topic,
            min_quality=min_quality,
            mention_role_id=mention_role.id if mention_role else None,
            actor_id=interaction.user.id,
        )
        bar = await self.bot.services.guild_settings.min_quality(guild_id_of(interaction))
        verb = "Added" if saved.created else "Updated"
        await interaction.response.send_message(
            f"{verb} feed: {describe_feed(saved.feed, bar)}", ephemeral=True
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
        await interaction.response.send_message(
            f"Removed {removed} feed{'s' if removed != 1 else ''} from <#{channel.id}>.",
            ephemeral=True,
        )

    @remove.autocomplete("topic")
    async def remove_topic(
        self, interaction: discord.Interaction[TopicBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Topics this server has feeds for."""
        if interaction.guild_id is None:
            return []
        feeds = await self.feeds.of_guild(interaction.guild_id)
        names = sorted({f.topic_name for f in feeds if f.topic_name})
        typed = current.casefold().strip()
        return [
            app_commands.Choice(name=clip(readable(n), 100) or "?", value=n[:100])
            for n in names
            if typed in n.casefold()
        ][:25]

    @app_commands.command(name="list", description="This server's feeds")
    @moderator_only()
    async def list_feeds(self, interaction: discord.Interaction[TopicBot]) -> None:
        """Every feed of this server, with its health."""
        guild_id = guild_id_of(interaction)
        feeds = await self.feeds.of_guild(guild_id)
        health = await self.feeds.health(guild_id)
        bar = await self.bot.services.guild_settings.min_quality(guild_id)
        guild = interaction.guild
        assert guild is not None  # moderator_only checked it
        lines = [
            describe_feed(
                f,
                bar,
                health.get(f.id, HealthCounts()),
                permission_problem(guild, f.channel_id, f.mention_role_id),
            )
            for f in feeds
        ]
        description = (
            fit_lines(lines, 4000)[0] if lines else "No feeds yet. Add one with `/feed add`."
        )
        embed = discord.Embed(title="Feeds", description=description, colour=BRAND_COLOUR)
        embed.set_footer(text=f"server quality bar: {bar}")
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: TopicBot) -> None:
    """Load the feed commands."""
    await bot.add_cog(FeedCommands(bot))
