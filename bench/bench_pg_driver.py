"""PostgreSQL driver choice: asyncpg against psycopg 3 (async, psycopg_pool) on the shapes of
the store's hot paths.

    python -m bench.bench_pg_driver [--url URL] [--runs 7] [--fanout 100000] [--lookups 2000]

URL defaults to $TOPICBOT_TEST_DATABASE_URL. The bench creates a database of its own next to
the one the URL names (``topicbot_bench_<pid>``) and drops it afterwards. For each driver:

| figure | what is timed |
| --- | --- |
| `ingest_insert` | 2,000 article rows in one multi-row ``INSERT ... SELECT FROM unnest(...)``
  ``RETURNING pk``, then their ~5,000 topic links the same way, in one transaction |
| `ingest_copy` | the same rows and links by ``COPY`` (primary keys drawn from the sequence first) |
| `planning` | one ``INSERT INTO deliveries ... SELECT`` fanning out to 100,000 subscribers |
| `lookup` | one indexed point lookup with a small join (an article by short id with its topic
  names, as ``/related`` and autocomplete start), repeated 2,000 times; per query |

Each is the median and p99 over ``--runs`` runs (``lookup``: over every query of every run).
The last line is a JSON object with every figure in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psycopg
from psycopg_pool import AsyncConnectionPool

SCHEMA = """
CREATE TABLE articles (
    pk bigserial PRIMARY KEY, id text NOT NULL UNIQUE, canonical_url text NOT NULL UNIQUE,
    title text NOT NULL, excerpt text NOT NULL DEFAULT '', published_at bigint NOT NULL,
    quality smallint NOT NULL DEFAULT 0, topics_text text NOT NULL DEFAULT '',
    body text NOT NULL DEFAULT '', content_hash text NOT NULL
);
CREATE TABLE topics (id bigserial PRIMARY KEY, key text NOT NULL UNIQUE, name text NOT NULL);
CREATE TABLE article_topics (
    topic_id bigint NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    article_pk bigint NOT NULL REFERENCES articles (pk) ON DELETE CASCADE,
    position integer NOT NULL, PRIMARY KEY (topic_id, article_pk)
);
CREATE INDEX article_topics_article ON article_topics (article_pk);
CREATE TABLE subscriptions (
    id bigserial PRIMARY KEY, guild_id bigint NOT NULL, user_id bigint NOT NULL,
    topic_id bigint NOT NULL, min_quality smallint NOT NULL DEFAULT 0,
    delivery text NOT NULL DEFAULT 'instant', disabled_reason text
);
CREATE INDEX subscriptions_fanout ON subscriptions (topic_id, guild_id, user_id)
    WHERE disabled_reason IS NULL;
CREATE TABLE deliveries (
    guild_id bigint NOT NULL, target_kind text NOT NULL, target_id bigint NOT NULL,
    article_pk bigint NOT NULL, subscription_id bigint, mode text NOT NULL,
    state text NOT NULL DEFAULT 'pending', next_attempt_at bigint NOT NULL,
    created_at bigint NOT NULL, PRIMARY KEY (article_pk, guild_id, target_kind, target_id)
);
"""

ARTICLE_COLUMNS = (
    "id",
    "canonical_url",
    "title",
    "excerpt",
    "published_at",
    "quality",
    "topics_text",
    "body",
    "content_hash",
)
INSERT_ARTICLES = (
    "INSERT INTO articles (id, canonical_url, title, excerpt, published_at, quality, "
    "topics_text, body, content_hash) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], "
    "$4::text[], $5::bigint[], $6::smallint[], $7::text[], $8::text[], $9::text[]) "
    "RETURNING pk"
)
INSERT_LINKS = (
    "INSERT INTO article_topics (topic_id, article_pk, position) "
    "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[])"
)
PLAN = (
    "INSERT INTO deliveries (guild_id, target_kind, target_id, article_pk, subscription_id, "
    "mode, next_attempt_at, created_at) "
    "SELECT s.guild_id, 'dm', s.user_id, $1, s.id, s.delivery, $2, $2 "
    "FROM subscriptions s JOIN article_topics t ON t.topic_id = s.topic_id "
    "WHERE t.article_pk = $1 AND s.disabled_reason IS NULL AND s.min_quality <= 50 "
    "ON CONFLICT DO NOTHING"
)
LOOKUP = (
    "SELECT a.pk, a.title, a.published_at, array_agg(t.name ORDER BY l.position) "
    "FROM articles a JOIN article_topics l ON l.article_pk = a.pk "
    "JOIN topics t ON t.id = l.topic_id WHERE a.id = $1 GROUP BY a.pk"
)
TOPIC_COUNT = 60


def database_url(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def article_batch(rng: random.Random, start: int, count: int) -> list[tuple[Any, ...]]:
    rows = []
    for n in range(start, start + count):
        title = f"Article {n} about {rng.choice(['chips', 'rail', 'grid', 'rates', 'ports'])}"
        rows.append(
            (
                f"a{n:07d}",
                f"https://news{n % 300}.example/{n}",
                title,
                "An excerpt of about two hundred characters. " * 4,
                1_700_000_000 + n * 60,
                rng.randrange(101),
                "AI Climate",
                "Body text. " * 150,
                f"{n:064x}",
            )
        )
    return rows


def topic_links(rng: random.Random, pks: list[int]) -> list[tuple[int, int, int]]:
    links = []
    for pk in pks:
        chosen = rng.sample(range(1, TOPIC_COUNT + 1), rng.randint(1, 4))
        links.extend((topic, pk, position) for position, topic in enumerate(chosen))
    return links


def columns(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(ordered), 3), "p99_ms": round(p99, 3)}


async def timed(action: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await action()
    return (time.perf_counter() - started) * 1000


class Asyncpg:
    name = "asyncpg"

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        self.pool = await asyncpg.create_pool(self.url, min_size=2, max_size=4)

    async def close(self) -> None:
        assert self.pool is not None
        await self.pool.close()

    async def execute(self, sql: str) -> None:
        assert self.pool is not None
        await self.pool.execute(sql)

    async def ingest_insert(self, rows: list[tuple[Any, ...]], rng: random.Random) -> None:
        assert self.pool is not None
        async with self.pool.acquire() as connection, connection.transaction():
            pks = [r[0] for r in await connection.fetch(INSERT_ARTICLES, *columns(rows))]
            await connection.execute(INSERT_LINKS, *columns(topic_links(rng, pks)))

    async def ingest_copy(self, rows: list[tuple[Any, ...]], rng: random.Random) -> None:
        assert self.pool is not None
        async with self.pool.acquire() as connection, connection.transaction():
            pks = [
                r[0]
                for r in await connection.fetch(
                    "SELECT nextval('articles_pk_seq') FROM generate_series(1, $1)", len(rows)
                )
            ]
            records = [(pk, *row) for pk, row in zip(pks, rows, strict=True)]
            await connection.copy_records_to_table(
                "articles", records=records, columns=("pk", *ARTICLE_COLUMNS)
            )
            await connection.copy_records_to_table(
                "article_topics",
                records=topic_links(rng, pks),
                columns=("topic_id", "article_pk", "position"),
            )

    async def plan(self, article_pk: int) -> int:
        assert self.pool is not None
        status = await self.pool.execute(PLAN, article_pk, 1_700_000_000)
        return int(status.split()[-1])

    async def lookups(self, ids: list[str]) -> list[float]:
        assert self.pool is not None
        samples = []
        for article_id in ids:
            started = time.perf_counter()
            async with self.pool.acquire() as connection:
                row = await connection.fetchrow(LOOKUP, article_id)
            samples.append((time.perf_counter() - started) * 1000)
            assert row is not None
        return samples


class Psycopg:
    name = "psycopg"

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: AsyncConnectionPool | None = None

    async def open(self) -> None:
        self.pool = AsyncConnectionPool(self.url, min_size=2, max_size=4, open=False)
        await self.pool.open(wait=True)

    async def close(self) -> None:
        assert self.pool is not None
        await self.pool.close()

    async def execute(self, sql: str) -> None:
        assert self.pool is not None
        async with self.pool.connection() as connection:
            await connection.execute(sql)  # type: ignore[arg-type]

    @staticmethod
    def _params(sql: str) -> str:
        # psycopg takes %s placeholders; the statements are written with $n for asyncpg.
        for n in range(9, 0, -1):
            sql = sql.replace(f"${n}", "%s")
        return sql

    async def ingest_insert(self, rows: list[tuple[Any, ...]], rng: random.Random) -> None:
        assert self.pool is not None
        async with self.pool.connection() as connection, connection.transaction():
            cursor = await connection.execute(self._params(INSERT_ARTICLES), columns(rows))
            pks = [r[0] for r in await cursor.fetchall()]
            await connection.execute(self._params(INSERT_LINKS), columns(topic_links(rng, pks)))

    async def ingest_copy(self, rows: list[tuple[Any, ...]], rng: random.Random) -> None:
        assert self.pool is not None
        async with self.pool.connection() as connection, connection.transaction():
            cursor = await connection.execute(
                "SELECT nextval('articles_pk_seq') FROM generate_series(1, %s)", (len(rows),)
            )
            pks = [r[0] for r in await cursor.fetchall()]
            listed = ", ".join(("pk", *ARTICLE_COLUMNS))
            async with connection.cursor().copy(
                f"COPY articles ({listed}) FROM STDIN"  # type: ignore[arg-type]
            ) as copy:
                for pk, row in zip(pks, rows, strict=True):
                    await copy.write_row((pk, *row))
            async with connection.cursor().copy(
                "COPY article_topics (topic_id, article_pk, position) FROM STDIN"
            ) as copy:
                for link in topic_links(rng, pks):
                    await copy.write_row(link)

    async def plan(self, article_pk: int) -> int:
        assert self.pool is not None
        async with self.pool.connection() as connection:
            cursor = await connection.execute(
                PLAN.replace("$1", "%(pk)s").replace("$2", "%(now)s"),  # type: ignore[arg-type]
                {"pk": article_pk, "now": 1_700_000_000},
            )
            return cursor.rowcount

    async def lookups(self, ids: list[str]) -> list[float]:
        assert self.pool is not None
        samples = []
        for article_id in ids:
            started = time.perf_counter()
            async with self.pool.connection() as connection:
                cursor = await connection.execute(
                    LOOKUP.replace("$1", "%s"),  # type: ignore[arg-type]
                    (article_id,),
                    prepare=True,
                )
                row = await cursor.fetchone()
            samples.append((time.perf_counter() - started) * 1000)
            assert row is not None
        return samples


async def seed(admin_url: str, fanout: int) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(SCHEMA)
        await connection.execute(
            "INSERT INTO topics (key, name) SELECT 't' || n, 'Topic ' || n "
            "FROM generate_series(1, $1) n",
            TOPIC_COUNT,
        )
        # The planning article: topic 1 only; every subscriber follows topic 1.
        await connection.execute(
            "INSERT INTO articles (pk, id, canonical_url, title, published_at, content_hash) "
            "VALUES (0, 'plan', 'https://plan.example/', 'Plan', 0, 'x')"
        )
        await connection.execute(
            "INSERT INTO article_topics (topic_id, article_pk, position) VALUES (1, 0, 0)"
        )
        await connection.execute(
            "INSERT INTO subscriptions (guild_id, user_id, topic_id, delivery) "
            "SELECT 1000 + n % 50, 10000000 + n, 1, 'instant' FROM generate_series(1, $1) n",
            fanout,
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def measure(driver: Asyncpg | Psycopg, runs: int, lookups: int) -> dict[str, Any]:
    rng = random.Random(11)
    await driver.open()
    try:
        results: dict[str, Any] = {}
        next_article = 1_000_000 if driver.name == "psycopg" else 0
        for shape in ("ingest_insert", "ingest_copy"):
            samples = []
            for _ in range(runs):
                rows = article_batch(rng, next_article, 2000)
                next_article += 2000
                write = getattr(driver, shape)
                samples.append(await timed(lambda w=write, r=rows: w(r, rng)))
            results[shape] = summary(samples)
        plans = []
        for _ in range(runs):
            await driver.execute("TRUNCATE deliveries")
            started = time.perf_counter()
            written = await driver.plan(0)
            plans.append((time.perf_counter() - started) * 1000)
        results["planning"] = {**summary(plans), "rows": written}
        await driver.execute("ANALYZE")
        ids = [
            f"a{rng.randrange(next_article - runs * 4000, next_article):07d}"
            for _ in range(lookups)
        ]
        per_query: list[float] = []
        for _ in range(runs):
            per_query.extend(await driver.lookups(ids))
        results["lookup"] = summary(per_query)
        return results
    finally:
        await driver.close()


async def main_async(url: str, runs: int, fanout: int, lookups: int, first: str) -> dict[str, Any]:
    name = f"topicbot_bench_{os.getpid()}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    bench_url = database_url(url, name)
    try:
        await seed(bench_url, fanout)
        drivers = [Asyncpg(bench_url), Psycopg(bench_url)]
        # The second driver works on a bigger table and a warmer cache: --first swaps them.
        drivers.sort(key=lambda driver: driver.name != first)
        figures = {driver.name: await measure(driver, runs, lookups) for driver in drivers}
    finally:
        admin = await asyncpg.connect(url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
    return {
        "runs": runs,
        "fanout": fanout,
        "lookups": lookups,
        "asyncpg": asyncpg.__version__,
        "psycopg": psycopg.__version__,
        "first": first,
        **figures,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("TOPICBOT_TEST_DATABASE_URL"))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--fanout", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--first", choices=["asyncpg", "psycopg"], default="asyncpg")
    args = parser.parse_args()
    if not args.url:
        print("bench_pg_driver: give --url or set TOPICBOT_TEST_DATABASE_URL", file=sys.stderr)
        return 2
    figures = asyncio.run(main_async(args.url, args.runs, args.fanout, args.lookups, args.first))
    for driver in ("asyncpg", "psycopg"):
        for shape, figure in figures[driver].items():
            print(
                f"{driver:8} {shape:14} median {figure['median_ms']:9.3f} ms  "
                f"p99 {figure['p99_ms']:9.3f} ms"
            )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
