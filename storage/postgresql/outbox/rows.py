"""Running the outbox's shared statements on PostgreSQL, and reading its rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage.outbox.rows import DELIVERY, DELIVERY_FROM, Delivery
from storage.postgresql.database import PgDatabase


def deliveries(rows: list[tuple[Any, ...]]) -> list[Delivery]:
    """Rows of ``DELIVERY.select`` as deliveries."""
    return [DELIVERY.from_row(row) for row in rows]


class OutboxQueries:
    """The database the outbox's queries run on, with named parameters."""

    _db: PgDatabase

    async def _execute(
        self, sql: str, params: Mapping[str, Any], types: Mapping[str, str] | None = None
    ) -> int:
        return await self._db.named.execute(sql, params, types=types)

    async def _fetch(
        self, sql: str, params: Mapping[str, Any], types: Mapping[str, str] | None = None
    ) -> list[tuple[Any, ...]]:
        return await self._db.named.fetch_all(sql, params, types=types)

    async def _scalar(self, sql: str, params: Mapping[str, Any]) -> Any:
        return await self._db.named.scalar(sql, params)

    async def _deliveries(self, where: str, params: Mapping[str, Any]) -> list[Delivery]:
        return deliveries(
            await self._fetch(f"SELECT {DELIVERY.select} {DELIVERY_FROM} WHERE {where}", params)
        )
