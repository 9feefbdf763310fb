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
