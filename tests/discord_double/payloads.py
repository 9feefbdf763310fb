"""Serialise the double's state into the JSON shapes Discord (and discord.py 2.7.1) use."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .state import DM, Channel, CommandDef, Guild, Member, Message, Role, User, World

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


def snowflake_time(snowflake: int) -> str:
    """ISO-8601 timestamp encoded in a snowflake."""
    ms = (snowflake >> 22) + 1_420_070_400_000
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat()


def user(u: User) -> dict[str, Any]:
    """A user object."""
    return {
        "id": str(u.id),
        "username": u.username,
        "global_name": u.global_name,
        "discriminator": "0",
        "avatar": None,
        "bot": u.bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
        "primary_guild": None,  # the spec's UserResponse requires it (null: none chosen)
        "mfa_enabled": False,
        "verified": True,
    }


def role(r: Role) -> dict[str, Any]:
    """A role object."""
    data: dict[str, Any] = {
        "id": str(r.id),
        "name": r.name,
        "color": r.color,
        "colors": {"primary_color": r.color, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": r.position,
        "permissions": str(r.permissions),
        "managed": r.managed,
        "mentionable": r.mentionable,
        "flags": 0,
    }
    if r.tags is not None:
        data["tags"] = r.tags
    return data


def member(world: World, m: Member, *, with_user: bool = True) -> dict[str, Any]:
    """A guild member object (``flags`` is required by discord.py)."""
    data: dict[str, Any] = {
        "roles": [str(r) for r in m.roles],
        "nick": m.nick,
        "avatar": None,
        "banner": None,
        "joined_at": m.joined_at,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": m.flags,
        "communication_disabled_until": None,
    }
    if with_user:
        data["user"] = user(world.users[m.user_id])
    return data


def channel(world: World, c: Channel) -> dict[str, Any]:
    """A channel object (guild or DM)."""
    if c.type == DM:
        recipient = world.users.get(c.recipient_id or 0)
        return {
            "id": str(c.id),
            "type": DM,
            "last_message_id": _opt_id(c.last_message_id),
            "recipients": [user(recipient)] if recipient else [],
            "flags": 0,
        }
    return {
        "id": str(c.id),
        "type": c.type,
        "guild_id": str(c.guild_id),
        "name": c.name,
        "position": c.position,
        "permission_overwrites": [
            {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
            for o in c.overwrites
        ],
        "parent_id": _opt_id(c.parent_id),
        "topic": c.topic,
        "nsfw": False,
        "rate_limit_per_user": 0,
        "last_message_id": _opt_id(c.last_message_id),
        "flags": 0,
    }


def guild(world: World, g: Guild, *, full: bool) -> dict[str, Any]:
    """A guild object; ``full`` adds the GUILD_CREATE extras (channels, members, ...)."""
    data: dict[str, Any] = {
        "id": str(g.id),
        "name": g.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": str(g.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [role(r) for r in g.roles.values()],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": g.locale,
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
    }
    if full:
        data.update(
            joined_at="2024-01-01T00:00:00.000000+00:00",
            large=False,
            unavailable=False,
            member_count=len(g.members),
            voice_states=[],
            members=[member(world, m) for m in g.members.values()],
            channels=[channel(world, c) for c in g.channels.values()],
            threads=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
        )
    return data


def message(world: World, m: Message) -> dict[str, Any]:
    """A message object as Discord returns it from REST (and MESSAGE_CREATE, plus guild_id)."""
    author = world.users[m.author_id]
    data: dict[str, Any] = {
        "id": str(m.id),
        "channel_id": str(m.channel_id),
        "author": user(author),
        "content": m.content,
        "timestamp": snowflake_time(m.id),
        "edited_timestamp": m.edited_timestamp,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": m.attachments,
        "embeds": [_embed_out(e) for e in m.embeds],
        "reactions": [],
        "pinned": False,
        "type": m.type,
        "flags": m.flags,
        "components": _components_out(m.components),
    }
    if m.nonce is not None:
        data["nonce"] = m.nonce
    if m.webhook_id is not None:
        data["webhook_id"] = str(m.webhook_id)
        data["application_id"] = str(m.webhook_id)
    if m.guild_id is not None:
        data["guild_id"] = str(m.guild_id)
    return data


def _embed_out(embed: dict[str, Any]) -> dict[str, Any]:
    return {"type": "rich", **{k: v for k, v in embed.items() if v is not None}}


def _components_out(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Echo components back with the numeric ``id`` Discord assigns to each one."""
    counter = iter(range(1, 10_000))

    def walk(node: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in node.items() if v is not None}
        out.setdefault("id", next(counter))
        if isinstance(node.get("components"), list):
            out["components"] = [walk(child) for child in node["components"]]
        return out

    return [walk(c) for c in components]


def command(c: CommandDef) -> dict[str, Any]:
    """An application command object as returned after a sync."""
    p = c.payload
    perms = p.get("default_member_permissions")
    return {
        "id": str(c.id),
        "application_id": str(c.application_id),
        "version": str(c.version),
        "type": c.type,
        "name": c.name,
        "name_localizations": p.get("name_localizations"),
        "description": p.get("description") or "",
        "description_localizations": p.get("description_localizations"),
        "options": p.get("options") or [],
        "default_member_permissions": None if perms is None else str(perms),
        "dm_permission": p.get("dm_permission", True),
        "contexts": p.get("contexts"),
        "integration_types": p.get("integration_types") or [0],
        "nsfw": bool(p.get("nsfw", False)),
        **({"guild_id": str(c.guild_id)} if c.guild_id is not None else {}),
    }


def application(world: World, owner: User) -> dict[str, Any]:
    """The bot's application object (GET /oauth2/applications/@me)."""
    return {
        "id": str(world.application_id),
        "name": world.bot_user.username,
        "icon": None,
        "description": "Discord double test application",
        "summary": "",
        "type": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": 0,
        "owner": user(owner),
        "team": None,
        "bot": user(world.bot_user),
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "approximate_guild_count": len(world.guilds),
        "integration_types_config": {"0": {}},
    }


def _opt_id(value: int | None) -> str | None:
    return None if value is None else str(value)
