"""Sending processes' parts over one PostgreSQL outbox and the Discord double: a store (its
own pool and claimer name) and a REST-only client each, seeded channel alerts, and what the
double stored (for the exactly-once tests and the two-sender benchmark)."""

from __future__ import annotations

from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import discord

from bot.config import DeliverySettings
from bot.observability.metrics import Metrics
from bot.sending.dispatcher import Dispatcher
from bot.sending.pacing import Pacer
from bot.sending.sender import DiscordSender, Sender
from bot.sending.summary import SendSummary
from storage.outbox.rows import nonce_for
from storage.postgresql.store import PgStore
from tests.bot.harness import FakeClock
from tests.discord_double import DiscordDouble
from tests.discord_double.plugin import build_guild
from tests.storage.outbox_data import HOUR, NOW, Outbox, sql

LEASE = timedelta(seconds=30)
CHANNELS = 40


@dataclass
class Senders:
    """Two sending processes' parts (a store of their own each) over one outbox."""

    double: DiscordDouble
    url: str
    clock: FakeClock
    stack: AsyncExitStack
    expected: set[tuple[int, str]] = field(default_factory=set)  # (channel, nonce)

    async def rest(self) -> discord.Client:
        """A client of its own logged in over REST, as each sending process has."""
        client = await self.stack.enter_async_context(
            discord.Client(intents=discord.Intents.none())
        )
        await client.login(self.double.token)
        return client

    async def store(self, claimer: str) -> PgStore:
        opened = await PgStore.open(
            self.url, pool_size=4, source="$TEST", claimer=claimer, lease=LEASE
        )
        self.stack.push_async_callback(opened.close)
        return opened

    async def dispatcher(
        self,
        store: PgStore,
        sender: Sender | None = None,
        settings: DeliverySettings | None = None,
        pacer: Pacer | None = None,
    ) -> Dispatcher:
        async def digest_times(_guild: int | None, now: datetime) -> tuple[datetime, datetime]:
            return now, now

        return Dispatcher(
            store,
            settings or DeliverySettings(),
            sender or DiscordSender(await self.rest()),
            clock=self.clock,
            metrics=Metrics(),
            digest_times=digest_times,
            pacer=pacer,
        )

    async def seed(self, store: PgStore, alerts: int, channels: int = CHANNELS) -> None:
        """``alerts`` channel alerts due, spread over ``channels`` channels of one server."""
        world = self.double.world
        guild = build_guild(self.double, "news").guild
        outbox = Outbox(store)
        targets = [world.add_channel(guild, f"alerts{i}") for i in range(channels)]
        feeds = [await outbox.feed(guild.id, c.id, None) for c in targets]
        pks = [await outbox.article(f"story{n}", []) for n in range(alerts // channels + 1)]
        for n in range(alerts):
            channel, feed = targets[n % channels], feeds[n % channels]
            pk = pks[n // channels]
            await outbox.add_row(guild.id, "channel", channel.id, pk, due=NOW - HOUR, feed=feed)
        keys = await sql(
            store, "SELECT article_pk, guild_id, target_kind, target_id FROM deliveries"
        )
        self.expected = {(int(key[3]), nonce_for("tb", tuple(key))) for key in keys}

    def arrived(self) -> Counter[tuple[int, str]]:
        """How often each (channel, nonce) is stored by the double."""
        return Counter(
            (m.channel_id, str(m.nonce))
            for m in self.double.world.messages.values()
            if m.author_id == self.double.world.bot_user.id
        )

    def posted_in_order(self) -> list[tuple[int, str]]:
        """(channel, nonce) of each message create the double was asked for, in arrival order."""
        return [
            (int(r.path.split("/")[-2]), str(r.json["nonce"]))
            for r in self.double.request_log
            if r.method == "POST" and r.route == "/channels/{channel_id}/messages"
        ]

    def posts(self) -> Counter[str]:
        """How many message creates the double was asked for, by nonce."""
        return Counter(
            str(r.json["nonce"])
            for r in self.double.request_log
            if r.method == "POST" and r.route == "/channels/{channel_id}/messages"
        )

    async def unsent(self, store: PgStore) -> list[tuple[str, int]]:
        return await sql(
            store, "SELECT state, count(*) FROM deliveries WHERE state <> 'sent' GROUP BY 1"
        )

    def assert_exactly_once(self) -> None:
        arrived = self.arrived()
        assert set(arrived) == self.expected
        assert [key for key, count in arrived.items() if count > 1] == []


async def drain(dispatcher: Dispatcher) -> SendSummary:
    """Run the sending job until a run finds nothing due; what the runs did together."""
    total = SendSummary()
    while (run := await dispatcher.send_due(batch=100)).anything:
        total.sent += run.sent
        total.failed += run.failed
        total.taken_over += run.taken_over
    return total
