"""Running the outbox's shared statements on PostgreSQL, and reading its rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage.outbox.rows import DELIVERY, DELIVERY_FROM, Delivery
from storage.postgresql.database import PgDatabase
from storage.postgresql.params import bind


def changed(status: str) -> int:
    """How many rows a statement changed, from its status (``UPDATE 3``, ``INSERT 0 5``)."""
    return int(status.rsplit(" ", 1)[-1])


def deliveries(rows: list[tuple[Any, ...]]) -> list[Delivery]:
    """Rows of ``DELIVERY.select`` as deliveries."""
    return [DELIVERY.from_row(row) for row in rows]


class OutboxQueries:
    """The database the outbox's queries run on, with named parameters."""

    _db: PgDatabase

    async def _execute(
        self, sql: str, params: Mapping[str, Any], types: Mapping[str, str] | None = None
    ) -> int:
        statement, args = bind(sql, params, types)
        return changed(await self._db.execute(statement, *args))

    async def _fetch(
        self, sql: str, params: Mapping[str, Any], types: Mapping[str, str] | None = None
    ) -> list[tuple[Any, ...]]:
        statement, args = bind(sql, params, types)
        return [tuple(row) for row in await self._db.fetch_all(statement, *args)]

    async def _scalar(self, sql: str, params: Mapping[str, Any]) -> Any:
        statement, args = bind(sql, params)
        return await self._db.scalar(statement, *args)

    async def _deliveries(self, where: str, params: Mapping[str, Any]) -> list[Delivery]:
        return deliveries(
            await self._fetch(f"SELECT {DELIVERY.select} {DELIVERY_FROM} WHERE {where}", params)
        )
