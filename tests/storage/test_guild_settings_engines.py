"""Guild settings and the bot's key-value facts, the same tests on both engines: the SQLite
store's repositories, run on each engine's database (``storage.sql.Statements``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from storage.api import GuildSettingsApi, MetaApi
from storage.models import GuildSettings

NOW = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)
GUILD = 7


@dataclass
class Repositories:
    guild_settings: GuildSettingsApi
    meta: MetaApi


@pytest.fixture
def engine(any_store) -> Repositories:
    return Repositories(any_store.guild_settings, any_store.meta)


async def test_a_guild_that_set_nothing_has_the_defaults(engine):
    assert await engine.guild_settings.get(GUILD) == GuildSettings(GUILD)
    assert await engine.guild_settings.digest_schedules_in_use() == []


async def test_an_update_keeps_the_settings_it_does_not_name(engine):
    await engine.guild_settings.update(GUILD, NOW, moderator_role_id=70, min_quality=40)
    await engine.guild_settings.update(GUILD, NOW, timezone="Asia/Tokyo", min_quality=None)
    assert await engine.guild_settings.get(GUILD) == GuildSettings(
        GUILD, moderator_role_id=70, min_quality=None, timezone="Asia/Tokyo"
    )
    assert await engine.guild_settings.get(GUILD + 1) == GuildSettings(GUILD + 1)


async def test_an_unknown_setting_is_refused_and_nothing_changes(engine):
    await engine.guild_settings.update(GUILD, NOW, min_quality=40)
    with pytest.raises(ValueError, match="unknown guild settings: \\['colour'\\]"):
        await engine.guild_settings.update(GUILD, NOW, min_quality=10, colour="red")
    assert (await engine.guild_settings.get(GUILD)).min_quality == 40


async def test_each_digest_schedule_in_use_is_listed_once(engine):
    await engine.guild_settings.update(1, NOW, timezone="Asia/Tokyo")
    await engine.guild_settings.update(2, NOW, digest_time="18:30", digest_day="friday")
    await engine.guild_settings.update(3, NOW, digest_time="18:30", digest_day="friday")
    await engine.guild_settings.update(4, NOW, moderator_role_id=9)  # no schedule of its own
    assert sorted(await engine.guild_settings.digest_schedules_in_use(), key=str) == [
        ("Asia/Tokyo", None, None),
        (None, "18:30", "friday"),
    ]


async def test_two_updates_at_once_of_different_settings_both_land(engine):
    await asyncio.gather(
        engine.guild_settings.update(GUILD, NOW, min_quality=55),
        engine.guild_settings.update(GUILD, NOW, digest_day="sunday"),
    )
    settings = await engine.guild_settings.get(GUILD)
    assert (settings.min_quality, settings.digest_day) == (55, "sunday")


async def test_a_fact_is_kept_and_replaced(engine):
    assert await engine.meta.get("commands_hash") is None
    await engine.meta.put("commands_hash", "abc")
    await engine.meta.put("commands_hash", "def")
    await engine.meta.put("other", "x")
    assert await engine.meta.get("commands_hash") == "def"
