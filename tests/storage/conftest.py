"""The store on either engine, for tests that hold for both: ``any_store`` runs the test once
on a SQLite file and once on a PostgreSQL database of its own (skipped, with one line at the
end of the run, where ``TOPICBOT_TEST_DATABASE_URL`` is not set)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, ExitStack, asynccontextmanager
from typing import Any

import pytest
import pytest_asyncio

from storage.grouping import GroupingRules
from tests.engines import ENGINES, open_store, postgresql_url
from tests.postgresql import new_database

OpenStore = Callable[..., AbstractAsyncContextManager[Any]]


@pytest_asyncio.fixture(params=ENGINES)
async def any_store(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Any]:
    """A new, empty store on each engine in turn (typed Any: tests reach into either)."""
    async with await open_store(tmp_path / "topicbot.db", postgresql_url(request)) as store:
        yield store


@pytest.fixture(params=ENGINES)
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
    async def open_one(grouping: GroupingRules | None = None) -> AsyncIterator[Any]:
        nonlocal opened
        opened += 1
        url = databases.enter_context(new_database(server)) if server else None
        path = tmp_path / f"store{opened}.db"
        async with await open_store(path, url, grouping=grouping) as store:
            yield store

    with databases:
        yield open_one
