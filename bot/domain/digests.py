"""When digests go out: a server's schedule (time zone, time of day, weekly day; the
deployment's defaults where it set none), its next moments, and reading what moderators type.

Nothing here talks to Discord.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from bot.config import DigestSettings
from bot.domain.errors import UserError
from bot.domain.text import shown
from storage.models import GuildSettings

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# ASCII digits only: \d also takes "０" or "٣", which a stored time must never hold.
_CLOCK_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$", re.ASCII)
# An offset typed as a zone ("UTC+2", "GMT-5", "+05:30"): the IANA names for these,
# Etc/GMT+2 and so on, count the hours the other way (Etc/GMT+2 is UTC-02:00).
_TYPED_OFFSET = re.compile(r"^(utc|gmt|z)?\s*[+\-\u2212]\s*\d{1,2}(:?\d{2})?$", re.ASCII)
# Abbreviations that name a fixed offset, with no summer time, where most who type them
# live by a clock that has one: the city for each, and the place whose clock it is.
_FIXED_ABBREVIATIONS = {
    "EST": ("America/New_York", "America/Panama"),
    "MST": ("America/Denver", "America/Phoenix"),
}
# The regions of the IANA database's own names; the rest are old aliases (US/Eastern, Japan).
_REGIONS = {
    "Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe",
    "Indian", "Pacific",
}  # fmt: skip
_NOT_ZONES = {"localtime", "Factory", "posixrules", "posix", "right"}
# Offered before anything is typed: where most people are.
POPULAR_ZONES = (
    "UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "America/Mexico_City", "America/Sao_Paulo", "Europe/London", "Europe/Paris",
    "Europe/Berlin", "Europe/Istanbul", "Europe/Moscow", "Africa/Lagos", "Africa/Cairo",
    "Africa/Johannesburg", "Asia/Dubai", "Asia/Kolkata", "Asia/Bangkok", "Asia/Shanghai",
    "Asia/Singapore", "Asia/Tokyo", "Asia/Seoul", "Australia/Sydney", "Pacific/Auckland",
)  # fmt: skip


def next_local_moment(now: datetime, zone: str, at: time, weekday: int | None = None) -> datetime:
    """The first moment after ``now`` (in UTC) when the zone's clocks read ``at`` (on
    ``weekday``, 0 = Monday, when given).

    A time the clocks skip comes as much later as they jump (02:30 on a spring-forward night
    comes at 03:30; on Lord Howe Island, half an hour later); a
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


def clock_of(text: str) -> time:
    """An ``HH:MM`` time of day (already checked) as a ``time``."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """When a server's digests go out; ``own`` names what it set itself."""

    zone: str
    daily_time: str
    weekly_day: str
    own: frozenset[str] = frozenset()

    def next_moments(self, now: datetime) -> tuple[datetime, datetime]:
        """The next daily and weekly digest moments after ``now``, in UTC."""
        return next_digest_times(now, self.zone, clock_of(self.daily_time), self.weekly_day)


def schedule_of(
    defaults: DigestSettings,
    timezone: str | None = None,
    digest_time: str | None = None,
    digest_day: str | None = None,
) -> DigestSchedule:
    """A server's schedule from what it stored (None: the deployment's default)."""
    chosen = {"timezone": timezone, "digest_time": digest_time, "digest_day": digest_day}
    return DigestSchedule(
        zone=timezone or defaults.timezone,
        daily_time=digest_time or defaults.daily_time,
        weekly_day=digest_day or defaults.weekly_day,
        own=frozenset(name for name, value in chosen.items() if value is not None),
    )


def guild_schedule(settings: GuildSettings, defaults: DigestSettings) -> DigestSchedule:
    """The schedule of a server's stored settings."""
    return schedule_of(defaults, settings.timezone, settings.digest_time, settings.digest_day)


# --- what moderators type ----------------------------------------------------------------


@cache
def _zones() -> dict[str, str]:
    """Every zone name the system knows, by its case-folded form."""
    return {
        name.casefold(): name
        for name in available_timezones()
        if name.split("/")[0] not in _NOT_ZONES
    }


@dataclass(frozen=True, slots=True)
class _Zone:
    name: str
    city: str  # the last part, as people type it: "new york"
    words: str  # the whole name so: "america new york"
    legacy: bool  # an old alias (US/Eastern, Japan): offered after the region names


@cache
def _searchable() -> tuple[_Zone, ...]:
    return tuple(
        _Zone(
            name,
            _words(name.rsplit("/", 1)[-1]),
            _words(name),
            name != "UTC" and name.split("/")[0] not in _REGIONS,
        )
        for name in sorted(_zones().values())
        if name not in _FIXED_ABBREVIATIONS  # refused when given: not offered either
    )


def _words(text: str) -> str:
    """Case-folded words without accents, as people type a place ("sao paulo")."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.split(r"[\s_/\-]+", plain.casefold())).strip()


def find_zones(typed: str, *, limit: int = 25) -> list[str]:
    """Zone names matching what was typed, by city first: "new york", "tokyo", "paris"."""
    query = _words(typed[:100])
    if not query:
        return [zone for zone in POPULAR_ZONES if zone.casefold() in _zones()][:limit]
    ranked = [
        (rank, zone.legacy, zone.name)
        for zone in _searchable()
        if (rank := _match_rank(query, zone)) is not None
    ]
    return [name for _, _, name in sorted(ranked)[:limit]]


def _match_rank(query: str, zone: _Zone) -> int | None:
    if zone.city == query:
        return 0
    if zone.city.startswith(query):
        return 1
    if f" {zone.words}".find(f" {query}") >= 0:
        return 2  # a word of the name starts with it: "york", "america new"
    if query in zone.words:
        return 3
    return None


def parse_zone(typed: str) -> str:
    """The zone a moderator named: an IANA name in any case, or a city that names one zone."""
    cleaned = " ".join(typed.split())
    _refuse_misleading_zone(cleaned)
    exact = _zones().get(cleaned.casefold().replace(" ", "_"))
    if exact is not None:
        return exact
    query = _words(cleaned)
    cities = [zone for zone in _searchable() if zone.city == query and not _is_etc(zone.name)]
    if cities:  # a city's name: the zone the list offers first for it
        return min(cities, key=lambda zone: (zone.legacy, zone.name)).name
    raise UserError(
        "`timezone` must be a time zone such as Europe/Paris or America/New_York: start "
        f"typing a city and pick one from the list (you gave {shown(typed, 40)})."
    )


def _is_etc(name: str) -> bool:
    """Etc/GMT+2 and the like: taken only when typed in full, never for a typed "GMT+2"."""
    return name.startswith("Etc/")


def _refuse_misleading_zone(cleaned: str) -> None:
    """Refuse what names a zone other than the one meant: an offset, or EST in summer."""
    offset_typed = _TYPED_OFFSET.match(cleaned.casefold())
    if offset_typed and any(digit in "123456789" for digit in cleaned):  # GMT+0 is GMT
        raise UserError(
            "`timezone` must be a place's time zone, not an offset: an offset has no summer "
            "time, and names like Etc/GMT+2 count the hours the other way (it is UTC−02:00). "
            f"Start typing your city and pick it from the list (you gave {shown(cleaned, 40)})."
        )
    cities = _FIXED_ABBREVIATIONS.get(cleaned.upper())
    if cities is not None:
        seasonal, fixed = cities
        offset = utc_offset(cleaned.upper(), datetime(2000, 1, 1, tzinfo=UTC))
        raise UserError(
            f"`timezone` {cleaned.upper()} stays at {offset} all year, with no summer time. "
            f"Pick a city instead: {seasonal} for the clock that changes in summer, or {fixed} "
            "for one that does not."
        )


def parse_clock_time(typed: str) -> str:
    """A time of day as HH:MM on a 24-hour clock ("8:05" is read as 08:05)."""
    match = _CLOCK_TIME.match(typed.strip())
    if match is None:
        raise UserError(
            "`digest_time` must be a time of day as HH:MM on a 24-hour clock, such as 08:00 "
            f"or 18:30 (you gave {shown(typed, 20)})."
        )
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def parse_weekday(typed: str) -> str:
    """A day of the week, in any case."""
    day = typed.strip().casefold()
    if day not in WEEKDAYS:
        raise UserError(
            f"`digest_day` must be a day of the week, such as monday (you gave {shown(typed, 20)})."
        )
    return day


def utc_offset(zone: str, now: datetime) -> str:
    """The zone's offset from UTC at ``now``, such as UTC+09:00 or UTC−04:00."""
    offset = now.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "−"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
