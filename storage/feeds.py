"""The feed repository: which topics a guild routes to which channels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.columns import Column, Columns
from storage.database import Database
from storage.models import Feed
from storage.timestamps import to_timestamp

FEED = Columns(
    Feed,
    Column("id", "f.id"),
    Column("guild_id", "f.guild_id"),
    Column("channel_id", "f.channel_id"),
    Column("topic_key", "t.key"),
    Column("topic_name", "t.name"),
    Column("min_quality", "f.min_quality"),
    Column("mention_role_id", "f.mention_role_id"),
    Column("created_by", "f.created_by"),
    Column("disabled_reason", "f.disabled_reason"),
)
# The feeds' statements, for both engines (PostgreSQL through ``storage.sql.numbered``). A route
# is (guild, channel, topic), the topic NULL for every topic: IS NOT DISTINCT FROM (SQLite's
# ``IS``, under the name both engines know) matches it either way.
SELECT_FEEDS = f"SELECT {FEED.select} FROM feeds f LEFT JOIN topics t ON t.id = f.topic_id "
ROUTE = "f.guild_id = ? AND f.channel_id = ? AND f.topic_id IS NOT DISTINCT FROM ?"
FIND_ROUTE = SELECT_FEEDS + f"WHERE {ROUTE}"
GUILD_FEEDS = SELECT_FEEDS + "WHERE f.guild_id = ? ORDER BY f.channel_id, t.key IS NOT NULL, t.key"
EVERY_FEED = SELECT_FEEDS + "ORDER BY f.guild_id, f.channel_id, f.id"
ADD_FEED = (
    "INSERT INTO feeds (guild_id, channel_id, topic_id, min_quality, mention_role_id, "
    "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
RENEW_FEED = (
    "UPDATE feeds SET min_quality = ?, mention_role_id = ?, disabled_reason = NULL, "
    "failure_count = 0 WHERE id = ?"
)
REMOVE_ROUTE = f"DELETE FROM feeds AS f WHERE {ROUTE}"
REMOVE_CHANNEL = "DELETE FROM feeds WHERE guild_id = ? AND channel_id = ?"
COUNT_FEEDS = "SELECT count(*) FROM feeds WHERE guild_id = ?"


class FeedCapReached(Exception):
    """The guild already has as many feeds as allowed."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        super().__init__(f"at most {cap} feeds per guild")


@dataclass(frozen=True, slots=True)
class FeedSaved:
    """The stored feed and whether it is new."""

    feed: Feed
    created: bool


class FeedRepository:
    """Named queries over feeds."""

    def __init__(self, connection: Database) -> None:
        self._db = connection

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
            existing = await self._find(guild_id, channel_id, topic_id)
            if existing is None:
                if await self.count(guild_id) >= cap:
                    raise FeedCapReached(cap)
                await self._db.execute(
                    ADD_FEED,
                    (
                        guild_id,
                        channel_id,
                        topic_id,
                        min_quality,
                        mention_role_id,
                        created_by,
                        to_timestamp(now),
                    ),
                )
            else:
                await self._db.execute(RENEW_FEED, (min_quality, mention_role_id, existing.id))
            saved = await self._find(guild_id, channel_id, topic_id)
        assert saved is not None
        return FeedSaved(saved, created=existing is None)

    async def remove(self, guild_id: int, channel_id: int, topic_id: int | None) -> int:
        """Remove the channel's route for one topic, or (``topic_id`` None) for every-topic."""
        return await self._db.execute(REMOVE_ROUTE, (guild_id, channel_id, topic_id))

    async def remove_channel(self, guild_id: int, channel_id: int) -> int:
        """Remove every route to the channel."""
        return await self._db.execute(REMOVE_CHANNEL, (guild_id, channel_id))

    async def for_guild(self, guild_id: int) -> list[Feed]:
        """The guild's feeds by channel, every-topic feeds first."""
        return [FEED.from_row(row) for row in await self._db.fetch_all(GUILD_FEEDS, (guild_id,))]

    async def every(self) -> list[Feed]:
        """Every guild's feeds, by guild and channel."""
        return [FEED.from_row(row) for row in await self._db.fetch_all(EVERY_FEED)]

    async def count(self, guild_id: int) -> int:
        """How many feeds the guild has."""
        row = await self._db.fetch_one(COUNT_FEEDS, (guild_id,))
        return int(row[0]) if row else 0

    async def _find(self, guild_id: int, channel_id: int, topic_id: int | None) -> Feed | None:
        row = await self._db.fetch_one(FIND_ROUTE, (guild_id, channel_id, topic_id))
        return FEED.from_row(row) if row else None
