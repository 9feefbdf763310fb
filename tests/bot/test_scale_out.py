"""Several ``topicbot run`` processes on one PostgreSQL store behave like one bot (issue #15):
real subprocesses, the Discord double on 127.0.0.1 and a database of the test's own. Commands
are answered by the process of their server's shard; the jobs run in the holder of the worker
lease only; the holder SIGKILLed mid-dispatch or the processes restarted one by one lose and
double no alert (counted at the double, which de-duplicates a re-send by its nonce as Discord
does)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
import pytest_asyncio

from storage.postgresql.store import PgStore
from tests.bot.processes import (
    STANDING_BY,
    Backlog,
    Fleet,
    clean_fleet,
    holds_lease,
    kill,
    wait_until,
    wait_until_all_sent,
    write_pg_config,
)
from tests.bot.test_run import Topicbot
from tests.discord_double import DiscordDouble
from tests.discord_double.plugin import DoubleWorld, GuildWorld, build_world
from tests.discord_double.sharding import shard_of
from tests.factories import write_article
from tests.storage.outbox_data import Outbox

TAKEOVER_GOAL_S = 15.0  # the bound for a standby to take over from a dead holder
START_S = 90.0  # a process's start under the load of a shared machine


@pytest_asyncio.fixture
async def fleet(postgresql_database_url: str, tmp_path: Path) -> AsyncIterator[Fleet]:
    """Processes of one bot on a double of four shards (two identify at once), stopped at
    the end; every one must stop cleanly."""
    async with DiscordDouble(shards=4, max_concurrency=2) as double:
        config = write_pg_config(tmp_path, double)
        async with clean_fleet(double, config, postgresql_database_url) as started:
            yield started
        for process in started.processes:
            # the lease moves only when its holder stops or dies, never under a live holder
            assert "worker lease lost" not in process.log, process.log
            # a backlog's long sending run is no warning at every skipped turn
            assert "maximum number of running instances" not in process.log


async def start_pair(fleet: Fleet) -> tuple[Topicbot, Topicbot]:
    """Shards 0,1 and 2,3 of 4 in two processes started at once; both connected."""
    low, high = await asyncio.gather(fleet.start_shards("0,1", 4), fleet.start_shards("2,3", 4))
    for process in (low, high):
        await process.wait_for_log("connected as", START_S)
    await fleet.double.wait_for_commands("subscribe", timeout_s=START_S)
    return low, high


def guilds_of(world: DoubleWorld, shards: set[int]) -> list[GuildWorld]:
    return [g for g in world.guilds if shard_of(g.id, 4) in shards]


async def answered(double: DiscordDouble, guild: GuildWorld) -> None:
    """A member's /subscriptions in ``guild`` is answered, by the session of its shard."""
    result = await double.slash(guild.id, guild.members[0].id, "subscriptions", timeout_s=30)
    assert result.acknowledged
    assert result.shard == (shard_of(guild.id, 4), 4)


async def test_two_processes_of_two_shards_answer_their_servers_and_publish_once(fleet: Fleet):
    double, tmp_path = fleet.double, fleet.config.parent
    limiter = double.enforce_identify_limit()
    world = build_world(double, guilds=8, shard_count=4)
    async with await PgStore.open(fleet.url, pool_size=2, source="$TEST") as store:
        outbox = Outbox(store)
        # an article waiting for moderators carries the topic: a topic nothing carries or
        # names is deleted by housekeeping, which runs at start
        await outbox.article("harbour", [await outbox.topic("Transport")], published=False)
        for g in world.guilds:
            await store.feeds.save(
                guild_id=g.id, channel_id=g.alerts.id, topic_id=None, min_quality=None,
                mention_role_id=None, created_by=g.moderator.id, now=datetime.now(UTC), cap=50,
            )  # fmt: skip
    low, high = await start_pair(fleet)
    assert "to 4 guilds (shards 0,1 of 4)" in low.log
    assert "to 4 guilds (shards 2,3 of 4)" in high.log
    assert sum(holds_lease(p) for p in (low, high)) == 1  # one runs the jobs, one stands by
    # both started at once, within Discord's identify limit (2 per 5 s)
    assert (limiter.refused, limiter.busiest_window(), len(limiter.log)) == (0, 1, 4)
    for g in world.guilds:
        for member in g.members:
            result = await double.slash(
                g.id, member.id, "subscribe", {"topic": "Transport"}, timeout_s=30
            )
            assert result.content == "Subscribed to **Transport** — instant, quality 0+."
            assert result.shard == (shard_of(g.id, 4), 4)
    now = datetime.now(UTC).replace(microsecond=0)
    write_article(tmp_path / "inbox", "news.md", published=True, publishedDateTime=now.isoformat())
    members = [m for g in world.guilds for m in g.members]

    def published() -> bool:
        return all(double.messages_in(g.alerts.id) for g in world.guilds) and all(
            double.dms_to(m.id) for m in members
        )

    await wait_until(published, 120, "the publication in every feed channel and DM")
    await wait_until_all_sent(fleet.url, 60)
    assert [len(double.messages_in(g.alerts.id)) for g in world.guilds] == [1] * 8
    assert [len(double.dms_to(m.id)) for m in members] == [1] * len(members)
    posts = double.requests("POST", "/channels/{channel_id}/messages")
    assert len(posts) == 8 + len(members)  # not one sent twice
    # the high shards' servers are served by ``high``: stopped, only they go unanswered
    assert await high.stop() == 0, high.log
    quiet = guilds_of(world, {2, 3})[0]
    unanswered = await double.slash(quiet.id, quiet.members[0].id, "subscriptions", timeout_s=None)
    for g in guilds_of(world, {0, 1}):
        await answered(double, g)
    assert not unanswered.acknowledged


@dataclass
class Kill:
    """One SIGKILL of the worker-lease holder mid-dispatch."""

    sent_before: int
    takeover_s: float
    resent: int  # posts the standby sent again (under way at the kill), stored once by nonce
    taken_over_log: bool


async def kill_the_holder(fleet: Fleet, alerts: int, fraction: float, channels: int = 40) -> Kill:
    """Two processes (shards 0,1 and 2,3); once ``fraction`` of ``alerts`` arrived, the
    holder is SIGKILLed; the standby takes over and every alert arrives exactly once."""
    double = fleet.double
    backlog = Backlog(double, channels)
    build_world(double, guilds=4, shard_count=4)
    low, high = await start_pair(fleet)
    holder, standby = (low, high) if holds_lease(low) else (high, low)
    await standby.wait_for_log(STANDING_BY)
    await backlog.seed(fleet.url, alerts)
    await wait_until(lambda: backlog.count() >= alerts * fraction, 300, f"{fraction:.0%} sent")
    killed = kill(holder)
    sent_before = backlog.count()
    await holder.finish()
    await wait_until(
        lambda: holds_lease(standby), TAKEOVER_GOAL_S, "the standby took over", fleet=fleet
    )
    takeover = time.monotonic() - killed
    await wait_until(backlog.complete, 300, "every alert arrived")
    await wait_until_all_sent(fleet.url, 60)
    backlog.assert_exactly_once()
    resent = sum(count - 1 for count in backlog.posts().values())
    assert resent <= channels  # only posts under way at the kill (one per channel at most)
    fleet.processes.remove(holder)  # killed: not stopped cleanly
    return Kill(sent_before, takeover, resent, "were taken over" in standby.log)


async def test_sigkill_of_the_holder_mid_dispatch_loses_and_doubles_no_alert(fleet: Fleet):
    result = await kill_the_holder(fleet, alerts=200, fraction=0.5)
    assert 100 <= result.sent_before < 200
    # the rows the dead holder had claimed went straight to the standby, not after their lease
    assert result.taken_over_log


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.1, 0.45, 0.9])
async def test_sigkill_of_the_holder_during_2000_alerts(fleet: Fleet, fraction: float):
    result = await kill_the_holder(fleet, alerts=2000, fraction=fraction)
    assert result.sent_before < 2000


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
async def test_sigkill_of_the_holder_at_a_random_point(fleet: Fleet, seed: int):
    await kill_the_holder(fleet, alerts=2000, fraction=random.Random(seed).uniform(0.02, 0.98))


def took_lease(other: Topicbot, new: Topicbot) -> bool:
    """Whether a running process holds the lease (one that took it holds it still: the
    fleet's teardown fails on a lease lost under a live holder)."""
    return holds_lease(other) or holds_lease(new)


def other_ids(ids: str) -> str:
    return "2,3" if ids == "0,1" else "0,1"


async def restart(fleet: Fleet, process: Topicbot, ids: str) -> Topicbot:
    """SIGTERM ``process`` (shards ``ids`` of 4) and start it again; the new process, not yet
    connected."""
    assert await process.stop() == 0, process.log
    assert "Traceback" not in process.log, process.log  # a run under way stops quietly
    fleet.processes.remove(process)
    return await fleet.start_shards(ids, 4)


@pytest.mark.parametrize(
    ("alerts", "restarts"), [(400, 1), pytest.param(2000, 2, marks=pytest.mark.slow)]
)
async def test_a_rolling_restart_keeps_alerts_flowing_and_commands_answered(
    fleet: Fleet, alerts: int, restarts: int
):
    double = fleet.double
    backlog = Backlog(double, channels=40)
    world = build_world(double, guilds=8, shard_count=4)
    low, high = await start_pair(fleet)
    shards = {"0,1": {0, 1}, "2,3": {2, 3}}
    running = {"0,1": low, "2,3": high}
    await backlog.seed(fleet.url, alerts)
    holder = next(ids for ids, p in running.items() if holds_lease(p))
    for ids in [holder, other_ids(holder)][:restarts]:  # the holder first, then the other
        other = running[other_ids(ids)]
        before = backlog.count()
        new = await restart(fleet, running[ids], ids)
        # while its shards restart: the other shards' servers are answered, alerts flow
        for g in guilds_of(world, shards[other_ids(ids)]):
            await answered(double, g)
        # the lease goes to whichever asks first: the standby's poll or the new process
        took = partial(took_lease, other, new)
        await wait_until(took, TAKEOVER_GOAL_S, "takeover", fleet=fleet)
        await wait_until(partial(backlog.sent_since, before, 40), 120, "alerts flowing")
        assert not backlog.complete()  # still flowing while the shards restart
        await new.wait_for_log("connected as", START_S)
        running[ids] = new
        for g in guilds_of(world, shards[ids]):  # answered as soon as its shards are back
            await answered(double, g)
    await wait_until(backlog.complete, 300, "every alert arrived")
    await wait_until_all_sent(fleet.url, 60)
    backlog.assert_exactly_once()
    assert sum(count - 1 for count in backlog.posts().values()) <= 40
