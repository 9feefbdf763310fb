"""The moderators' audit log, on PostgreSQL (the SQLite twin: ``storage.guilds``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.guilds import AUDIT_ENTRY, audit_detail
from storage.models import AuditEntry
from storage.postgresql.database import PgDatabase
from storage.timestamps import to_timestamp


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
            "INSERT INTO audit_log (guild_id, actor_id, action, article_pk, detail_json, at) "
            "VALUES ($1, $2, $3, (SELECT pk FROM articles WHERE id = $4), $5, $6)",
            guild_id,
            actor_id,
            action,
            article_id,
            audit_detail(detail),
            to_timestamp(now),
        )

    async def recent(self, guild_id: int, *, limit: int = 50) -> list[AuditEntry]:
        """The guild's latest entries, newest first."""
        rows = await self._db.fetch_all(
            f"SELECT {AUDIT_ENTRY.select} FROM audit_log l "
            "LEFT JOIN articles a ON a.pk = l.article_pk "
            "WHERE l.guild_id = $1 ORDER BY l.id DESC LIMIT $2",
            guild_id,
            limit,
        )
        return [AUDIT_ENTRY.from_row(tuple(row)) for row in rows]
