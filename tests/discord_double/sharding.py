"""Discord's sharding rules as the double applies them: which shard a server's events go to,
and how fast sessions may identify (``session_start_limit.max_concurrency`` per 5 s)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

IDENTIFY_WINDOW_SECONDS = 5.0
DAILY_SESSION_STARTS = 1000

Shard = tuple[int, int]  # (shard_id, shard_count), as IDENTIFY's ``shard`` carries it
UNSHARDED: Shard = (0, 1)


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that receives ``guild_id``'s events (Discord's formula)."""
    return (guild_id >> 22) % shard_count


def covers(shard: Shard, guild_id: int | None) -> bool:
    """Whether a session identified as ``shard`` receives ``guild_id``'s events; events of no
    server (DMs) go to shard 0."""
    shard_id, count = shard
    if guild_id is None:
        return shard_id == 0
    return shard_of(guild_id, count) == shard_id


def parse_shard(value: object) -> Shard | None:
    """IDENTIFY's ``shard`` field as a valid pair, ``UNSHARDED`` when absent, or None when
    Discord would close the socket with 4010 (invalid shard)."""
    if value is None:
        return UNSHARDED
    if not isinstance(value, list) or len(value) != 2:
        return None
    shard_id, count = value
    if not isinstance(shard_id, int) or not isinstance(count, int):
        return None
    if count < 1 or not 0 <= shard_id < count:
        return None
    return shard_id, count


@dataclass(frozen=True, slots=True)
class IdentifyRecord:
    """One IDENTIFY the double received: when (``time.monotonic()``), for which shard, and
    whether it was let through."""

    at: float
    shard: Shard
    admitted: bool


@dataclass
class IdentifyLimiter:
    """Counts identifies by rate-limit bucket (``shard_id % max_concurrency``) and, when
    ``enforce``, refuses a second one in a bucket within the window, as Discord does (the
    gateway answers INVALID_SESSION, not resumable)."""

    max_concurrency: int = 1
    enforce: bool = False
    window_seconds: float = IDENTIFY_WINDOW_SECONDS
    log: list[IdentifyRecord] = field(default_factory=list)

    def bucket(self, shard: Shard) -> int:
        """The rate-limit bucket of ``shard``."""
        return shard[0] % self.max_concurrency

    def admit(self, shard: Shard) -> bool:
        """Record an identify of ``shard``; False when it must be refused."""
        now = time.monotonic()
        admitted = not self.enforce or not any(
            record.admitted
            and self.bucket(record.shard) == self.bucket(shard)
            and now - record.at < self.window_seconds
            for record in self.log
        )
        self.log.append(IdentifyRecord(now, shard, admitted))
        return admitted

    @property
    def refused(self) -> int:
        """Identifies refused for coming too fast."""
        return sum(not record.admitted for record in self.log)

    def busiest_window(self) -> int:
        """The most identifies let through in one bucket within any window: at most 1 when
        every identify respected the limit."""
        admitted = [record for record in self.log if record.admitted]
        return max(
            (
                sum(
                    1
                    for other in admitted
                    if self.bucket(other.shard) == self.bucket(first.shard)
                    and 0 <= other.at - first.at < self.window_seconds
                )
                for first in admitted
            ),
            default=0,
        )

    def session_start_limit(self) -> dict[str, int]:
        """``GET /gateway/bot``'s ``session_start_limit``."""
        used = sum(record.admitted for record in self.log)
        return {
            "total": DAILY_SESSION_STARTS,
            "remaining": max(DAILY_SESSION_STARTS - used, 0),
            "reset_after": 86_400_000,
            "max_concurrency": self.max_concurrency,
        }
