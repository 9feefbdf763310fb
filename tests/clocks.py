"""A monotonic clock for tests of waiting code: it moves only when the code sleeps (or the
test says), so waits are asserted exactly and take no time."""

from __future__ import annotations


class FakeMonotonic:
    """Call it for the time; pass ``sleep`` where the code under test sleeps."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
