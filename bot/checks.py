"""Command checks: in a server, and (for moderator commands) a moderator there.

Moderator commands also carry ``default_permissions(manage_guild=True)`` so Discord hides
them; these checks are what stops a crafted interaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.config import CommandSettings

if TYPE_CHECKING:
    from bot.app import TopicBot

T = TypeVar("T")

NOT_A_MODERATOR = (
    "Only moderators can do this: you need the Manage Server permission "
    "or this server's moderator role."
)


def topicbot(interaction: discord.Interaction) -> TopicBot:
    """The bot behind an interaction."""
    return interaction.client  # type: ignore[return-value]


def guild_id_of(interaction: discord.Interaction) -> int:
    """The interaction's guild id; commands run here only after ``in_guild`` passed."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


async def member_is_moderator(interaction: discord.Interaction) -> bool:
    """Manage Server (as Discord computed it for this interaction) or the moderator role."""
    guild_id = guild_id_of(interaction)
    # Role ids as the interaction carries them: Member.roles would drop roles missing from
    # the cache (one created a moment ago, say).
    roles = {int(role_id) for role_id in getattr(interaction.user, "_roles", ())}
    return await topicbot(interaction).services.moderation.is_moderator(
        guild_id, can_manage_guild=interaction.permissions.manage_guild, role_ids=roles
    )


async def _in_guild(interaction: discord.Interaction) -> bool:
    guild_id_of(interaction)
    return True


async def _moderator(interaction: discord.Interaction) -> bool:
    if not await member_is_moderator(interaction):
        raise app_commands.CheckFailure(NOT_A_MODERATOR)
    return True


def in_guild() -> Callable[[T], T]:
    """Refuse the command in direct messages."""
    return app_commands.check(_in_guild)


def moderator_only() -> Callable[[T], T]:
    """Refuse the command to members who are not moderators of the guild."""
    return app_commands.check(_moderator)


def member_cooldown(limit: Callable[[CommandSettings], int]) -> Callable[[T], T]:
    """At most ``limit(settings)`` uses a minute per member and server; past that the member
    is told when to try again."""

    def factory(interaction: discord.Interaction) -> app_commands.Cooldown:
        return app_commands.Cooldown(limit(topicbot(interaction).settings.commands), 60.0)

    def key(interaction: discord.Interaction) -> tuple[int | None, int]:
        return interaction.guild_id, interaction.user.id

    return app_commands.checks.dynamic_cooldown(factory, key=key)


def moderator_guild_only(cls_or_func: Any) -> Any:
    """Hide from members (``manage_guild``) and from DMs, for group definitions."""
    return app_commands.default_permissions(manage_guild=True)(
        app_commands.guild_only()(cls_or_func)
    )
