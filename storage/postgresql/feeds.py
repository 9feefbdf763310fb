"""Channel feeds, on PostgreSQL (the SQLite twin: ``storage.feeds``)."""

from __future__ import annotations

from datetime import datetime

from storage.feeds import FEED, FeedCapReached, FeedSaved
from storage.models import Feed
from storage.postgresql.database import PgDatabase
from storage.timestamps import to_timestamp

# The column list is the SQLite store's: the same names and expressions on both engines.
_SELECT = f"SELECT {FEED.select} FROM feeds f LEFT JOIN topics t ON t.id = f.topic_id "
_ROUTE = "f.guild_id = $1 AND f.channel_id = $2 AND f.topic_id IS NOT DISTINCT FROM $3"
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
                await self._db.execute(
                    "INSERT INTO feeds (guild_id, channel_id, topic_id, min_quality, "
                    "mention_role_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    guild_id,
                    channel_id,
                    topic_id,
                    min_quality,
                    mention_role_id,
                    created_by,
                    to_timestamp(now),
                )
            else:
                await self._db.execute(
                    "UPDATE feeds SET min_quality = $1, mention_role_id = $2, "
                    "disabled_reason = NULL, failure_count = 0 WHERE id = $3",
                    min_quality,
                    mention_role_id,
                    existing.id,
                )
            saved = await self._find(guild_id, channel_id, topic_id)
        assert saved is not None
        return FeedSaved(saved, created=existing is None)

    async def remove(self, guild_id: int, channel_id: int, topic_id: int | None) -> int:
        """Remove the channel's route for one topic, or (``topic_id`` None) for every-topic."""
        return _affected(
            await self._db.execute(
                f"DELETE FROM feeds f WHERE {_ROUTE}", guild_id, channel_id, topic_id
            )
        )

    async def remove_channel(self, guild_id: int, channel_id: int) -> int:
        """Remove every route to the channel."""
        return _affected(
            await self._db.execute(
                "DELETE FROM feeds WHERE guild_id = $1 AND channel_id = $2", guild_id, channel_id
            )
        )

    async def for_guild(self, guild_id: int) -> list[Feed]:
        """The guild's feeds by channel, every-topic feeds first."""
        rows = await self._db.fetch_all(
            _SELECT + "WHERE f.guild_id = $1 ORDER BY f.channel_id, t.key IS NOT NULL, t.key",
            guild_id,
        )
        return [FEED.from_row(tuple(row)) for row in rows]

    async def every(self) -> list[Feed]:
        """Every guild's feeds, by guild and channel."""
        rows = await self._db.fetch_all(_SELECT + "ORDER BY f.guild_id, f.channel_id, f.id")
        return [FEED.from_row(tuple(row)) for row in rows]

    async def count(self, guild_id: int) -> int:
        """How many feeds the guild has."""
        counted = await self._db.scalar("SELECT count(*) FROM feeds WHERE guild_id = $1", guild_id)
        return int(counted)

    async def _find(self, guild_id: int, channel_id: int, topic_id: int | None) -> Feed | None:
        row = await self._db.fetch_one(_SELECT + f"WHERE {_ROUTE}", guild_id, channel_id, topic_id)
        return FEED.from_row(tuple(row)) if row else None


def _affected(status: str) -> int:
    """The row count of a command's status, such as ``DELETE 3``."""
    return int(status.rsplit(" ", 1)[-1])
