"""The outbox's health: each feed's and subscription's deliveries by state, pruned ones
included."""

from __future__ import annotations

from dataclasses import dataclass

from storage.database import Database
from storage.outbox.rows import ANY_PENDING, WHENEVER, TargetKind


@dataclass(frozen=True, slots=True)
class HealthCounts:
    """Deliveries of one feed or subscription by state."""

    pending: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0


class HealthQueries:
    """Deliveries by state, per feed or subscription."""

    _db: Database

    async def feed_health(self, guild_id: int) -> dict[int, HealthCounts]:
        """Per feed of the guild: its deliveries by state."""
        return await self._health("feed_id", "channel", guild_id, None)

    async def subscription_health(self, guild_id: int, user_id: int) -> dict[int, HealthCounts]:
        """Per subscription of the member in the guild: its alerts by state."""
        return await self._health("subscription_id", "dm", guild_id, user_id)

    async def _health(
        self, column: str, kind: TargetKind, guild_id: int, target_id: int | None
    ) -> dict[int, HealthCounts]:
        # attempted rows through the history index, waiting ones through the pending queue,
        # and what pruned rows counted for
        where = (
            "guild_id = :guild AND target_kind = :kind AND (:target IS NULL OR target_id = :target)"
        )
        sql = (
            f"SELECT {column}, state, count(*) FROM deliveries WHERE {where} "
            f"AND state != 'pending' GROUP BY {column}, state UNION ALL "
            f"SELECT {column}, state, count(*) FROM deliveries WHERE {where} "
            f"AND {ANY_PENDING} GROUP BY {column} UNION ALL "
            f"SELECT source_id, state, total FROM delivery_counts WHERE {where}"
        )
        params = {"guild": guild_id, "kind": kind, "target": target_id, "whenever": WHENEVER}
        counts: dict[int, dict[str, int]] = {}
        for key, state, count in await self._db.fetch_all(sql, params):
            if key is not None:
                by_state = counts.setdefault(key, {})
                by_state[state] = by_state.get(state, 0) + count
        return {
            key: HealthCounts(
                pending=by_state.get("pending", 0),
                sent=by_state.get("sent", 0),
                failed=by_state.get("failed", 0),
                dead=by_state.get("dead", 0),
            )
            for key, by_state in counts.items()
        }
