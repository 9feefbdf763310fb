"""Processes starting together identify no faster than Discord allows: identify turns are
shared through the PostgreSQL database (storage/postgresql/identify.py)."""

from __future__ import annotations

import asyncio
import contextlib
import time

from bot.app import TopicBot
from bot.sharding import IdentifyPacer, ShardPlan
from storage import Store
from storage.postgresql.identify import PgIdentifySlots
from tests.bot.harness import settings_for
from tests.discord_double import DiscordDouble, patch_for, running_bot
from tests.discord_double.plugin import build_world

WINDOW = 0.5  # Discord's 5 s, shortened on both sides for a quick test
# The double's window in the two-bot test, a fifth shorter than the turns the bots hold: each
# identify reaches the double after its own delay, and under eight test processes one was
# late enough for the next, sent a full window after it, to arrive 0.5 s minus that delay
# later (refused, in one full run of the suite). A broken turn lets the two in together.
ARRIVAL_SLACK = 0.8


def slots(url: str) -> PgIdentifySlots:
    return PgIdentifySlots(url, source="$TEST_URL", poll_seconds=0.02)


async def test_turns_are_shared_between_processes_by_bucket(postgresql_database_url):
    async def two() -> int:
        return 2

    first, second = slots(postgresql_database_url), slots(postgresql_database_url)
    pacers = [IdentifyPacer(two, first, window=WINDOW), IdentifyPacer(two, second, window=WINDOW)]
    turns: dict[int, float] = {}
    started = time.monotonic()

    async def identify(pacer: IdentifyPacer, shard_id: int) -> None:
        await pacer.wait_turn(shard_id)
        turns[shard_id] = time.monotonic() - started

    try:
        await asyncio.gather(
            *(identify(pacers[0], shard) for shard in (0, 1)),
            *(identify(pacers[1], shard) for shard in (2, 3)),
        )
        # buckets: 0 and 2 share bucket 0, 1 and 3 bucket 1; one of each pair waits a window
        for a, b in ((0, 2), (1, 3)):
            assert abs(turns[a] - turns[b]) >= WINDOW * 0.95, turns
        assert sorted(turns.values())[1] < WINDOW * 0.9, turns  # two buckets at once
        # the same process, the same bucket again: waits for its own turn too
        again = time.monotonic()
        await pacers[0].wait_turn(0)
        await pacers[0].wait_turn(0)
        assert time.monotonic() - again >= WINDOW * 0.95
    finally:
        await first.close()
        await second.close()


async def test_two_bots_started_at_once_stay_within_the_identify_limit(
    postgresql_database_url, tmp_path
):
    async with DiscordDouble(shards=4, max_concurrency=2) as double:
        limiter = double.enforce_identify_limit()
        limiter.window_seconds = WINDOW * ARRIVAL_SLACK
        world = build_world(double, guilds=4, shard_count=4)
        settings = settings_for(tmp_path)
        async with await Store.open(settings.storage.path) as store:
            bots = []
            for ids in ((0, 1), (2, 3)):
                bot = TopicBot(
                    settings=settings,
                    store=store,
                    run_jobs=False,
                    sync_on_start=ids == (0, 1),
                    shards=ShardPlan(ids, 4),
                    identify_slots=slots(postgresql_database_url),
                    guild_ready_timeout=0.05,
                )
                bot.identify_pacer.window = WINDOW
                bots.append(bot)
            # the bots patch discord.py's URLs and restore them in the order they started;
            # the outer patch restores the original whatever that order
            with patch_for(double):
                async with contextlib.AsyncExitStack() as running:
                    await asyncio.gather(
                        *(running.enter_async_context(running_bot(double, bot)) for bot in bots)
                    )
                    await double.wait_for_commands("subscribe")
                    for g in world.guilds:
                        result = await double.slash(g.id, g.members[0].id, "subscriptions")
                        assert result.acknowledged
        assert limiter.refused == 0
        assert limiter.busiest_window() == 1
        assert len(limiter.log) == 4
