"""/settings: a server's moderator role and quality bar (moderators only)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import TopicBot
from bot.checks import guild_id_of, moderator_only
from bot.cogs.feeds import check_same_guild
from bot.ui.embeds import BRAND_COLOUR
from storage.models import GuildSettings


def settings_embed(settings: GuildSettings, bar: int) -> discord.Embed:
    """The server's settings as they now stand."""
    role = (
        f"<@&{settings.moderator_role_id}>"
        if settings.moderator_role_id
        else "none (Manage Server only)"
    )
    embed = discord.Embed(title="Server settings", colour=BRAND_COLOUR)
    embed.add_field(name="Moderator role", value=role)
    default = " (default)" if settings.min_quality is None else ""
    embed.add_field(name="Quality bar", value=f"{bar}{default}")
    return embed


class SettingsCommands(commands.Cog):
    """Per-server settings."""

    def __init__(self, bot: TopicBot) -> None:
        self.bot = bot
        self.settings = bot.services.guild_settings

    @app_commands.command(name="settings", description="Show or change this server's settings")
    @app_commands.describe(
        moderator_role="Members with this role can moderate topicbot",
        min_quality="The server's quality bar for posts and /latest (0-100)",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def settings_command(
        self,
        interaction: discord.Interaction,
        moderator_role: discord.Role | None = None,
        min_quality: app_commands.Range[int, 0, 100] | None = None,
    ) -> None:
        """Change the settings given; with none, show them."""
        guild_id = guild_id_of(interaction)
        if moderator_role is not None:
            check_same_guild(interaction, moderator_role, "role")
        updated = await self.settings.update(
            guild_id,
            interaction.user.id,
            moderator_role_id=moderator_role.id if moderator_role else None,
            min_quality=min_quality,
        )
        bar = await self.settings.min_quality(guild_id)
        changed = moderator_role is not None or min_quality is not None
        await interaction.response.send_message(
            "Saved." if changed else None, embed=settings_embed(updated, bar), ephemeral=True
        )


async def setup(bot: TopicBot) -> None:
    """Load the settings command."""
    await bot.add_cog(SettingsCommands(bot))
