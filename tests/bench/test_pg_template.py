"""``bench_related --pg-template``: the PostgreSQL copy of a bench store is kept as a template
database and each run measures on a fresh copy of it, so a million-article store is copied
once; the template is made again with ``rebuild`` or when it came from another store, and a
run's writes never reach it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio

from bench.pg_copy import database_url, mirrored_from_template
from bench.related.build import build_store
from bench.related.corpus import CorpusSpec, generate
from storage import Store


@pytest_asyncio.fixture
async def template(postgresql_server_url: str) -> AsyncIterator[str]:
    name = f"topicbot_test_template_{uuid.uuid4().hex[:12]}"
    yield name
    admin = await asyncpg.connect(postgresql_server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def articles_seen(sqlite: Store, server_url: str, template: str, **options: bool) -> int:
    """How many articles a run on the template's copy finds; the run then adds a topic."""
    async with mirrored_from_template(sqlite, server_url, template, **options) as store:
        found = int(await store.postgresql._db.scalar("SELECT count(*) FROM articles"))
        await store.postgresql._db.execute(
            "INSERT INTO topics (name, key, article_count) VALUES ('run', 'run', 0)"
        )
        return found


async def test_the_copy_is_made_once_and_each_run_measures_on_a_fresh_copy_of_it(
    tmp_path, postgresql_server_url, template
):
    path = tmp_path / "related-300-1.db"
    build_store(path, generate(CorpusSpec(articles=300, seed=1)), log=False)
    async with await Store.open(path) as sqlite:
        assert await articles_seen(sqlite, postgresql_server_url, template) == 300
        # the template is not copied again: an article removed from it stays removed
        admin = await asyncpg.connect(database_url(postgresql_server_url, template))
        try:
            await admin.execute("DELETE FROM articles WHERE pk = 1")
            assert await admin.fetchval("SELECT count(*) FROM topics WHERE key = 'run'") == 0
        finally:
            await admin.close()
        assert await articles_seen(sqlite, postgresql_server_url, template) == 299
        assert await articles_seen(sqlite, postgresql_server_url, template, rebuild=True) == 300

    other = tmp_path / "related-200-2.db"
    build_store(other, generate(CorpusSpec(articles=200, seed=2)), log=False)
    async with await Store.open(other) as sqlite:
        assert await articles_seen(sqlite, postgresql_server_url, template) == 200
