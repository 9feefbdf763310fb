"""Command sync: only when the definitions changed (their hash is kept in the store)."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import discord
from discord import app_commands

from storage.api import MetaApi

log = logging.getLogger(__name__)

Tree = app_commands.CommandTree[Any]
MISSING_ACCESS = 50001


class SyncRefused(Exception):
    """Discord refused the commands for a server the bot is not in (``--guild`` or
    ``discord.dev_guild_id`` naming the wrong server): said in one line, not a traceback."""


def commands_hash(tree: Tree, guild: discord.abc.Snowflake | None) -> str:
    """A digest of the command definitions Discord would be sent."""
    definitions = [command.to_dict(tree) for command in tree.get_commands(guild=guild)]
    definitions.sort(key=lambda d: str(d.get("name")))
    encoded = json.dumps(definitions, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def sync_target(tree: Tree, guild_id: int | None) -> tuple[discord.Object | None, str, str]:
    """Where commands go (None: every server), the store key of their last synced hash, and
    the hash of what would be pushed there now (global commands copied to a guild first)."""
    guild = discord.Object(guild_id) if guild_id is not None else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    key = f"commands_hash:{guild_id if guild_id is not None else 'global'}"
    return guild, key, commands_hash(tree, guild)


async def sync_commands(
    tree: Tree, meta: MetaApi, *, guild_id: int | None, force: bool = False
) -> bool:
    """Sync globally, or to one guild (with the global commands copied there) for
    development; skipped when nothing changed since the last sync (the hash kept in
    ``meta``). True when synced."""
    guild, key, digest = sync_target(tree, guild_id)
    if not force and await meta.get(key) == digest:
        log.info("slash commands unchanged; not syncing")
        return False
    try:
        synced = await tree.sync(guild=guild)
    except discord.Forbidden as error:
        if guild is None or error.code != MISSING_ACCESS:
            raise
        raise SyncRefused(
            f"Discord refused the commands for server {guild_id}: the bot is not in it. "
            "Check the id (--guild, discord.dev_guild_id), or invite the bot there "
            "(topicbot invite-url)"
        ) from None
    await meta.put(key, digest)
    log.info(
        "synced %d slash commands %s", len(synced), f"to guild {guild_id}" if guild else "globally"
    )
    return True
