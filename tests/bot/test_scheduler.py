"""The job scheduler (bot/scheduler.py) at shutdown: a run under way, or its reading of when
the jobs are next wanted, is stopped with one line and no traceback."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from bot.scheduler import JobScheduler, ScheduledJob


@pytest.mark.parametrize("stopped_in", ["the run", "the reading of when it is next wanted"])
async def test_a_shutdown_mid_job_is_one_line_and_no_traceback(caplog, stopped_in):
    inside = asyncio.Event()

    async def run() -> str:
        if stopped_in == "the run":
            inside.set()
            await asyncio.Event().wait()  # until cancelled
        return "sent 1"

    async def next_wanted() -> datetime | None:
        inside.set()
        await asyncio.Event().wait()  # a query the shutdown interrupts
        return None

    job = ScheduledJob("send_digests", run, every_seconds=60, next_wanted=next_wanted)
    scheduler = JobScheduler([job], clock=lambda: datetime.now(UTC), gateway_ready=lambda: True)
    caplog.set_level(logging.INFO)
    scheduler.start()
    await asyncio.wait_for(inside.wait(), 5)
    scheduler.shutdown()
    for _ in range(50):  # the cancelled run logs as it unwinds
        if "stopped by the shutdown" in caplog.text:
            break
        await asyncio.sleep(0.02)
    assert "job send_digests stopped by the shutdown" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text


async def test_a_job_due_again_when_its_run_ends_runs_again_at_once():
    """A digest run that ends with rows already due (a batch cut short, or rows that came due
    while it ran) asks to run again now, from inside its own run. APScheduler still counts that
    run as going until its task's callback, so the turn asked for was skipped as "maximum
    number of running instances reached" and the digests waited a whole check interval."""
    runs: list[float] = []
    again = asyncio.Event()

    async def run() -> str:
        runs.append(asyncio.get_running_loop().time())
        if len(runs) == 2:
            again.set()
        return "sent 1 digest"

    async def next_wanted() -> datetime | None:
        return datetime.now(UTC) if len(runs) == 1 else None  # due now, once

    job = ScheduledJob("send_digests", run, every_seconds=3600, next_wanted=next_wanted)
    scheduler = JobScheduler([job], clock=lambda: datetime.now(UTC), gateway_ready=lambda: True)
    scheduler.start()
    try:
        await asyncio.wait_for(again.wait(), 10)
    finally:
        scheduler.shutdown()
    assert len(runs) == 2
