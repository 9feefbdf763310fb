"""Times are stored as Unix seconds (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

# The date of an article whose file gave none (a coverage entry; a full article always has
# one). ``articles.published_at`` stays NOT NULL, so this stands in: 0001-01-01, long before
# any date a file may carry (1900-2200). So an unknown date sorts after every known one
# newest first, is far from every date when closeness in time is scored, and is never within
# a story window (such articles also get no headline keys: ``storage.prepare``).
UNKNOWN_TIME = -62_135_596_800


def to_timestamp(moment: datetime) -> int:
    """Unix seconds for an aware datetime."""
    return int(moment.timestamp())


def from_timestamp(seconds: int) -> datetime:
    """An aware UTC datetime from Unix seconds."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def to_stored_time(moment: datetime | None) -> int:
    """``to_timestamp``, with ``UNKNOWN_TIME`` for an unknown date."""
    return UNKNOWN_TIME if moment is None else to_timestamp(moment)


def from_stored_time(seconds: int) -> datetime | None:
    """``from_timestamp``, with None for ``UNKNOWN_TIME``."""
    return None if seconds == UNKNOWN_TIME else from_timestamp(seconds)
