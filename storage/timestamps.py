"""Times are stored as Unix seconds (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def to_timestamp(moment: datetime) -> int:
    """Unix seconds for an aware datetime."""
    return int(moment.timestamp())


def from_timestamp(seconds: int) -> datetime:
    """An aware UTC datetime from Unix seconds."""
    return datetime.fromtimestamp(seconds, tz=UTC)
