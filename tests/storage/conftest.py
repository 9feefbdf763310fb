"""The store on either engine, for tests that hold for both: ``any_store`` runs the test once
on a SQLite file and once on a PostgreSQL database of its own (skipped, with one line at the
end of the run, where ``TOPICBOT_TEST_DATABASE_URL`` is not set)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from storage import Store
from storage.postgresql.store import PgStore


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def any_store(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Any]:
    """A new, empty store on each engine in turn (typed Any until ``PgStore`` has every
    repository of ``storage.api.StoreApi``)."""
    if request.param == "sqlite":
        async with await Store.open(tmp_path / "topicbot.db") as store:
            yield store
        return
    url = request.getfixturevalue("postgresql_database_url")
    async with await PgStore.open(url, pool_size=4, source="$TEST") as store:
        yield store
