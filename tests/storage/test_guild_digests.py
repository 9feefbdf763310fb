"""A guild's digest schedule in the store: the upgrade that adds its time and day, and the
operator's count of servers that set their own (moving its waiting digest rows is tested on
both engines in ``test_outbox_engines``)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from storage import Store
from tests.storage.legacy import store_at_version

NOW = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)
STAMP = int(NOW.timestamp())
HOUR = 3600


async def test_a_store_from_version_9_keeps_its_guild_settings_and_gains_time_and_day(tmp_path):
    path = tmp_path / "v9.db"
    connection = await store_at_version(path, 9)
    try:
        await connection.execute(
            "INSERT INTO guild_settings (guild_id, moderator_role_id, min_quality, timezone, "
            "updated_at) VALUES (7, 70, 40, 'Asia/Tokyo', 1), (8, NULL, NULL, NULL, 1)"
        )
        await connection.commit()
    finally:
        await connection.close()

    async with await Store.open(path) as store:
        tokyo = await store.guild_settings.get(7)
        assert (tokyo.moderator_role_id, tokyo.min_quality, tokyo.timezone) == (
            70,
            40,
            "Asia/Tokyo",
        )
        assert (tokyo.digest_time, tokyo.digest_day) == (None, None)
        assert await store.guild_settings.digest_schedules_in_use() == [("Asia/Tokyo", None, None)]
        await store.guild_settings.update(8, NOW, digest_time="18:30", digest_day="friday")
        assert await store.guild_settings.digest_schedules_in_use() == [
            ("Asia/Tokyo", None, None),
            (None, "18:30", "friday"),
        ]
        assert (await store.guild_settings.get(7)).timezone == "Asia/Tokyo"  # kept
        for column, value in (("digest_time", "8 am"), ("digest_day", "funday")):
            with pytest.raises(sqlite3.IntegrityError):
                await store._db.execute(
                    f"UPDATE guild_settings SET {column} = ? WHERE guild_id = 8", (value,)
                )


async def test_stats_count_the_servers_with_a_schedule_of_their_own(tmp_path):
    async with await Store.open(tmp_path / "topicbot.db") as store:
        empty = (await store.stats()).digest_overrides
        assert empty == {"servers": 0, "timezone": 0, "digest_time": 0, "digest_day": 0}
        await store.guild_settings.update(1, NOW, timezone="Asia/Tokyo")
        await store.guild_settings.update(2, NOW, timezone="Europe/Paris", digest_day="sunday")
        await store.guild_settings.update(3, NOW, digest_time="07:15")
        await store.guild_settings.update(4, NOW, min_quality=50)  # no schedule of its own
        counts = (await store.stats()).digest_overrides
    assert counts == {"servers": 3, "timezone": 2, "digest_time": 1, "digest_day": 1}
