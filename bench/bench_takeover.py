"""How long the jobs go without a worker after the holder of the worker lease is SIGKILLed.

Each round starts a process that runs the jobs under the lease (``bot.leadership`` over
``storage.postgresql.lease``, as ``topicbot run`` does), with a standby in this process polling
at the default interval; the holder is SIGKILLed at a random moment and the time until the
standby holds the lease is measured. Needs a PostgreSQL server:

    python -m bench.bench_takeover --url postgresql://postgres@127.0.0.1:5432/test --kills 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.leadership import JobLeadership
from bot.scheduler import JobScheduler, ScheduledJob
from storage.postgresql.lease import PgWorkerLease

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 15.0

HOLDER = """
import asyncio, sys
from datetime import UTC, datetime
from bot.leadership import JobLeadership
from bot.scheduler import JobScheduler, ScheduledJob
from storage.postgresql.lease import PgWorkerLease

async def idle() -> str:
    return ""

async def main() -> None:
    jobs = JobScheduler([ScheduledJob("idle", idle, 1.0)], clock=lambda: datetime.now(UTC),
                        gateway_ready=lambda: True)
    leadership = JobLeadership(PgWorkerLease(sys.argv[1], source="--url"), jobs)
    await leadership.start()
    print("holding" if leadership.holding else "standing by", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def idle() -> str:
    return ""


async def one_kill(url: str) -> float:
    """Seconds from the holder's SIGKILL until the standby holds the lease."""
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, url, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert holder.stdout is not None
    assert await asyncio.wait_for(holder.stdout.readline(), 30) == b"holding\n"
    jobs = JobScheduler(
        [ScheduledJob("idle", idle, 1.0)],
        clock=lambda: datetime.now(UTC),
        gateway_ready=lambda: True,
    )
    standby = JobLeadership(PgWorkerLease(url, source="--url"), jobs)
    await standby.start()
    try:
        assert not standby.holding
        await asyncio.sleep(random.uniform(0.0, 2.0))  # anywhere in the standby's poll cycle
        holder.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await holder.wait()
        while True:  # the standby's own polling decides; this only watches it
            if standby.holding:
                return time.monotonic() - killed
            await asyncio.sleep(0.01)
    finally:
        await standby.stop()


async def main(url: str, kills: int) -> None:
    times = [await one_kill(url) for _ in range(kills)]
    load = os.getloadavg()
    print(f"takeover after SIGKILL of the holder, {kills} kills (load average {load[0]:.2f}):")
    print(f"  median {statistics.median(times):.2f} s, worst {max(times):.2f} s "
          f"(goal <= {GOAL_SECONDS:g} s)")  # fmt: skip
    print("  each: " + ", ".join(f"{t:.2f}" for t in times))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a PostgreSQL database URL")
    parser.add_argument("--kills", type=int, default=10)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.url, arguments.kills))
