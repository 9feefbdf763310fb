"""/healthz and /metrics of a running bot (jobs on, observability.listen on port 0), scraped
while it ingests a file, plans it and sends the alerts through the Discord double."""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.app import TopicBot
from bot.articles.article_file import parse_article
from storage import Store
from tests.bot.harness import settings_for
from tests.bot.test_run import start_topicbot, write_config
from tests.discord_double import DiscordDouble
from tests.discord_double.client import patch_for
from tests.discord_double.plugin import build_world
from tests.factories import article_text, write_article
from tests.waiting import eventually

FAST_JOBS = {
    "delivery": {"plan_interval_seconds": 1, "send_interval_seconds": 1},
    "ingest": {"interval_seconds": 1, "settle_seconds": 0},
}


async def get(bot: TopicBot, path: str) -> tuple[int, str]:
    assert bot.observability is not None
    url = f"http://127.0.0.1:{bot.observability.port}{path}"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def health(bot: TopicBot) -> tuple[int, dict[str, Any]]:
    assert bot.observability is not None
    url = f"http://127.0.0.1:{bot.observability.port}/healthz"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def scrape(bot: TopicBot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as {(name, sorted labels): value}."""
    status, text = await get(bot, "/metrics")
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@contextlib.asynccontextmanager
async def logged_in(double: DiscordDouble, tmp_path: Path, **sections: Any) -> AsyncIterator[Any]:
    """A bot with its jobs and endpoints, logged in (setup done) but not yet on the gateway;
    ``await connect()`` connects it."""
    sections = {**FAST_JOBS, **sections, "observability": {"listen": "127.0.0.1:0"}}
    settings = settings_for(tmp_path, **sections)
    store = await Store.open(settings.storage.path)
    # a topic members can pick (an article pending everywhere: it is never posted)
    draft = parse_article(
        article_text(topics=["Transport"], published=False, related=[]).encode(), source="t.md"
    )
    await store.articles.upsert_batch([draft], datetime.now(UTC))
    bot = TopicBot(settings=settings, store=store, guild_ready_timeout=0.05)
    runner: asyncio.Task[None] | None = None

    async def connect() -> None:
        nonlocal runner
        runner = asyncio.create_task(bot.connect(reconnect=True))
        await asyncio.wait_for(bot.wait_until_ready(), 10)

    try:
        with patch_for(double):
            await bot.login(double.token)
            yield bot, connect
    finally:
        await bot.close()
        if runner is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(runner, 5)
        await store.close()


async def test_metrics_count_what_the_double_saw_and_health_follows_the_gateway(
    discord_double: DiscordDouble, tmp_path
):
    world = build_world(discord_double, guilds=1, members=3)
    g = world.first
    async with logged_in(discord_double, tmp_path) as (bot, connect):
        status, body = await health(bot)
        assert status == 503
        assert body == {"status": "unhealthy", "problems": ["gateway: not connected to Discord"]}

        await connect()
        await discord_double.wait_for_commands("subscribe", guild_id=None)
        status, body = await health(bot)
        assert (status, body) == (200, {"status": "ok", "problems": []})

        moderator = g.moderator.id
        added = await discord_double.slash(
            g.id, moderator, "feed add", {"channel": g.alerts.id, "topic": "Transport"}
        )
        assert added.content.startswith("Added"), added.content
        for member in g.members:
            result = await discord_double.slash(
                g.id, member.id, "subscribe", {"topic": "Transport"}
            )
            assert result.content.startswith("Subscribed"), result.content
        # Discord answers the first alert with a 429 that discord.py waits out
        discord_double.fail_next("POST", r"^/channels/\d+/messages$", 429, retry_after=0.2)
        inbox = tmp_path / "inbox"
        write_article(
            inbox,
            "ferry.md",
            title="Ferry pilot expands to the islands",
            webUrl="https://harbour-times.example/ferries/1",
            originalUrl=...,
            related=[],
            topics=["Transport"],
            quality=70,
            published=True,
            publishedDateTime=(datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        )
        (inbox / "broken.md").write_text("no front matter here\n")

        async def all_counted() -> bool:
            samples = await scrape(bot)
            return value(samples, "topicbot_deliveries_total", state="sent") >= 4

        await eventually(all_counted)
        samples = await scrape(bot)
        status, body = await health(bot)

    channel_posts = [
        m for m in discord_double.messages_in(g.alerts.id, include_ephemeral=False) if m.embeds
    ]
    dms = [dm for member in g.members for dm in discord_double.dms_to(member.id)]
    assert (len(channel_posts), len(dms)) == (1, 3)
    message_posts = discord_double.requests("POST", "/channels/{channel_id}/messages")
    assert len(message_posts) == 5  # four messages, one of them asked twice (the 429)

    assert value(samples, "topicbot_files_ingested_total", outcome="new") == 1
    assert value(samples, "topicbot_files_refused_total") == 1
    assert value(samples, "topicbot_publications_planned_total") == 1
    assert value(samples, "topicbot_deliveries_total", state="sent") == 4
    assert value(samples, "topicbot_deliveries_total", state="dead") == 0
    assert value(samples, "topicbot_messages_sent_total", kind="channel") == len(channel_posts)
    assert value(samples, "topicbot_messages_sent_total", kind="dm") == len(dms)
    assert value(samples, "topicbot_send_seconds_count") == 4
    assert value(samples, "topicbot_discord_rate_limited_total") == 1
    assert value(samples, "topicbot_delivery_retries_total") == 0  # waited out, not retried
    for mode in ("instant", "daily", "weekly"):
        assert value(samples, "topicbot_outbox_depth", mode=mode) == 0
    assert value(samples, "topicbot_paused_targets", kind="feed") == 0
    assert value(samples, "topicbot_store_bytes") > 0
    for job in ("scan_inbox", "plan_deliveries", "send_deliveries"):
        assert value(samples, "topicbot_job_run_seconds_count", job=job) >= 1
        assert value(samples, "topicbot_job_failures_total", job=job) == 0
    assert ("topicbot_gateway_latency_seconds", ()) in samples
    latency = value(samples, "topicbot_gateway_latency_seconds")
    assert math.isnan(latency) or latency >= 0
    assert (status, body) == (200, {"status": "ok", "problems": []})


async def test_health_names_a_job_that_keeps_failing(discord_double: DiscordDouble, tmp_path):
    build_world(discord_double, guilds=1)
    not_a_folder = tmp_path / "inbox"
    not_a_folder.write_text("the inbox should be a folder")
    async with logged_in(discord_double, tmp_path) as (bot, connect):
        await connect()

        async def scan_inbox_overdue() -> bool:
            status, _ = await health(bot)
            return status == 503

        await eventually(scan_inbox_overdue)
        status, body = await health(bot)
        samples = await scrape(bot)
    assert status == 503
    (problem,) = body["problems"]
    assert problem.startswith("job scan_inbox last ran ")
    assert problem.endswith("(every 1s); its last run failed")
    assert value(samples, "topicbot_job_failures_total", job="scan_inbox") >= 2
    assert value(samples, "topicbot_job_failures_total", job="plan_deliveries") == 0


async def test_two_bots_in_one_process_count_apart(tmp_path):
    first = TopicBot(settings=settings_for(tmp_path / "a"), store=await Store.open(":memory:"))
    second = TopicBot(settings=settings_for(tmp_path / "b"), store=await Store.open(":memory:"))
    try:
        first.metrics.files_refused.inc()
        assert first.metrics.registry.get_sample_value("topicbot_files_refused_total") == 1
        assert second.metrics.registry.get_sample_value("topicbot_files_refused_total") == 0
    finally:
        await first.store.close()
        await second.store.close()


async def test_run_serves_the_endpoints_and_a_taken_address_is_one_line_exit_two(
    discord_double: DiscordDouble, tmp_path
):
    build_world(discord_double, guilds=1)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path, discord_double)
        config.write_text(config.read_text() + f"observability:\n  listen: 127.0.0.1:{port}\n")
        bot = await start_topicbot(config, discord_double.token)
        code = await bot.finish()
    assert code == 2, bot.log
    assert bot.log.splitlines()[-1].startswith(
        f"topicbot: observability.listen: cannot listen on 127.0.0.1:{port} ("
    )
    assert "Traceback" not in bot.log

    config.write_text(config.read_text().replace(f":{port}\n", ":0\n"))
    bot = await start_topicbot(config, discord_double.token)
    try:
        await bot.wait_for_log("connected as")
        (line,) = [line for line in bot.lines if "serving /healthz and /metrics on" in line]
        served = int(line.rsplit(":", 1)[1])
        url = f"http://127.0.0.1:{served}/healthz"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200, await response.text()
    finally:
        assert await bot.stop() == 0, bot.log
