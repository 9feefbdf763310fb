"""Opening a store on either engine, for the fixtures that run each test once on a SQLite file
and once on a PostgreSQL database of its own (``any_store``, ``open_any_store``, the
end-to-end harness's ``engine``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import Store
from storage.grouping import GroupingRules
from storage.postgresql.store import PgStore
from storage.sql import Statements

ENGINES = ["sqlite", "postgresql"]


def postgresql_url(request: pytest.FixtureRequest) -> str | None:
    """On the PostgreSQL run of a fixture parametrized by ``ENGINES``, the URL of a new database
    of the test's own (dropped after it); None on the SQLite run."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("postgresql_database_url"))


async def open_store(
    sqlite_path: Path, postgresql_url: str | None, *, grouping: GroupingRules | None = None
) -> Store | PgStore:
    """A store on the database at ``postgresql_url`` when there is one, else on the SQLite
    file at ``sqlite_path``."""
    if postgresql_url is None:
        return await Store.open(sqlite_path, grouping=grouping)
    return await PgStore.open(postgresql_url, pool_size=4, source="$TEST", grouping=grouping)


def statements(store: Store | PgStore) -> Statements:
    """The store's database with the calling convention both engines share (``:name``
    parameters), for a test that writes rows no repository writes."""
    return store._db.named if isinstance(store, PgStore) else store._db
