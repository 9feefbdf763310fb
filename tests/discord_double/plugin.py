"""Pytest fixtures: ``discord_double``, ``discord_world`` and ``start_bot``.

Enable with ``pytest_plugins = ["tests.discord_double.plugin"]`` in a conftest.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import discord
import pytest_asyncio

from .client import running_bot
from .server import DiscordDouble
from .state import MANAGE_GUILD, Channel, Guild, Role, User

# send messages, embed links, attach files, read history, view channel, use app commands
BOT_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31)


@dataclass
class GuildWorld:
    """One guild of the test world and its cast."""

    guild: Guild
    owner: User
    moderator: User
    members: list[User]
    general: Channel
    alerts: Channel
    moderator_role: Role
    member_role: Role
    bot_role: Role

    @property
    def id(self) -> int:
        """The guild id."""
        return self.guild.id


@dataclass
class DoubleWorld:
    """Guilds built by :func:`build_world`."""

    guilds: list[GuildWorld] = field(default_factory=list)

    @property
    def first(self) -> GuildWorld:
        """The first guild."""
        return self.guilds[0]

    @property
    def second(self) -> GuildWorld:
        """The second guild."""
        return self.guilds[1]


def build_guild(
    double: DiscordDouble, name: str, members: int = 2, *, shard: tuple[int, int] | None = None
) -> GuildWorld:
    """A guild with an owner, a moderator (Manage Server), plain members, two text channels;
    on shard ``shard`` (shard_id, shard_count) when given."""
    world = double.world
    owner = world.add_user(f"{name}-owner")
    guild = world.add_guild(name, owner, shard=shard)
    moderator_role = world.add_role(guild, "Moderators", MANAGE_GUILD)
    member_role = world.add_role(guild, "Readers")
    member_role.mentionable = True  # "Allow anyone to @mention this role"
    bot_role = world.add_role(guild, world.bot_user.username, BOT_PERMISSIONS)
    bot_role.managed = True
    bot_role.tags = {"bot_id": str(world.bot_user.id)}
    guild.members[world.bot_user.id].roles = [bot_role.id]
    moderator = world.add_user(f"{name}-mod")
    world.add_member(guild, moderator, [moderator_role])
    plain = [world.add_user(f"{name}-member{i}") for i in range(members)]
    for user in plain:
        world.add_member(guild, user, [member_role])
    return GuildWorld(
        guild=guild,
        owner=owner,
        moderator=moderator,
        members=plain,
        general=world.add_channel(guild, "general"),
        alerts=world.add_channel(guild, "alerts"),
        moderator_role=moderator_role,
        member_role=member_role,
        bot_role=bot_role,
    )


def build_world(
    double: DiscordDouble, guilds: int = 2, members: int = 2, *, shard_count: int | None = None
) -> DoubleWorld:
    """``guilds`` guilds built with :func:`build_guild` (call before the bot connects); with
    ``shard_count``, guild ``i`` is on shard ``i % shard_count``."""
    return DoubleWorld(
        [
            build_guild(
                double,
                f"guild{i + 1}",
                members,
                shard=None if shard_count is None else (i % shard_count, shard_count),
            )
            for i in range(guilds)
        ]
    )


@pytest_asyncio.fixture
async def discord_double() -> AsyncIterator[DiscordDouble]:
    """A running Discord double; the test fails if the bot hit anything it refused."""
    async with DiscordDouble() as double:
        yield double
    assert double.errors == [], "the Discord double refused requests:\n" + "\n".join(double.errors)


@pytest_asyncio.fixture
async def discord_world(discord_double: DiscordDouble) -> DoubleWorld:
    """Two guilds with owners, moderators, members, channels and roles."""
    return build_world(discord_double)


StartBot = Callable[[discord.Client], Awaitable[discord.Client]]


@pytest_asyncio.fixture
async def start_bot(discord_double: DiscordDouble) -> AsyncIterator[StartBot]:
    """``await start_bot(client)`` connects a real client to the double until teardown."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(client: discord.Client) -> discord.Client:
            return await stack.enter_async_context(running_bot(discord_double, client))

        yield start
