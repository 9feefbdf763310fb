"""Opening the store the way the configuration says."""

from __future__ import annotations

from bot.config import Settings
from bot.domain.stories import grouping_rules
from storage import Store
from storage.api import StoreApi
from storage.postgresql import open_pool
from storage.postgresql.connection import url_from_environment
from storage.postgresql.database import PgDatabase
from storage.postgresql.store import PgStore


async def open_store(settings: Settings) -> StoreApi:
    """The store the configuration names: the SQLite file at ``storage.path`` (with the
    configured grouping rules, size cap and cache), or the PostgreSQL database at
    ``$storage.url_env`` (with a pool of ``storage.pool_size``)."""
    if settings.storage.backend == "postgresql":
        return await open_postgresql_store(settings)
    return await Store.open(
        settings.storage.path,
        grouping=grouping_rules(settings.related),
        max_size_mb=settings.storage.max_size_mb,
        cache_mb=settings.storage.cache_mb,
    )


async def open_postgresql_store(settings: Settings) -> StoreApi:
    """The store on the PostgreSQL database at ``$storage.url_env``, its schema brought up to
    date (never the SQLite file in its place: that would serve other data than the operator
    chose)."""
    url, source = url_from_environment(settings.storage.url_env)
    pool = await open_pool(url, size=settings.storage.pool_size, source=source)
    store = PgStore(PgDatabase(pool), grouping=grouping_rules(settings.related))
    try:
        await store.migrate()
    except BaseException:
        await store.close()
        raise
    return store
