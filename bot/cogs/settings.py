"""/settings: a server's moderator role, quality bar and digest schedule (moderators only)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.answers import reply
from bot.app import TopicBot
from bot.checks import check_not_a_bots_role, check_same_guild, guild_id_of, moderator_only
from bot.domain.digests import WEEKDAYS, find_zones
from bot.domain.guild_settings import RESETTABLE
from bot.domain.replans import now_passing
from bot.ui.choices import zone_choices
from bot.ui.embeds import plain
from bot.ui.settings import settings_embed

DAY_CHOICES = [app_commands.Choice(name=day.capitalize(), value=day) for day in WEEKDAYS]
# Named as the options they reset, so a refusal names what the moderator picked.
RESET_CHOICES = [app_commands.Choice(name=name, value=name) for name in RESETTABLE]


class SettingsCommands(commands.Cog):
    """Per-server settings."""

    def __init__(self, bot: TopicBot) -> None:
        self.bot = bot
        self.settings = bot.services.guild_settings

    @app_commands.command(name="settings", description="Show or change this server's settings")
    @app_commands.describe(
        moderator_role="Members with this role can moderate topicbot",
        min_quality="The server's quality bar for posts and /latest (0-100)",
        timezone="The time zone digests follow: type a city, such as Paris or New York",
        digest_time="When daily (and weekly) digests go out, as HH:MM on a 24-hour clock",
        digest_day="The day weekly digests go out",
        reset="Send a setting back to the default (digest schedule: all three of its parts)",
    )
    @app_commands.choices(digest_day=DAY_CHOICES, reset=RESET_CHOICES)
    @moderator_only()
    async def settings_command(
        self,
        interaction: discord.Interaction[TopicBot],
        moderator_role: discord.Role | None = None,
        min_quality: app_commands.Range[int, 0, 100] | None = None,
        timezone: str | None = None,
        digest_time: str | None = None,
        digest_day: str | None = None,
        reset: str | None = None,
    ) -> None:
        """Change the settings given; with none, show them."""
        guild_id = guild_id_of(interaction)
        if moderator_role is not None:
            check_same_guild(interaction, moderator_role, "role")
            check_not_a_bots_role(
                moderator_role,
                "moderator_role",
                ". Pick the role your moderators have (members with Manage Server moderate "
                "already).",
            )
        saved_settings = await self.settings.update(
            guild_id,
            interaction.user.id,
            moderator_role_id=moderator_role.id if moderator_role else None,
            min_quality=min_quality,
            timezone=timezone,
            digest_time=digest_time,
            digest_day=digest_day,
            reset=reset,
        )
        if self.bot.jobs is not None and (timezone or digest_time or digest_day or reset):
            await self.bot.jobs.wake_when_wanted()  # waiting digests may now be due sooner
        bar = await self.settings.min_quality(guild_id)
        digests = await self.settings.next_digests(guild_id)
        options = (moderator_role, min_quality, timezone, digest_time, digest_day, reset)
        changed = any(option is not None for option in options)
        saved = "Saved." if changed else None
        if moderator_role is not None:
            name = self.bot.user.name if self.bot.user else "this bot"
            saved = (
                "Saved. Members with that role can now moderate here, but Discord shows the "
                "moderator commands only to members with Manage Server until you allow the "
                f"role: Server Settings → Integrations → {plain(name, 40)} → Roles & Members."
            )
        passing = now_passing(
            saved_settings.now_passing,
            "will go out shortly to the feeds and members that take {them}",
        )
        if passing:
            saved = f"{saved} {passing}"
        await reply(
            interaction,
            saved,
            embeds=[settings_embed(saved_settings.settings, bar, digests)],
        )

    @settings_command.autocomplete("timezone")
    async def settings_timezone(
        self, interaction: discord.Interaction[TopicBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Time zones whose city (or name) matches what was typed."""
        return zone_choices(find_zones(current), self.bot.clock())


async def setup(bot: TopicBot) -> None:
    """Load the settings command."""
    await bot.add_cog(SettingsCommands(bot))
