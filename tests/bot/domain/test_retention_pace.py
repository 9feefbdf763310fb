"""Pruning's pace on a fake clock: a step that overruns its budget (the disk busy) makes the
next one smaller and the pause after it longer, so pruning's share of the time stays what it
is when steps are quick; quick steps grow and keep the short pause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import RetentionSettings
from bot.domain.retention import LONGEST_PAUSE, SMALLEST_STEP, Housekeeper, Pace, pace

BUDGET, PAUSE = 0.005, 0.020  # the defaults: a step of 5 ms, then 20 ms for the others


def after(size: int, took: float, most: int = 2000) -> Pace:
    return pace(size, took, most=most, step_seconds=BUDGET, pause_seconds=PAUSE)


def test_quick_steps_double_up_to_the_batch_size_with_the_short_pause():
    assert after(64, 0.001) == Pace(size=128, pause=PAUSE)
    assert after(1500, 0.001) == Pace(size=2000, pause=PAUSE)


def test_a_step_within_its_budget_keeps_its_size_and_the_short_pause():
    assert after(100, 0.004) == Pace(size=100, pause=PAUSE)


def test_a_slow_step_shrinks_the_next_and_pauses_four_times_as_long_as_it_took():
    # 50 ms instead of 5: a tenth of the rows, and 200 ms for the commands meanwhile
    assert after(400, 0.050) == Pace(size=40, pause=0.200)


def test_a_very_slow_step_pauses_at_most_the_longest_pause_and_keeps_the_smallest_step():
    assert after(100, 2.0) == Pace(size=SMALLEST_STEP, pause=LONGEST_PAUSE)


def test_pruning_holds_the_store_the_same_share_of_the_time_however_slow_its_steps():
    share = BUDGET / (BUDGET + PAUSE)
    for took in (0.006, 0.02, 0.05, 0.2):
        assert took / (took + after(100, took).pause) <= share + 1e-9


def test_without_a_pause_nothing_is_paced():
    # the benchmark's simulated past: no command waits there
    assert pace(100, 5.0, most=50_000, step_seconds=60.0, pause_seconds=0.0).pause == 0.0


class FakeClock:
    """A clock that each step moves by its scripted duration (then none) and each pause by
    its length."""

    def __init__(self, durations: list[float]) -> None:
        self.now = 0.0
        self.pauses: list[float] = []
        self._durations = iter(durations)
        self._in_step = False

    def timer(self) -> float:
        if self._in_step:
            self.now += next(self._durations, 0.0)
        self._in_step = not self._in_step
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


class FakeRetention:
    """The store's pruning of ``rows`` rows (any step returns what it was asked for, up to
    what is left), recording the sizes asked."""

    def __init__(self, rows: int) -> None:
        self.left = rows
        self.asked: list[int] = []

    async def prune_deliveries(self, cutoff: datetime, *, limit: int) -> int:
        self.asked.append(limit)
        done = min(limit, self.left)
        self.left -= done
        return done

    async def prune_topics(self, *, limit: int) -> int:
        return 0

    async def save_run(self, run: object) -> None:
        return None

    async def reclaim(self, pages: int) -> int:
        return 0


class NoLeftServers:
    async def due(self, cutoff: datetime, *, limit: int) -> list[object]:
        return []


class FakeStore:
    def __init__(self, rows: int) -> None:
        self.retention = FakeRetention(rows)
        self.left_servers = NoLeftServers()
        self.left_members = NoLeftServers()  # nobody left either: due() finds none


async def test_housekeeping_backs_off_while_its_steps_are_slow_and_resumes_after():
    store = FakeStore(rows=600)
    quick, slow = 0.001, 0.040
    clock = FakeClock([quick, quick, slow, slow] + [quick] * 6)
    keeper = Housekeeper(
        store,  # type: ignore[arg-type]
        RetentionSettings(batch_rows=2000),
        story_window=timedelta(hours=72),
        clock=lambda: datetime(2026, 11, 26, tzinfo=UTC),
        timer=clock.timer,
        sleep=clock.sleep,
    )
    run = await keeper.run()
    assert run.deliveries == 600
    # the last step finds nothing left
    assert store.retention.asked == [16, 32, 64, 16, 16, 32, 64, 128, 256, 512]
    assert clock.pauses == pytest.approx([PAUSE, PAUSE, 0.160, 0.160] + [PAUSE] * 5)
