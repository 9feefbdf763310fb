"""Retention over time: does the store stop growing, and do commands stay fast while it prunes?

    python -m bench.bench_retention [--subscribers 100000] [--articles-per-day 20] [--days 60]
        [--retention-days 30] [--measure-only] [--calls 1000]
        [--backend sqlite|postgresql]

Simulates ``--days`` days of a server network where every published article reaches every
subscriber: each day ``--articles-per-day`` articles are stored with their outbox rows, one
per subscriber and article (and one channel post per server), as planning and sending leave
them (sent; one in a hundred failed), written in one transaction of bulk SQL target by target;
then the real housekeeping job runs with the default retention (``deliveries_days: 30``,
or ``--retention-days``) at the end of the day, with steps of up to SIMULATED_BATCH_ROWS and no
pause (no command waits in the simulated past), and the store is optimized as the job does.
The file's size is recorded every day; the goal is day 60 within 1.2x of day 30. A shorter
history (``--days 8 --retention-days 4``, say) reaches the measured pruning in minutes rather
than hours, with a smaller file.

Then one more day is written without pruning, and the real housekeeping run with the real
settings (steps sized to ~5 ms, 20 ms pauses, longer after a slow step) prunes two days of
rows while the real bot, connected to the Discord double, answers ``/feed list`` (a
moderator) and ``/subscriptions`` (a member) round trips back to back (up to ``--calls``),
both of which read the outbox; the goal is p99 < 50 ms. ``--measure-only`` stops the pruning
run once they are measured. The load average before and after is reported: on a shared
machine the round trips wait for the CPU as much as for the store.

``--backend postgresql`` runs it all in a new database beside the one
``$TOPICBOT_DATABASE_URL`` names (dropped after). There the size is the database's, and
deleted rows' space is made reusable by autovacuum, which the simulated days outrun: at each
day's end the bench runs what autovacuum would have run by then, a plain ``VACUUM`` of
``deliveries`` once its dead rows pass autovacuum's default threshold (50 + 20 % of its live
rows).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.bench_commands import percentiles
from bench.pg_copy import scratch_database
from bench.servers import postgresql_url
from bot.app import TopicBot
from bot.config import Settings
from bot.domain.retention import Housekeeper
from bot.domain.stories import story_window
from bot.sync import sync_commands
from storage import Store
from storage.models import PruningRun
from storage.postgresql.store import PgStore
from tests.discord_double import DiscordDouble
from tests.discord_double.client import running_bot
from tests.discord_double.plugin import build_guild

START = datetime(2026, 1, 1, tzinfo=UTC)
SERVERS = 50
DAY = 86_400
# Rows per transaction while simulating the past (the measured day uses the real settings).
SIMULATED_BATCH_ROWS = 50_000
# Round trips measured while housekeeping prunes (fewer if it finishes first).
MEASURED_CALLS = 1000


async def seed_targets(store: Any, guild_id: int, member_id: int, subscribers: int) -> None:
    """One topic; ``subscribers`` subscriptions over SERVERS servers (the double's real member
    among them) and one channel feed per server."""
    if isinstance(store, PgStore):
        await _seed_targets_pg(store, guild_id, member_id, subscribers)
        return
    db = store._db
    await db.execute("INSERT INTO topics (id, key, name) VALUES (1, 'transport', 'Transport')")
    await db.execute(
        "WITH RECURSIVE n(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM n WHERE v < :last) "
        "INSERT INTO subscriptions (guild_id, user_id, topic_id, created_at, updated_at) "
        "SELECT CASE WHEN v % :servers = 0 THEN :guild ELSE 1000 + v % :servers END, "
        "CASE WHEN v = 0 THEN :member ELSE 10000000 + v END, 1, 0, 0 FROM n",
        {"last": subscribers - 1, "servers": SERVERS, "guild": guild_id, "member": member_id},
    )
    await db.execute(
        "WITH RECURSIVE n(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM n WHERE v < :last) "
        "INSERT INTO feeds (guild_id, channel_id, topic_id, created_by, created_at) "
        "SELECT CASE WHEN v = 0 THEN :guild ELSE 1000 + v END, 5000 + v, 1, 1, 0 FROM n",
        {"last": SERVERS - 1, "guild": guild_id},
    )


async def write_day(store: Any, day: int, articles: int) -> None:
    """A day's articles and their outbox rows, as planning and sending leave them, in one
    transaction of bulk SQL: the rows go in target by target (each target's rows of the day
    together), so the indexes keyed by target take a page per target, not one per row."""
    if isinstance(store, PgStore):
        await _write_day_pg(store, day, articles)
        return
    db = store._db
    start = int((START + timedelta(days=day)).timestamp())
    async with store.transaction():
        await db.execute(
            "WITH RECURSIVE n(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM n WHERE v < :last) "
            "INSERT INTO articles (id, canonical_url, web_url, title, published_at, published, "
            "planned_at, content_hash, ingested_at, updated_at) "
            "SELECT 'b' || :day || 'x' || v, 'https://bench.example/' || :day || '/' || v, "
            "'https://bench.example/' || :day || '/' || v, 'Ferry story ' || :day || ' ' || v, "
            ":start + v * :every, 1, :start + v * :every, 'bench', :start + v * :every, "
            ":start + v * :every FROM n",
            {"last": articles - 1, "day": day, "start": start, "every": DAY // articles},
        )
        await db.execute("UPDATE articles SET story_id = pk WHERE story_id IS NULL")
        await db.execute("CREATE TEMP TABLE IF NOT EXISTS bench_day (pk INTEGER, at INTEGER)")
        await db.execute("DELETE FROM temp.bench_day")
        await db.execute(
            "INSERT INTO temp.bench_day SELECT pk, published_at FROM articles "
            "WHERE published_at >= :start AND published_at < :end",
            {"start": start, "end": start + DAY},
        )
        await db.execute(
            "INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, feed_id, "
            "mode, state, next_attempt_at, created_at, sent_at, message_id) "
            "SELECT f.guild_id, a.pk, 'channel', f.channel_id, f.id, 'instant', 'sent', a.at, "
            "a.at, a.at, f.id FROM feeds f CROSS JOIN temp.bench_day a "
            "ORDER BY f.guild_id, f.channel_id, a.pk"
        )
        await db.execute(
            "INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, "
            "subscription_id, mode, state, next_attempt_at, created_at, sent_at, "
            "message_id) SELECT s.guild_id, a.pk, 'dm', s.user_id, s.id, 'instant', "
            "CASE WHEN s.id % 100 = 0 THEN 'failed' ELSE 'sent' END, a.at, a.at, "
            "CASE WHEN s.id % 100 = 0 THEN NULL ELSE a.at END, s.id "
            "FROM subscriptions s CROSS JOIN temp.bench_day a "
            "ORDER BY s.guild_id, s.user_id, a.pk"
        )


async def _seed_targets_pg(store: PgStore, guild_id: int, member_id: int, n: int) -> None:
    db = store._db
    await db.execute("INSERT INTO topics (id, key, name) VALUES (1, 'transport', 'Transport')")
    await db.execute(
        "INSERT INTO subscriptions (guild_id, user_id, topic_id, created_at, updated_at) "
        "SELECT CASE WHEN v % $2::int = 0 THEN $3::bigint ELSE 1000 + v % $2::int END, "
        "CASE WHEN v = 0 THEN $4::bigint ELSE 10000000 + v END, 1, 0, 0 "
        "FROM generate_series(0, $1::int - 1) v",
        n, SERVERS, guild_id, member_id,
    )  # fmt: skip
    await db.execute(
        "INSERT INTO feeds (guild_id, channel_id, topic_id, created_by, created_at) "
        "SELECT CASE WHEN v = 0 THEN $2::bigint ELSE 1000 + v END, 5000 + v, 1, 1, 0 "
        "FROM generate_series(0, $1::int - 1) v",
        SERVERS, guild_id,
    )  # fmt: skip


async def _write_day_pg(store: PgStore, day: int, articles: int) -> None:
    db = store._db
    start = int((START + timedelta(days=day)).timestamp())
    every = DAY // articles
    async with store.transaction():
        await db.execute(
            "INSERT INTO articles (id, canonical_url, web_url, title, published_at, published, "
            "planned_at, content_hash, ingested_at, updated_at) "
            "SELECT 'b' || $1::int || 'x' || v, 'https://bench.example/' || $1::int || '/' || v, "
            "'https://bench.example/' || $1::int || '/' || v, "
            "'Ferry story ' || $1::int || ' ' || v, $2::bigint + v * $3::int, 1, "
            "$2::bigint + v * $3::int, 'bench', $2::bigint + v * $3::int, "
            "$2::bigint + v * $3::int FROM generate_series(0, $4::int - 1) v",
            day, start, every, articles,
        )  # fmt: skip
        await db.execute("UPDATE articles SET story_id = pk WHERE story_id IS NULL")
        day_rows = (
            "SELECT pk, published_at AS at FROM articles "
            "WHERE published_at >= $1::bigint AND published_at < $2::bigint"
        )
        await db.execute(
            f"WITH a AS ({day_rows}) "
            "INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, feed_id, "
            "mode, state, next_attempt_at, created_at, sent_at, message_id) "
            "SELECT f.guild_id, a.pk, 'channel', f.channel_id, f.id, 'instant', 'sent', a.at, "
            "a.at, a.at, f.id FROM feeds f CROSS JOIN a ORDER BY f.guild_id, f.channel_id, a.pk",
            start, start + DAY,
        )  # fmt: skip
        await db.execute(
            f"WITH a AS ({day_rows}) "
            "INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, "
            "subscription_id, mode, state, next_attempt_at, created_at, sent_at, "
            "message_id) SELECT s.guild_id, a.pk, 'dm', s.user_id, s.id, 'instant', "
            "CASE WHEN s.id % 100 = 0 THEN 'failed' ELSE 'sent' END, a.at, a.at, "
            "CASE WHEN s.id % 100 = 0 THEN NULL ELSE a.at END, s.id "
            "FROM subscriptions s CROSS JOIN a ORDER BY s.guild_id, s.user_id, a.pk",
            start, start + DAY,
        )  # fmt: skip


async def as_autovacuum_would(store: Any) -> bool:
    """On PostgreSQL, ``VACUUM deliveries`` when autovacuum's default rule would have by now
    (dead rows > 50 + 20 % of live ones); whether it ran."""
    if not isinstance(store, PgStore):
        return False
    db = store._db
    await db.execute("SELECT pg_stat_clear_snapshot()")
    row = await db.fetch_one(
        "SELECT n_dead_tup, n_live_tup FROM pg_stat_user_tables WHERE relname = 'deliveries'"
    )
    if row is None or row[0] <= 50 + 0.2 * row[1]:
        return False
    await db.execute("VACUUM deliveries")
    return True


def housekeeper(store: Any, settings: Settings, day: float) -> Housekeeper:
    """The real housekeeping with the settings' retention, its clock at the end of ``day``."""
    moment = START + timedelta(days=day)
    return Housekeeper(
        store, settings.retention, story_window=story_window(settings.related), clock=lambda: moment
    )


def fast_housekeeper(store: Any, settings: Settings, day: float) -> Housekeeper:
    """The same rules for the simulated past, where no command waits: steps of up to
    SIMULATED_BATCH_ROWS, no pause."""
    moment = START + timedelta(days=day)
    retention = settings.retention.model_copy(update={"batch_rows": SIMULATED_BATCH_ROWS})
    return Housekeeper(
        store,
        retention,
        story_window=story_window(settings.related),
        clock=lambda: moment,
        pause_seconds=0.0,
        step_seconds=60.0,
    )


async def simulate(
    store: Any, settings: Settings, days: int, articles: int
) -> tuple[list[dict[str, Any]], float]:
    sizes: list[dict[str, Any]] = []
    writing = 0.0
    for day in range(days):
        started = time.perf_counter()
        await write_day(store, day, articles)
        writing += time.perf_counter() - started
        started = time.perf_counter()
        run = await fast_housekeeper(store, settings, day + 1).run()
        vacuumed = await as_autovacuum_would(store)
        await store.optimize()
        housekeeping_s = time.perf_counter() - started
        size = await store.retention.size()
        rows = await store._db.scalar("SELECT count(*) FROM deliveries")
        sizes.append(
            {
                "day": day + 1,
                "mb": round(size.bytes / 1_048_576, 1),
                "free_mb": round(size.free_bytes / 1_048_576, 1),
                "rows": rows,
                "pruned": run.deliveries,
                "housekeeping_s": round(housekeeping_s, 2),
                **({"vacuumed": True} if vacuumed else {}),
            }
        )
        print(json.dumps(sizes[-1]), flush=True)
    return sizes, writing


async def commands_while_pruning(
    store: Any,
    settings: Settings,
    double: DiscordDouble,
    world: Any,
    days: int,
    articles: int,
    *,
    finish: bool = True,
    calls: int = MEASURED_CALLS,
) -> dict[str, Any]:
    await write_day(store, days, articles)
    bot = TopicBot(settings=settings, store=store, run_jobs=False, guild_ready_timeout=0.05)
    feed_list: list[float] = []
    subscriptions: list[float] = []
    baseline: list[float] = []
    async with running_bot(double, bot):
        await sync_commands(bot.tree, bot.store.meta, guild_id=None, force=True)
        asked = (
            ("feed list", world.moderator.id, feed_list),
            ("subscriptions", world.members[0].id, subscriptions),
        )
        for command, user, _ in asked * 10:  # warm the caches first
            await double.slash(world.id, user, command, {})
        for command, user, _ in asked * 30:  # the same calls with nothing pruning
            started = time.perf_counter()
            await double.slash(world.id, user, command, {})
            baseline.append(time.perf_counter() - started)
        keeper = housekeeper(store, settings, days + 2)
        steps = timed_steps(store)
        wal_mb = wal_bytes(store) / 1_048_576
        load_before = os.getloadavg()[0]
        pruning = asyncio.create_task(keeper.run())
        started_pruning = time.perf_counter()
        # back-to-back calls, as many as MEASURED_CALLS, then pruning finishes on its own
        while not pruning.done() and len(feed_list) + len(subscriptions) < calls:
            for command, user, samples in asked:
                started = time.perf_counter()
                await double.slash(world.id, user, command, {})
                samples.append(time.perf_counter() - started)
        measured_s = time.perf_counter() - started_pruning
        run = await pruning if finish else await cut_short(store, pruning)
        pruning_s = time.perf_counter() - started_pruning
        load_after = os.getloadavg()[0]
    if double.errors:
        raise SystemExit("the double refused requests:\n" + "\n".join(double.errors))
    return {
        "pruned_while_measuring": run.deliveries,
        "wal_mb_when_pruning_began": round(wal_mb, 1),
        "pruning_s": round(pruning_s, 1),
        "pruning_finished": finish,
        "measured_s": round(measured_s, 1),
        "pages_reclaimed_while_measuring": run.pages_reclaimed,
        "load_average_1min_before_and_after": [round(load_before, 2), round(load_after, 2)],
        "calls": len(feed_list) + len(subscriptions),
        "feed_list": percentiles(feed_list),
        "subscriptions": percentiles(subscriptions),
        "both": percentiles(feed_list + subscriptions),
        "both_without_pruning": percentiles(baseline),
        "pruning_steps": len(steps),
        "pruning_step_ms": percentiles(steps) | {"max_ms": round(max(steps, default=0) * 1000, 1)},
    }


async def cut_short(store: Any, pruning: asyncio.Task[PruningRun]) -> PruningRun:
    """Stop the pruning run (which loses nothing: the next run carries on) and return it as
    recorded after its last step."""
    pruning.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await pruning
    run = await store.retention.last_run()
    if run is None:
        raise SystemExit("the pruning run recorded nothing")
    return run


def wal_bytes(store: Any) -> int:
    """The write-ahead log's size (SQLite; 0 on PostgreSQL): what the checkpoints have yet to
    write into the file."""
    path = getattr(store, "path", None)
    try:
        return os.stat(f"{path}-wal").st_size if path is not None else 0
    except OSError:
        return 0


def timed_steps(store: Any) -> list[float]:
    """Time each pruning step (its delete and commit) from here on: the list fills as they go."""
    prune = store.retention.prune_deliveries
    durations: list[float] = []

    async def timed(cutoff: datetime, *, limit: int) -> int:
        started = time.perf_counter()
        try:
            return await prune(cutoff, limit=limit)
        finally:
            durations.append(time.perf_counter() - started)

    store.retention.prune_deliveries = timed  # type: ignore[method-assign]
    return durations


@asynccontextmanager
async def opened(path: Path, backend: str) -> AsyncIterator[Any]:
    """A new store: the SQLite file at ``path``, or a scratch PostgreSQL database."""
    if backend == "sqlite":
        async with await Store.open(path) as store:
            yield store
        return
    url = postgresql_url()
    async with (
        scratch_database(url) as scratch,
        await PgStore.open(scratch, source="$TOPICBOT_DATABASE_URL") as store,
    ):
        yield store


async def run(
    subscribers: int,
    articles: int,
    days: int,
    retention_days: int,
    path: Path,
    backend: str = "sqlite",
    *,
    finish: bool = True,
    calls: int = MEASURED_CALLS,
) -> dict[str, Any]:
    settings = Settings.model_validate(
        {"storage": {"path": str(path)}, "retention": {"deliveries_days": retention_days}}
    )
    async with DiscordDouble() as double, opened(path, backend) as store:
        world = build_guild(double, "bench", members=1)
        await seed_targets(store, world.id, world.members[0].id, subscribers)
        started = time.perf_counter()
        sizes, writing = await simulate(store, settings, days, articles)
        simulated = time.perf_counter() - started
        latency = await commands_while_pruning(
            store, settings, double, world, days, articles, finish=finish, calls=calls
        )
    kept = retention_days  # the day from which the file should stop growing
    day30 = sizes[kept - 1]["mb"] if days >= kept else None
    return {
        "backend": backend,
        "subscribers": subscribers,
        "articles_per_day": articles,
        "days": days,
        "retention_days": retention_days,
        "rows_per_day": (subscribers + SERVERS) * articles,
        "simulation_s": round(simulated, 1),
        "writing_s": round(writing, 1),
        "mb_day_30": day30,
        "mb_last_day": sizes[-1]["mb"],
        "ratio_last_to_day_30": round(sizes[-1]["mb"] / day30, 3) if day30 else None,
        "max_mb_after_day_30": max(s["mb"] for s in sizes[kept - 1 :]) if day30 else None,
        "housekeeping_s_per_day_until_30": (
            round(sum(s["housekeeping_s"] for s in sizes[:kept]) / max(len(sizes[:kept]), 1), 2)
        ),
        "housekeeping_s_per_day_after_30": (
            round(sum(s["housekeeping_s"] for s in sizes[kept:]) / max(len(sizes[kept:]), 1), 2)
        ),
        "commands_while_pruning": latency,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--articles-per-day", type=int, default=20)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument(
        "--retention-days",
        type=int,
        default=30,
        help="retention.deliveries_days; the figures named after day 30 are taken at this day",
    )
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="stop the measured pruning run once the round trips are measured",
    )
    parser.add_argument(
        "--calls",
        type=int,
        default=MEASURED_CALLS,
        help="round trips measured while pruning (fewer if it finishes first)",
    )
    parser.add_argument("--workdir", default="/tmp/topicbot-bench")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if not 3 <= args.retention_days <= args.days:  # the story window keeps 3 days anyway
        parser.error("--retention-days must be between 3 and --days")
    path = workdir / f"retention-{args.subscribers}-{args.articles_per_day}-{args.days}.db"
    for suffix in ("", "-wal", "-shm"):  # a fresh store each time
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    result = asyncio.run(
        run(
            args.subscribers,
            args.articles_per_day,
            args.days,
            args.retention_days,
            path,
            args.backend,
            finish=not args.measure_only,
            calls=args.calls,
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
