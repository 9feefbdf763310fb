"""A guild's own settings: its moderator role and its quality bar."""

from __future__ import annotations

from bot.domain.subscriptions import Clock, check_quality, utc_now
from storage import Store
from storage.models import GuildSettings


class GuildSettingsService:
    """Read and change one guild's settings, auditing each change."""

    def __init__(self, store: Store, *, default_min_quality: int, clock: Clock = utc_now) -> None:
        self._store = store
        self._default_min_quality = default_min_quality
        self._clock = clock

    async def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings as stored."""
        return await self._store.guild_settings.get(guild_id)

    async def min_quality(self, guild_id: int) -> int:
        """The guild's quality bar, or the deployment's default."""
        settings = await self.get(guild_id)
        return self._default_min_quality if settings.min_quality is None else settings.min_quality

    async def update(
        self,
        guild_id: int,
        actor_id: int,
        *,
        moderator_role_id: int | None = None,
        min_quality: int | None = None,
    ) -> GuildSettings:
        """Change the settings that were given; the others are kept."""
        changes: dict[str, int] = {}
        if moderator_role_id is not None:
            changes["moderator_role_id"] = moderator_role_id
        if min_quality is not None:
            changes["min_quality"] = check_quality(min_quality)
        if changes:
            await self._store.guild_settings.update(guild_id, self._clock(), **changes)
            await self._store.audit.record(
                guild_id, actor_id, "settings", self._clock(), detail=dict(changes)
            )
        return await self.get(guild_id)
