"""Channel feeds, on PostgreSQL (the SQLite twin, whose statements run here too:
``storage.feeds``)."""

from __future__ import annotations

from datetime import datetime

from storage import feeds as sqlite
from storage.feeds import FEED, FeedCapReached, FeedSaved
from storage.models import Feed
from storage.postgresql.database import PgDatabase
from storage.postgresql.params import numbered
from storage.timestamps import to_timestamp

_FIND_ROUTE = numbered(sqlite.FIND_ROUTE)
_GUILD_FEEDS = numbered(sqlite.GUILD_FEEDS)
_ADD_FEED = numbered(sqlite.ADD_FEED)
_RENEW_FEED = numbered(sqlite.RENEW_FEED)
_REMOVE_ROUTE = numbered(sqlite.REMOVE_ROUTE)
_REMOVE_CHANNEL = numbered(sqlite.REMOVE_CHANNEL)
_COUNT_FEEDS = numbered(sqlite.COUNT_FEEDS)
# Saves in one guild wait for each other (the cap is counted, then a row added: two saves at
# once, from two processes, must not both pass it). 0x7B0C is topicbot's prefix here.
_GUILD_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('0x7B0C:feeds:' || $1, 0))"


class PgFeedRepository:
    """Named queries over feeds."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def save(
        self,
        *,
        guild_id: int,
        channel_id: int,
        topic_id: int | None,
        min_quality: int | None,
        mention_role_id: int | None,
        created_by: int,
        now: datetime,
        cap: int,
    ) -> FeedSaved:
        """Create or update (re-enabling) the route from the topic to the channel."""
        async with self._db.transaction():
            await self._db.execute(_GUILD_LOCK, str(guild_id))
            existing = await self._find(guild_id, channel_id, topic_id)
            if existing is None:
                if await self.count(guild_id) >= cap:
                    raise FeedCapReached(cap)
                stamp = to_timestamp(now)
                route = (guild_id, channel_id, topic_id)
                await self._db.execute(
                    _ADD_FEED, *route, min_quality, mention_role_id, created_by, stamp
                )
            else:
                await self._db.execute(_RENEW_FEED, min_quality, mention_role_id, existing.id)
            saved = await self._find(guild_id, channel_id, topic_id)
        assert saved is not None
        return FeedSaved(saved, created=existing is None)

    async def remove(self, guild_id: int, channel_id: int, topic_id: int | None) -> int:
        """Remove the channel's route for one topic, or (``topic_id`` None) for every-topic."""
        return _affected(await self._db.execute(_REMOVE_ROUTE, guild_id, channel_id, topic_id))

    async def remove_channel(self, guild_id: int, channel_id: int) -> int:
        """Remove every route to the channel."""
        return _affected(await self._db.execute(_REMOVE_CHANNEL, guild_id, channel_id))

    async def for_guild(self, guild_id: int) -> list[Feed]:
        """The guild's feeds by channel, every-topic feeds first."""
        rows = await self._db.fetch_all(_GUILD_FEEDS, guild_id)
        return [FEED.from_row(tuple(row)) for row in rows]

    async def every(self) -> list[Feed]:
        """Every guild's feeds, by guild and channel."""
        return [FEED.from_row(tuple(row)) for row in await self._db.fetch_all(sqlite.EVERY_FEED)]

    async def count(self, guild_id: int) -> int:
        """How many feeds the guild has."""
        return int(await self._db.scalar(_COUNT_FEEDS, guild_id))

    async def _find(self, guild_id: int, channel_id: int, topic_id: int | None) -> Feed | None:
        row = await self._db.fetch_one(_FIND_ROUTE, guild_id, channel_id, topic_id)
        return FEED.from_row(tuple(row)) if row else None


def _affected(status: str) -> int:
    """The row count of a command's status, such as ``DELETE 3``."""
    return int(status.rsplit(" ", 1)[-1])
