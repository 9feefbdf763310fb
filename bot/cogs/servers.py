"""Listeners for servers and channels coming and going (no commands): the bot removed from a
server or invited back, a routed channel deleted, a member back in a server after leaving it."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
from discord.ext import commands

from bot.app import TopicBot
from bot.errors import tell_if_resumed


class ServerEvents(commands.Cog):
    """Keeps the store in step with what Discord says the bot can reach."""

    def __init__(self, bot: TopicBot) -> None:
        self.bot = bot
        self.servers = bot.services.servers
        # discord.py runs each listener as a task of its own: without this, a kick's handling
        # could end after that of the invitation that followed it (PostgreSQL's pool runs them
        # side by side), leaving the server marked as removed while the bot is in it. The
        # lock hands itself on first come, first served, which is the events' order.
        self._in_order = asyncio.Lock()

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Kicked, banned, or the server deleted (an outage is ``on_guild_unavailable``)."""
        async with self._in_order:
            await self.servers.removed(guild.id, guild.name or None)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Invited (back): channels deleted while it was away take their feeds with them."""
        async with self._in_order:
            await self._seen(guild)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        """Seen at connection (``on_ready`` then checks every feed at once), or back after an
        outage."""
        async with self._in_order:
            if self.bot.is_ready():
                await self._seen(guild)
            else:
                await self.servers.present(guild.id)

    async def _seen(self, guild: discord.Guild) -> None:
        await self.servers.present(guild.id)
        channels = [channel.id for channel in guild.channels]
        await self.servers.channels_gone(
            guild.id, channels, actor_id=self._me(), deleted=self._deleted
        )

    async def _deleted(self, channel_id: int) -> bool:
        """Whether Discord says the channel does not exist (a channel merely hidden from the
        bot answers 403, and keeps its feeds: they pause when a post is refused)."""
        try:
            await self.bot.fetch_channel(channel_id)
        except discord.NotFound:
            return True
        except discord.HTTPException:
            return False
        return False

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """What changed while the bot was offline, when no event came: servers it was removed
        from are not among its servers now, and deleted channels and roles are not in
        theirs."""
        async with self._in_order:
            await self.servers.missing(self._present)
            available = [guild for guild in self.bot.guilds if not guild.unavailable]
            await self.servers.check_every_feed(
                {guild.id: [channel.id for channel in guild.channels] for guild in available},
                {guild.id: [role.id for role in guild.roles] for guild in available},
                actor_id=self._me(),
                deleted=self._deleted,
            )

    def _me(self) -> int:
        assert self.bot.user is not None
        return self.bot.user.id

    def _present(self, guild_id: int) -> bool:
        """Whether the bot is in the guild, for guilds on the shards this process connects
        (another process answers for the others: they count as present here)."""
        bot = self.bot
        count = bot.shard_count or 1
        mine = bot.shard_ids is None or (guild_id >> 22) % count in bot.shard_ids
        return not mine or bot.get_guild(guild_id) is not None

    @commands.Cog.listener()
    async def on_app_command_completion(
        self, interaction: discord.Interaction, command: discord.app_commands.Command[Any, ..., Any]
    ) -> None:
        """A member whose command resumed their subscriptions (they had left the server and
        came back) is told so, under the command's reply."""
        await tell_if_resumed(interaction)

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """A channel deleted takes its feeds with it."""
        async with self._in_order:
            await self.servers.channel_deleted(channel.guild.id, channel.id, actor_id=self._me())

    @commands.Cog.listener()
    async def on_guild_role_delete(self, role: discord.Role) -> None:
        """A role deleted is mentioned by no feed, and moderates no more."""
        async with self._in_order:
            await self.servers.role_deleted(role.guild.id, role.id, actor_id=self._me())


async def setup(bot: TopicBot) -> None:
    """Load the listeners."""
    await bot.add_cog(ServerEvents(bot))
