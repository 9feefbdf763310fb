"""Shards across processes: the flags, the identify pacing, and two bots sharing the shards of
one application, each answering the servers of its own shards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.app import TopicBot
from bot.articles.article_file import parse_article
from bot.cli import main
from bot.sharding import IdentifyPacer, LocalSlots, ShardPlan, ShardPlanError, parse_shard_plan
from storage import Store
from tests.bot.harness import seed_examples, settings_for
from tests.bot.processes import wait_until
from tests.bot.test_doctor import add_feeds
from tests.bot.test_run import start_topicbot, write_config
from tests.clocks import FakeMonotonic
from tests.discord_double import DiscordDouble, running_bot
from tests.discord_double.plugin import build_world
from tests.discord_double.sharding import shard_of
from tests.factories import EXAMPLES_DIR, article_fields, article_text, write_article


def test_shard_flags_make_a_plan():
    assert parse_shard_plan(None, None) == ShardPlan()
    assert parse_shard_plan("0,1", 4) == ShardPlan((0, 1), 4)
    assert parse_shard_plan(" 3 ", 4).options == {"shard_count": 4, "shard_ids": [3]}
    assert parse_shard_plan(None, 2).options == {"shard_count": 2, "shard_ids": None}
    assert ShardPlan().options == {}
    assert ShardPlan((2, 3), 4).describe(4) == "shards 2,3 of 4"
    assert ShardPlan().describe(2) == "shards 0,1 of 2"


@pytest.mark.parametrize(
    ("ids", "count", "message"),
    [
        ("0,1", None, "--shard-ids needs --shard-count (how many shards the bot has)"),
        ("0,4", 4, "--shard-ids: shard 4 does not exist with --shard-count 4 (shards are "
         "numbered 0 to 3)"),
        ("-1", 4, "--shard-ids: shard -1 does not exist with --shard-count 4 (shards are "
         "numbered 0 to 3)"),
        ("1,0,1", 4, "--shard-ids names shard 1 twice"),
        ("0;1", 4, "--shard-ids takes whole numbers separated by commas, such as 0,1 (got '0;1')"),
        ("0,,1", 4, "--shard-ids takes whole numbers separated by commas, such as 0,1 (got '')"),
        (None, 0, "--shard-count must be 1 or more (got 0)"),
    ],
)  # fmt: skip
def test_bad_shard_flags_are_one_line_and_exit_two(ids, count, message, capsys, tmp_path):
    argv = ["run", "--config", str(tmp_path / "none.yaml")]
    (tmp_path / "none.yaml").write_text("{}\n")
    argv += [] if ids is None else ["--shard-ids", ids]
    argv += [] if count is None else ["--shard-count", str(count)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == f"topicbot: {message}\n"
    with pytest.raises(ShardPlanError):
        parse_shard_plan(ids, count)


async def test_identify_waits_only_for_its_own_bucket():
    clock = FakeMonotonic(100.0)
    asked = []

    async def max_concurrency() -> int:
        asked.append(1)
        return 2

    pacer = IdentifyPacer(max_concurrency, LocalSlots(clock), sleep=clock.sleep)
    for shard_id in (0, 1, 2, 3):
        await pacer.wait_turn(shard_id)
    # 0 and 1 at once (buckets 0, 1), 2 waits a window (Discord's 5 s and half a second for
    # the network) for bucket 0; 3's bucket is free by then
    assert clock.slept == [5.5]
    await pacer.wait_turn(0)
    assert clock.slept == [5.5, 5.5]
    assert asked == [1]


async def test_two_bots_with_two_shards_each_answer_their_own_servers(tmp_path):
    async with DiscordDouble(shards=4, max_concurrency=4) as double:
        limiter = double.enforce_identify_limit()
        world = build_world(double, guilds=8, shard_count=4)
        settings = settings_for(tmp_path)
        async with await Store.open(settings.storage.path) as store:
            await seed_examples(store)
            bots = [
                TopicBot(
                    settings=settings,
                    store=store,
                    run_jobs=False,
                    sync_on_start=first,
                    shards=ShardPlan(ids, 4),
                    guild_ready_timeout=0.05,
                )
                for ids, first in (((0, 1), True), ((2, 3), False))
            ]
            async with running_bot(double, bots[0]), running_bot(double, bots[1]):
                await double.wait_for_commands("subscribe")
                for g in world.guilds:
                    result = await double.slash(g.id, g.members[0].id, "subscribe", {"topic": "AI"})
                    assert result.content == "Subscribed to **ai** — instant, quality 0+."
                    assert result.shard == (shard_of(g.id, 4), 4)
                    topics = await double.slash(g.id, g.members[0].id, "subscriptions")
                    assert topics.embeds[0]["description"].startswith("**ai** — instant")
                low, high = ({shard_of(guild.id, 4) for guild in bot.guilds} for bot in bots)
                assert (low, high) == ({0, 1}, {2, 3})
            assert limiter.refused == 0
            assert sorted(s.shard for s in double.gateway.sessions.values()) == [
                (i, 4) for i in range(4)
            ]
        assert double.errors == []


async def test_a_shard_process_answers_its_servers_and_a_second_one_on_sqlite_is_refused(
    tmp_path,
):
    async with DiscordDouble(shards=4, max_concurrency=4) as double:
        world = build_world(double, guilds=4, shard_count=4)
        config = write_config(tmp_path, double)
        inbox = tmp_path / "inbox"
        inbox.mkdir()
        (inbox / "a.md").write_bytes(next(EXAMPLES_DIR.iterdir()).read_bytes())
        first = await start_topicbot(config, double.token, "--shard-ids", "0,1",
                                     "--shard-count", "4", "--no-jobs")  # fmt: skip
        try:
            await first.wait_for_log("connected as")
            assert "to 2 guilds (shards 0,1 of 4)" in first.log
            await double.wait_for_commands("subscribe", timeout_s=60)
            for g in world.guilds[:2]:
                result = await double.slash(g.id, g.members[0].id, "subscribe", {"topic": "AI"})
                # answered; and with --no-jobs the inbox's article (topic AI) was never stored
                assert result.content.startswith("There is no topic called “AI”.")
            assert double.gateway.session_for(world.guilds[2].id) is None
            second = await start_topicbot(config, double.token, "--shard-ids", "2,3",
                                          "--shard-count", "4")  # fmt: skip
            assert await second.finish() == 3
            assert second.lines[-1] == (
                f"topicbot: {tmp_path / 'topicbot.db'} is in use by another topicbot run "
                f"(pid {first.process.pid}): a SQLite store serves one process; to run "
                "several, use storage.backend: postgresql"
            )
            assert "Traceback" not in second.log
            # --no-jobs: the inbox was never scanned
            assert (inbox / "a.md").exists() and not (inbox / "processed").exists()
            assert "scan_inbox" not in first.log and "worker lease" not in first.log
        finally:
            code = await first.stop()
        assert code == 0, first.log
        double.errors.clear()  # the refused process's aborted login


async def test_the_worker_sends_over_rest_without_a_gateway_connection(tmp_path):
    async with DiscordDouble() as double:
        g = build_world(double, guilds=1).first
        config = write_config(tmp_path, double)
        await add_feeds(tmp_path, g, (g.general.id, None))
        now = datetime.now(UTC).replace(microsecond=0)
        write_article(
            tmp_path / "inbox", "news.md", published=True, publishedDateTime=now.isoformat()
        )
        worker = await start_topicbot(config, double.token, subcommand="worker")
        try:
            await worker.wait_for_log("over REST (no gateway connection)")
            # the first send job may run before the article is planned: wait for the post
            await wait_until(lambda: double.messages_in(g.general.id), 30, "the feed's post")
            (post,) = double.messages_in(g.general.id)
            assert post.embeds[0]["title"] == article_fields()["title"]
            assert double.gateway.connections == 0 and double.gateway.identifies == 0
        finally:
            code = await worker.stop()
        assert code == 0, worker.log
        assert "stopped cleanly" in worker.log and "Traceback" not in worker.log


async def test_too_few_shards_for_the_servers_is_one_line_and_exit_two(tmp_path):
    async with DiscordDouble(shards=2) as double:
        double.gateway.max_guilds_per_session = 2  # Discord's 2,500, scaled down
        build_world(double, guilds=4, shard_count=2)
        config = write_config(tmp_path, double)
        bot = await start_topicbot(config, double.token, "--shard-count", "1")
        code = await bot.finish()
        assert code == 2, bot.log
        assert bot.lines[-1] == (
            "topicbot: Discord closed the gateway with 4011 (sharding required): a shard "
            "serves at most 2,500 servers, and this bot is in more than 1 shard may serve; "
            "raise --shard-count (or leave it out for the count Discord recommends)"
        )
        assert "Traceback" not in bot.log, bot.log
        # without the flag: the count Discord recommends (2), each within the limit
        bot = await start_topicbot(config, double.token)
        await bot.wait_for_log("connected as", 60)
        assert "to 4 guilds (shards 0,1 of 2)" in bot.log
        assert await bot.stop() == 0, bot.log


async def test_unsubscribe_in_a_dm_names_a_server_another_process_holds(tmp_path):
    # DMs' buttons reach shard 0's process; the server the alert came through is on shard 1,
    # which another process connects: the reply still names it (asked of Discord).
    async with DiscordDouble(shards=2, max_concurrency=2) as double:
        world = build_world(double, guilds=4, shard_count=2)
        settings = settings_for(tmp_path)
        async with await Store.open(settings.storage.path) as store:
            await seed_examples(store)
            bots = [
                TopicBot(
                    settings=settings,
                    store=store,
                    run_jobs=False,
                    sync_on_start=first,
                    shards=ShardPlan(ids, 2),
                    guild_ready_timeout=0.05,
                )
                for ids, first in (((0,), True), ((1,), False))
            ]
            async with running_bot(double, bots[0]), running_bot(double, bots[1]):
                await double.wait_for_commands("subscribe")
                g = next(g for g in world.guilds if shard_of(g.id, 2) == 1)
                member = g.members[0].id
                await double.slash(g.id, member, "subscribe", {"topic": "AI"})
                now = datetime.now(UTC)
                fields = article_fields(
                    originalUrl="https://shards.example/1", webUrl="https://shards.example/1",
                    title="Sharded news", topics=["AI"], published=True, quality=80,
                    publishedDateTime=now.isoformat(),
                )  # fmt: skip
                draft = parse_article(article_text(**fields).encode(), source="shards.md")
                await store.articles.upsert_batch([draft], now)
                await bots[1].planner.plan()
                await bots[1].dispatcher.send_due()
                (dm,) = double.dms_to(member)
                button = dm.components[0]["components"][0]["custom_id"]
                clicked = await double.click(dm, button, member)
                assert clicked.shard == (0, 2)
                assert clicked.content == (
                    f"Unsubscribed from **ai** in {g.guild.name}. `/subscribe` there brings it back."
                )
        assert double.errors == []
