"""The subscription repository: members' topics, per guild."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.columns import Column, Columns
from storage.models import DeliveryMode, Subscription
from storage.sql import Statements
from storage.timestamps import from_timestamp, to_timestamp

SUBSCRIPTION = Columns(
    Subscription,
    Column("id", "s.id"),
    Column("guild_id", "s.guild_id"),
    Column("user_id", "s.user_id"),
    Column("topic_key", "t.key"),
    Column("topic_name", "t.name"),
    Column("min_quality", "s.min_quality"),
    Column("delivery", "s.delivery"),
    Column("disabled_reason", "s.disabled_reason"),
    Column("created_at", "s.created_at", from_timestamp),
)
_SELECT = f"SELECT {SUBSCRIPTION.select} FROM subscriptions s JOIN topics t ON t.id = s.topic_id "


class SubscriptionCapReached(Exception):
    """The member already has as many subscriptions as the guild allows."""

    def __init__(self, cap: int, count: int | None = None) -> None:
        self.cap = cap
        self.count = cap if count is None else count  # more when the cap was lowered since
        super().__init__(f"at most {cap} subscriptions per member")


@dataclass(frozen=True, slots=True)
class SubscriptionSaved:
    """The stored subscription and whether it is new."""

    subscription: Subscription
    previous: Subscription | None = None  # before this save (None: it is new)

    @property
    def created(self) -> bool:
        """Whether the save added the subscription."""
        return self.previous is None


class SubscriptionRepository:
    """Named queries over subscriptions, on either engine (``storage.sql.Statements``)."""

    def __init__(self, db: Statements) -> None:
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
        key = {"guild": guild_id, "user": user_id, "topic": topic_id}
        async with self._db.transaction():
            # the cap is counted, then a row added: two saves at once must not both pass it
            await self._db.hold_lock(f"{guild_id}:{user_id}")
            existing = await self._find(key)
            if existing is None:
                count = await self.count(guild_id, user_id)
                if count >= cap:
                    raise SubscriptionCapReached(cap, count)
            await self._db.execute(
                "INSERT INTO subscriptions (guild_id, user_id, topic_id, min_quality, delivery, "
                "created_at, updated_at) VALUES (:guild, :user, :topic, :quality, :delivery, "
                ":now, :now) ON CONFLICT (guild_id, user_id, topic_id) DO UPDATE SET "
                "min_quality = excluded.min_quality, delivery = excluded.delivery, "
                "updated_at = excluded.updated_at, disabled_reason = NULL, failure_count = 0",
                {**key, "quality": min_quality, "delivery": delivery, "now": to_timestamp(now)},
            )
            saved = await self._find(key)
        assert saved is not None
        return SubscriptionSaved(saved, previous=existing)

    async def delete(self, guild_id: int, user_id: int, topic_key: str) -> bool:
        """Remove the member's subscription to the topic; False when there was none. Their
        last one in the guild takes what Discord said of them there (``member_checks``), and
        their last one anywhere their DM channel id: nothing kept names them any more."""
        key = {"guild": guild_id, "user": user_id}
        async with self._db.transaction():
            count = await self._db.execute(
                "DELETE FROM subscriptions WHERE guild_id = :guild AND user_id = :user "
                "AND topic_id = (SELECT id FROM topics WHERE key = :topic)",
                {**key, "topic": topic_key},
            )
            if count:
                await self._forget_member(key)
        return count > 0

    async def _forget_member(self, key: dict[str, int]) -> None:
        await self._db.execute(
            "DELETE FROM member_checks WHERE guild_id = :guild AND user_id = :user "
            "AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE guild_id = :guild "
            "AND user_id = :user)",
            key,
        )
        await self._db.execute(
            "DELETE FROM dm_channels WHERE user_id = :user "
            "AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = :user)",
            {"user": key["user"]},
        )

    async def for_member(self, guild_id: int, user_id: int) -> list[Subscription]:
        """The member's subscriptions in the guild, by topic name."""
        rows = await self._db.fetch_all(
            _SELECT + "WHERE s.guild_id = :guild AND s.user_id = :user ORDER BY t.key",
            {"guild": guild_id, "user": user_id},
        )
        return [SUBSCRIPTION.from_row(row) for row in rows]

    async def count(self, guild_id: int, user_id: int) -> int:
        """How many subscriptions the member has in the guild."""
        counted = await self._db.scalar(
            "SELECT count(*) FROM subscriptions WHERE guild_id = :guild AND user_id = :user",
            {"guild": guild_id, "user": user_id},
        )
        return int(counted or 0)

    async def _find(self, key: dict[str, int]) -> Subscription | None:
        row = await self._db.fetch_one(
            _SELECT + "WHERE s.guild_id = :guild AND s.user_id = :user AND s.topic_id = :topic",
            key,
        )
        return SUBSCRIPTION.from_row(row) if row else None
