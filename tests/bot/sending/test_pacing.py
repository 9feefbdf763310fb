"""The pacer and the throttle on a fake clock: the limits hold, however many channels."""

from __future__ import annotations

import asyncio
import heapq
import random
from collections import Counter
from collections.abc import Awaitable
from typing import Any

import pytest

from bot.sending.pacing import Pacer, Throttle
from tests.clocks import FakeMonotonic as FakeClock


def pacer(
    clock: FakeClock | VirtualTime, *, per_channel: int = 5, global_per_second: float = 1_000_000.0
) -> Pacer:
    return Pacer(
        per_channel=per_channel,
        channel_window=5.0,
        global_per_second=global_per_second,
        clock=clock,
        sleep=clock.sleep,
    )


async def send_times(
    pacer: Pacer, clock: FakeClock, channel: int | None, count: int
) -> list[float]:
    times = []
    for _ in range(count):
        await pacer.wait(channel)
        times.append(clock.now)
    return times


async def test_a_channel_gets_at_most_its_limit_in_any_window():
    clock = FakeClock()
    times = await send_times(pacer(clock), clock, 42, 12)
    assert times == [0.0] * 5 + [5.0] * 5 + [10.0] * 2


async def test_channels_are_paced_apart():
    clock = FakeClock()
    paced = pacer(clock)
    await send_times(paced, clock, 1, 5)
    assert await send_times(paced, clock, 2, 5) == [0.0] * 5
    assert clock.slept == []


async def test_the_global_limit_holds_across_channels():
    clock = FakeClock()
    paced = pacer(clock, global_per_second=3)
    times = [t for channel in range(7) for t in await send_times(paced, clock, channel, 1)]
    assert times == pytest.approx([0.0, 0.05, 0.1, 1.0, 1.05, 1.1, 2.0])


async def test_the_global_budget_is_spread_over_the_second_not_spent_at_once():
    clock = FakeClock()
    paced = pacer(clock, global_per_second=47)
    times = [t for channel in range(100) for t in await send_times(paced, clock, channel, 1)]
    twentieths = Counter(int(t * 20 + 1e-9) for t in times)
    # a twentieth of 47, rounded up: no more than the 3 below Discord's 50 that a burst
    # reaching it a little late could carry into the next second
    assert max(twentieths.values()) == 3
    assert sum(t < 1.0 for t in times) == 47  # and still the whole second's budget
    assert sum(t < 2.0 for t in times) == 94


async def test_a_busy_channel_keeps_its_window_past_ten_thousand_channels():
    clock = FakeClock()
    paced = pacer(clock)
    await send_times(paced, clock, 42, 5)  # channel 42 is full until t=5
    clock.now = 1.0
    for channel in range(1000, 1000 + 10_002):  # one post each: more channels than kept
        await paced.wait(channel)
    assert clock.now == 1.0
    await paced.wait(42)
    assert clock.now == 5.0  # still waited for its window: six in 5s would exceed the limit


async def test_idle_channels_are_forgotten():
    clock = FakeClock()
    paced = pacer(clock)
    for channel in range(20_000):
        clock.now = channel / 1000  # each window is idle 5s after its one post
        await paced.wait(channel)
    assert clock.slept == []
    assert paced.channels_kept <= 10_001


async def test_the_throttle_refuses_past_the_limit_and_allows_after_the_window():
    clock = FakeClock()
    throttle = Throttle(2, 10.0, clock=clock)
    assert [throttle.allow("member") for _ in range(3)] == [True, True, False]
    assert throttle.allow("other")
    clock.now = 10.0
    assert throttle.allow("member")


async def test_the_throttle_keeps_a_busy_members_window_past_its_size():
    clock = FakeClock()
    throttle = Throttle(2, 10.0, clock=clock)
    assert throttle.allow("busy") and throttle.allow("busy")
    for member in range(50_002):
        throttle.allow(member)
    assert not throttle.allow("busy")


class VirtualTime:
    """A clock for many concurrent waiters: time moves to the earliest wake-up once every
    task that can run has run (FakeClock moves it for each sleeper on its own). Sleepers due
    at one moment wake in any order, as a busy event loop's do."""

    def __init__(self, seed: int = 0) -> None:
        self.now = 0.0
        self._wakeups: list[tuple[float, float, asyncio.Future[None]]] = []
        self._order = random.Random(seed)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wakeup = asyncio.get_running_loop().create_future()
        heapq.heappush(self._wakeups, (self.now + seconds, self._order.random(), wakeup))
        await wakeup

    async def run(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(20):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if self._wakeups and not task.done():
                self.now, _, wakeup = heapq.heappop(self._wakeups)
                wakeup.set_result(None)
        await task


async def test_a_backlog_over_many_channels_is_sent_at_the_global_pace():
    """One worker per channel, as the dispatcher runs them: the global budget is shared in
    turn, so no channel spends a second's budget on its own burst and then leaves it unused
    while its window is full (2,000 posts over 100 channels took 49 s at 47/s, not 43)."""
    clock = VirtualTime()
    paced = pacer(clock, global_per_second=47)
    sent: list[float] = []

    async def channel_worker(channel: int) -> None:
        for _ in range(20):
            await paced.wait(channel)
            sent.append(clock.now)
            await clock.sleep(0.03)  # the request itself

    await clock.run(asyncio.gather(*(channel_worker(c) for c in range(100))))
    assert len(sent) == 2000
    assert max(sent) <= 2000 / 47 + 1.0


async def test_a_429s_retry_takes_a_place_in_the_global_budget():
    # discord.py sends a 429'd request again by itself: Discord counts that request too
    clock = FakeClock()
    paced = pacer(clock, global_per_second=3)
    await paced.wait(1)
    paced.rate_limited(0.0, is_global=False)
    times = [t for channel in (2, 3) for t in await send_times(paced, clock, channel, 1)]
    assert times == pytest.approx([0.05, 1.0])  # not 0.05 and 0.1: the retry took a place


async def test_after_a_global_429_nothing_goes_before_its_retry():
    # discord.py holds every request until then; what went on meanwhile would reach Discord
    # at once, with the retry, over the limit again
    clock = FakeClock()
    paced = pacer(clock)
    await paced.wait(1)
    paced.rate_limited(0.5, is_global=True)
    assert await send_times(paced, clock, 2, 1) == pytest.approx([0.5])
    paced.rate_limited(0.5, is_global=False)  # a channel's own limit holds only its channel
    assert await send_times(paced, clock, 3, 1) == pytest.approx([0.5])
