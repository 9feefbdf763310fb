"""What holds for the store itself on both engines (``any_store``)."""

from __future__ import annotations

from datetime import UTC, datetime


async def test_a_new_store_answers_and_knows_nothing(any_store):
    assert await any_store.ping()
    assert await any_store.meta.get("anything") is None


async def test_a_failed_transaction_leaves_nothing_behind(any_store):
    now = datetime(2026, 6, 10, tzinfo=UTC)
    try:
        async with any_store.transaction():
            await any_store.meta.put("first", "1")
            await any_store.guild_settings.update(7, now, timezone="Europe/Paris")
            raise RuntimeError("stop")
    except RuntimeError:
        pass
    assert await any_store.meta.get("first") is None
    assert (await any_store.guild_settings.get(7)).timezone is None
