"""An outside audit of several processes on one PostgreSQL store: a gateway process answering
commands with ``--no-jobs`` beside a ``topicbot worker`` that runs the jobs, as an operator
deploys them (docs/operating.md, "Running several processes"). Real subprocesses, the
Discord double and a database of the test's own; what the tests of test_scale_out.py cover
(SIGKILL of the holder mid-dispatch, rolling restarts, shards answering) is not repeated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import pytest_asyncio

from storage.postgresql.store import PgStore
from tests.bot.processes import (
    HOLDING,
    STANDING_BY,
    URL_ENV,
    Backlog,
    Fleet,
    clean_fleet,
    due_now,
    kill,
    wait_until,
    wait_until_all_sent,
    write_pg_config,
)
from tests.bot.test_digest_timing import seed
from tests.bot.test_run import start_topicbot
from tests.discord_double import DiscordDouble
from tests.discord_double.plugin import build_world
from tests.postgresql import until_sessions_wait_for_locks, with_database
from tests.storage.outbox_data import Outbox, sql

START_S = 90.0  # a process's start under the load of a shared machine


@pytest_asyncio.fixture
async def fleet(postgresql_database_url: str, tmp_path: Path) -> AsyncIterator[Fleet]:
    """Processes of one bot on a double of one shard, with the deployment's digests at 08:00
    UTC; every one must stop cleanly."""
    async with DiscordDouble() as double:
        config = write_pg_config(tmp_path, double)
        with config.open("a") as text:
            text.write('digests:\n  timezone: UTC\n  daily_time: "08:00"\n')
        async with clean_fleet(double, config, postgresql_database_url) as started:
            yield started


def next_utc(clock: str, now: datetime) -> datetime:
    """The next ``HH:MM`` (UTC) after ``now``."""
    at = datetime.combine(now.date(), time.fromisoformat(clock), UTC)
    return at if at > now else at + timedelta(days=1)


async def daily_due(url: str) -> list[datetime]:
    """When the members' daily digest rows are due (what decides when their digest comes)."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT next_attempt_at FROM deliveries WHERE mode = 'daily' AND state = 'pending'"
        )
    finally:
        await connection.close()
    return [datetime.fromtimestamp(row[0], UTC) for row in rows]


async def test_a_digest_time_changed_through_a_gateway_process_while_the_worker_plans(
    fleet: Fleet,
):
    """A moderator moves the server's digest to 10:30 while the worker is writing the plan
    of an article a member takes in their daily digest: the member's item comes at 10:30
    with the rest of their digest, not at the 08:00 the moderator moved away from."""
    double, url = fleet.double, fleet.url
    guild = build_world(double, guilds=1).first
    reader = guild.members[0]
    now = datetime.now(UTC)
    async with await PgStore.open(url, pool_size=2, source="$TEST", claimer="seed") as store:
        await seed(store, guild.id, {reader.id: "daily"}, now)  # type: ignore[arg-type]
    # Hold the plan open between its rows and its commit: a lock on the article that the
    # rows' foreign key does not need (KEY SHARE) and marking it planned does.
    holder = await asyncpg.connect(url)
    try:
        blocker = holder.transaction()
        await blocker.start()
        await holder.execute("SELECT 1 FROM articles FOR NO KEY UPDATE")
        gateway = await fleet.start("--no-jobs")
        worker = await fleet.start(subcommand="worker")
        await gateway.wait_for_log("connected as", START_S)
        await double.wait_for_commands("settings", timeout_s=START_S)
        await worker.wait_for_log(HOLDING, START_S)
        await until_sessions_wait_for_locks(holder, 1, "the worker never planned the article")
        result = await double.slash(
            guild.id, guild.moderator.id, "settings", {"digest_time": "10:30"}, timeout_s=30
        )
        assert result.content == "Saved."
        await blocker.rollback()
    finally:
        await holder.close()
    await wait_until_planned(url)
    assert await daily_due(url) == [next_utc("10:30", datetime.now(UTC))]


async def wait_until_planned(url: str, timeout_s: float = 60) -> None:
    """Return once the members' daily rows are committed."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await daily_due(url):
        assert asyncio.get_running_loop().time() < deadline, "the plan never committed"
        await asyncio.sleep(0.1)


async def test_sigterm_while_the_holder_waits_out_a_429_hands_its_rows_to_the_standby(
    fleet: Fleet,
):
    """The holder meets a 429 asking it to wait 25 s (discord.py waits out up to 30 s) and is
    stopped meanwhile (systemd's stop): it exits at once and cleanly, without waiting the 25 s
    out, and the worker standing by sends every post once, the one under way included."""
    double = fleet.double
    backlog = Backlog(double, channels=2)
    holder = await fleet.start()
    await holder.wait_for_log(HOLDING, START_S)
    standby = await fleet.start(subcommand="worker")
    await standby.wait_for_log(STANDING_BY, START_S)
    rule = double.fail_next("POST", r"/channels/\d+/messages$", 429, retry_after=25)
    await backlog.seed(fleet.url, 4)
    await wait_until(lambda: rule.hits == 1, 60, "the holder's post answered 429", fleet=fleet)
    # within the 20 s the harness gives it, well before the 25 s were out
    assert await holder.stop(timeout_s=20) == 0, holder.log
    assert "stopped by the shutdown" in holder.log
    await wait_until(lambda: HOLDING in standby.log, 30, "the standby took over", fleet=fleet)
    await wait_until(backlog.complete, 60, "every post arrived", fleet=fleet)
    await wait_until_all_sent(fleet.url, 60)
    backlog.assert_exactly_once()


async def backends(url: str) -> set[int]:
    """The server processes of the sessions open on the test's database (other than ours)."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return {int(row[0]) for row in rows}


async def cut(url: str, spared: set[int]) -> int:
    """``pg_terminate_backend`` every session of the database but ``spared`` and ours (what a
    dropped connection or a failed-over server does to a process); how many."""
    connection = await asyncpg.connect(url)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                "FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND pid <> ALL($1::int[])",
                sorted(spared),
            )
        )
    finally:
        await connection.close()


async def test_the_holder_whose_connections_are_cut_mid_dispatch_gives_way_to_the_standby(
    fleet: Fleet,
):
    """Every database session of the process sending a backlog is ended by the server: it
    stops sending, the standby takes over within 15 s and sends the rest, every post arrives
    once, and the cut process still answers its members' commands."""
    double = fleet.double
    backlog = Backlog(double, channels=20)
    guild = build_world(double, guilds=1).first
    holder = await fleet.start()
    await holder.wait_for_log(HOLDING, START_S)
    await double.wait_for_commands("subscriptions", timeout_s=START_S)
    before = await backends(fleet.url)
    standby = await fleet.start(subcommand="worker")
    await standby.wait_for_log(STANDING_BY, START_S)
    spared = await backends(fleet.url) - before  # the standby's sessions
    await backlog.seed(fleet.url, 200)
    await wait_until(lambda: backlog.count() >= 50, 120, "a quarter sent", fleet=fleet)
    assert await cut(fleet.url, spared) >= 2  # the lease's session and the pool's
    await wait_until(lambda: HOLDING in standby.log, 15, "the standby took over", fleet=fleet)
    await wait_until(backlog.complete, 120, "every post arrived", fleet=fleet)
    await wait_until_all_sent(fleet.url, 60)
    backlog.assert_exactly_once()
    # Sent again with their nonces (Discord keeps one): the posts under way at the cut, one a
    # channel, and those whose write-back met one of the pool's cut sessions (4 at most).
    assert sum(count - 1 for count in backlog.posts().values()) <= 20 + 4
    assert "worker lease lost" in holder.log
    result = await double.slash(guild.id, guild.members[0].id, "subscriptions", timeout_s=30)
    assert result.content == "You don't follow any topics here yet. Try `/subscribe`.", holder.log
    assert await holder.stop() == 0, holder.log
    # Its sends cut mid-write-back are one line each, a warning naming the ended session: no
    # traceback (asyncpg's errors for it said nothing an operator could act on)
    fleet.processes.remove(holder)
    assert failures(holder.log) == [], holder.log
    ended = [line for line in holder.log.splitlines() if "the PostgreSQL session ended (" in line]
    assert all(" WARNING " in line for line in ended), holder.log


def failures(log: str) -> list[str]:
    """The exception type of each traceback's last line in ``log``."""
    lines = log.splitlines()
    found = []
    for n, line in enumerate(lines):
        if line.startswith("Traceback"):
            end = next(
                (i for i in range(n + 1, len(lines)) if not lines[i].startswith((" ", "\t"))),
                len(lines) - 1,
            )
            found.append(lines[end].split(":")[0])
    return found


@pytest.mark.slow  # waits for the next whole minute
async def test_a_digest_moved_sooner_through_a_gateway_process_goes_out_at_its_minute(
    fleet: Fleet,
):
    """The digest job sleeps until the earliest waiting digest (or the check interval, here an
    hour). A moderator moves the server's digest to the coming minute through the gateway
    process; the worker, which runs the jobs, must learn of it: the member's digest comes at
    that minute, not an hour (or a day) later."""
    with fleet.config.open("a") as text:
        text.write("  check_interval_seconds: 3600\n")  # under the fixture's digests:
    double, url = fleet.double, fleet.url
    guild = build_world(double, guilds=1).first
    reader = guild.members[0]
    async with await PgStore.open(url, pool_size=2, source="$TEST", claimer="seed") as store:
        await seed(store, guild.id, {reader.id: "daily"}, datetime.now(UTC))  # type: ignore[arg-type]
    gateway = await fleet.start("--no-jobs")
    worker = await fleet.start(subcommand="worker")
    await gateway.wait_for_log("connected as", START_S)
    await double.wait_for_commands("settings", timeout_s=START_S)
    await worker.wait_for_log(HOLDING, START_S)
    await wait_until_planned(url)  # due at 08:00 UTC, the deployment's time
    # the worker's first runs over (any job that did something reads the digests' moment)
    await worker.wait_for_log("job housekeeping:", START_S)
    minute = (datetime.now(UTC) + timedelta(seconds=80)).replace(second=0, microsecond=0)
    result = await double.slash(
        guild.id, guild.moderator.id, "settings", {"digest_time": f"{minute:%H:%M}"}, timeout_s=30
    )
    assert result.content == "Saved."
    assert await daily_due(url) == [minute]
    left = (minute - datetime.now(UTC)).total_seconds()
    # a digest goes out within a second or two of its minute (docs/architecture.md)
    await wait_until(lambda: double.dms_to(reader.id), left + 15, "the digest", fleet=fleet)
    assert datetime.now(UTC) >= minute


async def test_sigkill_of_the_holder_mid_digest_run_gives_each_member_one_digest(fleet: Fleet):
    """60 members' daily digests are due; the holder is SIGKILLed after some went out (sending
    at 10 requests a second, so that the kill lands mid-run): the standby sends the rest, and
    each member has exactly one digest, with both its items (the one under way at the kill is
    sent again with the same nonce, which Discord keeps once)."""
    text = fleet.config.read_text()
    fleet.config.write_text(
        text.replace("send_interval_seconds: 1\n", "send_interval_seconds: 1\n"
                     "  global_requests_per_second: 10\n")
    )  # fmt: skip
    double, url = fleet.double, fleet.url
    guild = build_world(double, guilds=1, members=60).first
    holder = await fleet.start()
    await holder.wait_for_log(HOLDING, START_S)
    standby = await fleet.start(subcommand="worker")
    await standby.wait_for_log(STANDING_BY, START_S)
    members = list(guild.members)
    async with await PgStore.open(url, pool_size=2, source="$TEST", claimer="seed") as store:
        outbox = Outbox(store)
        topic = await outbox.topic("Transport")
        pks = [await outbox.article(slug, [topic]) for slug in ("ferries", "trams")]
        async with store.transaction():
            for member in members:
                sid = await outbox.subscribe(guild.id, member.id, topic, delivery="daily")
                for pk in pks:
                    await outbox.add_row(
                        guild.id, "dm", member.id, pk, mode="daily", due=due_now(),
                        subscription=sid,
                    )  # fmt: skip

    def digested() -> int:
        return sum(bool(double.dms_to(m.id)) for m in members)

    await wait_until(lambda: digested() >= 10, 120, "10 digests", fleet=fleet)
    kill(holder)
    await holder.finish()
    fleet.processes.remove(holder)
    before = digested()
    await wait_until(lambda: HOLDING in standby.log, 15, "the standby took over", fleet=fleet)
    await wait_until(lambda: digested() == len(members), 120, "every digest", fleet=fleet)
    await wait_until_all_sent(url, 60)
    assert before < len(members)  # killed mid-run
    assert [len(double.dms_to(m.id)) for m in members] == [1] * len(members)
    for member in members:
        [digest] = double.dms_to(member.id)[0].embeds
        assert digest["footer"]["text"] == "2 new articles", digest
        assert "Ferries in the news" in digest["description"]
        assert "Trams in the news" in digest["description"]


async def test_sigkill_of_the_holder_while_it_writes_a_plan_alerts_each_member_once(
    fleet: Fleet,
):
    """The holder is SIGKILLed while its plan of an article for 40 members is written but not
    committed (held open by a lock on the article): nothing of it remains, the standby plans
    it again, and each member gets one alert."""
    double, url = fleet.double, fleet.url
    guild = build_world(double, guilds=1, members=40).first
    members = list(guild.members)
    now = datetime.now(UTC)
    async with await PgStore.open(url, pool_size=2, source="$TEST", claimer="seed") as store:
        await seed(store, guild.id, dict.fromkeys((m.id for m in members), "instant"), now)
    lock = await asyncpg.connect(url)
    try:
        held = lock.transaction()
        await held.start()
        await lock.execute("SELECT 1 FROM articles FOR NO KEY UPDATE")
        holder = await fleet.start()
        await holder.wait_for_log(HOLDING, START_S)
        await until_sessions_wait_for_locks(lock, 1, "the holder never planned the article")
        standby = await fleet.start(subcommand="worker")
        await standby.wait_for_log(STANDING_BY, START_S)
        kill(holder)
        await holder.finish()
        fleet.processes.remove(holder)
        await wait_until(lambda: HOLDING in standby.log, 15, "the standby took over", fleet=fleet)
        # The killed holder's session waits on, its client gone, until the lock goes (a
        # backend blocked on a lock does not look at its socket); the standby's plan then
        # waits for that session's rows, which roll back when it finds its client gone.
        await until_sessions_wait_for_locks(lock, 1, "the standby never planned the article")
        await held.rollback()
    finally:
        await lock.close()
    await wait_until(lambda: all(double.dms_to(m.id) for m in members), 60, "every alert")
    await wait_until_all_sent(url, 60)
    assert [len(double.dms_to(m.id)) for m in members] == [1] * len(members)
    assert len(double.requests("POST", "/channels/{channel_id}/messages")) == len(members)


async def test_three_processes_started_at_once_on_an_empty_database(fleet: Fleet):
    """A gateway process and two workers started in the same second on an empty database: the
    schema is made once (the others wait for it under the advisory lock and find it up to
    date), one worker holds the worker lease and the other stands by, and a member's command
    is answered."""
    double, url = fleet.double, fleet.url
    guild = build_world(double, guilds=1).first
    processes = await asyncio.gather(
        fleet.start("--no-jobs"), fleet.start(subcommand="worker"), fleet.start(subcommand="worker")
    )
    gateway, *workers = processes
    await gateway.wait_for_log("connected as", START_S)
    for worker in workers:
        await worker.wait_for_log("over REST", START_S)
    assert sorted(HOLDING in w.log for w in workers) == [False, True]
    assert sorted(STANDING_BY in w.log for w in workers) == [False, True]
    assert HOLDING not in gateway.log and STANDING_BY not in gateway.log  # --no-jobs
    made = [p for p in processes if "applying PostgreSQL schema migration 0001" in p.log]
    assert len(made) == 1
    result = await double.slash(guild.id, guild.members[0].id, "subscriptions", timeout_s=30)
    assert result.content == "You don't follow any topics here yet. Try `/subscribe`."
    connection = await asyncpg.connect(url)
    try:
        versions = await connection.fetch("SELECT version FROM schema_migrations")
    finally:
        await connection.close()
    assert sorted(row[0] for row in versions) == list(range(1, len(versions) + 1))


async def pending(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(
            await connection.fetchval("SELECT count(*) FROM deliveries WHERE state = 'pending'")
        )
    finally:
        await connection.close()


async def test_an_unpublish_through_a_gateway_process_stops_the_workers_alerts(fleet: Fleet):
    """The worker sends an article's alerts to 60 members (10 requests a second) and holds
    their rows; a moderator's /unpublish, answered by the gateway process, cancels the rest:
    once the answer is back, only the alerts already on their way still go out."""
    text = fleet.config.read_text()
    fleet.config.write_text(
        text.replace("send_interval_seconds: 1\n", "send_interval_seconds: 1\n"
                     "  global_requests_per_second: 10\n")
    )  # fmt: skip
    double, url = fleet.double, fleet.url
    guild = build_world(double, guilds=1, members=60).first
    members = list(guild.members)
    now = datetime.now(UTC)
    async with await PgStore.open(url, pool_size=2, source="$TEST", claimer="seed") as store:
        await seed(store, guild.id, dict.fromkeys((m.id for m in members), "instant"), now)
        [(article_id,)] = await sql(store, "SELECT id FROM articles")
    gateway = await fleet.start("--no-jobs")
    worker = await fleet.start(subcommand="worker")
    await gateway.wait_for_log("connected as", START_S)
    await double.wait_for_commands("unpublish", timeout_s=START_S)
    await worker.wait_for_log(HOLDING, START_S)

    def alerted() -> int:
        return sum(len(double.dms_to(m.id)) for m in members)

    await wait_until(lambda: alerted() >= 10, 120, "10 alerts", fleet=fleet)
    result = await double.slash(
        guild.id, guild.moderator.id, "unpublish", {"article": article_id}, timeout_s=30
    )
    assert result.content is not None and result.content.startswith("Retracted"), result.content
    at_answer = alerted()
    # the sending run under way ends (its one line), and every row is done with
    await wait_until(lambda: "job send_deliveries:" in worker.log, 120, "the run's end")
    deadline = asyncio.get_running_loop().time() + 60
    while await pending(url):
        assert asyncio.get_running_loop().time() < deadline, "rows still pending"
        await asyncio.sleep(0.2)
    after = alerted() - at_answer
    assert at_answer < len(members)
    # one may have been on its way (its row checked just before the retraction committed);
    # without the check at its turn, the 50 whose DM channel or turn was awaited went out
    assert after <= 1, f"{after} alerts went out after the retraction was answered"


class StallingProxy:
    """A TCP proxy to the test's PostgreSQL server that can stall: while stalled, bytes are
    held in both directions (a network that stops carrying them), though a side that closes
    still closes the other (so a session whose client gave up ends on the server)."""

    def __init__(self, port: int) -> None:
        self._upstream = port
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> StallingProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        self._flowing.set()
        assert self._server is not None
        self._server.close()

    def stall(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._upstream)
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                await self._flowing.wait()
                writer.write(chunk)
                await writer.drain()
        finally:
            writer.close()


async def test_a_holder_cut_off_from_the_database_for_seconds_gives_way_and_recovers(
    fleet: Fleet,
):
    """The process sending a backlog reaches PostgreSQL through a network that stops carrying
    anything for some seconds: it finds its lease check unanswered and stands by; once the
    network is back the standby (reaching PostgreSQL directly) holds the worker lease and
    sends on, nothing has gone out twice or been lost, and the cut process answers its
    members' commands again."""
    double, url = fleet.double, fleet.url
    backlog = Backlog(double, channels=20)
    guild = build_world(double, guilds=1).first
    port = urlsplit(url).port or 5432
    async with StallingProxy(port) as proxy:
        proxied = with_database(
            f"postgresql://postgres@127.0.0.1:{proxy.port}/x", urlsplit(url).path[1:]
        )
        holder = await start_topicbot(
            fleet.config, double.token, env={URL_ENV: proxied}
        )  # fmt: skip
        fleet.processes.append(holder)
        await holder.wait_for_log(HOLDING, START_S)
        await double.wait_for_commands("subscriptions", timeout_s=START_S)
        standby = await fleet.start(subcommand="worker")
        await standby.wait_for_log(STANDING_BY, START_S)
        await backlog.seed(url, 200)
        await wait_until(lambda: backlog.count() >= 50, 120, "a quarter sent", fleet=fleet)
        proxy.stall()
        # The holder's lease check gets no answer: it stands by (its pool's queries wait)...
        await wait_until(
            lambda: "worker lease lost: standing by" in holder.log, 30, "lost", fleet=fleet
        )
        assert HOLDING not in standby.log
        # ...and the network comes back: the holder's session, which it closed, ends on the
        # server (in a real partition the server's keepalives end it within ~10 s; this proxy
        # keeps the server's side of the socket alive), and the standby takes the lease.
        proxy.resume()
        await wait_until(lambda: HOLDING in standby.log, 15, "the standby took over", fleet=fleet)
        await wait_until(backlog.complete, 120, "every post arrived", fleet=fleet)
        await wait_until_all_sent(url, 60)
        backlog.assert_exactly_once()
        assert sum(count - 1 for count in backlog.posts().values()) <= 20 + 4
        assert "worker lease lost" in holder.log
        result = await double.slash(guild.id, guild.members[0].id, "subscriptions", timeout_s=30)
        assert result.content == "You don't follow any topics here yet. Try `/subscribe`."
        assert await holder.stop() == 0, holder.log
        fleet.processes.remove(holder)
        assert set(failures(holder.log)) <= {"TimeoutError"}, holder.log
