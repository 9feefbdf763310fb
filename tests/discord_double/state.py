"""Plain-data model of the fake Discord world: guilds, channels, roles, members, messages."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000

# Channel types (https://discord.com/developers/docs/resources/channel#channel-object-channel-types)
GUILD_TEXT = 0
DM = 1
GUILD_VOICE = 2
GUILD_CATEGORY = 4
GUILD_ANNOUNCEMENT = 5

ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
MENTION_EVERYONE = 1 << 17
# Overwrite types (https://discord.com/developers/docs/resources/channel#overwrite-object)
ROLE_OVERWRITE = 0
MEMBER_OVERWRITE = 1
ALL_PERMISSIONS = (1 << 51) - 1
# @everyone defaults: view channel, send messages, embed links, read history, use app commands...
DEFAULT_EVERYONE_PERMISSIONS = (
    (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 18) | (1 << 31) | (1 << 6)
)


class SnowflakeFactory:
    """Generates real-looking, strictly increasing snowflakes (so timestamps decode sensibly)."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._last = 0

    def next(self) -> int:
        """Return a fresh snowflake id."""
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        candidate = (ms << 22) | (next(self._counter) & 0xFFF)
        self._last = max(candidate, self._last + 1)
        return self._last

    def next_on_shard(self, shard_id: int, shard_count: int) -> int:
        """A fresh snowflake whose server would be on shard ``shard_id`` of ``shard_count``
        (its millisecond part moved forward to the next that maps there)."""
        ms = max(self.next() >> 22, (self._last >> 22) + 1)
        ms += (shard_id - ms) % shard_count
        self._last = (ms << 22) | (next(self._counter) & 0xFFF)
        return self._last


@dataclass
class User:
    """A Discord user (human or bot)."""

    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    accepts_dms: bool = True


@dataclass
class Role:
    """A guild role; the @everyone role shares its id with the guild."""

    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    managed: bool = False
    mentionable: bool = False
    # Discord's role tags: {"bot_id": "..."} on a bot's own role, {"integration_id": "..."}
    # on an integration's, {"premium_subscriber": None} on the Server Booster role
    tags: dict[str, str | None] | None = None


@dataclass
class Overwrite:
    """A channel permission overwrite for a role (or @everyone, the guild's id) or a member."""

    id: int
    type: int = ROLE_OVERWRITE
    allow: int = 0
    deny: int = 0


@dataclass
class Channel:
    """A guild channel or a DM channel (guild_id None, recipient_id set)."""

    id: int
    type: int
    name: str = ""
    guild_id: int | None = None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    recipient_id: int | None = None
    last_message_id: int | None = None
    overwrites: list[Overwrite] = field(default_factory=list)


@dataclass
class Member:
    """A user's membership in a guild."""

    guild_id: int
    user_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = "2024-01-01T00:00:00.000000+00:00"
    flags: int = 0


@dataclass
class Guild:
    """A guild and everything in it."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    locale: str = "en-US"


@dataclass
class Message:
    """A message as the double stored it (request fields kept verbatim)."""

    id: int
    channel_id: int
    author_id: int
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    allowed_mentions: dict[str, Any] | None = None
    flags: int = 0
    nonce: int | str | None = None
    enforce_nonce: bool = False
    attachments: list[dict[str, Any]] = field(default_factory=list)
    guild_id: int | None = None
    interaction_id: int | None = None
    webhook_id: int | None = None
    type: int = 0
    created_at: float = field(default_factory=time.monotonic)
    edits: list[dict[str, Any]] = field(default_factory=list)
    edited_timestamp: str | None = None
    deleted: bool = False

    @property
    def ephemeral(self) -> bool:
        """Whether the EPHEMERAL flag (64) is set."""
        return bool(self.flags & 64)

    def apply_edit(self, body: dict[str, Any]) -> None:
        """Apply a PATCH body: keys present replace the stored values."""
        self.edits.append(body)
        self.edited_timestamp = dt.datetime.now(dt.UTC).isoformat()
        for key in ("content", "embeds", "components", "allowed_mentions", "attachments"):
            if key in body:
                value = body[key]
                setattr(self, key, value if value is not None else _empty_of(key))
        if body.get("flags") is not None:
            # Only SUPPRESS_EMBEDS can change on edit; ephemeral/loading are sticky.
            self.flags = (self.flags & ~(1 << 2)) | (body["flags"] & (1 << 2))
        self.flags &= ~(1 << 7)  # an edit ends the "thinking..." state


def _empty_of(key: str) -> Any:
    return "" if key == "content" else ([] if key != "allowed_mentions" else None)


@dataclass
class CommandDef:
    """An application command as registered by the bot (global when guild_id is None)."""

    id: int
    application_id: int
    name: str
    payload: dict[str, Any]
    guild_id: int | None = None
    version: int = 1

    @property
    def type(self) -> int:
        """Command type (1 chat input, 2 user, 3 message)."""
        return int(self.payload.get("type") or 1)


@dataclass
class World:
    """All state of the fake Discord, plus lookup helpers."""

    bot_user: User
    application_id: int
    ids: SnowflakeFactory = field(default_factory=SnowflakeFactory)
    users: dict[int, User] = field(default_factory=dict)
    guilds: dict[int, Guild] = field(default_factory=dict)
    dm_channels: dict[int, Channel] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    commands: dict[int, CommandDef] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.users[self.bot_user.id] = self.bot_user

    # -- building -----------------------------------------------------------------

    def add_user(self, username: str, *, bot: bool = False) -> User:
        """Create a user."""
        user = User(id=self.ids.next(), username=username, bot=bot, global_name=username.title())
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, owner: User, *, shard: tuple[int, int] | None = None) -> Guild:
        """Create a guild with its @everyone role, owned by ``owner``; the bot joins it. With
        ``shard`` (shard_id, shard_count), its id puts it on that shard."""
        guild_id = self.ids.next() if shard is None else self.ids.next_on_shard(*shard)
        guild = Guild(id=guild_id, name=name, owner_id=owner.id)
        everyone = Role(id=guild.id, guild_id=guild.id, name="@everyone")
        everyone.permissions = DEFAULT_EVERYONE_PERMISSIONS
        guild.roles[everyone.id] = everyone
        self.guilds[guild.id] = guild
        self.add_member(guild, owner)
        self.add_member(guild, self.bot_user)
        return guild

    def add_role(self, guild: Guild, name: str, permissions: int = 0) -> Role:
        """Create a role in ``guild``."""
        role = Role(
            id=self.ids.next(),
            guild_id=guild.id,
            name=name,
            permissions=permissions,
            position=len(guild.roles),
        )
        guild.roles[role.id] = role
        return role

    def add_channel(self, guild: Guild, name: str, *, type: int = GUILD_TEXT) -> Channel:
        """Create a channel in ``guild``."""
        channel = Channel(
            id=self.ids.next(),
            type=type,
            name=name,
            guild_id=guild.id,
            position=len(guild.channels),
        )
        guild.channels[channel.id] = channel
        return channel

    def add_member(self, guild: Guild, user: User, roles: list[Role] | None = None) -> Member:
        """Add ``user`` to ``guild`` with ``roles``."""
        member = Member(guild_id=guild.id, user_id=user.id, roles=[r.id for r in roles or []])
        guild.members[user.id] = member
        return member

    def dm_channel_for(self, user_id: int) -> Channel:
        """The (stable) DM channel between the bot and ``user_id``, created on first use."""
        channel = self.dm_channels.get(user_id)
        if channel is None:
            channel = Channel(id=self.ids.next(), type=DM, recipient_id=user_id)
            self.dm_channels[user_id] = channel
        return channel

    # -- lookups ------------------------------------------------------------------

    def channel(self, channel_id: int) -> Channel | None:
        """Find a guild or DM channel by id."""
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild.channels[channel_id]
        for channel in self.dm_channels.values():
            if channel.id == channel_id:
                return channel
        return None

    def role(self, role_id: int) -> Role | None:
        """Find a role in any guild."""
        for guild in self.guilds.values():
            if role_id in guild.roles:
                return guild.roles[role_id]
        return None

    def member_permissions(self, guild: Guild, user_id: int) -> int:
        """Guild-level permissions of a member (owner and administrators get everything)."""
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        member = guild.members.get(user_id)
        perms = guild.roles[guild.id].permissions
        for role_id in member.roles if member else []:
            perms |= guild.roles[role_id].permissions if role_id in guild.roles else 0
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def channel_permissions(self, channel: Channel, user_id: int) -> int:
        """A member's permissions in a guild channel, by Discord's rules: the guild-level
        permissions, then the overwrites for @everyone, the member's roles together, and the
        member; a channel one cannot see grants nothing, nor a message's extras without Send."""
        guild = self.guilds[channel.guild_id or 0]
        perms = self.member_permissions(guild, user_id)
        if perms == ALL_PERMISSIONS:
            return perms
        member = guild.members.get(user_id)
        roles = set(member.roles if member else [])
        for chosen in (
            [o for o in channel.overwrites if o.type == ROLE_OVERWRITE and o.id == guild.id],
            [o for o in channel.overwrites if o.type == ROLE_OVERWRITE and o.id in roles],
            [o for o in channel.overwrites if o.type == MEMBER_OVERWRITE and o.id == user_id],
        ):
            deny = allow = 0
            for overwrite in chosen:
                deny |= overwrite.deny
                allow |= overwrite.allow
            perms = (perms & ~deny) | allow
        if not perms & VIEW_CHANNEL:
            return 0
        if not perms & SEND_MESSAGES:
            perms &= ~(EMBED_LINKS | MENTION_EVERYONE | (1 << 15) | (1 << 12))
        return perms

    def shares_a_guild(self, user_id: int) -> bool:
        """Whether ``user_id`` is in a server with the bot: Discord refuses a bot's DM to a
        user it shares none with (50007)."""
        bot = self.bot_user.id
        return any(bot in g.members and user_id in g.members for g in self.guilds.values())

    def messages_in(self, channel_id: int, *, include_deleted: bool = False) -> list[Message]:
        """Messages stored for a channel, oldest first."""
        return [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id and (include_deleted or not m.deleted)
        ]

    def commands_for(self, guild_id: int | None) -> list[CommandDef]:
        """Registered commands in one scope (None = global)."""
        return [c for c in self.commands.values() if c.guild_id == guild_id]

    def find_command(self, name: str, guild_id: int | None, type: int = 1) -> CommandDef | None:
        """Resolve a command the way Discord shows it: guild command first, then global."""
        scopes = [guild_id, None] if guild_id is not None else [None]
        for scope in scopes:
            for command in self.commands_for(scope):
                if command.name == name and command.type == type:
                    return command
        return None
