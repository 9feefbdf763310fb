"""Guild settings, the moderators' audit log, and small key-value facts about the bot."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from storage.columns import Column, Columns
from storage.models import AuditEntry, DigestKey, GuildSettings
from storage.outbox.rows import ANY_PENDING, WHENEVER
from storage.sql import Statements
from storage.timestamps import from_timestamp, to_timestamp

SETTINGS = Columns(
    GuildSettings,
    Column("guild_id", "guild_id"),
    Column("moderator_role_id", "moderator_role_id"),
    Column("min_quality", "min_quality"),
    Column("timezone", "timezone"),
    Column("digest_time", "digest_time"),
    Column("digest_day", "digest_day"),
)
# The columns of guild_settings a guild sets.
_SETTINGS = tuple(column.field for column in SETTINGS.columns if column.field != "guild_id")
AUDIT_ENTRY = Columns(
    AuditEntry,
    Column("guild_id", "l.guild_id"),
    Column("actor_id", "l.actor_id"),
    Column("action", "l.action"),
    Column("article_id", "a.id"),
    Column("detail", "l.detail_json", json.loads),
    Column("at", "l.at", from_timestamp),
    Column("article_title", "a.title"),
    Column("id", "l.id"),
)


# Why a row waiting for a server the bot was removed from was cancelled.
LEFT_THE_SERVER = "the bot left the server"


def audit_detail(detail: dict[str, Any] | None) -> str:
    """An entry's detail as stored (JSON text, readable as written)."""
    return json.dumps(detail or {}, ensure_ascii=False)


# An entry about an article keeps the article's id and title in its detail too: retention may
# prune the article long before the entry (retention.published_articles_days against
# audit_days, by default forever), and "published an article no longer stored" tells a
# moderator nothing of what was published.
ARTICLE_KEPT = "article"


def with_kept_article(entry: AuditEntry) -> AuditEntry:
    """The entry naming its article as the detail kept it, when the article is gone (the
    detail as it was given, either way)."""
    if ARTICLE_KEPT not in entry.detail:
        return entry
    kept = entry.detail[ARTICLE_KEPT]
    detail = {key: value for key, value in entry.detail.items() if key != ARTICLE_KEPT}
    if entry.article_id is not None or not isinstance(kept, dict) or not kept.get("id"):
        return dataclasses.replace(entry, detail=detail)
    return dataclasses.replace(
        entry,
        detail=detail,
        article_id=str(kept["id"]),
        article_title=str(kept.get("title") or ""),
        article_stored=False,
    )


# The repositories here serve both engines (``storage.sql.Statements``); PostgreSQL holds
# the same tables and columns.
class GuildSettingsRepository:
    """Per-guild settings."""

    def __init__(self, db: Statements) -> None:
        self._db = db

    async def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings; defaults (None) where it has set nothing."""
        row = await self._db.fetch_one(
            f"SELECT {SETTINGS.select} FROM guild_settings WHERE guild_id = :guild",
            {"guild": guild_id},
        )
        if row is None:
            return GuildSettings(guild_id)
        return SETTINGS.from_row(row)

    async def digest_schedules_in_use(self) -> list[DigestKey]:
        """The (timezone, digest_time, digest_day) guilds have set, None where they kept the
        default; each combination once."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT timezone, digest_time, digest_day FROM guild_settings "
            "WHERE timezone IS NOT NULL OR digest_time IS NOT NULL OR digest_day IS NOT NULL"
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def update(self, guild_id: int, now: datetime, **changes: int | str | None) -> None:
        """Set some of the guild's settings (the names of ``GuildSettings``); the others are
        kept."""
        unknown = set(changes) - set(_SETTINGS)
        if unknown:
            raise ValueError(f"unknown guild settings: {sorted(unknown)}")
        # Only the named columns are written, in one statement: two moderators changing
        # different settings at once (in one process or two) both keep their change. The
        # columns come in one order, so each set of them is one statement text.
        names = [name for name in _SETTINGS if name in changes]
        listed = "".join(f", {name}" for name in names)
        values = "".join(f", :{name}" for name in names)
        updates = "".join(f", {name} = excluded.{name}" for name in names)
        await self._db.execute(
            f"INSERT INTO guild_settings (guild_id, updated_at{listed}) "
            f"VALUES (:guild, :now{values}) "
            f"ON CONFLICT (guild_id) DO UPDATE SET updated_at = excluded.updated_at{updates}",
            {"guild": guild_id, "now": to_timestamp(now), **changes},
        )

    # -- the servers the bot was removed from (GUILD_DELETE), until it is invited back --------

    async def left(self, guild_id: int, now: datetime, name: str | None = None) -> int:
        """The bot was removed from the guild: note it (planning then writes nothing for it),
        with its ``name`` when known, and cancel what waits for it, posts, DMs and digests
        alike; how many rows that was. Its feeds, subscriptions and settings are kept for its
        return."""
        async with self._db.transaction():
            await self._db.execute(
                "INSERT INTO guilds_left (guild_id, left_at, name) VALUES (:guild, :now, :name) "
                "ON CONFLICT (guild_id) DO UPDATE SET name = coalesce(excluded.name, "
                "guilds_left.name)",
                {"guild": guild_id, "now": to_timestamp(now), "name": name},
            )
            return await self._db.execute(
                "UPDATE deliveries SET state = 'cancelled', last_error = :why "
                f"WHERE guild_id = :guild AND {ANY_PENDING}",
                {"guild": guild_id, "why": LEFT_THE_SERVER, "whenever": WHENEVER},
            )

    async def returned(self, guild_id: int) -> bool:
        """The bot is in the guild (again): whether it had been noted as removed."""
        changed = await self._db.execute(
            "DELETE FROM guilds_left WHERE guild_id = :guild", {"guild": guild_id}
        )
        return changed > 0

    async def name_when_left(self, guild_id: int) -> str | None:
        """The name the guild had when it removed the bot; None when it did not, or the name
        is not known."""
        name = await self._db.scalar(
            "SELECT name FROM guilds_left WHERE guild_id = :guild", {"guild": guild_id}
        )
        return None if name is None else str(name)

    async def is_gone(self, guild_id: int) -> bool:
        """Whether the bot was removed from the guild (and not invited back since)."""
        found = await self._db.scalar(
            "SELECT 1 FROM guilds_left WHERE guild_id = :guild", {"guild": guild_id}
        )
        return found is not None

    async def with_set_up(self) -> list[int]:
        """The guilds with a feed or a subscription that the bot is not known to have left."""
        rows = await self._db.fetch_all(
            "SELECT guild_id FROM feeds UNION SELECT guild_id FROM subscriptions "
            "EXCEPT SELECT guild_id FROM guilds_left"
        )
        return sorted(int(row[0]) for row in rows)


class AuditRepository:
    """What moderators did, per guild."""

    def __init__(self, db: Statements) -> None:
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
    ) -> int:
        """Append one entry; its id."""
        rows = await self._db.fetch_all(
            "INSERT INTO audit_log (guild_id, actor_id, action, article_pk, detail_json, at) "
            "VALUES (:guild, :actor, :action, (SELECT pk FROM articles WHERE id = :article), "
            ":detail, :at) RETURNING id",
            {
                "guild": guild_id,
                "actor": actor_id,
                "action": action,
                "article": article_id,
                "detail": audit_detail(await self._keeping_article(article_id, detail)),
                "at": to_timestamp(now),
            },
        )
        return int(rows[0][0])

    async def revise(
        self, entry_id: int, detail: dict[str, Any], *, article_id: str | None = None
    ) -> None:
        """Replace an entry's detail (an action whose outcome grows as it goes on)."""
        await self._db.execute(
            "UPDATE audit_log SET detail_json = :detail WHERE id = :entry",
            {
                "entry": entry_id,
                "detail": audit_detail(await self._keeping_article(article_id, detail)),
            },
        )

    async def _keeping_article(
        self, article_id: str | None, detail: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """``detail`` with the article's id and title kept in it (``ARTICLE_KEPT``)."""
        if article_id is None:
            return detail
        title = await self._db.scalar(
            "SELECT title FROM articles WHERE id = :article", {"article": article_id}
        )
        if title is None:
            return detail
        return {**(detail or {}), ARTICLE_KEPT: {"id": article_id, "title": str(title)}}

    async def recent(
        self, guild_id: int, *, limit: int = 50, offset: int = 0, before: int | None = None
    ) -> list[AuditEntry]:
        """The guild's latest entries, newest first (from the ``offset``-th on), only those
        written before entry ``before`` when given."""
        params: dict[str, int] = {"guild": guild_id, "limit": limit, "offset": offset}
        older = ""
        if before is not None:
            older, params["before"] = "AND l.id < :before ", before
        rows = await self._db.fetch_all(
            f"SELECT {AUDIT_ENTRY.select} FROM audit_log l "
            "LEFT JOIN articles a ON a.pk = l.article_pk "
            f"WHERE l.guild_id = :guild {older}ORDER BY l.id DESC LIMIT :limit OFFSET :offset",
            params,
        )
        return [with_kept_article(AUDIT_ENTRY.from_row(row)) for row in rows]

    async def following(self, guild_id: int, after: int, *, limit: int) -> list[AuditEntry]:
        """The ``limit`` entries of the guild written just after entry ``after``, newest
        first."""
        rows = await self._db.fetch_all(
            f"SELECT {AUDIT_ENTRY.select} FROM audit_log l "
            "LEFT JOIN articles a ON a.pk = l.article_pk "
            "WHERE l.guild_id = :guild AND l.id > :after ORDER BY l.id LIMIT :limit",
            {"guild": guild_id, "after": after, "limit": limit},
        )
        return [with_kept_article(AUDIT_ENTRY.from_row(row)) for row in reversed(rows)]

    async def count_after(self, guild_id: int, after: int) -> int:
        """How many of the guild's entries were written after entry ``after``."""
        return int(
            await self._db.scalar(
                "SELECT count(*) FROM audit_log WHERE guild_id = :guild AND id > :after",
                {"guild": guild_id, "after": after},
            )
            or 0
        )

    async def count(self, guild_id: int) -> int:
        """How many entries the guild's log holds."""
        return int(
            await self._db.scalar(
                "SELECT count(*) FROM audit_log WHERE guild_id = :guild", {"guild": guild_id}
            )
        )


class MetaRepository:
    """Small facts the bot keeps about itself (such as the synced command hash)."""

    def __init__(self, db: Statements) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        """The value stored under ``key``."""
        value = await self._db.scalar("SELECT value FROM meta WHERE key = :key", {"key": key})
        return None if value is None else str(value)

    async def put(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``."""
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES (:key, :value) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            {"key": key, "value": value},
        )
