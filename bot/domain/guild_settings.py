"""A guild's own settings: its moderator role, its quality bar and its digest schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import DigestSettings
from bot.domain.digests import (
    DigestSchedule,
    guild_schedule,
    parse_clock_time,
    parse_weekday,
    parse_zone,
)
from bot.domain.errors import UserError
from bot.domain.replans import BarLowering
from bot.domain.subscriptions import Clock, check_quality, utc_now
from storage.api import StoreApi
from storage.models import GuildSettings

DIGEST_SETTINGS = frozenset({"timezone", "digest_time", "digest_day"})
# What a moderator can send back to the default, and the stored settings each one clears.
RESETTABLE: dict[str, tuple[str, ...]] = {
    "timezone": ("timezone",),
    "digest_time": ("digest_time",),
    "digest_day": ("digest_day",),
    "digest_schedule": ("timezone", "digest_time", "digest_day"),
    "min_quality": ("min_quality",),
    "moderator_role": ("moderator_role_id",),
}


@dataclass(frozen=True, slots=True)
class SettingsSaved:
    """A guild's settings after a change, and how many recent publications a lowered quality
    bar lets through (planned by the next planning run)."""

    settings: GuildSettings
    now_passing: int = 0


@dataclass(frozen=True, slots=True)
class NextDigests:
    """A guild's digest schedule and its next daily and weekly moments (UTC)."""

    schedule: DigestSchedule
    daily: datetime
    weekly: datetime


class GuildSettingsService:
    """Read and change one guild's settings, auditing each change."""

    def __init__(
        self,
        store: StoreApi,
        *,
        default_min_quality: int,
        digests: DigestSettings,
        lowering: BarLowering,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._default_min_quality = default_min_quality
        self._digests = digests
        self._lowering = lowering
        self._clock = clock

    async def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings as stored."""
        return await self._store.guild_settings.get(guild_id)

    async def min_quality(self, guild_id: int) -> int:
        """The guild's quality bar, or the deployment's default."""
        settings = await self.get(guild_id)
        return self._default_min_quality if settings.min_quality is None else settings.min_quality

    async def next_digests(self, guild_id: int) -> NextDigests:
        """When the guild's digests go out, and their next moments."""
        schedule = guild_schedule(await self.get(guild_id), self._digests)
        return NextDigests(schedule, *schedule.next_moments(self._clock()))

    async def update(
        self,
        guild_id: int,
        actor_id: int,
        *,
        moderator_role_id: int | None = None,
        min_quality: int | None = None,
        timezone: str | None = None,
        digest_time: str | None = None,
        digest_day: str | None = None,
        reset: str | None = None,
    ) -> SettingsSaved:
        """Change the settings that were given, and send ``reset`` (a key of ``RESETTABLE``)
        back to the default; the others are kept. Every value is checked before anything is
        written. A new digest schedule moves the guild's digest rows not yet due to its next
        moments, in the same transaction; a lowered quality bar has what now passes planned
        (``bot.domain.replans``)."""
        changes: dict[str, int | str | None] = {}
        if moderator_role_id is not None:
            if moderator_role_id == guild_id:  # @everyone: no member's roles list it
                raise UserError(
                    "`moderator_role` can't be @everyone: pick the role your moderators have "
                    "(members with Manage Server moderate already)."
                )
            changes["moderator_role_id"] = moderator_role_id
        if min_quality is not None:
            changes["min_quality"] = check_quality(min_quality)
        if timezone is not None:
            changes["timezone"] = parse_zone(timezone)
        if digest_time is not None:
            changes["digest_time"] = parse_clock_time(digest_time)
        if digest_day is not None:
            changes["digest_day"] = parse_weekday(digest_day)
        if reset is not None:
            changes.update(_cleared(reset, changes))
        passing = await self._save(guild_id, actor_id, changes) if changes else 0
        return SettingsSaved(await self.get(guild_id), passing)

    async def _save(
        self, guild_id: int, actor_id: int, changes: dict[str, int | str | None]
    ) -> int:
        now = self._clock()
        detail: dict[str, int | str | None] = dict(changes)
        passing = 0
        async with self._store.transaction():
            bar = await self.min_quality(guild_id)
            await self._store.guild_settings.update(guild_id, now, **changes)
            if "min_quality" in changes:
                new_bar = await self.min_quality(guild_id)
                passing = await self._lowering.lowered(guild_id, "", 0, old=bar, new=new_bar)
            if changes.keys() & DIGEST_SETTINGS:
                schedule = guild_schedule(await self.get(guild_id), self._digests)
                daily, weekly = schedule.next_moments(now)
                moved = await self._store.deliveries.reschedule_digests(
                    guild_id, now, daily, weekly
                )
                detail["digest_items_moved"] = moved
            await self._store.audit.record(guild_id, actor_id, "settings", now, detail=detail)
        return passing


def _cleared(reset: str, changes: dict[str, int | str | None]) -> dict[str, None]:
    """The stored settings ``reset`` clears; refused when one is also being set."""
    cleared = RESETTABLE.get(reset)
    if cleared is None:
        raise UserError(f"`reset` must be one of: {', '.join(RESETTABLE)}.")
    both = [name.removesuffix("_id") for name in cleared if name in changes]
    if both:
        raise UserError(
            f"`reset` {reset} clears {', '.join(both)}: set it or reset it, not both at once."
        )
    return dict.fromkeys(cleared)
