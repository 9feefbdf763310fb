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


def postgresql_url(
    settings: Settings, *, wanted_by: str = "storage.backend is postgresql"
) -> tuple[str, str]:
    """The PostgreSQL URL from ``$storage.url_env`` and that variable's name (``$NAME``, for
    messages, which must never show the URL), or a ``PostgresConnectError`` saying that
    ``wanted_by`` needs it when it is unset."""
    source = f"${settings.storage.url_env}"
    url = os.environ.get(settings.storage.url_env, "").strip()
    if not url:
        raise PostgresConnectError(
            f"{wanted_by} but {source} is not set (it holds the connection URL, {URL_FORM})"
        )
    return url, source


async def _check_postgresql(settings: Settings) -> None:
    """Connect as the PostgreSQL store will, so that the URL and the server are checked; then
    refuse, clearly: this version has no store on PostgreSQL yet, and falling back to the
    SQLite file would serve other data than the operator chose."""
    url, source = postgresql_url(settings)
    pool = await open_pool(url, size=1, source=source)
    await pool.close()
    raise ConfigError(
        "storage.backend: postgresql is not available in this version yet (the server "
        f"answered at {source}); use storage.backend: sqlite"
    )
