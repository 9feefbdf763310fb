"""A backlog larger than a batch goes out in one run of the sending job, batch after batch at
the paced rate (not one batch per interval, nor a batch at a time: the next is claimed while
one is sent), checking the worker lease between batches."""

from __future__ import annotations

import asyncio
from collections import Counter

from bot.config import DeliverySettings
from bot.jobs import sending_job
from bot.sending.pacing import Pacer
from bot.sending.sender import DiscordSender, Outgoing
from tests.bot.processes import wait_until
from tests.bot.sending.senders import Senders


async def test_a_backlog_goes_out_in_one_run_batch_after_batch(senders: Senders):
    store = await senders.store("a")
    await senders.seed(store, 120)
    checks: list[bool] = []

    async def held() -> bool:
        checks.append(True)
        return True

    run = sending_job(await senders.dispatcher(store), held, batch=50)
    assert (await run()).startswith("120 sent, ")
    senders.assert_exactly_once()
    assert len(checks) == 2  # before the second and the third batch


async def test_a_lease_lost_between_batches_ends_the_run(senders: Senders):
    store = await senders.store("a")
    await senders.seed(store, 120)

    async def held() -> bool:
        return False

    run = sending_job(await senders.dispatcher(store), held, batch=50)
    assert (await run()).startswith("50 sent, ")
    assert len(senders.arrived()) == 50
    assert await senders.unsent(store) == [("pending", 70)]


async def test_a_stuck_channel_does_not_hold_the_others_to_its_batch(senders: Senders):
    # each batch used to wait for its slowest channel (its tail, at 1 post a second per
    # channel, then the next claim): the other channels get the next rows meanwhile
    store = await senders.store("a")
    await senders.seed(store, 40, channels=8)  # 5 rows a channel, one of each in a batch of 8
    released = asyncio.Event()

    class OneStuck(DiscordSender):
        stuck: int | None = None

        async def post(self, channel_id: int, message: Outgoing) -> int:
            self.stuck = self.stuck or channel_id
            if channel_id == self.stuck:
                await released.wait()
            return await super().post(channel_id, message)

    sender = OneStuck(await senders.rest())
    patient = DeliverySettings(request_timeout_seconds=300)  # the stuck post is not retried
    dispatcher = await senders.dispatcher(store, sender, settings=patient)
    run = asyncio.create_task(sending_job(dispatcher, batch=8)())

    def others() -> int:
        return sum(
            count for (channel, _), count in senders.arrived().items() if channel != sender.stuck
        )

    await wait_until(lambda: others() == 35, 30, "the other channels' rows of every batch")
    released.set()
    assert (await run).startswith("40 sent, ")
    senders.assert_exactly_once()


async def test_channels_waiting_for_their_window_leave_the_places_to_other_channels(
    senders: Senders,
):
    # with two places and four channels, a channel's worker used to keep its place while its
    # channel's window was full: the last two channels began after the first two had sent
    # everything, and sent alone at their channels' pace
    store = await senders.store("a")
    await senders.seed(store, 24, channels=4)  # six posts a channel: the sixth waits a window
    pacer = Pacer(per_channel=5, channel_window=2.0, global_per_second=1000)
    dispatcher = await senders.dispatcher(store, pacer=pacer)
    summary = await dispatcher.send_due(concurrency=2)
    assert summary.sent == 24
    channels = [channel for channel, _ in senders.posted_in_order()]
    assert len(channels) == 24 and len(set(channels)) == 4
    first_five_of_every_channel = channels[:20]
    assert Counter(first_five_of_every_channel) == dict.fromkeys(set(channels), 5)
    senders.assert_exactly_once()
