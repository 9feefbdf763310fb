"""Guild settings and the bot's small key-value facts, on PostgreSQL (the SQLite twin:
``storage.guilds``)."""

from __future__ import annotations

from datetime import datetime

from storage.guilds import SETTINGS
from storage.models import DigestKey, GuildSettings
from storage.postgresql.database import PgDatabase
from storage.timestamps import to_timestamp

# The column list is the SQLite store's: the same names on both engines.
_SETTINGS = tuple(column.field for column in SETTINGS.columns if column.field != "guild_id")


class PgGuildSettingsRepository:
    """Per-guild settings."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings; defaults (None) where it has set nothing."""
        row = await self._db.fetch_one(
            f"SELECT {SETTINGS.select} FROM guild_settings WHERE guild_id = $1", guild_id
        )
        if row is None:
            return GuildSettings(guild_id)
        return SETTINGS.from_row(tuple(row))

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
        # Only the named columns are written, in one statement, so two updates of different
        # settings at once (two processes) both land.
        names = [name for name in _SETTINGS if name in changes]
        listed = "".join(f", {name}" for name in names)
        marks = "".join(f", ${n}" for n in range(3, len(names) + 3))
        updates = "".join(f", {name} = excluded.{name}" for name in names)
        await self._db.execute(
            f"INSERT INTO guild_settings (guild_id, updated_at{listed}) VALUES ($1, $2{marks}) "
            f"ON CONFLICT (guild_id) DO UPDATE SET updated_at = excluded.updated_at{updates}",
            guild_id,
            to_timestamp(now),
            *(changes[name] for name in names),
        )


class PgMetaRepository:
    """Small facts the bot keeps about itself (such as the synced command hash)."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        """The value stored under ``key``."""
        value = await self._db.scalar("SELECT value FROM meta WHERE key = $1", key)
        return None if value is None else str(value)

    async def put(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``."""
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            key,
            value,
        )
