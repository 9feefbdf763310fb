"""Retention end to end: after housekeeping prunes old alerts, /feed list and /subscriptions
show the same counts, and the story window still holds back a second alert."""

from __future__ import annotations

from tests.bot.conftest import MakeHarness
from tests.bot.harness import Harness
from tests.bot.test_alerts import follow, posts, route, story


async def known_topic(harness: Harness) -> None:
    await harness.add_article(
        title="warm-up",
        webUrl="https://x.example/topic-seed",
        originalUrl=...,
        related=[],
        topics=["Transport"],
        published=False,
    )


async def health_lines(harness: Harness) -> tuple[list[str], str]:
    g = harness.first
    feeds = await harness.slash(g, g.moderator.id, "feed list")
    subscriptions = await harness.slash(g, g.members[0].id, "subscriptions")
    return feeds.embeds[0]["description"].splitlines(), subscriptions.embeds[0]["description"]


async def test_counts_shown_by_commands_outlive_the_pruned_rows(harness: Harness):
    g = harness.first
    await known_topic(harness)
    await route(harness, g, g.alerts.id, topic="Transport")
    await follow(harness, g, g.members[0].id, "Transport")
    await story(harness, 1)
    await story(harness, 2, title="Tram line opens downtown", topics=["Transport"])
    assert (await harness.deliver()).sent == 4
    feeds, subscriptions = await health_lines(harness)
    assert feeds[1] == "  sent 2 · pending 0 · failed 0"
    assert subscriptions.endswith("sent 2 · pending 0 · failed 0")

    harness.clock.advance(days=31)
    run = await harness.bot.housekeeper.run()

    assert run.deliveries == 4
    assert await harness.store._db.scalar("SELECT count(*) FROM deliveries") == 0
    assert await health_lines(harness) == (feeds, subscriptions)


async def test_an_alert_within_the_story_window_is_not_pruned_so_no_second_alert(
    make_harness: MakeHarness,
):
    # kept 1 day, but the story window is 3 days: an alert of 2 days ago still counts
    harness = await make_harness(retention={"deliveries_days": 1})
    g = harness.first
    await known_topic(harness)
    await route(harness, g, g.alerts.id, topic="Transport")
    await story(harness, 1, title="Ferry pilot expands to the islands this spring")
    await harness.deliver()
    harness.clock.advance(days=2)

    run = await harness.bot.housekeeper.run()
    assert run.deliveries == 0

    await story(
        harness,
        2,
        title="Ferry pilot expands to the islands this spring",
        webUrl="https://other-outlet.example/ferries",
        provider={"name": "Other Outlet", "domain": "other-outlet.example"},
    )
    await harness.deliver()
    assert len(posts(harness, g.alerts.id)) == 1
