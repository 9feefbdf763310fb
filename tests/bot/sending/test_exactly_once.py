"""Two senders on one PostgreSQL outbox, through the Discord double (issue #15): every alert
arrives exactly once, whether they send together or one is killed mid-dispatch (its rows
return after the lease, and a re-send of a message posted just before the kill carries the
same nonce, which the double de-duplicates as Discord does)."""

from __future__ import annotations

import asyncio
import random
from contextlib import suppress
from typing import Literal

import pytest

from bot.sending.sender import DiscordSender, Outgoing, Sender
from bot.sending.summary import SendSummary
from storage.postgresql.store import PgStore
from tests.bot.sending.senders import LEASE, Senders, drain
from tests.discord_double.plugin import build_guild
from tests.storage.outbox_data import HOUR, NOW, Outbox, sql


@pytest.mark.parametrize("alerts", [400, pytest.param(2000, marks=pytest.mark.slow)])
async def test_two_senders_together_deliver_every_alert_exactly_once(senders: Senders, alerts: int):
    a, b = await senders.store("a"), await senders.store("b")
    await senders.seed(a, alerts)
    one, other = await senders.dispatcher(a), await senders.dispatcher(b)
    first, second = await asyncio.gather(drain(one), drain(other))
    assert first.sent + second.sent == alerts and first.sent > 0 and second.sent > 0
    senders.assert_exactly_once()
    assert max(senders.posts().values()) == 1  # not one request twice: the claims kept them apart
    assert await senders.unsent(a) == []


Death = Literal["before_post", "after_post", "pool"]


class Dying:
    """Discord as a sender sees it that dies at its ``at``-th post: before the request, after
    Discord accepted the message (so before its write-back), or by losing its database pool
    once the message was accepted."""

    def __init__(self, inner: Sender, store: PgStore, at: int, death: Death) -> None:
        self._inner, self._store, self._at, self._death = inner, store, at, death
        self.posts = 0
        self.task: asyncio.Task[SendSummary] | None = None
        self.killed_nonce: str | None = None

    async def post(self, channel_id: int, message: Outgoing) -> int:
        self.posts += 1
        dies = self.posts == self._at
        if dies and self._death == "before_post":
            await self._die()
        message_id = await self._inner.post(channel_id, message)
        if dies:
            self.killed_nonce = message.nonce
            await self._die()
        return message_id

    async def _die(self) -> None:
        if self._death == "pool":
            await self._store.close()
            return
        assert self.task is not None
        self.task.cancel()
        await asyncio.sleep(0)  # the cancellation lands here: nothing after it runs

    async def open_dm(self, user_id: int) -> int:
        return await self._inner.open_dm(user_id)

    async def guild_name(self, guild_id: int) -> str | None:
        return await self._inner.guild_name(guild_id)

    async def member_of(self, guild_id: int, user_id: int) -> bool | None:
        return await self._inner.member_of(guild_id, user_id)


async def kill_and_take_over(senders: Senders, alerts: int, at: int, death: Death) -> Dying:
    """Sender a dies at its ``at``-th post; sender b sends what a left, after the lease."""
    a, b = await senders.store("a"), await senders.store("b")
    await senders.seed(b, alerts)
    dying = Dying(DiscordSender(await senders.rest()), a, at, death)
    dispatcher = await senders.dispatcher(a, dying)
    dying.task = asyncio.create_task(dispatcher.send_due())
    with suppress(asyncio.CancelledError):
        await dying.task
    if death != "pool":
        await a.close()  # as a dead process's connections go: its last statements settle
    standby = await senders.dispatcher(b)
    [(held,)] = await sql(b, "SELECT count(*) FROM deliveries WHERE claimed_by = 'a'")
    [(free,)] = await sql(
        b, "SELECT count(*) FROM deliveries WHERE state = 'pending' AND claimed_by IS NULL"
    )
    assert held > 0
    before = await drain(standby)
    assert before.sent == free  # a's rows are a's until its lease runs out
    senders.clock.advance(seconds=LEASE.total_seconds())
    after = await drain(standby)
    assert after.sent == held  # then b sends every one of them
    senders.assert_exactly_once()
    assert await senders.unsent(b) == []
    return dying


@pytest.mark.parametrize(
    ("death", "at"),
    [("before_post", 1), ("before_post", 60), ("after_post", 1), ("after_post", 60),
     ("pool", 30)],
)  # fmt: skip
async def test_a_sender_killed_mid_dispatch_leaves_the_rest_to_the_other(
    senders: Senders, death: Death, at: int
):
    dying = await kill_and_take_over(senders, 120, at, death)
    if death != "before_post":  # posted, never written back: posted again, stored once
        assert dying.killed_nonce is not None
        assert senders.posts()[dying.killed_nonce] == 2


async def test_a_stale_sender_sends_nothing_another_took_over(
    senders: Senders, caplog: pytest.LogCaptureFixture
):
    a, b = await senders.store("a"), await senders.store("b")
    await senders.seed(a, 120)
    stalled, resume = asyncio.Event(), asyncio.Event()

    class Stalling(DiscordSender):
        posts = 0

        async def post(self, channel_id: int, message: Outgoing) -> int:
            self.posts += 1
            if self.posts >= 20:
                stalled.set()
                await resume.wait()  # a long pause (GC, a network partition) past the lease
            return await super().post(channel_id, message)

    stalling = Stalling(await senders.rest())
    dispatcher = await senders.dispatcher(a, stalling)
    stale = asyncio.create_task(dispatcher.send_due())
    await stalled.wait()
    senders.clock.advance(seconds=LEASE.total_seconds())
    taken = await drain(await senders.dispatcher(b))
    posted_while_stalled = stalling.posts
    resume.set()
    summary = await stale
    # only the posts already under way go out (stored once, by nonce); the rest are left to b
    assert stalling.posts == posted_while_stalled
    assert summary.sent + summary.taken_over + taken.sent >= 120
    assert summary.failed == 0 and summary.taken_over > 0
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    senders.assert_exactly_once()
    assert await senders.unsent(a) == []


@pytest.mark.slow
@pytest.mark.parametrize(("alerts", "seed"), [(2000, 0), (2000, 1), *((300, n) for n in range(8))])
async def test_a_sender_killed_at_a_random_point_loses_and_doubles_nothing(
    senders: Senders, alerts: int, seed: int
):
    chance = random.Random(seed)
    death: Death = chance.choice(["before_post", "after_post", "pool"])
    await kill_and_take_over(senders, alerts, chance.randint(1, min(alerts, 500)), death)


async def test_a_stale_digest_sender_leaves_the_members_taken_over(senders: Senders):
    a, b = await senders.store("a"), await senders.store("b")
    world, outbox = senders.double.world, Outbox(a)
    guild = build_guild(senders.double, "digests").guild
    readers = [world.add_user(f"reader{n}") for n in range(3)]
    for reader in readers:  # Discord refuses a bot's DM to a user it shares no server with
        world.add_member(guild, reader)
    topic = await outbox.topic("Transport")
    pks = [await outbox.article(f"digest{n}", [topic]) for n in range(2)]
    for reader in readers:
        sub = await outbox.subscribe(guild.id, reader.id, topic, delivery="daily")
        for pk in pks:
            await outbox.add_row(
                guild.id, "dm", reader.id, pk, mode="daily", due=NOW - HOUR, subscription=sub
            )
    stalled, resume = asyncio.Event(), asyncio.Event()

    class Stalling(DiscordSender):
        posts = 0

        async def post(self, channel_id: int, message: Outgoing) -> int:
            self.posts += 1
            if self.posts == 2:  # the second member's digest waits past the lease
                stalled.set()
                await resume.wait()
            return await super().post(channel_id, message)

    stalling = Stalling(await senders.rest())
    stale = asyncio.create_task((await senders.dispatcher(a, stalling)).send_digests())
    await stalled.wait()
    senders.clock.advance(seconds=LEASE.total_seconds())
    taken = await (await senders.dispatcher(b)).send_digests()
    resume.set()
    summary = await stale
    assert stalling.posts == 2  # the third member's digest was left to b
    assert (summary.sent, summary.taken_over, summary.failed) == (2, 4, 0)
    assert taken.sent == 4
    assert [len(senders.double.dms_to(r.id)) for r in readers] == [1, 1, 1]
