"""Members' topic subscriptions, on PostgreSQL (the SQLite twin: ``storage.subscriptions``)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from storage.models import DeliveryMode, Subscription
from storage.postgresql.database import PgDatabase
from storage.subscriptions import SUBSCRIPTION, SubscriptionCapReached, SubscriptionSaved
from storage.timestamps import to_timestamp

# The column list is the SQLite store's: the same names and expressions on both engines.
_SELECT = f"SELECT {SUBSCRIPTION.select} FROM subscriptions s JOIN topics t ON t.id = s.topic_id "
# Saves for one member wait for each other (the cap is counted, then a row added: two saves at
# once must not both pass it). Keyed by guild and member; 0x7B0C is topicbot's prefix here.
_MEMBER_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('0x7B0C:' || $1 || ':' || $2, 0))"


def _subscription(row: asyncpg.Record) -> Subscription:
    return SUBSCRIPTION.from_row(tuple(row))


class PgSubscriptionRepository:
    """Named queries over subscriptions."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def save(
        self,
        *,
        guild_id: int,
        user_id: int,
        topic_id: int,
        min_quality: int,
        delivery: DeliveryMode,
        now: datetime,
        cap: int,
    ) -> SubscriptionSaved:
        """Create or update (re-enabling) a subscription; refuse a new one past the cap."""
        stamp = to_timestamp(now)
        async with self._db.transaction():
            await self._db.execute(_MEMBER_LOCK, str(guild_id), str(user_id))
            existing = await self._find(guild_id, user_id, topic_id)
            if existing is None and await self.count(guild_id, user_id) >= cap:
                raise SubscriptionCapReached(cap)
            await self._db.execute(
                "INSERT INTO subscriptions (guild_id, user_id, topic_id, min_quality, delivery, "
                "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) "
                "ON CONFLICT (guild_id, user_id, topic_id) DO UPDATE SET "
                "min_quality = excluded.min_quality, delivery = excluded.delivery, "
                "updated_at = excluded.updated_at, disabled_reason = NULL, failure_count = 0",
                guild_id,
                user_id,
                topic_id,
                min_quality,
                delivery,
                stamp,
            )
            saved = await self._find(guild_id, user_id, topic_id)
        assert saved is not None
        return SubscriptionSaved(saved, created=existing is None)

    async def delete(self, guild_id: int, user_id: int, topic_key: str) -> bool:
        """Remove the member's subscription to the topic; False when there was none."""
        status = await self._db.execute(
            "DELETE FROM subscriptions WHERE guild_id = $1 AND user_id = $2 "
            "AND topic_id = (SELECT id FROM topics WHERE key = $3)",
            guild_id,
            user_id,
            topic_key,
        )
        return status != "DELETE 0"

    async def for_member(self, guild_id: int, user_id: int) -> list[Subscription]:
        """The member's subscriptions in the guild, by topic name."""
        rows = await self._db.fetch_all(
            _SELECT + "WHERE s.guild_id = $1 AND s.user_id = $2 ORDER BY t.key",
            guild_id,
            user_id,
        )
        return [_subscription(row) for row in rows]

    async def count(self, guild_id: int, user_id: int) -> int:
        """How many subscriptions the member has in the guild."""
        counted = await self._db.scalar(
            "SELECT count(*) FROM subscriptions WHERE guild_id = $1 AND user_id = $2",
            guild_id,
            user_id,
        )
        return int(counted or 0)

    async def _find(self, guild_id: int, user_id: int, topic_id: int) -> Subscription | None:
        row = await self._db.fetch_one(
            _SELECT + "WHERE s.guild_id = $1 AND s.user_id = $2 AND s.topic_id = $3",
            guild_id,
            user_id,
            topic_id,
        )
        return _subscription(row) if row else None
