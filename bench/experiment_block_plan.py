"""Experiment (PostgreSQL): the whole plan of ``bench.bench_planning`` with the members written
as blocks instead of one outbox row each, against main's plan, alternately on one store.

    python -m bench.experiment_block_plan [--subscribers 100000] [--pairs 5] [--block 100]
        [--url URL]

Each pair publishes two articles and plans one with main's repository (one ``deliveries`` row
per member) and the other with a prototype whose members' statement writes one
``outbox_blocks`` row per (article, server, mode, block of ``--block`` members in member
order), the members and their subscriptions as arrays; everything else of the plan (the
select with its server terms and decisions, the channel posts, marking the article planned,
the transaction) is main's, through ``DeliveryPlanner.plan()``. The order alternates within
pairs. It reports each plan's wall time and the server's CPU time (from ``/proc``).

A measurement, not the design: nothing sends from ``outbox_blocks``; the design built around
it is migration 0010's ``delivery_blocks`` (docs/performance.md, "Planning and sending",
member blocks). On a tree that has it, main's side would write blocks too, so the
experiment refuses to run there.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bench.bench_planning import Bench, bench_store
from bot.config import Settings
from bot.domain.delivery import DeliveryPlanner
from storage.outbox import plans
from storage.postgresql.outbox import planning
from storage.postgresql.outbox.repository import PgDeliveryRepository

_BLOCKS_TABLE = """
CREATE TABLE IF NOT EXISTS outbox_blocks (
    article_pk      bigint   NOT NULL,
    guild_id        bigint   NOT NULL,
    mode            text     NOT NULL,
    block           integer  NOT NULL,
    members         bigint[] NOT NULL,
    subscriptions   bigint[] NOT NULL,
    state           text     NOT NULL DEFAULT 'pending',
    next_attempt_at bigint   NOT NULL,
    created_at      bigint   NOT NULL,
    claimed_by      text,
    lease_until     bigint,
    PRIMARY KEY (article_pk, guild_id, mode, block)
);
CREATE INDEX IF NOT EXISTS outbox_blocks_pending ON outbox_blocks (next_attempt_at)
    WHERE state = 'pending';
"""

# main's members' select (storage.postgresql.outbox.planning._MEMBERS_INSERT), cut into blocks.
_BLOCKS_TAIL = f"""
, members AS (
    SELECT s.guild_id, s.user_id, s.id, s.delivery,
           CASE s.delivery
               WHEN 'instant' THEN :now
               WHEN 'daily' THEN coalesce(gt.daily, :daily)
               ELSE coalesce(gt.weekly, :weekly)
           END AS due
    FROM chosen s
    JOIN articles a ON a.pk = :pk
    LEFT JOIN terms gt ON gt.guild_id = s.guild_id
    LEFT JOIN decisions gp ON gp.guild_id = s.guild_id
    WHERE a.quality >= coalesce(gt.min_quality, :bar)
      AND {plans.reaches(guild="s.guild_id", kind="'dm'", target="s.user_id")}
),
written AS (
    INSERT INTO outbox_blocks (article_pk, guild_id, mode, block, members, subscriptions,
                               next_attempt_at, created_at)
    SELECT :pk, guild_id, delivery, block, array_agg(user_id ORDER BY user_id),
           array_agg(id ORDER BY user_id), min(due), :now
    FROM (SELECT m.*, (row_number() OVER (PARTITION BY m.guild_id, m.delivery
                                          ORDER BY m.user_id) - 1) / {{block}} AS block
          FROM members m) b
    GROUP BY guild_id, delivery, block
    RETURNING cardinality(members) AS n
)
SELECT coalesce(sum(n), 0) FROM written
"""


@functools.cache
def _blocks_statement(topics: int, block: int) -> str:
    scans = " UNION ALL ".join(planning._TOPICS_SUBSCRIBERS.format(n=n) for n in range(topics))
    return planning._MEMBERS_HEAD.format(topics=scans) + _BLOCKS_TAIL.format(block=block)


class BlockPlanning(PgDeliveryRepository):
    """main's repository, but a plan's members go to ``outbox_blocks``."""

    block = 100

    async def _plan_members(self, params: dict[str, Any], keep: str) -> int:
        topics = await self._fetch(planning._ARTICLE_TOPICS, params)
        if keep or not topics:
            return await super()._plan_members(params, keep)
        rows = await self._fetch(
            _blocks_statement(len(topics), self.block),
            params | planning._topic_params(topics),
            planning._PLAN_TYPES | planning._DUE_TYPES,
        )
        return int(rows[0][0])


async def plan_once(bench: Bench, n: int, repository: PgDeliveryRepository) -> dict[str, float]:
    now = datetime.now(UTC)
    await bench.publish(n, now)
    bench.store.deliveries = repository
    settings = Settings()
    planner = DeliveryPlanner(
        bench.store, settings.delivery, settings.digests, clock=lambda at=now: at
    )
    cpu_before = await bench.server_seconds()
    started = time.perf_counter()
    summary = await planner.plan()
    wall = time.perf_counter() - started
    cpu_after = await bench.server_seconds()
    if cpu_before is None or cpu_after is None:
        raise SystemExit("experiment_block_plan: the server must run on this machine")
    return {"wall": wall, "cpu": cpu_after - cpu_before, "members": summary.direct_messages}


_SAME_MEMBERS = """
WITH last_rows AS (
    SELECT max(article_pk) AS pk FROM deliveries WHERE target_kind = 'dm'
), last_blocks AS (
    SELECT max(article_pk) AS pk FROM outbox_blocks
), from_rows AS (
    SELECT guild_id, target_id AS member, subscription_id, mode FROM deliveries
    WHERE target_kind = 'dm' AND article_pk = (SELECT pk FROM last_rows)
), from_blocks AS (
    SELECT b.guild_id, m.member, m.subscription, b.mode
    FROM outbox_blocks b, unnest(b.members, b.subscriptions) AS m(member, subscription)
    WHERE b.article_pk = (SELECT pk FROM last_blocks)
)
SELECT (SELECT count(*) FROM from_rows), (SELECT count(*) FROM from_blocks),
       (SELECT count(*) FROM (SELECT * FROM from_rows EXCEPT SELECT * FROM from_blocks) x),
       (SELECT count(*) FROM (SELECT * FROM from_blocks EXCEPT SELECT * FROM from_rows) y),
       (SELECT max(cardinality(members)) FROM outbox_blocks)
"""


async def same_members(db: Any) -> str:
    """Whether the last blocks plan holds the same (server, member, subscription, mode) as the
    last rows plan (the same subscribers, so they should)."""
    rows, blocks, only_rows, only_blocks, widest = (await db.fetch_all(_SAME_MEMBERS))[0]
    return (
        f"check: {rows:,} members in the last rows plan, {blocks:,} in the last blocks plan, "
        f"{only_rows} only in the rows, {only_blocks} only in the blocks; widest block {widest}"
    )


async def run(subscribers: int, pairs: int, block: int, url: str) -> None:
    async with bench_store("postgresql", url) as bench:
        db = bench.store._db
        if await db.scalar("SELECT to_regclass('delivery_blocks') IS NOT NULL"):
            raise SystemExit(
                "experiment_block_plan: this tree plans into member blocks already (migration "
                "0010); its 'rows' side would not be rows. Run it on a tree without them, or "
                "use bench_planning, which reports the blocks and their rows apart."
            )
        await bench.seed(subscribers, 50, 200, datetime.now(UTC))
        await db.execute(_BLOCKS_TABLE)
        rows = PgDeliveryRepository(db)
        blocks = BlockPlanning(db)
        blocks.block = block
        results: dict[str, list[dict[str, float]]] = {"rows (main)": [], "blocks": []}
        article = 1
        for pair in range(pairs):
            order = [("rows (main)", rows), ("blocks", blocks)]
            for name, repository in order if pair % 2 == 0 else reversed(order):
                results[name].append(await plan_once(bench, article, repository))
                article += 1
        print(await same_members(db))
        loads = " / ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"{pairs} pairs, block of {block} members, load average {loads}")
        for name, runs in results.items():
            wall = sorted(r["wall"] * 1000 for r in runs)
            cpu = sorted(r["cpu"] * 1000 for r in runs)
            print(
                f"{name:12} members {int(runs[0]['members']):,}: wall median "
                f"{statistics.median(wall):5.0f} best {wall[0]:5.0f} ms, server CPU median "
                f"{statistics.median(cpu):4.0f} best {cpu[0]:4.0f} ms"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--block", type=int, default=100)
    parser.add_argument("--url", default=os.environ.get("TOPICBOT_TEST_DATABASE_URL"))
    args = parser.parse_args()
    if not args.url:
        print("experiment_block_plan: give --url or set TOPICBOT_TEST_DATABASE_URL")
        return 2
    asyncio.run(run(args.subscribers, args.pairs, args.block, args.url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
