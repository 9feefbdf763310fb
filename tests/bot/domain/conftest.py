"""The related engine's tests share a store of everyday news (test_related.py brings its own),
on each engine in turn: a SQLite file, or a PostgreSQL database of the test's own."""

from __future__ import annotations

import pytest

from storage.postgresql.store import PgStore
from tests.bot.domain.news_store import add_filler, open_with_filler


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request, tmp_path):
    if request.param == "sqlite":
        opened = await open_with_filler(tmp_path / "t.db")
    else:
        url = request.getfixturevalue("postgresql_database_url")
        opened = await PgStore.open(url, pool_size=4, source="$TEST")
        await add_filler(opened)
    try:
        yield opened
    finally:
        await opened.close()
