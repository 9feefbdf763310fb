"""The worker lease on a real PostgreSQL database: one holder at a time, and a standby takes
over when the holder's session ends (released, its connection killed, its process SIGKILLed)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bot.leadership import JobLeadership, while_held
from bot.scheduler import JobScheduler, ScheduledJob
from storage.postgresql.lease import WORKER_LEASE_KEY, PgWorkerLease
from tests.postgresql import new_database
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[3]
TAKEOVER_LIMIT_SECONDS = 15.0


def lease(url: str) -> PgWorkerLease:
    return PgWorkerLease(url, source="$TEST_URL")


HOLDER_SESSIONS_ENDED = """
SELECT count(pg_terminate_backend(pid)) FROM pg_locks
WHERE locktype = 'advisory' AND granted
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND classid = ($1::bigint >> 32)::oid AND objid = ($1::bigint & 4294967295)::oid
  AND objsubid = 1
"""


async def kill_holder_session(url: str) -> None:
    """End, from outside, the session that holds the lock (as a lost connection would).
    Only in this test's database: pg_locks lists every database's locks, and other tests
    running beside this one hold the same key in theirs."""
    admin = await asyncpg.connect(url)
    try:
        ended = await admin.fetchval(HOLDER_SESSIONS_ENDED, WORKER_LEASE_KEY)
    finally:
        await admin.close()
    assert ended == 1


async def test_one_holder_at_a_time_and_a_release_hands_it_over(postgresql_database_url):
    first, second = lease(postgresql_database_url), lease(postgresql_database_url)
    try:
        assert await first.acquire()
        assert not await second.acquire()
        assert await first.held() and not await second.held()
        assert await first.acquire()  # taking it again while holding it is no new lock
        await first.release()
        assert not await first.held()
        await eventually(second.acquire)  # once the server has ended the first's session
        assert await second.held()
        assert not await first.acquire()
    finally:
        await first.release()
        await second.release()


async def test_a_holder_whose_session_ends_knows_and_the_standby_takes_over(
    postgresql_database_url,
):
    holder, standby = lease(postgresql_database_url), lease(postgresql_database_url)
    try:
        assert await holder.acquire()
        assert not await standby.acquire()
        await kill_holder_session(postgresql_database_url)
        assert not await holder.held()
        await eventually(standby.acquire)
        assert not await holder.acquire()
        await standby.release()
        await eventually(holder.acquire)  # the old holder competes again, on a new session
    finally:
        await holder.release()
        await standby.release()


HOLDER_SCRIPT = """
import asyncio, sys
from storage.postgresql.lease import PgWorkerLease

async def main():
    lease = PgWorkerLease(sys.argv[1], source="$TEST_URL")
    assert await lease.acquire()
    print("holding", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_a_holder_in_another_database_is_no_rival_and_is_left_alone(
    postgresql_server_url, postgresql_database_url
):
    """Advisory locks are the database's own: a bot on another database of the same server
    (another test, another deployment) neither blocks this one nor is ended with it."""
    with new_database(postgresql_server_url) as elsewhere_url:
        elsewhere, here = lease(elsewhere_url), lease(postgresql_database_url)
        try:
            assert await elsewhere.acquire()
            assert await here.acquire()
            await kill_holder_session(postgresql_database_url)
            assert not await here.held()
            assert await elsewhere.held()
        finally:
            await here.release()
            await elsewhere.release()


async def test_sigkill_of_the_holding_process_hands_it_over_within_15_s(postgresql_database_url):
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER_SCRIPT, postgresql_database_url,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    standby = lease(postgresql_database_url)
    try:
        assert process.stdout is not None
        assert await asyncio.wait_for(process.stdout.readline(), 20) == b"holding\n"
        assert not await standby.acquire()
        process.send_signal(signal.SIGKILL)
        await process.wait()
        took = await eventually(standby.acquire)
        assert took < TAKEOVER_LIMIT_SECONDS
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await standby.release()


class Worker:
    """A job scheduler whose one job counts its runs, run under the lease."""

    def __init__(self, url: str, *, settle_seconds: float = 0.1) -> None:
        self.runs = 0
        self.lease = lease(url)
        self.jobs = JobScheduler(
            [ScheduledJob("count", self._count, 0.05)],
            clock=lambda: datetime.now(UTC),
            gateway_ready=lambda: True,
        )
        self.leadership = JobLeadership(
            self.lease,
            self.jobs,
            poll_seconds=0.1,
            keepalive_seconds=0.1,
            settle_seconds=settle_seconds,
        )

    async def _count(self) -> str:
        self.runs += 1
        return ""


async def test_only_the_holder_runs_the_jobs_and_the_standby_takes_them_over(
    postgresql_database_url,
):
    first, second = Worker(postgresql_database_url), Worker(postgresql_database_url)
    await first.leadership.start()
    await second.leadership.start()
    try:
        assert first.leadership.holding and not second.leadership.holding
        await eventually(lambda: first.runs >= 3)
        assert second.runs == 0
        await kill_holder_session(postgresql_database_url)
        await eventually(lambda: second.leadership.holding and not first.leadership.holding)
        stopped_at = first.runs
        await eventually(lambda: second.runs >= 3)
        assert first.runs <= stopped_at + 1  # a run already started may end; no new one
        await second.leadership.stop()
        await eventually(lambda: first.leadership.holding)
        await eventually(lambda: first.runs >= stopped_at + 3)
    finally:
        await first.leadership.stop()
        await second.leadership.stop()


async def test_a_process_taking_the_lease_at_its_start_settles_before_the_jobs_run(
    postgresql_database_url,
):
    # the process that held the lease until a moment ago (this one, before a restart) may
    # have posted within Discord's 5 s channel windows, which this one's pacer never saw
    worker = Worker(postgresql_database_url, settle_seconds=0.5)
    await worker.leadership.start()
    try:
        assert worker.leadership.holding
        assert worker.jobs.standing_by and worker.runs == 0
        await eventually(lambda: worker.runs >= 1)
        assert not worker.jobs.standing_by
    finally:
        await worker.leadership.stop()


async def test_a_holder_that_lost_the_lease_sends_nothing_more(postgresql_database_url):
    holder, sent = lease(postgresql_database_url), []

    async def send() -> str:
        sent.append("batch")
        return "1 sent"

    guarded = while_held(holder, send)
    try:
        assert await holder.acquire()
        assert await guarded() == "1 sent"
        await kill_holder_session(postgresql_database_url)  # before the keep-alive notices
        assert await guarded() == ""
        assert sent == ["batch"]
    finally:
        await holder.release()


async def test_checks_at_the_same_moment_keep_the_lease(postgresql_database_url):
    # the jobs waiting for the gateway all check the lease the moment it is ready: two
    # statements at once on the lease's one connection must not count as a lost connection
    holder, other = lease(postgresql_database_url), lease(postgresql_database_url)
    try:
        assert await holder.acquire()
        assert await asyncio.gather(*(holder.held() for _ in range(4))) == [True] * 4
        assert await asyncio.gather(holder.acquire(), holder.held()) == [True, True]
        assert not await other.acquire()
    finally:
        await holder.release()
        await other.release()
