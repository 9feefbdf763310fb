"""The outbox's health: each feed's and subscription's deliveries by state, pruned ones
included. The statements and the reading of their rows serve both engines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

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
        return await self._health(*feed_health_query(guild_id))

    async def subscription_health(self, guild_id: int, user_id: int) -> dict[int, HealthCounts]:
        """Per subscription of the member in the guild: its alerts by state."""
        return await self._health(*subscription_health_query(guild_id, user_id))

    async def _health(self, sql: str, params: dict[str, Any]) -> dict[int, HealthCounts]:
        return health_counts(await self._db.fetch_all(sql, params))


def feed_health_query(guild_id: int) -> tuple[str, dict[str, Any]]:
    """The statement counting each feed's deliveries of the guild by state, and its
    parameters (named, for either engine); ``health_counts`` reads its rows."""
    return _health_query("feed_id", "channel", guild_id, None)


def subscription_health_query(guild_id: int, user_id: int) -> tuple[str, dict[str, Any]]:
    """The same for each subscription of the member in the guild."""
    return _health_query("subscription_id", "dm", guild_id, user_id)


def _health_query(
    column: str, kind: TargetKind, guild_id: int, target_id: int | None
) -> tuple[str, dict[str, Any]]:
    # attempted rows through the history index, waiting ones through the pending queue,
    # and what pruned rows counted for
    # the target as a term of its own when given: inside an OR, SQLite would not seek on it
    # and would read every row of the guild (1.2 million for a member of a large server)
    where = "guild_id = :guild AND target_kind = :kind" + (
        "" if target_id is None else " AND target_id = :target"
    )
    sql = (
        f"SELECT {column}, state, count(*) FROM deliveries WHERE {where} "
        f"AND state != 'pending' GROUP BY {column}, state UNION ALL "
        f"SELECT {column}, 'pending', count(*) FROM deliveries WHERE {where} "
        f"AND {ANY_PENDING} GROUP BY {column} UNION ALL "
        f"SELECT source_id, state, total FROM delivery_counts WHERE {where}"
    )
    params = {"guild": guild_id, "kind": kind, "whenever": WHENEVER}
    if target_id is not None:
        params["target"] = target_id
    return sql, params


def health_counts(rows: Iterable[Sequence[Any]]) -> dict[int, HealthCounts]:
    """Counts by source from rows of (source id, state, count), a source's states summed."""
    counts: dict[int, dict[str, int]] = {}
    for key, state, count in rows:
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
