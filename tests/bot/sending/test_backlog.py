"""A backlog larger than a batch goes out in one run of the sending job, batch after batch at
the paced rate (not one batch per interval), checking the worker lease between batches."""

from __future__ import annotations

from bot.jobs import sending_job
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
