"""The subscription repository: members' topics, per guild."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.database import Database
from storage.models import DeliveryMode, Subscription
from storage.timestamps import from_timestamp, to_timestamp

_SELECT = (
    "SELECT s.id, s.guild_id, s.user_id, t.key, t.name, s.min_quality, s.delivery, "
    "s.disabled_reason, s.created_at FROM subscriptions s JOIN topics t ON t.id = s.topic_id "
)


class SubscriptionCapReached(Exception):
    """The member already has as many subscriptions as the guild allows."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        super().__init__(f"at most {cap} subscriptions per member")


@dataclass(frozen=True, slots=True)
class SubscriptionSaved:
    """The stored subscription and whether it is new."""

    subscription: Subscription
    created: bool


def _subscription(row: tuple[Any, ...]) -> Subscription:
    return Subscription(
        id=row[0],
        guild_id=row[1],
        user_id=row[2],
        topic_key=row[3],
        topic_name=row[4],
        min_quality=row[5],
        delivery=row[6],
        disabled_reason=row[7],
        created_at=from_timestamp(row[8]),
    )


class SubscriptionRepository:
    """Named queries over subscriptions."""

    def __init__(self, connection: Database) -> None:
        self._db = connection

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
            existing = await self._find(guild_id, user_id, topic_id)
            if existing is None and await self.count(guild_id, user_id) >= cap:
                raise SubscriptionCapReached(cap)
            await self._db.execute(
                "INSERT INTO subscriptions (guild_id, user_id, topic_id, min_quality, delivery, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (guild_id, user_id, topic_id) DO UPDATE SET "
                "min_quality = excluded.min_quality, delivery = excluded.delivery, "
                "updated_at = excluded.updated_at, disabled_reason = NULL, failure_count = 0",
                (guild_id, user_id, topic_id, min_quality, delivery, stamp, stamp),
            )
            saved = await self._find(guild_id, user_id, topic_id)
        assert saved is not None
        return SubscriptionSaved(saved, created=existing is None)

    async def delete(self, guild_id: int, user_id: int, topic_key: str) -> bool:
        """Remove the member's subscription to the topic; False when there was none."""
        count = await self._db.execute(
            "DELETE FROM subscriptions WHERE guild_id = ? AND user_id = ? "
            "AND topic_id = (SELECT id FROM topics WHERE key = ?)",
            (guild_id, user_id, topic_key),
        )
        return count > 0

    async def for_member(self, guild_id: int, user_id: int) -> list[Subscription]:
        """The member's subscriptions in the guild, by topic name."""
        return [
            _subscription(tuple(row))
            for row in await self._db.fetch_all(
                _SELECT + "WHERE s.guild_id = ? AND s.user_id = ? ORDER BY t.key",
                (guild_id, user_id),
            )
        ]

    async def count(self, guild_id: int, user_id: int) -> int:
        """How many subscriptions the member has in the guild."""
        row = await self._db.fetch_one(
            "SELECT count(*) FROM subscriptions WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        return int(row[0]) if row else 0

    async def _find(self, guild_id: int, user_id: int, topic_id: int) -> Subscription | None:
        row = await self._db.fetch_one(
            _SELECT + "WHERE s.guild_id = ? AND s.user_id = ? AND s.topic_id = ?",
            (guild_id, user_id, topic_id),
        )
        return _subscription(tuple(row)) if row else None
