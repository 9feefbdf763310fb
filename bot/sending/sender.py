"""What the dispatcher sends through: post to a channel (a DM is a post to the member's DM
channel), open a DM channel, read a server's name, ask whether a member is still in a server.
All REST: no gateway connection and no
guild cache are needed, so a process that only sends can log in over REST and send."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import discord

# Discord's JSON error code for a user who is not a member of the server asked about.
UNKNOWN_MEMBER = 10007


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message: text and embeds, who it may ping, its nonce, any buttons."""

    nonce: str
    mentions: discord.AllowedMentions
    content: str | None = None
    embeds: Sequence[discord.Embed] = ()
    view: discord.ui.View | None = None


class Sender(Protocol):
    """Discord, as far as the dispatcher needs it. Failures raise discord.py's errors
    (``discord.HTTPException``, ``discord.RateLimited``) or the connection's."""

    async def post(self, channel_id: int, message: Outgoing) -> int:
        """Send ``message`` to a channel (a server's, or a member's DM channel); its id."""
        ...

    async def open_dm(self, user_id: int) -> int:
        """The id of the DM channel with a member (created when there is none yet)."""
        ...

    async def guild_name(self, guild_id: int) -> str | None:
        """The server's name; None when it cannot be read."""
        ...

    async def member_of(self, guild_id: int, user_id: int) -> bool | None:
        """Whether the member is in the server now; None when Discord did not say (an error,
        the bot no longer in the server). A timeout or a dropped connection raises."""
        ...


class DiscordSender:
    """A ``Sender`` over a discord.py client's REST API (a logged-in client is enough)."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def post(self, channel_id: int, message: Outgoing) -> int:
        """Send through a partial channel: no cache lookup, one request."""
        channel = self._client.get_partial_messageable(channel_id)
        options: dict[str, Any] = {"allowed_mentions": message.mentions, "nonce": message.nonce}
        if message.embeds:
            options["embeds"] = list(message.embeds)
        if message.view is not None:
            options["view"] = message.view
        sent = await channel.send(message.content, **options)
        return sent.id

    async def open_dm(self, user_id: int) -> int:
        """POST /users/@me/channels."""
        data = await self._client.http.start_private_message(user_id)
        return int(data["id"])

    async def guild_name(self, guild_id: int) -> str | None:
        """The name as Discord has it now: from the gateway's cache when this client is
        connected (kept current by GUILD_UPDATE, no request), else GET /guilds/{id}."""
        cached = self._client.get_guild(guild_id)
        if cached is not None and cached.name:
            return cached.name
        try:
            data = await self._client.http.get_guild(guild_id)
        except (discord.HTTPException, discord.RateLimited):
            return None
        return str(data["name"])

    async def member_of(self, guild_id: int, user_id: int) -> bool | None:
        """GET /guilds/{id}/members/{user}: needs no members intent. Through the client's HTTP,
        so discord.py keeps to the route's rate-limit bucket (one per server) and to the
        global one; Unknown Member (10007) is the only answer that says "gone"."""
        try:
            await self._client.http.get_member(guild_id, user_id)
        except discord.NotFound as error:
            return False if error.code == UNKNOWN_MEMBER else None
        except (discord.HTTPException, discord.RateLimited):
            return None
        return True
