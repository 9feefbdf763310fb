"""Several senders on one PostgreSQL outbox: claims with ``FOR UPDATE SKIP LOCKED`` and a
lease. Two senders never get the same row; a row whose lease ran out returns, with the same
nonce, to another; a sender whose rows were taken over can write none of them back."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio

from storage.outbox.sends import ClaimLost
from storage.postgresql.outbox.repository import PgDeliveryRepository
from storage.postgresql.store import PgStore
from tests.storage.outbox_data import HOUR, NOW, Outbox, sql

LEASE = timedelta(seconds=60)
GUILD = 7


@pytest_asyncio.fixture
async def store(postgresql_database_url: str) -> AsyncIterator[PgStore]:
    async with await PgStore.open(
        postgresql_database_url, pool_size=4, source="$TEST", claimer="a", lease=LEASE
    ) as opened:
        yield opened


def sender(store: PgStore, name: str) -> PgDeliveryRepository:
    """Another sender on the same database (its own claimer name)."""
    return PgDeliveryRepository(store._db, claimer=name, lease=LEASE)


async def seed(store: PgStore, rows: int) -> None:
    outbox = Outbox(store)
    pk = await outbox.article("news", [])
    for target in range(rows):
        await outbox.add_row(GUILD, "dm", 1000 + target, pk, due=NOW - HOUR)


async def test_two_senders_at_once_never_get_the_same_row(store):
    await seed(store, 60)
    a, b = store.deliveries, sender(store, "b")
    taken: list[int] = []
    for _ in range(2):  # each round: both claim at once, on two connections
        first, second = await asyncio.gather(a.due(NOW, limit=15), b.due(NOW, limit=15))
        assert len(first) == len(second) == 15
        ours, theirs = {r.target_id for r in first}, {r.target_id for r in second}
        assert not ours & theirs
        taken += [*ours, *theirs]
    assert len(taken) == len(set(taken)) == 60  # every row once, each to one sender
    assert await a.due(NOW, limit=100) == await b.due(NOW, limit=100) == []
    claims = await sql(store, "SELECT claimed_by, count(*) FROM deliveries GROUP BY 1 ORDER BY 1")
    assert claims == [("a", 30), ("b", 30)]


async def test_a_claim_in_progress_neither_blocks_nor_shares_its_rows_with_another(store):
    await seed(store, 30)
    a, b = store.deliveries, sender(store, "b")
    async with store.transaction():  # a's claim, locked and not yet committed
        first = await a.due(NOW, limit=15)
        # b on a connection of its own (a fresh context: not inside a's transaction)
        other = asyncio.create_task(b.due(NOW, limit=15), context=contextvars.Context())
        second = await asyncio.wait_for(other, timeout=10)
    assert len(first) == len(second) == 15
    assert not {r.target_id for r in first} & {r.target_id for r in second}


async def test_a_row_returns_with_the_same_nonce_once_its_lease_ran_out(store):
    await seed(store, 1)
    [claimed] = await store.deliveries.due(NOW, limit=10)
    other = sender(store, "b")
    assert await other.due(NOW + LEASE - timedelta(seconds=1), limit=10) == []
    [again] = await other.due(NOW + LEASE, limit=10)
    assert (again.key, again.nonce) == (claimed.key, claimed.nonce)


async def test_a_sender_whose_rows_were_taken_over_cannot_write_them_back(store):
    await seed(store, 2)
    a, b = store.deliveries, sender(store, "b")
    stale, kept = await a.due(NOW, limit=10)
    await sql(
        store, "UPDATE deliveries SET lease_until = 0 WHERE target_id = :t", t=stale.target_id
    )
    [taken] = await b.due(NOW, limit=10)
    assert taken.key == stale.key
    # before sending, the stale holder learns which rows are still its own
    assert await a.renew_claims([stale, kept], NOW) == [kept]
    with pytest.raises(ClaimLost, match="lease taken over") as lost:
        await a.mark_sent([stale, kept], 111, NOW)
    assert lost.value.rows == [stale]
    for write in (
        a.retry_later([stale], NOW + HOUR, "503"),
        a.give_up([stale], "dead", "gave up"),
        a.move_to_digest(stale, NOW + HOUR, "cap"),
    ):
        with pytest.raises(ClaimLost):
            await write
    await b.mark_sent([taken], 222, NOW)
    rows = await sql(
        store,
        "SELECT target_id, state, message_id, attempts, claimed_by FROM deliveries ORDER BY 1",
    )
    assert sorted(rows) == sorted(
        [(stale.target_id, "sent", 222, 0, None), (kept.target_id, "sent", 111, 0, None)]
    )


async def test_a_retried_row_is_released_for_any_sender(store):
    await seed(store, 1)
    [row] = await store.deliveries.due(NOW, limit=10)
    await store.deliveries.retry_later([row], NOW + HOUR, "503")
    [again] = await sender(store, "b").due(NOW + HOUR, limit=10)  # before the lease ends
    assert (again.key, again.attempts) == (row.key, 1)


async def test_digest_rows_are_claimed_too(store):
    outbox = Outbox(store)
    pk = await outbox.article("news", [])
    for target in (1, 2):
        await outbox.add_row(GUILD, "dm", target, pk, mode="daily", due=NOW - HOUR)
    first = await store.deliveries.due_digest_rows(NOW, limit=10)
    assert [r.target_id for r in first] == [1, 2]
    assert await sender(store, "b").due_digest_rows(NOW, limit=10) == []


async def test_another_senders_row_in_flight_is_not_cancelled_under_it(store):
    outbox = Outbox(store)
    sub = await outbox.subscribe(GUILD, 1, await outbox.topic("AI"))
    pk = await outbox.article("news", [])
    await outbox.add_row(GUILD, "dm", 1, pk, subscription=sub, due=NOW - HOUR)
    [row] = await sender(store, "b").due(NOW, limit=10)
    await sql(store, "DELETE FROM subscriptions")
    assert await store.deliveries.cancel_stale_due(NOW, default_bar=20) == 0  # b is sending it
    assert await store.deliveries.cancel_stale_due(NOW + LEASE, default_bar=20) == 1  # b died
    assert await sql(store, "SELECT state, claimed_by FROM deliveries") == [("cancelled", None)]
    with pytest.raises(ClaimLost):
        await sender(store, "b").mark_sent([row], 1, NOW)


def test_a_lease_must_be_positive(store):
    with pytest.raises(ValueError, match="longer than zero"):
        PgDeliveryRepository(store._db, claimer="c", lease=timedelta(0))


async def test_a_new_worker_lease_holder_takes_over_the_rows_others_claimed(store):
    await seed(store, 3)
    a, b = store.deliveries, sender(store, "b")
    claimed = await a.due(NOW, limit=2)
    [own] = await b.due(NOW, limit=10)
    assert await b.due(NOW, limit=10) == []  # a's under a live lease
    assert await b.take_over_claims() == 2  # b's own claim is kept
    again = await b.due(NOW, limit=10)  # long before a's lease ends
    assert {(r.key, r.nonce) for r in again} == {(r.key, r.nonce) for r in claimed}
    assert await a.renew_claims(claimed, NOW) == []  # a, stale, leaves them
    assert await b.renew_claims([own, *again], NOW) == [own, *again]
