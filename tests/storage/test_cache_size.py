"""``storage.cache_mb`` bounds SQLite's page cache, the largest part of a long ingest's memory."""

from __future__ import annotations

from bot.config import load_settings
from bot.stores import open_store


async def test_the_configured_cache_bounds_the_writer_and_the_search_connection(tmp_path):
    config = tmp_path / "topicbot.yaml"
    config.write_text("storage:\n  path: data/topicbot.db\n  cache_mb: 12\n")
    async with await open_store(load_settings(config)) as store:
        for connection in (store._db, store._search_db):
            assert connection is not None
            # a negative cache_size is a size in KiB rather than a number of pages
            assert await connection.scalar("PRAGMA cache_size") == -12 * 1024


async def test_without_the_setting_each_connection_keeps_24_mb(tmp_path):
    config = tmp_path / "topicbot.yaml"
    config.write_text("storage:\n  path: data/topicbot.db\n")
    async with await open_store(load_settings(config)) as store:
        assert await store._db.scalar("PRAGMA cache_size") == -24 * 1024
