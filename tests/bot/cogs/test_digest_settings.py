"""/settings timezone, digest_time and digest_day end to end: shown with the next digests,
autocomplete by city, refusals that say what to type, the audit log, and waiting digests
moved to the new schedule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.bot.harness import EPHEMERAL, Harness
from tests.bot.test_alerts import follow, story

# Wednesday 10 June 2026, 11:00 UTC: 20:00 in Tokyo, 07:00 in New York.
NOW = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)


def stamp(moment: datetime) -> int:
    return int(moment.timestamp())


def fields(result: Any) -> dict[str, str]:
    return {f["name"]: f["value"] for f in result.embeds[0]["fields"]}


async def settings(harness: Harness, **options: Any) -> Any:
    g = harness.first
    return await harness.slash(g, g.moderator.id, "settings", options)


async def test_settings_show_the_digest_schedule_and_its_next_moments(harness: Harness):
    harness.clock.now = NOW
    shown = await settings(harness)
    assert shown.message.flags & EPHEMERAL
    thursday_8 = datetime(2026, 6, 11, 8, 0, tzinfo=UTC)
    monday_8 = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
    assert {k: v for k, v in fields(shown).items() if k not in ("Moderator role", "Quality bar")} == {
        "Time zone": "UTC (UTC+00:00) (default)",
        "Daily digest": f"08:00 (default)\nnext: Thu 11 Jun 08:00 UTC · <t:{stamp(thursday_8)}:R>",
        "Weekly digest": f"Mondays (default)\nnext: Mon 15 Jun 08:00 UTC · <t:{stamp(monday_8)}:R>",
    }  # fmt: skip

    changed = await settings(
        harness, timezone="Asia/Tokyo", digest_time="18:30", digest_day="friday"
    )
    assert changed.content == "Saved."
    # 18:30 in Tokyo has passed today (it is 20:00 there): tomorrow, and Friday for the weekly
    thursday = datetime(2026, 6, 11, 9, 30, tzinfo=UTC)
    friday = datetime(2026, 6, 12, 9, 30, tzinfo=UTC)
    assert {k: v for k, v in fields(changed).items() if k not in ("Moderator role", "Quality bar")} == {
        "Time zone": "Asia/Tokyo (UTC+09:00)",
        "Daily digest": f"18:30\nnext: Thu 11 Jun 18:30 JST · <t:{stamp(thursday)}:R>",
        "Weekly digest": f"Fridays\nnext: Fri 12 Jun 18:30 JST · <t:{stamp(friday)}:R>",
    }  # fmt: skip
    other = await harness.slash(harness.second, harness.second.moderator.id, "settings")
    assert fields(other)["Time zone"] == "UTC (UTC+00:00) (default)"

    (entry,) = await harness.store.audit.recent(harness.first.id)
    assert (entry.action, entry.actor_id) == ("settings", harness.first.moderator.id)
    assert entry.detail == {
        "timezone": "Asia/Tokyo", "digest_time": "18:30", "digest_day": "friday",
        "digest_items_moved": 0,
    }  # fmt: skip
    overrides = (await harness.store.stats()).digest_overrides
    assert overrides == {"servers": 1, "timezone": 1, "digest_time": 1, "digest_day": 1}


async def test_timezone_autocomplete_matches_cities_as_people_type_them(harness: Harness):
    harness.clock.now = NOW
    g = harness.first

    async def offered(typed: str) -> list[dict[str, Any]]:
        return await harness.autocomplete(
            g, g.moderator.id, "settings", {"timezone": typed}, "timezone"
        )

    assert (await offered("new york"))[0] == {
        "name": "America/New_York · UTC−04:00 · 07:00 now",
        "value": "America/New_York",
    }
    assert (await offered("tokyo"))[0]["value"] == "Asia/Tokyo"
    assert (await offered("paris"))[0]["value"] == "Europe/Paris"
    assert [c["value"] for c in await offered("São")] == ["Africa/Sao_Tome", "America/Sao_Paulo"]
    assert [c["value"] for c in await offered("")][:2] == ["UTC", "America/New_York"]
    assert await offered("nowhere at all") == []


async def test_a_city_typed_without_picking_is_taken_when_it_names_a_zone(harness: Harness):
    result = await settings(harness, timezone="new york")
    assert result.content == "Saved."
    assert fields(result)["Time zone"].startswith("America/New_York (UTC")


async def test_bad_values_say_what_to_type_and_change_nothing(harness: Harness):
    g = harness.first
    refusals = {
        "timezone": (
            "Mars/Olympus",
            "`timezone` must be a time zone such as Europe/Paris or America/New_York: start "
            "typing a city and pick one from the list (you gave Mars/Olympus).",
        ),
        "digest_time": (
            "25:00",
            "`digest_time` must be a time of day as HH:MM on a 24-hour clock, such as 08:00 "
            "or 18:30 (you gave 25:00).",
        ),
        "digest_day": (
            "@everyone",
            "`digest_day` must be a day of the week, such as monday (you gave @\u200beveryone).",
        ),
    }
    for option, (value, message) in refusals.items():
        raw = [{"name": option, "type": 3, "value": value}]
        refused = await harness.slash(g, g.moderator.id, "settings", raw_options=raw)
        assert refused.message.flags & EPHEMERAL
        assert refused.content == message
    # one bad value among good ones: nothing is written
    mixed = await settings(harness, timezone="Europe/Paris", digest_time="8 am")
    assert mixed.content.startswith("`digest_time` must be a time of day")
    stored = await harness.store.guild_settings.get(g.id)
    assert (stored.timezone, stored.digest_time, stored.digest_day) == (None, None, None)
    assert await harness.store.audit.recent(g.id) == []


async def test_zones_that_would_send_digests_at_another_hour_are_refused(harness: Harness):
    # "GMT+2" used to be taken as Etc/GMT+2, which is UTC-02:00 (the IANA names count the
    # other way); EST as a clock without summer time, an hour late from March to November in
    # New York; "08:0０" (a fullwidth zero) passed the HH:MM check and failed on the way.
    g = harness.first
    harness.clock.now = NOW
    refusals = {
        "GMT+2": "`timezone` must be a place's time zone, not an offset",
        "utc-5": "`timezone` must be a place's time zone, not an offset",
        "+05:30": "`timezone` must be a place's time zone, not an offset",
        "EST": (
            "`timezone` EST stays at UTC−05:00 all year, with no summer time. Pick a city "
            "instead: America/New_York for the clock that changes in summer, or America/Panama "
            "for one that does not."
        ),
        "mst": "`timezone` MST stays at UTC−07:00 all year",
    }
    for typed, message in refusals.items():
        raw = [{"name": "timezone", "type": 3, "value": typed}]
        refused = await harness.slash(g, g.moderator.id, "settings", raw_options=raw)
        assert refused.message.flags & EPHEMERAL
        assert refused.content.startswith(message), (typed, refused.content)
    for typed in ("08:0\uff10", "0\u0668:30"):  # a fullwidth zero, an Arabic-Indic eight
        raw = [{"name": "digest_time", "type": 3, "value": typed}]
        refused = await harness.slash(g, g.moderator.id, "settings", raw_options=raw)
        assert refused.content.startswith("`digest_time` must be a time of day as HH:MM"), typed
    stored = await harness.store.guild_settings.get(g.id)
    assert (stored.timezone, stored.digest_time) == (None, None)
    assert await harness.store.audit.recent(g.id) == []
    offered = await harness.autocomplete(
        g, g.moderator.id, "settings", {"timezone": "est"}, "timezone"
    )
    assert "EST" not in [choice["value"] for choice in offered]
    # the IANA name typed in full, offered with its offset by the autocomplete, is still taken
    assert (await settings(harness, timezone="Etc/GMT-2")).content == "Saved."
    assert (await settings(harness, timezone="GMT+0")).content == "Saved."
    assert fields(await settings(harness))["Time zone"] == "GMT+0 (UTC+00:00)"


async def test_members_cannot_change_the_schedule(harness: Harness):
    g = harness.first
    refused = await harness.slash(
        g, g.members[0].id, "settings", {"timezone": "Asia/Tokyo"}, force=True
    )
    assert refused.content.startswith("Only moderators can do this")
    assert (await harness.store.guild_settings.get(g.id)).timezone is None


async def test_a_new_schedule_moves_waiting_digests_and_new_ones_follow_it(harness: Harness):
    g = harness.first
    harness.clock.now = NOW
    daily, weekly = g.members[0].id, g.members[1].id
    await story(harness, 0, published=False)
    await follow(harness, g, daily, "Transport", delivery="daily")
    await follow(harness, g, weekly, "Transport", delivery="weekly")
    await story(harness, 1, title="Before the change")
    await harness.deliver()  # waits for Thursday 08:00 UTC and Monday 08:00 UTC

    result = await settings(harness, timezone="Asia/Tokyo")
    assert result.content == "Saved."
    (entry,) = await harness.store.audit.recent(g.id)
    assert entry.detail == {"timezone": "Asia/Tokyo", "digest_items_moved": 2}
    await story(harness, 2, title="After the change")
    await harness.deliver()

    # 08:00 in Tokyo on Thursday is Wednesday 23:00 UTC, well before 08:00 UTC
    harness.clock.now = datetime(2026, 6, 10, 22, 59, 59, tzinfo=UTC)
    assert (await harness.bot.dispatcher.send_digests()).sent == 0
    harness.clock.advance(seconds=1)
    assert (await harness.bot.dispatcher.send_digests()).sent == 2
    (digest,) = harness.double.dms_to(daily)
    assert "Before the change" in digest.embeds[0]["description"]
    assert "After the change" in digest.embeds[0]["description"]
    # the old moment brings nothing more; the weekly one comes on Monday in Tokyo
    harness.clock.now = datetime(2026, 6, 11, 8, 0, 1, tzinfo=UTC)
    assert (await harness.bot.dispatcher.send_digests()).sent == 0
    harness.clock.now = datetime(2026, 6, 14, 23, 0, tzinfo=UTC)
    assert (await harness.bot.dispatcher.send_digests()).sent == 2
    (digest,) = harness.double.dms_to(weekly)
    assert digest.embeds[0]["title"] == "Your weekly digest from guild1"
    assert len(harness.double.dms_to(daily)) == 1


async def test_new_digests_follow_the_servers_own_time_and_day(harness: Harness):
    g = harness.first
    harness.clock.now = NOW  # Wednesday 11:00 UTC
    daily, weekly = g.members[0].id, g.members[1].id
    await story(harness, 0, published=False)
    await follow(harness, g, daily, "Transport", delivery="daily")
    await follow(harness, g, weekly, "Transport", delivery="weekly")
    assert (await settings(harness, digest_time="18:30", digest_day="friday")).content == "Saved."
    await story(harness, 1)
    await harness.deliver()

    harness.clock.now = datetime(2026, 6, 10, 18, 29, 59, tzinfo=UTC)
    assert (await harness.bot.dispatcher.send_digests()).sent == 0
    harness.clock.advance(seconds=1)
    assert (await harness.bot.dispatcher.send_digests()).sent == 1
    assert len(harness.double.dms_to(daily)) == 1
    harness.clock.now = datetime(2026, 6, 12, 18, 29, 59, tzinfo=UTC)
    assert (await harness.bot.dispatcher.send_digests()).sent == 0
    harness.clock.advance(seconds=1)
    assert (await harness.bot.dispatcher.send_digests()).sent == 1
    assert harness.double.dms_to(weekly)[0].embeds[0]["title"] == "Your weekly digest from guild1"


async def test_reset_sends_the_schedule_back_to_the_default_and_moves_waiting_digests(
    harness: Harness,
):
    g = harness.first
    harness.clock.now = NOW
    daily = g.members[0].id
    await story(harness, 0, published=False)
    await follow(harness, g, daily, "Transport", delivery="daily")
    own = await settings(
        harness, timezone="Asia/Tokyo", digest_time="18:30", digest_day="friday", min_quality=70
    )
    assert own.content == "Saved."
    await story(harness, 1, title="Waiting")
    await harness.deliver()  # waits for Thursday 18:30 in Tokyo (09:30 UTC)

    reset = await settings(harness, reset="digest_schedule")
    assert reset.content == "Saved."
    assert reset.message.flags & EPHEMERAL
    thursday_8 = datetime(2026, 6, 11, 8, 0, tzinfo=UTC)
    monday_8 = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
    assert {k: v for k, v in fields(reset).items() if k != "Moderator role"} == {
        "Quality bar": "70",
        "Time zone": "UTC (UTC+00:00) (default)",
        "Daily digest": f"08:00 (default)\nnext: Thu 11 Jun 08:00 UTC · <t:{stamp(thursday_8)}:R>",
        "Weekly digest": f"Mondays (default)\nnext: Mon 15 Jun 08:00 UTC · <t:{stamp(monday_8)}:R>",
    }  # fmt: skip
    stored = await harness.store.guild_settings.get(g.id)
    assert (stored.timezone, stored.digest_time, stored.digest_day) == (None, None, None)
    assert stored.min_quality == 70
    latest = (await harness.store.audit.recent(g.id))[0]
    assert latest.detail == {
        "timezone": None, "digest_time": None, "digest_day": None, "digest_items_moved": 1,
    }  # fmt: skip

    # the waiting digest moved from 09:30 UTC (Tokyo's 18:30) to the default 08:00 UTC
    harness.clock.now = datetime(2026, 6, 11, 7, 59, 59, tzinfo=UTC)
    assert (await harness.bot.dispatcher.send_digests()).sent == 0
    harness.clock.advance(seconds=1)
    assert (await harness.bot.dispatcher.send_digests()).sent == 1
    (digest,) = harness.double.dms_to(daily)
    assert "Waiting" in digest.embeds[0]["description"]


async def test_reset_one_setting_keeps_the_others(harness: Harness):
    g = harness.first
    await settings(harness, timezone="Asia/Tokyo", digest_time="18:30", min_quality=70)
    assert (await settings(harness, reset="digest_time")).content == "Saved."
    quality = await settings(harness, reset="min_quality")
    shown = fields(quality)
    assert shown["Quality bar"].endswith(" (default)")
    assert shown["Daily digest"].startswith("08:00 (default)\n")
    assert shown["Time zone"] == "Asia/Tokyo (UTC+09:00)"
    stored = await harness.store.guild_settings.get(g.id)
    assert (stored.timezone, stored.digest_time, stored.min_quality) == ("Asia/Tokyo", None, None)


async def test_reset_and_set_the_same_setting_is_refused_and_changes_nothing(harness: Harness):
    g = harness.first
    refused = await settings(harness, timezone="Europe/Paris", reset="digest_schedule")
    assert refused.message.flags & EPHEMERAL
    assert refused.content == (
        "`reset` digest_schedule clears timezone: set it or reset it, not both at once."
    )
    assert (await harness.store.guild_settings.get(g.id)).timezone is None
    assert await harness.store.audit.recent(g.id) == []


async def test_members_cannot_reset_settings(harness: Harness):
    g = harness.first
    await settings(harness, timezone="Asia/Tokyo")
    refused = await harness.slash(
        g, g.members[0].id, "settings", {"reset": "digest_schedule"}, force=True
    )
    assert refused.content.startswith("Only moderators can do this")
    assert (await harness.store.guild_settings.get(g.id)).timezone == "Asia/Tokyo"
