"""Several ``topicbot`` processes on one PostgreSQL store, as an operator runs them: real
subprocesses talking to the Discord double over 127.0.0.1 and to a database of the test's own
(issue #15). The tests of tests/bot/test_scale_out.py and bench/bench_processes.py use them."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.outbox.rows import nonce_for
from storage.postgresql.store import PgStore
from tests.bot.test_run import Topicbot, start_topicbot
from tests.discord_double import DiscordDouble
from tests.discord_double.plugin import build_guild
from tests.storage.outbox_data import Outbox, sql
from tests.waiting import eventually

URL_ENV = "TOPICBOT_DATABASE_URL"
HOLDING = "worker lease taken"
STANDING_BY = "standing by"


def due_now() -> datetime:
    """A moment a minute ago by the real clock, which the processes run on (a row due longer
    than ``delivery.max_age_hours`` ago is skipped as no longer news)."""
    return datetime.now(UTC) - timedelta(minutes=1)


def write_pg_config(
    folder: Path, double: DiscordDouble, *, per_second: float | None = None
) -> Path:
    """A configuration for processes sharing the PostgreSQL store at ``$TOPICBOT_DATABASE_URL``:
    the jobs every second (so that a test need not wait for them), sending paced at
    ``per_second`` (the default pacing when None)."""
    config = folder / "topicbot.yaml"
    pacing = "" if per_second is None else f"  global_requests_per_second: {per_second}\n"
    config.write_text(
        "discord:\n"
        f"  api_base: {double.api_base}\n"
        f"  gateway_url: {double.gateway_url}\n"
        "storage:\n  backend: postgresql\n  pool_size: 4\n"
        "ingest:\n  inbox_dir: inbox\n  interval_seconds: 1\n  settle_seconds: 0\n"
        "delivery:\n  plan_interval_seconds: 1\n  send_interval_seconds: 1\n" + pacing
    )
    (folder / "inbox").mkdir(exist_ok=True)
    return config


@dataclass
class Fleet:
    """The processes of one bot: started with the same configuration and database."""

    double: DiscordDouble
    config: Path
    url: str
    processes: list[Topicbot] = field(default_factory=list)

    async def start(self, *flags: str, subcommand: str = "run") -> Topicbot:
        process = await start_topicbot(
            self.config, self.double.token, *flags, subcommand=subcommand, env={URL_ENV: self.url}
        )
        self.processes.append(process)
        return process

    async def start_shards(self, ids: str, count: int, *flags: str) -> Topicbot:
        return await self.start("--shard-ids", ids, "--shard-count", str(count), *flags)

    async def stop_all(self) -> list[str]:
        """SIGTERM every process still running; the logs of those that did not exit 0."""
        bad = []
        for process in self.processes:
            if process.process.returncode is None:
                code = await process.stop()
                if code != 0:
                    bad.append(process.log)
        return bad


@contextlib.asynccontextmanager
async def clean_fleet(double: DiscordDouble, config: Path, url: str) -> AsyncIterator[Fleet]:
    """A ``Fleet`` for the test to start processes in, stopped at the end: every one must exit
    cleanly (0 on SIGTERM) and log no traceback."""
    started = Fleet(double, config, url)
    try:
        yield started
    finally:
        unclean = await started.stop_all()
    assert unclean == []
    for process in started.processes:
        assert "Traceback" not in process.log, process.log


def kill(process: Topicbot) -> float:
    """SIGKILL ``process``; when (``time.monotonic()``)."""
    process.process.send_signal(signal.SIGKILL)
    return time.monotonic()


async def wait_until(
    condition: Callable[[], bool],
    timeout_s: float,
    what: str,
    poll_s: float = 0.05,
    fleet: Fleet | None = None,
) -> None:
    """Return once ``condition()`` holds; an AssertionError naming ``what`` past the timeout
    (with the logs of ``fleet``'s processes, if given)."""

    def logs() -> str:
        return "" if fleet is None else "\n".join(f"---\n{p.log}" for p in fleet.processes)

    await eventually(condition, what, timeout_s, poll_s=poll_s, detail=logs)


def holds_lease(process: Topicbot) -> bool:
    """Whether ``process`` has logged taking the worker lease (at start or later)."""
    return any(HOLDING in line for line in process.lines)


@dataclass
class Backlog:
    """Channel alerts written into the outbox in one transaction (at once, as planning
    does), spread over channels of one server of the double, and what the double shows of
    them."""

    double: DiscordDouble
    channels: int
    expected: set[tuple[int, str]] = field(default_factory=set)  # (channel, nonce)

    def __post_init__(self) -> None:
        # the server exists before the processes connect (their GUILD_CREATE lists it)
        world = self.double.world
        self.guild = build_guild(self.double, "news").guild
        self.targets = [world.add_channel(self.guild, f"alerts{i}") for i in range(self.channels)]

    async def seed(self, url: str, alerts: int) -> None:
        """``alerts`` channel alerts due now, round-robin over the channels."""
        async with await PgStore.open(url, pool_size=2, source="$TEST", claimer="seed") as store:
            async with store.transaction():
                await self._rows(store, alerts)
            keys = await sql(
                store, "SELECT article_pk, guild_id, target_kind, target_id FROM deliveries"
            )
        self.expected = {(int(key[3]), nonce_for("tb", tuple(key))) for key in keys}

    async def _rows(self, store: PgStore, alerts: int) -> None:
        outbox, guild = Outbox(store), self.guild.id
        feeds = [await outbox.feed(guild, c.id, None) for c in self.targets]
        pks = [await outbox.article(f"story{n}", []) for n in range(alerts // self.channels + 1)]
        for n in range(alerts):
            channel, feed = self.targets[n % self.channels], feeds[n % self.channels]
            pk = pks[n // self.channels]
            await outbox.add_row(guild, "channel", channel.id, pk, due=due_now(), feed=feed)

    def arrived(self) -> Counter[tuple[int, str]]:
        """How often each (channel, nonce) of the backlog shows in its channel."""
        return Counter(
            (m.channel_id, str(m.nonce))
            for m in self.double.world.messages.values()
            if (m.channel_id, str(m.nonce)) in self.expected
        )

    def count(self) -> int:
        return sum(self.arrived().values())

    def sent_since(self, before: int, more: int) -> bool:
        """Whether ``more`` alerts arrived since there were ``before``."""
        return self.count() >= before + more

    def complete(self) -> bool:
        return set(self.arrived()) == self.expected

    def posts(self) -> Counter[str]:
        """How many message creates the double was asked for, by nonce."""
        return Counter(
            str(r.json["nonce"])
            for r in self.double.request_log
            if r.method == "POST" and r.route == "/channels/{channel_id}/messages"
        )

    def assert_exactly_once(self) -> None:
        arrived = self.arrived()
        assert set(arrived) == self.expected, f"{len(self.expected - set(arrived))} lost"
        assert [key for key, count in arrived.items() if count > 1] == []


async def unsent(url: str) -> int:
    """Rows of the outbox not (yet) sent."""
    async with await PgStore.open(url, pool_size=1, source="$TEST", claimer="test") as store:
        [(count,)] = await sql(store, "SELECT count(*) FROM deliveries WHERE state <> 'sent'")
    return int(count)


async def wait_until_all_sent(url: str, timeout_s: float) -> None:
    """Return once every outbox row is sent (its write-back done)."""
    deadline = time.monotonic() + timeout_s
    while (left := await unsent(url)) > 0:
        if time.monotonic() > deadline:
            raise AssertionError(f"{left} rows still unsent after {timeout_s:g} s")
        await asyncio.sleep(0.2)
