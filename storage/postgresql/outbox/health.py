"""The outbox's health on PostgreSQL: the shared statements of ``storage.outbox.health``."""

from __future__ import annotations

from storage.outbox.health import (
    HealthCounts,
    feed_health_query,
    health_counts,
    subscription_health_query,
)
from storage.postgresql.outbox.rows import OutboxQueries


class PgHealthQueries(OutboxQueries):
    """Deliveries by state, per feed or subscription."""

    async def feed_health(self, guild_id: int) -> dict[int, HealthCounts]:
        """Per feed of the guild: its deliveries by state."""
        return health_counts(await self._fetch(*feed_health_query(guild_id)))

    async def subscription_health(self, guild_id: int, user_id: int) -> dict[int, HealthCounts]:
        """Per subscription of the member in the guild: its alerts by state."""
        return health_counts(await self._fetch(*subscription_health_query(guild_id, user_id)))
