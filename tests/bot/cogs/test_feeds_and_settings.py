"""/feed add, remove, list and /settings end to end, and guild isolation."""

from __future__ import annotations

from tests.bot.harness import EPHEMERAL, Harness


async def test_feed_add_list_update_remove(harness: Harness):
    g = harness.first
    moderator = g.moderator.id
    choices = await harness.autocomplete(
        g, moderator, "feed add", {"channel": g.alerts.id, "topic": "priv"}, "topic"
    )
    assert [c["value"] for c in choices] == ["Privacy"]

    added = await harness.slash(
        g,
        moderator,
        "feed add",
        {
            "channel": g.alerts.id,
            "topic": "Privacy",
            "min_quality": 60,
            "mention_role": g.member_role.id,
        },
    )
    assert added.message.flags & EPHEMERAL
    assert (
        added.content
        == f"Added feed: <#{g.alerts.id}> ← **Privacy**, quality 60+, mentions <@&{g.member_role.id}>"
    )
    assert added.message.allowed_mentions == {
        "parse": [],
        "replied_user": False,
    } or not added.message.allowed_mentions.get("parse")

    everything = await harness.slash(g, moderator, "feed add", {"channel": g.general.id})
    assert everything.content == f"Added feed: <#{g.general.id}> ← **every topic**, quality 20+"
    updated = await harness.slash(
        g, moderator, "feed add", {"channel": g.alerts.id, "topic": "privacy", "min_quality": 10}
    )
    assert updated.content == f"Updated feed: <#{g.alerts.id}> ← **Privacy**, quality 10+"

    listing = await harness.slash(g, moderator, "feed list")
    health = "  sent 0 · pending 0 · failed 0"
    feeds = sorted(
        [
            f"<#{g.general.id}> ← **every topic**, quality 20+",
            f"<#{g.alerts.id}> ← **Privacy**, quality 10+",
        ],
        key=lambda line: int(line[2:].split(">")[0]),
    )
    assert listing.embeds[0]["description"].splitlines() == [feeds[0], health, feeds[1], health]

    removed = await harness.slash(
        g, moderator, "feed remove", {"channel": g.alerts.id, "topic": "Privacy"}
    )
    assert removed.content == f"Removed 1 feed from <#{g.alerts.id}>."
    again = await harness.slash(g, moderator, "feed remove", {"channel": g.alerts.id})
    assert again.content == "That channel has no such feed. `/feed list` shows this server's feeds."
    actions = [e.action for e in await harness.store.audit.recent(g.id)]
    assert actions == ["feed.remove", "feed.update", "feed.add", "feed.add"]


async def test_feed_add_refuses_channels_and_roles_of_another_guild(harness: Harness):
    g, other = harness.first, harness.second
    moderator = g.moderator.id
    options = [{"name": "channel", "type": 7, "value": str(other.alerts.id)}]
    crafted = await harness.slash(g, moderator, "feed add", raw_options=options)
    assert crafted.message.flags & EPHEMERAL
    assert crafted.content in (
        "That channel is not in this server. Pick one from the list.",
        "That value for `channel` isn't usable here. Pick one from the list.",
    )
    role_options = [
        {"name": "channel", "type": 7, "value": str(g.alerts.id)},
        {"name": "mention_role", "type": 8, "value": str(other.member_role.id)},
    ]
    crafted_role = await harness.slash(g, moderator, "feed add", raw_options=role_options)
    assert crafted_role.content in (
        "That role is not in this server. Pick one from the list.",
        "That value for `role` isn't usable here. Pick one from the list.",
    )
    assert await harness.store.feeds.for_guild(g.id) == []


async def test_feed_cap_per_guild(harness: Harness):
    g = harness.first
    harness.bot.services.feeds._max_per_guild = 1
    await harness.slash(g, g.moderator.id, "feed add", {"channel": g.general.id})
    second = await harness.slash(g, g.moderator.id, "feed add", {"channel": g.alerts.id})
    assert (
        second.content
        == "This server already has 1 feeds, the most allowed. Remove one with `/feed remove` first."
    )


async def test_settings_show_and_change(harness: Harness):
    g = harness.first
    shown = await harness.slash(g, g.moderator.id, "settings")
    assert shown.message.flags & EPHEMERAL
    fields = {f["name"]: f["value"] for f in shown.embeds[0]["fields"][:2]}
    assert fields == {"Moderator role": "none (Manage Server only)", "Quality bar": "20 (default)"}
    changed = await harness.slash(
        g, g.moderator.id, "settings", {"min_quality": 55, "moderator_role": g.member_role.id}
    )
    assert changed.content.startswith("Saved. Members with that role can now moderate here")
    fields = {f["name"]: f["value"] for f in changed.embeds[0]["fields"][:2]}
    assert fields == {"Moderator role": f"<@&{g.member_role.id}>", "Quality bar": "55"}
    other = await harness.slash(harness.second, harness.second.moderator.id, "settings")
    assert {f["name"]: f["value"] for f in other.embeds[0]["fields"]}[
        "Quality bar"
    ] == "20 (default)"
    bad = await harness.slash(
        g, g.moderator.id, "settings", raw_options=[{"name": "min_quality", "type": 4, "value": -3}]
    )
    assert bad.content == "`min_quality` must be a whole number from 0 to 100 (you gave -3)."


async def test_two_guilds_never_see_each_others_data(harness: Harness):
    a, b = harness.first, harness.second
    shared = a.members[0]
    harness.double.world.add_member(b.guild, shared)
    await harness.slash(a, shared.id, "subscribe", {"topic": "AI", "delivery": "daily"})
    await harness.slash(a, a.moderator.id, "feed add", {"channel": a.alerts.id, "topic": "AI"})
    await harness.slash(a, a.moderator.id, "settings", {"min_quality": 90})
    parcel = await harness.store.articles.get_by_url(
        "https://securitybrief.example/breaches/parcel-firm-2-million-addresses"
    )
    assert parcel is not None
    await harness.slash(a, a.moderator.id, "publish", {"article": parcel.id})

    in_b = await harness.slash(b, shared.id, "subscriptions")
    assert in_b.content == "You don't follow any topics here yet. Try `/subscribe`."
    feeds_b = await harness.slash(b, b.moderator.id, "feed list")
    assert feeds_b.embeds[0]["description"] == "No feeds yet. Add one with `/feed add`."
    latest_b = await harness.slash(b, shared.id, "latest")
    assert "Data Breach at Parcel Firm" not in latest_b.embeds[0]["description"]
    queue_b = await harness.slash(b, b.moderator.id, "queue")
    assert any("Data Breach at Parcel Firm" in e["title"] for e in queue_b.embeds)
    latest_a = await harness.slash(a, shared.id, "latest")
    assert "Data Breach at Parcel Firm" not in latest_a.embeds[0]["description"]  # quality 47 < 90


async def test_feed_remove_without_a_topic_removes_every_feed_of_the_channel(harness: Harness):
    g = harness.first
    moderator = g.moderator.id
    for options in (
        {"channel": g.alerts.id, "topic": "Privacy"},
        {"channel": g.alerts.id, "topic": "AI"},
        {"channel": g.alerts.id},  # every topic
        {"channel": g.general.id, "topic": "AI"},
    ):
        added = await harness.slash(g, moderator, "feed add", options)
        assert added.content.startswith("Added feed"), added.content
    removed = await harness.slash(g, moderator, "feed remove", {"channel": g.alerts.id})
    assert removed.message.flags & EPHEMERAL
    assert removed.content == f"Removed 3 feeds from <#{g.alerts.id}>."
    left = await harness.store.feeds.for_guild(g.id)
    assert [feed.channel_id for feed in left] == [g.general.id]
    listing = await harness.slash(g, moderator, "feed list")
    assert listing.embeds[0]["description"].splitlines()[0] == (
        f"<#{g.general.id}> ← **ai**, quality 20+"
    )
    assert (await harness.store.audit.recent(g.id))[0].action == "feed.remove"
