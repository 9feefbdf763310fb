"""Pacing sends under Discord's rate limits, so steady sending never meets a 429."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

# The global budget is spread over this many parts of each second: at 46/s, at most 3 requests
# in any twentieth. A burst that reaches Discord a few milliseconds early or late moves whole
# into the next (or the last) second, so it must fit in what the pacing leaves below the 50/s
# limit: bursts of 5 (tenths) met a 429 in the first second of about half the backlogs.
SPREAD = 20
# A wait computed as a difference of clock readings may fall this short of the window's end.
_ROUNDING = 1e-9


class SlidingWindow:
    """At most ``limit`` events in any ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()

    def delay(self, now: float) -> float:
        """Seconds to wait before another event is allowed."""
        while self._times and now - self._times[0] >= self.window - _ROUNDING:
            self._times.popleft()
        if len(self._times) < self.limit:
            return 0.0
        return self.window - (now - self._times[0])

    def record(self, now: float) -> None:
        """Count an event at ``now``."""
        self._times.append(now)

    def idle(self, now: float) -> bool:
        """No event within the last ``window`` seconds: forgetting it changes nothing."""
        return not self._times or now - self._times[-1] >= self.window


class KeyedWindows:
    """One sliding window per key (a channel, a member). Past ``keep`` keys, windows idle for
    a whole window are forgotten, least recently used first; a busy one never is: forgetting
    it would let its key exceed the limit."""

    def __init__(self, limit: int, window: float, *, keep: int) -> None:
        self._limit = limit
        self._window = window
        self._keep = keep
        self._windows: dict[object, SlidingWindow] = {}  # least recently used first

    def __len__(self) -> int:
        return len(self._windows)

    def get(self, key: object, now: float) -> SlidingWindow:
        """The key's window, now the most recently used."""
        window = self._windows.pop(key, None)
        if window is None:
            self._forget_idle(now)
            window = SlidingWindow(self._limit, self._window)
        self._windows[key] = window
        return window

    def _forget_idle(self, now: float) -> None:
        while len(self._windows) >= self._keep:
            key, oldest = next(iter(self._windows.items()))
            if not oldest.idle(now):
                return  # every later one was used since: busy too
            del self._windows[key]


class Pacer:
    """Waits as long as needed so that each channel gets at most ``per_channel`` messages per
    ``channel_window`` seconds and the whole bot at most ``global_per_second`` requests, spread
    over the second: at most a twentieth of them (rounded up) in any twentieth of a second. A
    second's worth at once would reach Discord bunched with the next second's (a loaded sender
    emits a burst over some tenths of a second, the next one promptly), over its global limit."""

    def __init__(
        self,
        *,
        per_channel: int = 5,
        channel_window: float = 5.0,
        global_per_second: float = 40.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        # a one-second window with a whole number of slots, rounded down to stay under
        per_second = max(1, int(global_per_second))
        self._global = SlidingWindow(per_second, 1.0)
        self._spread = SlidingWindow(math.ceil(per_second / SPREAD), 1.0 / SPREAD)
        self._channels = KeyedWindows(per_channel, channel_window, keep=10_000)
        self._turns = asyncio.Lock()  # FIFO: the global budget is taken in turn
        self._clock = clock
        self._sleep = sleep
        self._held_until = -math.inf  # after a global 429: nothing goes before then

    async def wait(self, channel_id: int | None) -> None:
        """Return when a request (a message to ``channel_id``, or None for any other call)
        fits within every limit, counting it. Requests take the global budget in turn, first
        come first served: a free-for-all lets some channels win again and again while others
        fall behind, and at the end of a backlog the ones left behind can send only at their
        own channel's pace."""
        while True:
            if channel_id is not None:
                await self.channel_open(channel_id)  # apart, keeping no one from the budget
            async with self._turns:
                await self._global_turn()
                now = self._clock()
                window = None if channel_id is None else self._channels.get(channel_id, now)
                if window is None or window.delay(now) <= 0:
                    self._global.record(now)
                    self._spread.record(now)
                    if window is not None:
                        window.record(now)
                    return

    async def channel_open(self, channel_id: int) -> None:
        """Return once ``channel_id``'s window has room for one more message, without taking
        it: whoever waits here for a full channel holds nothing else meanwhile."""
        while True:
            now = self._clock()
            delay = self._channels.get(channel_id, now).delay(now)
            if delay <= 0:
                return
            await self._sleep(delay)

    def rate_limited(self, retry_after: float, *, is_global: bool) -> None:
        """Discord answered a request with 429; the client sends it again after
        ``retry_after`` seconds. That retry is a request this pacer did not let go, and Discord
        counts it: it takes a place in the global budget now. After a global 429 the client
        holds every request until then, so what this pacer let go meanwhile would reach Discord
        at once with the retry: nothing more goes before it."""
        now = self._clock()
        self._global.record(now)
        self._spread.record(now)
        if is_global:
            self._held_until = max(self._held_until, now + retry_after)

    async def _global_turn(self) -> None:
        """Return once the global budget and its spread allow one more request now."""
        while True:
            now = self._clock()
            held = self._held_until - now
            delay = max(self._global.delay(now), self._spread.delay(now), held)
            if delay <= 0:
                return
            await self._sleep(delay)

    @property
    def channels_kept(self) -> int:
        """How many channels' windows are remembered."""
        return len(self._channels)


class Throttle:
    """At most ``limit`` events per ``window`` seconds for each key (a member, say)."""

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._windows = KeyedWindows(limit, window, keep=50_000)

    def allow(self, key: object) -> bool:
        """Count an event for ``key``; False when it is over the limit (and not counted)."""
        now = self._clock()
        window = self._windows.get(key, now)
        if window.delay(now) > 0:
            return False
        window.record(now)
        return True
