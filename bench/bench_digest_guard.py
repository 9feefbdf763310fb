"""What the digest run's repeat guard costs: ``recent_digests`` asked once per slice of
``DIGEST_MEMBERS_PER_CHECK`` members, as ``Dispatcher.send_digests`` asks it.

    python -m bench.bench_digest_guard [--members 300 10000] [--backend sqlite|postgresql]
        [--url URL]

Each member has a week of history in one server (a daily digest of 3 items and 3 instant DMs
a day, all sent) and half of them had today's digest a few seconds ago; the run asks about
every member, as a digest run at the minute would. Prints, per member count, the statements
made, the whole guard's time and the members it found (half).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.bench_planning import bench_store
from bot.sending.dispatcher import DIGEST_MEMBERS_PER_CHECK, DIGEST_REPEAT_GUARD
from tests.engines import statements

GUILD = 1000
FIRST_USER = 10_000_000
DAYS = 7
TODAY = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)  # the digest minute

# Member m, day d, item k: items 0-2 are the day's digest (08:00), 3-5 instant DMs after it;
# day DAYS is today, whose digest went only to even members.
_HISTORY = """
WITH RECURSIVE m(v) AS (
    SELECT 0 UNION ALL SELECT v + 1 FROM m WHERE v < CAST(:members AS INTEGER) - 1),
d(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM d WHERE v < CAST(:days AS INTEGER)),
k(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM k WHERE v < 5)
INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, mode, state, note,
                        next_attempt_at, created_at, sent_at, message_id)
SELECT :guild, d.v * 10 + k.v, 'dm', :first + m.v,
       CASE WHEN k.v < 3 THEN 'daily' ELSE 'instant' END, 'sent', '',
       :start + d.v * 86400 + CASE WHEN k.v < 3 THEN 0 ELSE 3600 * k.v END,
       :start + d.v * 86400 - 3600,
       :start + d.v * 86400 + CASE WHEN k.v < 3 THEN 0 ELSE 3600 * k.v END, 1
FROM m CROSS JOIN d CROSS JOIN k
WHERE d.v < CAST(:days AS INTEGER) OR (k.v < 3 AND m.v % 2 = 0)
"""


async def seed(store: Any, members: int) -> None:
    start = int((TODAY - timedelta(days=DAYS)).timestamp())
    params = {"members": members, "days": DAYS, "guild": GUILD, "first": FIRST_USER}
    await statements(store).execute(_HISTORY, params | {"start": start})


async def guard(store: Any, members: int) -> tuple[int, int]:
    """Ask as a digest run does; the statements made and the members found."""
    users = [FIRST_USER + n for n in range(members)]
    since = TODAY + timedelta(seconds=5) - DIGEST_REPEAT_GUARD
    found: set[tuple[int, int, str]] = set()
    asked = 0
    for start in range(0, members, DIGEST_MEMBERS_PER_CHECK):
        found |= await store.deliveries.recent_digests(
            users[start : start + DIGEST_MEMBERS_PER_CHECK], since
        )
        asked += 1
    return asked, len(found)


async def run(members: int, backend: str, url: str | None) -> dict[str, Any]:
    async with bench_store(backend, url) as bench:
        began = time.perf_counter()
        await seed(bench.store, members)
        seeded = time.perf_counter() - began
        times = []
        for _ in range(5):
            began = time.perf_counter()
            asked, found = await guard(bench.store, members)
            times.append(time.perf_counter() - began)
        times.sort()
        return {
            "backend": backend,
            "members": members,
            "history_rows": members * DAYS * 6 + (members + 1) // 2 * 3,
            "seed_s": round(seeded, 1),
            "statements": asked,
            "guard_ms_median": round(times[2] * 1000, 1),
            "guard_ms_best": round(times[0] * 1000, 1),
            "per_statement_ms": round(times[2] * 1000 / asked, 2),
            "members_found": found,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[300, 10_000])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--url", default=os.environ.get("TOPICBOT_TEST_DATABASE_URL"))
    args = parser.parse_args()
    if args.backend == "postgresql" and not args.url:
        print("bench_digest_guard: give --url or set TOPICBOT_TEST_DATABASE_URL", file=sys.stderr)
        return 2
    for members in args.members:
        print(json.dumps(asyncio.run(run(members, args.backend, args.url))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
