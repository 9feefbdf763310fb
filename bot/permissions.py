"""The channel permissions topicbot uses, in one list.

The invite URL asks for exactly these; ``/feed add``, ``/feed list`` and ``topicbot doctor``
check them. DMs and replies to slash commands need no permission: a DM is not in a server,
and a reply goes through the interaction's own webhook."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import discord

SCOPES = ("bot", "applications.commands")


@dataclass(frozen=True, slots=True)
class Needed:
    """One permission: its discord.py flag, its name in Discord's settings, what it is for."""

    flag: str
    label: str
    why: str


CHANNEL_POSTS: tuple[Needed, ...] = (
    Needed("view_channel", "View Channel", "see the feed's channel at all"),
    Needed("send_messages", "Send Messages", "post each new article in the feed's channel"),
    Needed(
        "embed_links",
        "Embed Links",
        "show the article as a card (an embed); without it the post has no card",
    ),
)
# Only for a feed whose mention role members cannot mention ("Allow anyone to @mention this
# role" off): Discord pings such a role only for an author with this permission. Each post's
# allowed mentions still name that one role, so nothing else can be pinged.
ROLE_MENTION = Needed(
    "mention_everyone",
    "Mention @everyone, @here, and All Roles",
    "ping a feed's mention role when that role is not mentionable by everyone",
)


_GATES = frozenset({"view_channel", "send_messages"})


def invite_permissions() -> discord.Permissions:
    """What the invite asks for: what every feed channel needs. A role mention is granted
    per channel or role when wanted (least privilege: see ``ROLE_MENTION``)."""
    return discord.Permissions(**dict.fromkeys((n.flag for n in CHANNEL_POSTS), True))


def invite_url(application_id: int) -> str:
    """The OAuth2 URL that adds the bot with its slash commands and exactly its permissions."""
    return discord.utils.oauth_url(application_id, permissions=invite_permissions(), scopes=SCOPES)


def needed_for(*, role_mentionable: bool | None) -> tuple[Needed, ...]:
    """What a feed's channel needs; ``role_mentionable`` is None for a feed without a role."""
    if role_mentionable is None or role_mentionable:
        return CHANNEL_POSTS
    return (*CHANNEL_POSTS, ROLE_MENTION)


def missing(granted: discord.Permissions, needs: Iterable[Needed]) -> list[Needed]:
    """The needed permissions ``granted`` lacks, in list order. Without View Channel nothing
    else counts, nor a message's extras without Send Messages, so a gate that is shut is the
    last one named: the fix is that one, and the rest may follow from it."""
    lacking: list[Needed] = []
    for need in needs:
        if not getattr(granted, need.flag):
            lacking.append(need)
            if need.flag in _GATES:
                break
    return lacking


def missing_in_channel(
    channel: discord.abc.GuildChannel, mention_role: discord.Role | None
) -> list[Needed]:
    """What the bot lacks in ``channel`` (from the gateway's cache of roles and overwrites)."""
    granted = channel.permissions_for(channel.guild.me)
    role_mentionable = None if mention_role is None else mention_role.mentionable
    return missing(granted, needed_for(role_mentionable=role_mentionable))


def labels(needs: Sequence[Needed]) -> str:
    """'View Channel, Send Messages'."""
    return ", ".join(need.label for need in needs)


def channel_permissions(
    *,
    guild: Mapping[str, Any],
    channel: Mapping[str, Any],
    member: Mapping[str, Any],
    user_id: int,
) -> discord.Permissions:
    """A member's permissions in a channel from REST payloads, by Discord's rules: base from
    @everyone and the member's roles (everything for the owner or an administrator), then the
    channel's overwrites for @everyone, the member's roles together, and the member."""
    if int(guild["owner_id"]) == user_id:
        return discord.Permissions.all()
    guild_id = int(guild["id"])
    role_permissions = {int(r["id"]): int(r["permissions"]) for r in guild.get("roles", [])}
    member_roles = {int(r) for r in member.get("roles", [])}
    value = role_permissions.get(guild_id, 0)
    for role_id in member_roles:
        value |= role_permissions.get(role_id, 0)
    if discord.Permissions(value).administrator:
        return discord.Permissions.all()
    overwrites = {int(o["id"]): o for o in channel.get("permission_overwrites") or []}
    value = _overwrite(value, [overwrites[guild_id]] if guild_id in overwrites else [])
    value = _overwrite(value, [o for i, o in overwrites.items() if i in member_roles])
    value = _overwrite(value, [o for i, o in overwrites.items() if i == user_id])
    return _implicit(discord.Permissions(value))


def _overwrite(value: int, overwrites: Sequence[Mapping[str, Any]]) -> int:
    allow = deny = 0
    for overwrite in overwrites:
        allow |= int(overwrite.get("allow", 0))
        deny |= int(overwrite.get("deny", 0))
    return (value & ~deny) | allow


def _implicit(permissions: discord.Permissions) -> discord.Permissions:
    # Discord's implicit denials: a channel one cannot see grants nothing; one cannot send in
    # grants nothing that rides on a message.
    if not permissions.view_channel:
        return discord.Permissions.none()
    if not permissions.send_messages:
        permissions.update(
            embed_links=False, attach_files=False, mention_everyone=False, send_tts_messages=False
        )
    return permissions


def permission_problem(
    guild: discord.Guild, channel_id: int, mention_role_id: int | None
) -> str | None:
    """What stops the bot posting a feed in the channel, as the server has it now."""
    channel = guild.get_channel(channel_id)
    if channel is None:
        return "channel not found: was it deleted? `/feed remove` it or add it again"
    role = guild.get_role(mention_role_id) if mention_role_id is not None else None
    lacking = missing_in_channel(channel, role)
    if not lacking:
        return None
    return f"I am missing {labels(lacking)} in <#{channel_id}>"
