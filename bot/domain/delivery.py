"""Delivery rules: planning fan-out, digest times, retry policy and what Discord's answers mean.

Nothing here talks to Discord; the sender asks these functions what to do.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.config import DeliverySettings, DigestSettings
from storage import Store
from storage.deliveries import Publication

Clock = Callable[[], datetime]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Discord's JSON error codes that mean "this target will not work" (never retry these: Discord
# bans bots that make 10,000 invalid requests in 10 minutes).
CANNOT_DM = 50007
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
UNKNOWN_CHANNEL = 10003
UNKNOWN_USER = 10013
_TARGET_CODES = {CANNOT_DM, MISSING_ACCESS, MISSING_PERMISSIONS, UNKNOWN_USER}
_GONE_CODES = {UNKNOWN_CHANNEL}

FailureKind = Literal["retry", "target", "target_gone", "message"]


@dataclass(frozen=True, slots=True)
class Failure:
    """What a failed send means for the delivery and its target."""

    kind: FailureKind
    description: str
    code: int | None = None
    retry_after: float = 0.0


def classify_failure(status: int | None, code: int | None, text: str = "") -> Failure:
    """Sort Discord's answer: retry later, the target is refused (or gone), or this one
    message is bad. ``status`` None means no answer (timeout or connection error)."""
    detail = str(status or "no answer")
    if code:
        detail += f" (code {code})"
    if text:
        detail += f": {text[:200]}"
    if status is None or status == 429 or status >= 500:
        return Failure("retry", detail, code)
    if code in _GONE_CODES:
        return Failure("target_gone", detail, code)
    if code in _TARGET_CODES or status in (401, 403, 404):
        return Failure("target", detail, code)
    return Failure("message", detail, code)


def pause_reason(failure: Failure, target_kind: str) -> str:
    """Why a feed or subscription was paused, for /feed list and /subscriptions."""
    if failure.code == CANNOT_DM:
        return "Discord refused my DMs: allow DMs from this server, then /subscribe again"
    if failure.code == UNKNOWN_CHANNEL:
        return "the channel no longer exists: /feed add another one"
    if target_kind == "channel":
        return "I can't post there: check my permissions, then /feed add again"
    return f"DMs keep failing ({failure.description})"


def retry_delay(attempt: int, *, base_seconds: float, cap_seconds: float) -> float:
    """Exponential backoff with full jitter: up to base * 2**attempt, capped."""
    ceiling = min(cap_seconds, base_seconds * (2**attempt))
    return random.uniform(ceiling / 2, ceiling)


def next_local_moment(now: datetime, zone: str, at: time, weekday: int | None = None) -> datetime:
    """The first moment after ``now`` (in UTC) when the zone's clocks read ``at`` (on
    ``weekday``, 0 = Monday, when given).

    A time the clocks skip (02:30 on a spring-forward night) comes an hour later, at 03:30; a
    time they show twice (01:30 on a fall-back night) counts once, at its first showing.
    Candidates are compared in UTC: datetimes sharing a zone compare by their wall clocks,
    which would pick a moment already past during the repeated hour.
    """
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    after = now.astimezone(UTC)
    for days in range(-1, 9):
        day = today + timedelta(days=days)
        if weekday is not None and day.weekday() != weekday:
            continue
        moment = datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
        if moment > after:
            return moment
    raise AssertionError("a daily or weekly moment always comes within eight days")


def next_digest_times(
    now: datetime, zone: str, daily: time, weekly_day: str
) -> tuple[datetime, datetime]:
    """The next daily and weekly digest moments after ``now``, in UTC, by the zone's clock."""
    weekday = WEEKDAYS.index(weekly_day)
    return next_local_moment(now, zone, daily), next_local_moment(now, zone, daily, weekday)


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """What one planning run did."""

    publications: int = 0
    channel_posts: int = 0
    direct_messages: int = 0
    skipped_old: int = 0

    def __str__(self) -> str:
        return (
            f"{self.publications} publications planned: {self.channel_posts} channel posts, "
            f"{self.direct_messages} DMs; {self.skipped_old} too old to post"
        )


class DeliveryPlanner:
    """Turns publications into outbox rows (fan-out), skipping the backlog."""

    def __init__(
        self,
        store: Store,
        delivery: DeliverySettings,
        digests: DigestSettings,
        *,
        clock: Clock,
        story_window: timedelta = timedelta(hours=72),
        batch: int = 200,
    ) -> None:
        self._store = store
        self._delivery = delivery
        self._digests = digests
        self._story_window = story_window
        self._clock = clock
        self._batch = batch

    async def digest_times(self, guild_id: int | None, now: datetime) -> tuple[datetime, datetime]:
        """The guild's next daily and weekly digest moments (its time zone, else the default)."""
        zone = self._digests.timezone
        if guild_id is not None:
            zone = (await self._store.guild_settings.get(guild_id)).timezone or zone
        return self._times_in(zone, now)

    def _times_in(self, zone: str, now: datetime) -> tuple[datetime, datetime]:
        return next_digest_times(now, zone, self._digests.daily_clock, self._digests.weekly_day)

    async def plan(self) -> PlanSummary:
        """Plan every unplanned publication: skip the old ones, fan out the rest."""
        now = self._clock()
        cutoff = now - timedelta(hours=self._delivery.max_age_hours)
        skipped = await self._store.deliveries.skip_backlog(cutoff, now)
        channel_posts = direct_messages = planned = 0
        for publication in await self._store.deliveries.unplanned(limit=self._batch):
            counts = await self._plan_one(publication, now)
            channel_posts += counts[0]
            direct_messages += counts[1]
            planned += 1
        return PlanSummary(planned, channel_posts, direct_messages, skipped)

    async def _plan_one(self, publication: Publication, now: datetime) -> tuple[int, int]:
        zones = {self._digests.timezone, *await self._store.guild_settings.timezones_in_use()}
        counts = await self._store.deliveries.write_plan(
            publication,
            now=now,
            default_bar=self._delivery.default_min_quality,
            default_zone=self._digests.timezone,
            digest_due={zone: self._times_in(zone, now) for zone in zones},
            story_since=now - self._story_window,
        )
        return counts.channel_posts, counts.direct_messages
