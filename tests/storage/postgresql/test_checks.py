"""What doctor and housekeeping ask of the PostgreSQL store itself: its quick check (the server
takes writes, the schema is this version's) and its optimisation (ANALYZE)."""

from __future__ import annotations

from storage.postgresql.schema import migrations
from storage.postgresql.store import PgStore


async def test_a_current_store_passes_and_an_old_schema_is_named(postgresql_database_url):
    async with await PgStore.open(postgresql_database_url, pool_size=2) as store:
        assert await store.quick_check() == ["ok"]
        newest = migrations()[-1].version
        await store._db.execute("DELETE FROM schema_migrations WHERE version = $1", newest)
        assert await store.quick_check() == [
            f"the schema is at version {newest - 1}, this version needs {newest}"
        ]


async def test_optimizing_gathers_the_planners_statistics(postgresql_database_url):
    async with await PgStore.open(postgresql_database_url, pool_size=2) as store:
        analysed = "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'articles'"
        assert await store._db.scalar(analysed) is None
        await store.optimize()
        assert await store._db.scalar(analysed) is not None
