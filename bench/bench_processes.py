"""Two ``topicbot run`` processes (shards 0,1 and 2,3 of 4) on one PostgreSQL store, sending a
backlog against a Discord double that enforces Discord's limits; optionally the holder of the
worker lease SIGKILLed mid-dispatch, several times.

    TOPICBOT_TEST_DATABASE_URL=postgresql://... python -m bench.bench_processes \
        [--alerts 2000] [--channels 40] [--kills 0] [--per-second 47]

Real subprocesses, as an operator starts them. One of them holds the worker lease and sends;
the other stands by. The double answers with real rate-limit headers and 429s past 5 messages
per 5 s per channel and 50 requests per second per bot token. Reported: the achieved rate
(first to last accepted message) against the permitted one, the 429s met, and whether every
alert arrived exactly once (goal: >= 90% of the permitted rate, zero 429s). With ``--kills N``,
N more rounds each SIGKILL the holder at a random point of the dispatch and report the
takeover (kill to the standby holding the lease) and the time until every alert arrived.
Each round also reports the load average before and after it, the CPU seconds each process
spent from the seeding to the last write-back, and the WARNING and ERROR lines the processes
logged, by kind (the text with numbers and addresses left out).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.bench_send import GLOBAL_LIMIT, PER_CHANNEL_LIMIT, PER_CHANNEL_WINDOW, permitted
from bot.config import DeliverySettings
from tests.bot.processes import (
    STANDING_BY,
    Backlog,
    Fleet,
    holds_lease,
    kill,
    wait_until,
    wait_until_all_sent,
    write_pg_config,
)
from tests.bot.test_run import Topicbot
from tests.discord_double import DiscordDouble
from tests.discord_double.plugin import build_world
from tests.postgresql import URL_VARIABLE, new_database

START_S = 120.0
_LEVEL = re.compile(r" (WARNING|ERROR) ")
_NUMBERS = re.compile(r"\d+(\.\d+)?")


async def one_round(
    url: str, alerts: int, channels: int, kill_at: float | None, per_second: float | None = None
) -> dict[str, Any]:
    """One backlog through two processes; the holder SIGKILLed once ``kill_at`` of it arrived."""
    async with DiscordDouble(shards=4, max_concurrency=2) as double:
        double.enforce_rate_limits(
            per_channel=(PER_CHANNEL_LIMIT, PER_CHANNEL_WINDOW), global_per_second=GLOBAL_LIMIT
        )
        backlog = Backlog(double, channels)
        build_world(double, guilds=4, shard_count=4)
        with tempfile.TemporaryDirectory() as folder:
            config = write_pg_config(Path(folder), double, per_second=per_second)
            fleet = Fleet(double, config, url)
            try:
                return await _dispatch(fleet, backlog, alerts, kill_at)
            finally:
                await fleet.stop_all()


async def _dispatch(
    fleet: Fleet, backlog: Backlog, alerts: int, kill_at: float | None
) -> dict[str, Any]:
    double = fleet.double
    processes = await asyncio.gather(fleet.start_shards("0,1", 4), fleet.start_shards("2,3", 4))
    for process in processes:
        await process.wait_for_log("connected as", START_S)
    holder, standby = processes if holds_lease(processes[0]) else processes[::-1]
    await standby.wait_for_log(STANDING_BY, START_S)
    cpu_before = [_cpu_seconds(process) for process in processes]
    await backlog.seed(fleet.url, alerts)
    seeded = time.monotonic()
    result: dict[str, Any] = {"messages": alerts, "channels": backlog.channels}
    if kill_at is not None:
        await wait_until(lambda: backlog.count() >= alerts * kill_at, 600, "the kill point")
        killed = kill(holder)
        result["killed_after"] = backlog.count()
        await holder.finish()
        fleet.processes.remove(holder)
        await wait_until(lambda: holds_lease(standby), 60, "the standby took over")
        result["takeover_s"] = round(time.monotonic() - killed, 2)
    await wait_until(backlog.complete, 900, "every alert arrived")
    result["all_arrived_s"] = round(time.monotonic() - seeded, 2)
    await wait_until_all_sent(fleet.url, 120)
    spent = zip(processes, cpu_before, strict=True)
    cpu = {id(p): _spent(_cpu_seconds(p), before) for p, before in spent}
    posted = [m.created_at for m in double.world.messages.values() if m.channel_id in _ids(backlog)]
    elapsed = max(posted) - min(posted)  # Discord's view: first to last accepted message
    permitted_rate = permitted(alerts, alerts // backlog.channels)
    arrived = backlog.arrived()
    result |= {
        "seconds": round(elapsed, 2),
        "achieved_per_s": round(alerts / elapsed, 2),
        "permitted_per_s": round(permitted_rate, 2),
        "share_of_permitted": round(alerts / elapsed / permitted_rate, 3),
        "rate_limit_429s": double.rate_limit_hits,
        "exactly_once": set(arrived) == backlog.expected and max(arrived.values()) == 1,
        "resent": sum(count - 1 for count in backlog.posts().values()),
        "refused": len(double.errors),
        # why posts went out again without a kill, if they did: the processes' own words
        "lease_lost": _lines(fleet, "worker lease lost"),
        "warnings": _warnings(processes),
        # the holder's, then the standby's (None for a holder killed)
        "cpu_s": [cpu[id(holder)], cpu[id(standby)]],
    }
    return result


def _lines(fleet: Fleet, text: str) -> int:
    return sum(text in line for process in fleet.processes for line in process.lines)


def _warnings(processes: list[Topicbot]) -> dict[str, int]:
    """The processes' WARNING and ERROR lines by kind: from the level on, with numbers left
    out."""
    kinds: Counter[str] = Counter()
    for process in processes:
        for line in process.lines:
            found = _LEVEL.search(line)
            if found is not None:
                kinds[_NUMBERS.sub("#", line[found.start() + 1 :])[:100]] += 1
    return dict(kinds)


def _cpu_seconds(process: Topicbot) -> float | None:
    """User and system CPU seconds the process has used so far (None once it has exited)."""
    try:
        stat = Path(f"/proc/{process.process.pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command's name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _spent(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else round(now - before, 2)


def _ids(backlog: Backlog) -> set[int]:
    return {channel.id for channel in backlog.targets}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--channels", type=int, default=40)
    parser.add_argument("--kills", type=int, default=0, help="rounds with the holder SIGKILLed")
    parser.add_argument("--seed", type=int, default=0, help="for the kill points")
    parser.add_argument(
        "--per-second", type=float, default=None, help="the sending pacing (default: the bot's)"
    )
    args = parser.parse_args()
    server = os.environ.get(URL_VARIABLE) or "postgresql://postgres@127.0.0.1:5432/test"
    chance = random.Random(args.seed)
    rounds: list[float | None] = [None] + [chance.uniform(0.05, 0.95) for _ in range(args.kills)]
    results = []
    pacing = args.per_second or DeliverySettings().global_requests_per_second
    for kill_at in rounds:
        before = round(os.getloadavg()[0], 2)
        with new_database(server) as url:
            result = asyncio.run(one_round(url, args.alerts, args.channels, kill_at, pacing))
        result |= {"per_second": pacing, "load_before": before}
        result["load_average"] = round(os.getloadavg()[0], 2)
        results.append(result)
        print(json.dumps(result), flush=True)
    steady = results[0]
    print(
        f"{steady['messages']} posts by two processes in {steady['seconds']} s: "
        f"{steady['achieved_per_s']}/s of a permitted {steady['permitted_per_s']}/s "
        f"({steady['share_of_permitted']:.0%}); 429s: {steady['rate_limit_429s']}; "
        f"exactly once: {steady['exactly_once']}"
    )
    kills = results[1:]
    if kills:
        takeovers = [r["takeover_s"] for r in kills]
        print(
            f"{len(kills)} kills of the holder: takeover median {statistics.median(takeovers)} s, "
            f"worst {max(takeovers)} s; every alert once in every round: "
            f"{all(r['exactly_once'] for r in kills)}; posts re-sent (stored once by nonce): "
            f"{[r['resent'] for r in kills]}"
        )


if __name__ == "__main__":
    main()
