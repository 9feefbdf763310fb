"""Opening the store the way the configuration says."""

from __future__ import annotations

import os

from bot.config import ConfigError, Settings
from bot.domain.stories import grouping_rules
from storage import Store
from storage.postgresql import URL_FORM, PostgresConnectError, open_pool


async def open_store(settings: Settings) -> Store:
    """The store the configuration names: the SQLite file at ``storage.path`` (with the
    configured grouping rules, size cap and cache), or the PostgreSQL database at
    ``$storage.url_env``."""
    if settings.storage.backend == "postgresql":
        await _check_postgresql(settings)
    return await Store.open(
        settings.storage.path,
        grouping=grouping_rules(settings.related),
        max_size_mb=settings.storage.max_size_mb,
        cache_mb=settings.storage.cache_mb,
    )


async def _check_postgresql(settings: Settings) -> None:
    """Connect as the PostgreSQL store will, so that the URL and the server are checked; then
    refuse, clearly: this version has no store on PostgreSQL yet, and falling back to the
    SQLite file would serve other data than the operator chose."""
    source = f"${settings.storage.url_env}"
    url = os.environ.get(settings.storage.url_env, "").strip()
    if not url:
        raise PostgresConnectError(
            f"storage.backend is postgresql but {source} is not set (it holds the "
            f"connection URL, {URL_FORM})"
        )
    pool = await open_pool(url, size=1, source=source)
    await pool.close()
    raise ConfigError(
        "storage.backend: postgresql is not available in this version yet (the server "
        f"answered at {source}); use storage.backend: sqlite"
    )
