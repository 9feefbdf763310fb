"""The store on either engine, for tests that hold for both: ``any_store`` runs the test once
on a SQLite file and once on a PostgreSQL database of its own (skipped, with one line at the
end of the run, where ``TOPICBOT_TEST_DATABASE_URL`` is not set)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, ExitStack, asynccontextmanager
from typing import Any

import pytest
import pytest_asyncio

from storage import Store
from storage.grouping import GroupingRules
from storage.postgresql.store import PgStore
from tests.postgresql import new_database

OpenStore = Callable[..., AbstractAsyncContextManager[Any]]


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


@pytest.fixture(params=["sqlite", "postgresql"])
def open_any_store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[OpenStore]:
    """Open new, empty stores with grouping rules of the test's choosing, on each engine in
    turn: ``async with open_any_store(rules) as store``. Each store opened is one of its own
    (a file, or a database dropped after the test)."""
    opened = 0
    server = ""
    if request.param == "postgresql":
        server = request.getfixturevalue("postgresql_server_url")
    databases = ExitStack()

    @asynccontextmanager
    async def open_store(grouping: GroupingRules | None = None) -> AsyncIterator[Any]:
        nonlocal opened
        opened += 1
        if request.param == "sqlite":
            async with await Store.open(tmp_path / f"store{opened}.db", grouping=grouping) as store:
                yield store
            return
        url = databases.enter_context(new_database(server))
        async with await PgStore.open(url, pool_size=4, source="$TEST", grouping=grouping) as store:
            yield store

    with databases:
        yield open_store
