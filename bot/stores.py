"""Opening the store the way the configuration says."""

from __future__ import annotations

from bot.config import Settings
from bot.domain.stories import grouping_rules
from storage import Store


async def open_store(settings: Settings) -> Store:
    """The store at ``storage.path``, with the configured grouping rules, size cap and cache."""
    return await Store.open(
        settings.storage.path,
        grouping=grouping_rules(settings.related),
        max_size_mb=settings.storage.max_size_mb,
        cache_mb=settings.storage.cache_mb,
    )
