"""Command checks: in a server, and (for moderator commands) a moderator there.

``moderator_only`` also marks the command ``default_permissions(manage_guild=True)`` so
Discord hides it from members; the check is what stops a crafted interaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.config import CommandSettings
from bot.domain.errors import UserError
from bot.permissions import permission_problem
from bot.ui.embeds import plain
from bot.wiring import ServiceBot

T = TypeVar("T")
Interaction = discord.Interaction[ServiceBot]

NOT_A_MODERATOR = (
    "Only moderators can do this: you need the Manage Server permission "
    "or this server's moderator role."
)


def guild_id_of(interaction: discord.Interaction[Any]) -> int:
    """The interaction's guild id; commands run here only after ``in_guild`` passed."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


async def member_is_moderator(interaction: Interaction) -> bool:
    """Manage Server (as Discord computed it for this interaction) or the moderator role."""
    guild_id = guild_id_of(interaction)
    # Role ids as the interaction carries them: Member.roles would drop roles missing from
    # the cache (one created a moment ago, say).
    roles = {int(role_id) for role_id in getattr(interaction.user, "_roles", ())}
    return await interaction.client.services.moderation.is_moderator(
        guild_id, can_manage_guild=interaction.permissions.manage_guild, role_ids=roles
    )


async def _in_guild(interaction: Interaction) -> bool:
    guild_id_of(interaction)
    return True


async def _moderator(interaction: Interaction) -> bool:
    if not await member_is_moderator(interaction):
        raise app_commands.CheckFailure(NOT_A_MODERATOR)
    return True


def in_guild() -> Callable[[T], T]:
    """Offer the command in servers only, and refuse it in direct messages."""

    def decorate(command: T) -> T:
        return app_commands.guild_only()(app_commands.check(_in_guild)(command))

    return decorate


def moderator_only() -> Callable[[T], T]:
    """A moderator command: hidden from members without Manage Server (Discord ignores
    this on a subcommand: its group says it), never offered in DMs, and refused to members
    who are not moderators of the server."""

    def decorate(command: T) -> T:
        hidden = app_commands.default_permissions(manage_guild=True)
        return app_commands.guild_only()(hidden(app_commands.check(_moderator)(command)))

    return decorate


def member_cooldown(limit: Callable[[CommandSettings], int]) -> Callable[[T], T]:
    """At most ``limit(settings)`` uses a minute per member and server; past that the member
    is told when to try again."""

    def factory(interaction: Interaction) -> app_commands.Cooldown:
        return app_commands.Cooldown(limit(interaction.client.settings.commands), 60.0)

    def key(interaction: Interaction) -> tuple[int | None, int]:
        return interaction.guild_id, interaction.user.id

    return app_commands.checks.dynamic_cooldown(factory, key=key)


def check_same_guild(
    interaction: discord.Interaction[Any], thing: discord.abc.Snowflake, name: str
) -> None:
    """Refuse a channel or role that belongs to another server (a crafted interaction).

    Resolved options are built as if they belonged to this guild, so they are checked against
    the guild's own channels and roles instead."""
    guild = interaction.guild
    if guild is None:
        known = False
    elif isinstance(thing, discord.Role):
        known = guild.get_role(thing.id) is not None
    else:
        known = guild.get_channel_or_thread(thing.id) is not None
    if not known:
        raise UserError(f"That {name} is not in this server. Pick one from the list.")


def check_not_a_bots_role(role: discord.Role, option: str, instead: str) -> None:
    """Refuse a bot's own role (Discord gives it to that bot alone: no member holds it, so as
    the moderator role it makes no one a moderator, and mentioned it pings no one), saying
    what to pick ``instead``."""
    if role.is_bot_managed():
        raise UserError(
            f"`{option}` can't be @{plain(role.name, 80)}: it is a bot's own role, which "
            f"Discord gives to that bot alone{instead}"
        )


def check_can_post(
    interaction: discord.Interaction[Any], channel_id: int, role: discord.Role | None
) -> None:
    """Refuse a feed the bot could not post (a failure at its first article otherwise)."""
    guild = interaction.guild
    assert guild is not None  # check_same_guild passed
    problem = permission_problem(guild, channel_id, role.id if role else None)
    if problem:
        raise UserError(
            f"Not added: {problem}. Give my role those permissions in the channel's settings "
            "(Edit Channel → Permissions), then run `/feed add` again."
        )
