"""Listeners for servers and channels coming and going (no commands): the bot removed from a
server or invited back, a routed channel deleted."""

from __future__ import annotations

import discord
from discord.ext import commands

from bot.app import TopicBot


class ServerEvents(commands.Cog):
    """Keeps the store in step with what Discord says the bot can reach."""

    def __init__(self, bot: TopicBot) -> None:
        self.bot = bot
        self.servers = bot.services.servers

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Kicked, banned, or the server deleted (an outage is ``on_guild_unavailable``)."""
        await self.servers.removed(guild.id)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Invited (back)."""
        await self.servers.present(guild.id)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        """Seen at connection, or back after an outage (or invited back while offline)."""
        await self.servers.present(guild.id)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Servers the bot was removed from while it was offline: no GUILD_DELETE came, they
        are simply not among its servers now."""
        await self.servers.missing(self._present)

    def _present(self, guild_id: int) -> bool:
        """Whether the bot is in the guild, for guilds on the shards this process connects
        (another process answers for the others: they count as present here)."""
        bot = self.bot
        count = bot.shard_count or 1
        mine = bot.shard_ids is None or (guild_id >> 22) % count in bot.shard_ids
        return not mine or bot.get_guild(guild_id) is not None

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """A channel deleted takes its feeds with it."""
        assert self.bot.user is not None
        await self.servers.channel_deleted(
            channel.guild.id, channel.id, actor_id=self.bot.user.id
        )


async def setup(bot: TopicBot) -> None:
    """Load the listeners."""
    await bot.add_cog(ServerEvents(bot))
