"""The related benchmark's bulk-built store: every migration applied (those that must run
outside a transaction too), and the real store and engine accept it."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from bench.related.build import build_store
from bench.related.corpus import CorpusSpec, generate
from bot.domain.associations import AssociationLearner
from bot.domain.related import RelatedService
from storage import Store
from storage.database import migration_scripts
from storage.prepare import short_id


async def test_the_bench_store_is_at_the_latest_schema_and_the_engine_answers(tmp_path):
    articles = generate(CorpusSpec(articles=400, seed=3))
    path = tmp_path / "bench.db"
    build_store(path, articles, log=False)
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(migration_scripts())
        assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == len(articles)
    async with await Store.open(path) as store:
        assert await AssociationLearner(store).run() >= 0
        story = next(a for a in articles if a.published and not a.coverage_only)
        shown, _ = await RelatedService(store).for_story(1, short_id(story.url), limit=5)
        assert shown.title == story.title
