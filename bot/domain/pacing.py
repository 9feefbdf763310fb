"""Pacing sends under Discord's rate limits, so steady sending never meets a 429."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable


class SlidingWindow:
    """At most ``limit`` events in any ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()

    def delay(self, now: float) -> float:
        """Seconds to wait before another event is allowed."""
        while self._times and now - self._times[0] >= self.window:
            self._times.popleft()
        if len(self._times) < self.limit:
            return 0.0
        return self.window - (now - self._times[0])

    def record(self, now: float) -> None:
        """Count an event at ``now``."""
        self._times.append(now)


class Pacer:
    """Waits as long as needed so that each channel gets at most ``per_channel`` messages per
    ``channel_window`` seconds and the whole bot at most ``global_per_second`` requests."""

    def __init__(
        self,
        *,
        per_channel: int = 5,
        channel_window: float = 5.0,
        global_per_second: float = 40.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._per_channel = per_channel
        self._channel_window = channel_window
        # a one-second window with a whole number of slots, rounded down to stay under
        self._global = SlidingWindow(max(1, int(global_per_second)), 1.0)
        self._channels: dict[int, SlidingWindow] = {}
        self._clock = clock
        self._sleep = sleep

    async def wait(self, channel_id: int | None) -> None:
        """Return when a request (a message to ``channel_id``, or None for any other call)
        fits within every limit, counting it."""
        while True:
            now = self._clock()
            window = self._channel(channel_id)
            delay = max(self._global.delay(now), window.delay(now) if window else 0.0)
            if delay <= 0:
                self._global.record(now)
                if window is not None:
                    window.record(now)
                return
            await self._sleep(delay)

    def _channel(self, channel_id: int | None) -> SlidingWindow | None:
        if channel_id is None:
            return None
        window = self._channels.get(channel_id)
        if window is None:
            if len(self._channels) > 10_000:  # forget idle channels now and then
                self._channels.clear()
            window = self._channels[channel_id] = SlidingWindow(
                self._per_channel, self._channel_window
            )
        return window


class Throttle:
    """At most ``limit`` events per ``window`` seconds for each key (a member, say)."""

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._windows: dict[object, SlidingWindow] = {}

    def allow(self, key: object) -> bool:
        """Count an event for ``key``; False when it is over the limit (and not counted)."""
        now = self._clock()
        window = self._windows.get(key)
        if window is None:
            if len(self._windows) > 50_000:  # forget idle members now and then
                self._windows.clear()
            window = self._windows[key] = SlidingWindow(self._limit, self._window)
        if window.delay(now) > 0:
            return False
        window.record(now)
        return True
