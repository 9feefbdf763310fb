"""The servers the bot is in, as Discord tells it: removed from one (kicked, banned, the server
deleted), invited back, a routed channel deleted. No Discord here: the cog passes ids."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping

from bot.domain.subscriptions import Clock, utc_now
from storage.api import StoreApi

log = logging.getLogger(__name__)

# Asks Discord whether a channel the bot's view of a server lacks is really deleted.
Confirm = Callable[[int], Awaitable[bool]]

# The reasons the audit log gives for what the bot changed itself.
CHANNEL_DELETED = "channel deleted"
ROLE_DELETED = "role deleted"


class ServerService:
    """Keeps the store in step with the servers and channels the bot can still reach."""

    def __init__(self, store: StoreApi, *, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    async def removed(self, guild_id: int, name: str | None = None) -> int:
        """The bot was removed from the guild: nothing more is planned for it and what waited
        is cancelled (Discord would refuse it all, and the refusals would pause its feeds and
        its members' subscriptions as if a permission were missing). Its set-up is kept for
        its return, and its ``name`` for the members who unsubscribe from an earlier DM.
        How many waiting rows were cancelled."""
        cancelled = await self._store.guild_settings.left(guild_id, self._clock(), name)
        log.info(
            "removed from server %d: %d waiting alerts cancelled; its feeds and subscriptions "
            "are kept and resume if the bot is invited back before retention.left_server_days "
            "have passed",
            guild_id,
            cancelled,
            extra={"guild": guild_id},
        )
        return cancelled

    async def name_when_left(self, guild_id: int) -> str | None:
        """The name the guild had when it removed the bot, if it did and it is known."""
        return await self._store.guild_settings.name_when_left(guild_id)

    async def present(self, guild_id: int) -> None:
        """The bot is in the guild (invited back, or seen at connection): it is planned for
        again, from what is published from now on (nothing it missed is sent late)."""
        if await self._store.guild_settings.returned(guild_id):
            log.info(
                "back in server %d: its feeds and subscriptions resume",
                guild_id,
                extra={"guild": guild_id},
            )

    async def missing(self, is_present: Callable[[int], bool]) -> list[int]:
        """At connection: the guilds with a feed or subscription that ``is_present`` says the
        bot is no longer in (removed while it was offline, when no GUILD_DELETE reached it)
        are treated as removed; those guilds."""
        gone = [g for g in await self._store.guild_settings.with_set_up() if not is_present(g)]
        for guild_id in gone:
            await self.removed(guild_id)
        return gone

    async def channel_deleted(self, guild_id: int, channel_id: int, *, actor_id: int) -> int:
        """A channel was deleted: its feeds go with it (no command can name a deleted
        channel, so they could never be removed, and would hold places under the server's
        feed cap), written to the audit log as done by ``actor_id`` (the bot). How many."""
        removed = await self._store.feeds.remove_channel(guild_id, channel_id)
        if removed:
            await self._store.audit.record(
                guild_id,
                actor_id,
                "feed.remove",
                self._clock(),
                detail={"channel_id": channel_id, "removed": removed, "reason": CHANNEL_DELETED},
            )
            log.info(
                "channel %d of server %d was deleted: its %d feeds removed",
                channel_id,
                guild_id,
                removed,
                extra={"guild": guild_id},
            )
        return removed

    async def channels_gone(
        self, guild_id: int, channels: Collection[int], *, actor_id: int, deleted: Confirm
    ) -> int:
        """The guild as the bot sees it now has only ``channels``: the feeds of any other
        channel (deleted while the bot was away or offline) are removed, each once
        ``deleted`` confirmed it (Discord answers "Unknown Channel"). How many."""
        feeds = await self._store.feeds.for_guild(guild_id)
        removed = 0
        for channel_id in sorted({f.channel_id for f in feeds} - set(channels)):
            if await deleted(channel_id):
                removed += await self.channel_deleted(guild_id, channel_id, actor_id=actor_id)
        return removed

    async def check_every_feed(
        self,
        channels_of: Mapping[int, Collection[int]],
        roles_of: Mapping[int, Collection[int]],
        *,
        actor_id: int,
        deleted: Confirm,
    ) -> int:
        """At connection: for each guild of ``channels_of`` (those the bot is in and sees
        whole, with their channels; ``roles_of``, their roles), remove the feeds of channels
        deleted meanwhile, and drop the roles deleted meanwhile from the feeds mentioning
        them. How many feeds were removed."""
        feeds = await self._store.feeds.every()
        removed = 0
        for feed_guild in sorted({f.guild_id for f in feeds}):
            if feed_guild in channels_of:
                removed += await self.channels_gone(
                    feed_guild, channels_of[feed_guild], actor_id=actor_id, deleted=deleted
                )
        gone_roles = {
            (f.guild_id, f.mention_role_id)
            for f in feeds
            if f.mention_role_id is not None
            and f.guild_id in roles_of
            and f.mention_role_id not in roles_of[f.guild_id]
        }
        for guild_id, role_id in sorted(gone_roles):
            await self.role_deleted(guild_id, role_id, actor_id=actor_id)
        return removed

    async def role_deleted(self, guild_id: int, role_id: int, *, actor_id: int) -> None:
        """A role was deleted: feeds mention no one in its place, and it no longer names the
        server's moderator role (Manage Server still does). Audit-logged as done by
        ``actor_id`` (the bot)."""
        dropped = await self._store.feeds.drop_mention_role(guild_id, role_id)
        settings = self._store.guild_settings
        was_moderator_role = (await settings.get(guild_id)).moderator_role_id == role_id
        if was_moderator_role:
            await settings.update(guild_id, self._clock(), moderator_role_id=None)
        if dropped or was_moderator_role:
            await self._store.audit.record(
                guild_id,
                actor_id,
                "role.deleted",
                self._clock(),
                detail={
                    "role_id": role_id,
                    "feeds": dropped,
                    "moderator_role": was_moderator_role,
                    "reason": ROLE_DELETED,
                },
            )
