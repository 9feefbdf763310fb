"""Experiment (PostgreSQL): what writing a 100,000-member plan costs in each outbox layout.

    python -m bench.experiment_batched_outbox [--subscribers 100000] [--rounds 5]
        [--block 100] [--url URL]

Builds the store of ``bench.bench_planning`` (same subscribers, guilds and topics), then, in
alternating rounds on one connection, fans the same article out to its members with the
same select (the topics' scans of ``subscriptions_fanout`` merged, one alert per member by
``DISTINCT ON``) and writes the result in each layout, committed:

- ``rows``: one row per member in ``deliveries`` as today (heap tuple, primary-key entry,
  pending-queue entry);
- ``rows_no_queue``: the same rows in a copy of ``deliveries`` with its primary key only (what
  the pending-queue indexes cost);
- ``blocks``: one row per (article, server, mode, block of ``--block`` members in member
  order), the members and their subscriptions as arrays, with a primary key and one
  pending-queue index (the batched design of docs/performance.md);
- ``materialize``: those blocks unnested into ``deliveries`` rows (what a sender would do
  just ahead of sending, a block per claim; here an article's blocks at once, under an article
  key of their own): the per-member write the plan no longer does, moved later;
- ``blocks_positional``: blocks cut by position in the (server, member) order the select
  gives (no sort for the cut), each split by mode (up to three rows per block);
- ``select``: the select alone (counted, nothing written): the floor of any layout.

Each variant writes under an article key of its own (so every plan appends, as a new
article's does). For each it reports the server backend's CPU time (from ``/proc``, so the
server must be on this machine), the wall time including the commit, and the WAL written
(the server's WAL insert position: other sessions' writes meanwhile count too, and the
``select`` line, which writes nothing itself, shows how much).
Not a product path: nothing in ``storage/`` uses the experimental tables.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime

import asyncpg

from bench.bench_planning import bench_store
from bench.servers import processes_cpu_seconds

_RANK = "CASE s.delivery WHEN 'instant' THEN 0 WHEN 'daily' THEN 1 ELSE 2 END"

_TOPIC_SCAN = f"""(
        SELECT s.guild_id, s.user_id, s.id, s.delivery, {_RANK} AS rank
        FROM subscriptions s
        WHERE s.topic_id = {{topic}} AND s.disabled_reason IS NULL AND s.min_quality <= 80
        ORDER BY s.guild_id, s.user_id, {_RANK}
    )"""

_CHOSEN = """
WITH chosen AS (
    SELECT DISTINCT ON (guild_id, user_id) guild_id, user_id, id, delivery
    FROM ({scans}) s
    ORDER BY guild_id, user_id, rank
)
"""

_ROWS = """
INSERT INTO {table} (guild_id, article_pk, target_kind, target_id, subscription_id, mode,
                     state, note, next_attempt_at, created_at)
SELECT s.guild_id, $1, 'dm', s.user_id, s.id, s.delivery, 'pending', '', $2, $2
FROM chosen s
ORDER BY s.guild_id, s.user_id
"""

_BLOCKS = """
INSERT INTO outbox_blocks (article_pk, guild_id, mode, block, members, subscriptions,
                           next_attempt_at, created_at)
SELECT $1, guild_id, delivery, block, array_agg(user_id ORDER BY user_id),
       array_agg(id ORDER BY user_id), $2, $2
FROM (SELECT s.*, (row_number() OVER (PARTITION BY s.guild_id, s.delivery
                                      ORDER BY s.user_id) - 1) / {block} AS block
      FROM chosen s) b
GROUP BY guild_id, delivery, block
ORDER BY guild_id, delivery, block
"""

# Blocks by position in the (server, member) order the rows come in (no sort for the window),
# split by mode: up to three rows per block of --block consecutive members of a server.
_POSITIONAL_BLOCKS = """
INSERT INTO outbox_blocks (article_pk, guild_id, mode, block, members, subscriptions,
                           next_attempt_at, created_at)
SELECT $1, guild_id, delivery, block, array_agg(user_id), array_agg(id), $2, $2
FROM (SELECT s.*, (row_number() OVER (PARTITION BY s.guild_id ORDER BY s.user_id) - 1)
                  / {block} AS block
      FROM chosen s) b
GROUP BY guild_id, delivery, block
"""

# The same rows, written later from the blocks (as a sender would just before sending them,
# a block per claim; here the article's blocks at once), the blocks marked done.
_MATERIALIZE = """
WITH taken AS (
    UPDATE outbox_blocks SET state = 'done'
    WHERE article_pk = $1 - {offset} AND state = 'pending'
    RETURNING guild_id, mode, members, subscriptions
)
INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, subscription_id, mode,
                        state, note, next_attempt_at, created_at)
SELECT t.guild_id, $1, 'dm', m.member, m.subscription, t.mode, 'pending', '', $2, $2
FROM taken t, unnest(t.members, t.subscriptions) AS m(member, subscription)
ORDER BY t.guild_id, m.member
"""

_SELECT = "SELECT count(*) FROM chosen"

# Each variant writes under article keys of its own; materialize reads the blocks written just
# before it, one key space below its own.
_KEY_BASE = 10**9
_KEY_SPACE = {
    "rows": 1,
    "rows_no_queue": 1,
    "blocks": 1,
    "materialize": 2,
    "blocks_positional": 3,
    "select": 1,
}

_SETUP = """
DROP TABLE IF EXISTS deliveries_no_queue;
CREATE TABLE deliveries_no_queue (LIKE deliveries INCLUDING DEFAULTS);
ALTER TABLE deliveries_no_queue
    ADD PRIMARY KEY (article_pk, guild_id, target_kind, target_id);
DROP TABLE IF EXISTS outbox_blocks;
CREATE TABLE outbox_blocks (
    article_pk      bigint   NOT NULL,
    guild_id        bigint   NOT NULL,
    mode            text     NOT NULL,
    block           integer  NOT NULL,
    members         bigint[] NOT NULL,
    subscriptions   bigint[] NOT NULL,
    sent_through    integer  NOT NULL DEFAULT 0,   -- members [1, sent_through] are done
    state           text     NOT NULL DEFAULT 'pending',
    next_attempt_at bigint   NOT NULL,
    created_at      bigint   NOT NULL,
    claimed_by      text,
    lease_until     bigint,
    PRIMARY KEY (article_pk, guild_id, mode, block)
);
CREATE INDEX outbox_blocks_pending ON outbox_blocks (next_attempt_at) WHERE state = 'pending';
"""


def variants(topics: list[int], block: int) -> dict[str, str]:
    scans = " UNION ALL ".join(_TOPIC_SCAN.format(topic=t) for t in topics)
    chosen = _CHOSEN.format(scans=scans)
    return {
        "rows": chosen + _ROWS.format(table="deliveries"),
        "rows_no_queue": chosen + _ROWS.format(table="deliveries_no_queue"),
        "blocks": chosen + _BLOCKS.format(block=block),
        "materialize": _MATERIALIZE.format(offset=_KEY_BASE),
        "blocks_positional": chosen + _POSITIONAL_BLOCKS.format(block=block),
        "select": chosen + _SELECT,
    }


async def measure(
    connection: asyncpg.Connection, pid: int, sql: str, key: int, now: int
) -> dict[str, float]:
    wal_before = await connection.fetchval("SELECT pg_current_wal_insert_lsn()")
    cpu_before = processes_cpu_seconds([pid])
    started = time.perf_counter()
    async with connection.transaction():
        await connection.execute("SET LOCAL work_mem = '32MB'")
        if sql.rstrip().endswith("FROM chosen"):
            written = int(await connection.fetchval(sql))
        else:
            written = int((await connection.execute(sql, key, now)).rsplit(" ", 1)[-1])
    wall = time.perf_counter() - started
    cpu_after = processes_cpu_seconds([pid])
    wal = await connection.fetchval(
        "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)", wal_before
    )
    if cpu_before is None or cpu_after is None:
        raise SystemExit("experiment_batched_outbox: the server must run on this machine")
    return {"cpu": cpu_after - cpu_before, "wall": wall, "wal": float(wal), "rows": written}


async def run(subscribers: int, rounds: int, block: int, url: str) -> None:
    async with bench_store("postgresql", url) as bench:
        now = datetime.now(UTC)
        await bench.seed(subscribers, 50, 200, now)
        await bench.publish(1, now)
        async with bench.store._db.pool.acquire() as connection:
            await connection.execute(_SETUP)
            topics = [
                int(r[0])
                for r in await connection.fetch(
                    "SELECT DISTINCT topic_id FROM subscriptions ORDER BY 1"
                )
            ]
            pid = int(await connection.fetchval("SELECT pg_backend_pid()"))
            sqls = variants(topics, block)
            results: dict[str, list[dict[str, float]]] = {name: [] for name in sqls}
            stamp = int(now.timestamp())
            for n in range(rounds):
                for name, sql in sqls.items():
                    key = _KEY_BASE * _KEY_SPACE[name] + n
                    results[name].append(await measure(connection, pid, sql, key, stamp))
            report(results, rounds, block)


def report(results: dict[str, list[dict[str, float]]], rounds: int, block: int) -> None:
    print(
        f"{rounds} rounds, block of {block} members, load average "
        f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    for name, runs in results.items():
        cpu = sorted(r["cpu"] * 1000 for r in runs)
        wall = sorted(r["wall"] * 1000 for r in runs)
        wal = statistics.median(r["wal"] for r in runs) / 1e6
        print(
            f"{name:17} rows {int(runs[0]['rows']):>7,}  server CPU median "
            f"{statistics.median(cpu):4.0f} best {cpu[0]:4.0f} ms  wall median "
            f"{statistics.median(wall):5.0f} best {wall[0]:5.0f} ms  WAL {wal:5.1f} MB"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--block", type=int, default=100)
    parser.add_argument("--url", default=os.environ.get("TOPICBOT_TEST_DATABASE_URL"))
    args = parser.parse_args()
    if not args.url:
        print("experiment_batched_outbox: give --url or set TOPICBOT_TEST_DATABASE_URL")
        return 2
    asyncio.run(run(args.subscribers, args.rounds, args.block, args.url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
