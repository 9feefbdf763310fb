"""Members' subscriptions, the same tests on both engines (``storage.api.SubscriptionsApi``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from storage.api import SubscriptionsApi
from storage.subscriptions import SubscriptionCapReached
from tests.engines import statements

NOW = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)
GUILD, MEMBER = 7, 70


@dataclass
class Engine:
    subscriptions: SubscriptionsApi
    add_topic: Callable[[str], Awaitable[int]]


@pytest.fixture
def engine(any_store) -> Engine:
    async def add_topic(name: str) -> int:
        await statements(any_store).execute(
            "INSERT INTO topics (key, name) VALUES (:key, :name)",
            {"key": name.lower(), "name": name},
        )
        topic = await any_store.topics.get(name)
        assert topic is not None
        return topic.id

    return Engine(any_store.subscriptions, add_topic)


async def subscribe(engine: Engine, topic_id: int, *, member=MEMBER, cap=25, **changes):
    fields = {"min_quality": 0, "delivery": "instant", "now": NOW} | changes
    return await engine.subscriptions.save(
        guild_id=GUILD, user_id=member, topic_id=topic_id, cap=cap, **fields
    )


async def test_a_subscription_is_created_then_updated(engine):
    ai = await engine.add_topic("AI")
    created = await subscribe(engine, ai, min_quality=20)
    assert created.created
    assert (created.subscription.topic_key, created.subscription.topic_name) == ("ai", "AI")
    assert created.subscription.created_at == NOW
    later = NOW + timedelta(hours=1)
    updated = await subscribe(engine, ai, min_quality=60, delivery="daily", now=later)
    assert not updated.created
    assert updated.subscription.id == created.subscription.id
    assert (updated.subscription.min_quality, updated.subscription.delivery) == (60, "daily")
    assert updated.subscription.created_at == NOW  # created once
    assert await engine.subscriptions.count(GUILD, MEMBER) == 1


async def test_a_new_subscription_past_the_cap_is_refused_an_update_is_not(engine):
    ai, rail = await engine.add_topic("AI"), await engine.add_topic("Rail")
    await subscribe(engine, ai, cap=1)
    with pytest.raises(SubscriptionCapReached, match="at most 1 subscriptions per member"):
        await subscribe(engine, rail, cap=1)
    assert not (await subscribe(engine, ai, cap=1, min_quality=50)).created
    assert [s.topic_key for s in await engine.subscriptions.for_member(GUILD, MEMBER)] == ["ai"]


async def test_saves_at_once_never_pass_the_cap(engine):
    topics = [await engine.add_topic(f"Topic {n}") for n in range(6)]
    outcomes = await asyncio.gather(
        *(subscribe(engine, topic, cap=3) for topic in topics), return_exceptions=True
    )
    refused = [o for o in outcomes if isinstance(o, SubscriptionCapReached)]
    assert len(refused) == 3
    assert await engine.subscriptions.count(GUILD, MEMBER) == 3


async def test_a_members_list_is_by_topic_and_their_own(engine):
    rail, ai = await engine.add_topic("Rail"), await engine.add_topic("AI")
    await subscribe(engine, rail)
    await subscribe(engine, ai)
    await subscribe(engine, ai, member=MEMBER + 1)
    listed = await engine.subscriptions.for_member(GUILD, MEMBER)
    assert [(s.topic_key, s.user_id, s.guild_id) for s in listed] == [
        ("ai", MEMBER, GUILD),
        ("rail", MEMBER, GUILD),
    ]
    assert await engine.subscriptions.for_member(GUILD + 1, MEMBER) == []


async def test_delete_removes_one_and_says_when_there_was_none(engine):
    ai = await engine.add_topic("AI")
    await subscribe(engine, ai)
    await subscribe(engine, ai, member=MEMBER + 1)
    assert await engine.subscriptions.delete(GUILD, MEMBER, "ai")
    assert not await engine.subscriptions.delete(GUILD, MEMBER, "ai")
    assert not await engine.subscriptions.delete(GUILD, MEMBER, "no such topic")
    assert await engine.subscriptions.count(GUILD, MEMBER) == 0
    assert await engine.subscriptions.count(GUILD, MEMBER + 1) == 1
