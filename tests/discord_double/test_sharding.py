"""The double shards like Discord: /gateway/bot, IDENTIFY's shard, events by shard, and the
identify limit (max_concurrency per 5 s)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import aiohttp
import discord
from discord.ext import commands

from tests.discord_double import DiscordDouble, patch_for, running_bot
from tests.discord_double.plugin import build_world
from tests.discord_double.sharding import shard_of

HELLO, IDENTIFY, INVALID_SESSION, DISPATCH = 10, 2, 9, 0


class ShardedBot(commands.AutoShardedBot):
    """Answers /whoami with its name and the shard the server is on."""

    def __init__(self, name: str, shard_ids: list[int], shard_count: int, **options: Any):
        super().__init__(
            command_prefix="!",
            intents=discord.Intents.none() | discord.Intents(guilds=True),
            shard_ids=shard_ids,
            shard_count=shard_count,
            guild_ready_timeout=0.05,
            **options,
        )
        self.name = name

        @self.tree.command(name="whoami", description="who answers")
        async def whoami(interaction: discord.Interaction) -> None:
            assert interaction.guild is not None
            await interaction.response.send_message(f"{name} {interaction.guild.shard_id}")

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No 5 s wait between its own shards: they are in different buckets here."""


async def test_gateway_bot_says_shards_and_session_start_limit():
    async with DiscordDouble(shards=4, max_concurrency=2) as double:
        client = discord.Client(intents=discord.Intents.none())
        with patch_for(double):
            await client.login(double.token)
            try:
                shards, url, limit = await client.http.get_bot_gateway()
            finally:
                await client.close()
    assert (shards, url) == (4, double.gateway_url)
    assert limit["max_concurrency"] == 2
    assert limit["total"] == 1000 and limit["remaining"] == 1000
    assert limit["reset_after"] > 0


def test_guilds_can_be_put_on_a_chosen_shard():
    double = DiscordDouble()
    world = build_world(double, guilds=8, shard_count=4)
    assert [shard_of(g.id, 4) for g in world.guilds] == [0, 1, 2, 3, 0, 1, 2, 3]
    ids = [g.id for g in world.guilds]
    assert ids == sorted(set(ids))


async def test_two_clients_with_two_shards_each_get_only_their_servers():
    async with DiscordDouble(shards=4) as double:
        world = build_world(double, guilds=8, shard_count=4)
        low, high = ShardedBot("low", [0, 1], 4), ShardedBot("high", [2, 3], 4)
        async with running_bot(double, low), running_bot(double, high):
            await low.tree.sync()
            for g in world.guilds:
                member = g.members[0].id
                result = await double.slash(g.id, member, "whoami")
                shard = shard_of(g.id, 4)
                assert result.content == f"{'low' if shard < 2 else 'high'} {shard}"
                assert result.shard == (shard, 4)
            assert {g.id for g in low.guilds} == {g.id for g in world.guilds[0:8:4]} | {
                g.id for g in world.guilds[1:8:4]
            }
            assert {shard_of(g.id, 4) for g in high.guilds} == {2, 3}
        identified = sorted(s.shard for s in double.gateway.sessions.values())
        assert identified == [(0, 4), (1, 4), (2, 4), (3, 4)]
        assert double.errors == []


async def test_events_of_no_server_go_to_shard_zero():
    async with DiscordDouble(shards=2) as double:
        world = build_world(double, guilds=2, shard_count=2)
        zero, one = ShardedBot("zero", [0], 2), ShardedBot("one", [1], 2)
        async with running_bot(double, zero), running_bot(double, one):
            assert double.gateway.session_for(None) is double.gateway.by_shard[(0, 2)]
            assert double.gateway.session_for(world.second.id) is double.gateway.by_shard[(1, 2)]


@contextlib.asynccontextmanager
async def raw_gateway(double: DiscordDouble) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    async with aiohttp.ClientSession() as http, http.ws_connect(double.gateway_url) as ws:
        hello = json.loads((await ws.receive()).data)
        assert hello["op"] == HELLO
        yield ws


async def identify(ws: aiohttp.ClientWebSocketResponse, token: str, shard: Any) -> Any:
    """Send IDENTIFY; the first frame or close code the gateway answers with."""
    await ws.send_str(json.dumps({"op": IDENTIFY, "d": {"token": token, "shard": shard}}))
    message = await ws.receive()
    if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
        return ws.close_code
    return json.loads(message.data)


async def test_identify_carries_its_shard_and_a_bad_one_is_closed_with_4010():
    async with DiscordDouble() as double:
        build_world(double, guilds=4, shard_count=2)
        async with raw_gateway(double) as ws:
            ready = await identify(ws, double.token, [1, 2])
            assert ready["t"] == "READY" and ready["d"]["shard"] == [1, 2]
            assert {shard_of(int(g["id"]), 2) for g in ready["d"]["guilds"]} == {1}
            assert len(ready["d"]["guilds"]) == 2
        for bad in ([2, 2], [0, 0], [-1, 2], "0,1"):
            async with raw_gateway(double) as ws:
                assert await identify(ws, double.token, bad) == 4010


async def test_identifies_within_five_seconds_in_one_bucket_are_refused_when_enforced():
    async with DiscordDouble() as double:
        limiter = double.enforce_identify_limit(max_concurrency=2)
        answers = []
        for shard in ([0, 4], [1, 4], [2, 4], [3, 4]):
            async with raw_gateway(double) as ws:
                answers.append(await identify(ws, double.token, shard))
        # shards 0 and 2 share bucket 0, 1 and 3 bucket 1: the second of each is refused
        assert [a["t"] if a["op"] == DISPATCH else a["op"] for a in answers] == [
            "READY",
            "READY",
            INVALID_SESSION,
            INVALID_SESSION,
        ]
        assert answers[2]["d"] is False  # not resumable: identify again
        assert limiter.refused == 2 and double.gateway.identifies == 2
        assert limiter.busiest_window() == 1
        assert limiter.session_start_limit()["remaining"] == 998


async def test_discord_py_identifies_again_after_a_refusal_and_gets_ready():
    """A client that identifies too fast is refused, identifies again after its wait, and
    connects every shard: the limit does not break discord.py."""

    class Hasty(ShardedBot):
        """Identifies each shard at once the first time, then waits as discord.py does."""

        tried: ClassVar[set[int | None]] = set()

        async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False):
            if shard_id in self.tried:
                await asyncio.sleep(limiter.window_seconds)
            self.tried.add(shard_id)

    async with DiscordDouble(shards=2) as double:
        world = build_world(double, guilds=2, shard_count=2)
        limiter = double.enforce_identify_limit(max_concurrency=1)
        limiter.window_seconds = 0.5  # Discord's 5 s, shortened for a quick test
        bot = Hasty("hasty", [0, 1], 2)
        async with running_bot(double, bot):
            await bot.tree.sync()
            result = await double.slash(world.second.id, world.second.members[0].id, "whoami")
            assert result.content == "hasty 1"
        assert limiter.refused == 1
        assert limiter.busiest_window() == 1
