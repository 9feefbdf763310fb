"""The moderators' audit log, on PostgreSQL (the SQLite twin: ``storage.guilds``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.guilds import AUDIT_ENTRY, RECENT_AUDIT, RECORD_AUDIT, audit_detail
from storage.models import AuditEntry
from storage.postgresql.database import PgDatabase
from storage.postgresql.params import numbered
from storage.timestamps import to_timestamp

_RECORD = numbered(RECORD_AUDIT)
_RECENT = numbered(RECENT_AUDIT)


class PgAuditRepository:
    """What moderators did, per guild."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def record(
        self,
        guild_id: int,
        actor_id: int,
        action: str,
        now: datetime,
        *,
        article_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append one entry."""
        await self._db.execute(
            _RECORD,
            guild_id,
            actor_id,
            action,
            article_id,
            audit_detail(detail),
            to_timestamp(now),
        )

    async def recent(self, guild_id: int, *, limit: int = 50) -> list[AuditEntry]:
        """The guild's latest entries, newest first."""
        rows = await self._db.fetch_all(_RECENT, guild_id, limit)
        return [AUDIT_ENTRY.from_row(tuple(row)) for row in rows]
