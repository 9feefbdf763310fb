"""Discord misbehaving: the gateway drops, REST fails or stalls, the bot restarts between a
message and a click. The bot recovers by itself and still answers within Discord's 3 s."""

from __future__ import annotations

import asyncio

from bot.app import TopicBot
from storage import Store
from tests.bot.harness import Harness, settings_for
from tests.discord_double.client import running_bot
from tests.waiting import eventually


async def answers(harness: Harness) -> None:
    result = await harness.slash(harness.first, harness.first.members[0].id, "subscriptions")
    assert result.ack_latency is not None
    assert result.ack_latency < 3.0
    assert result.content == "You don't follow any topics here yet. Try `/subscribe`."


async def test_a_dropped_gateway_is_resumed_and_commands_still_answer(harness: Harness):
    gateway = harness.double.gateway
    session = gateway.current
    assert session is not None
    await gateway.force_close(4000)
    await eventually(lambda: session.resumes >= 1, "the session resumed")
    await answers(harness)


async def test_a_reconnect_request_and_an_invalid_session_are_survived(harness: Harness):
    gateway = harness.double.gateway
    identifies = gateway.identifies
    await gateway.send_reconnect()
    await asyncio.sleep(0.3)
    await answers(harness)
    await gateway.invalidate_session(resumable=False)
    await eventually(lambda: gateway.identifies > identifies, "a new identify")
    await eventually(harness.bot.is_ready, "ready again")
    await answers(harness)


async def test_a_failing_interaction_callback_is_retried_within_the_deadline(harness: Harness):
    harness.double.fail_next("POST", r"^/interactions/\d+/[^/]+/callback$", 502)
    await answers(harness)


async def test_a_storm_of_server_errors_on_sends_leaves_the_bot_working(make_harness):
    harness = await make_harness(delivery={"max_attempts": 2})
    g = harness.first
    await harness.slash(g, g.moderator.id, "feed add", {"channel": g.alerts.id})
    harness.double.fail_next("POST", rf"^/channels/{g.alerts.id}/messages$", 503, times=50)
    from tests.bot.test_alerts import story

    for n in range(3):
        await story(harness, n, title=f"Storm story {n}")
    await harness.deliver()
    harness.clock.advance(hours=1)
    await harness.send()
    stats = await harness.store.stats()
    assert stats.deliveries["dead"] == 3
    await answers(harness)


async def test_buttons_sent_before_a_restart_still_work_after_it(
    discord_double, start_bot, tmp_path
):
    from tests.discord_double.plugin import build_world

    world = build_world(discord_double, guilds=1, members=2)
    settings = settings_for(tmp_path)
    store = await Store.open(settings.storage.path)
    from tests.bot.harness import seed_examples

    await seed_examples(store)
    moderator = world.first.moderator.id
    first = TopicBot(settings=settings, store=store, run_jobs=False, guild_ready_timeout=0.05)
    async with running_bot(discord_double, first):
        await discord_double.wait_for_commands("queue", guild_id=None)
        queue = await discord_double.slash(world.first.id, moderator, "queue")
    button = next(
        c
        for row in queue.message.components
        for c in row["components"]
        if c.get("label") == "Publish 1"
    )
    second = TopicBot(settings=settings, store=store, run_jobs=False, guild_ready_timeout=0.05)
    try:
        await start_bot(second)
        clicked = await discord_double.click(queue.message, button["custom_id"], moderator)
        assert clicked.callback_type == 7
        assert clicked.message.content.startswith("✅ Published “")
    finally:
        await second.close()
        await store.close()
