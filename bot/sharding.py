"""Which gateway shards this process connects (``topicbot run --shard-ids 0,1 --shard-count
4``), checked before anything connects; and the wait before each IDENTIFY, so that a process
never identifies faster than Discord allows (``session_start_limit.max_concurrency`` sessions
per 5 s, one per rate-limit bucket ``shard_id % max_concurrency``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

# Discord's window is 5 s; a turn is held half a second longer, because two identifies sent 5 s
# apart can reach Discord closer together (one process's connection slower than another's).
IDENTIFY_WINDOW_SECONDS = 5.5


class ShardPlanError(ValueError):
    """Shard flags that cannot be carried out; the message names the flag and why."""


@dataclass(frozen=True, slots=True)
class ShardPlan:
    """The shards to connect: ``ids`` of ``count``; both None for every shard Discord
    recommends (``GET /gateway/bot``), in this one process."""

    ids: tuple[int, ...] | None = None
    count: int | None = None

    @property
    def options(self) -> dict[str, object]:
        """Keyword arguments for discord.py's ``AutoShardedBot``."""
        if self.count is None:
            return {}
        return {"shard_count": self.count, "shard_ids": list(self.ids) if self.ids else None}

    def describe(self, count: int | None) -> str:
        """For the log line at connection: ``shards 0,1 of 4`` (``count`` is the bot's shard
        count, learnt from Discord when the plan had none)."""
        total = self.count or count or 1
        shown = self.ids if self.ids else range(total)
        return f"shards {','.join(map(str, shown))} of {total}"


def parse_shard_plan(ids_text: str | None, count: int | None) -> ShardPlan:
    """``--shard-ids`` (comma-separated) and ``--shard-count`` as a plan, or a
    ``ShardPlanError``: ids need a count, each id is a whole number from 0 to count - 1,
    and no id is given twice."""
    if count is not None and count < 1:
        raise ShardPlanError(f"--shard-count must be 1 or more (got {count})")
    if ids_text is None:
        return ShardPlan(None, count)
    if count is None:
        raise ShardPlanError("--shard-ids needs --shard-count (how many shards the bot has)")
    ids = tuple(_shard_id(part, count) for part in ids_text.split(","))
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ShardPlanError(f"--shard-ids names shard {duplicates[0]} twice")
    return ShardPlan(ids, count)


def _shard_id(text: str, count: int) -> int:
    try:
        shard_id = int(text.strip())
    except ValueError:
        raise ShardPlanError(
            f"--shard-ids takes whole numbers separated by commas, such as 0,1 (got {text!r})"
        ) from None
    if not 0 <= shard_id < count:
        raise ShardPlanError(
            f"--shard-ids: shard {shard_id} does not exist with --shard-count {count} "
            f"(shards are numbered 0 to {count - 1})"
        )
    return shard_id


Sleep = Callable[[float], Awaitable[None]]


class IdentifySlots(Protocol):
    """Where identify turns are booked: in this process, or in the database that several
    processes share."""

    async def reserve(self, bucket: int, window: float) -> float:
        """Book the bucket's next turn (``window`` seconds after its last one, or now); the
        seconds to wait until it."""
        ...

    async def close(self) -> None:
        """Give back what is held (at shutdown)."""
        ...


class LocalSlots:
    """Identify turns booked in this process only."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._last: dict[int, float] = {}

    async def reserve(self, bucket: int, window: float) -> float:
        now = self._monotonic()
        last = self._last.get(bucket)
        turn = now if last is None else max(now, last + window)
        self._last[bucket] = turn
        return turn - now

    async def close(self) -> None:
        return None


class IdentifyPacer:
    """Waits before each IDENTIFY for its rate-limit bucket's turn. Shards of different
    buckets identify at once, where discord.py's own hook waits 5 s before every shard but the
    first. ``max_concurrency`` is asked (of Discord) once, at the first identify."""

    def __init__(
        self,
        max_concurrency: Callable[[], Awaitable[int]],
        slots: IdentifySlots | None = None,
        *,
        window: float = IDENTIFY_WINDOW_SECONDS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._max_concurrency = max_concurrency
        self._concurrency: int | None = None
        self._slots = slots or LocalSlots()
        self.window = window
        self._sleep = sleep

    async def wait_turn(self, shard_id: int | None) -> None:
        """Return once ``shard_id`` may identify."""
        bucket = await self._bucket(shard_id or 0)
        delay = await self._slots.reserve(bucket, self.window)
        if delay > 0:
            await self._sleep(delay)

    async def close(self) -> None:
        """Give back the turns held (at shutdown)."""
        await self._slots.close()

    async def _bucket(self, shard_id: int) -> int:
        if self._concurrency is None:
            self._concurrency = max(await self._max_concurrency(), 1)
        return shard_id % self._concurrency
