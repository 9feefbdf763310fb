"""Member checks in the store, on both engines: answers kept and read by age, and what leaving
and coming back do to one server's subscriptions and outbox rows, and nothing else."""

from __future__ import annotations

from typing import Any

from storage.members import LEFT_ERROR, LEFT_REASON
from tests.storage.outbox_data import HOUR, NOW, Outbox, sql

A, B = 7_000_000_000_000_001, 7_000_000_000_000_002
MEMBER, OTHER = 9_000_000_000_000_101, 9_000_000_000_000_102


async def test_answers_are_read_back_while_fresh_and_replaced_by_newer(any_store: Any):
    members = any_store.members
    await members.record(A, {MEMBER: True, OTHER: False}, NOW - 2 * HOUR)
    assert await members.known(A, [MEMBER, OTHER], NOW - 3 * HOUR) == {MEMBER: True, OTHER: False}
    assert await members.known(A, [MEMBER, OTHER], NOW - HOUR) == {}
    assert await members.known(B, [MEMBER], NOW - 3 * HOUR) == {}
    await members.record(A, {MEMBER: False}, NOW)
    assert await members.known(A, [MEMBER], NOW) == {MEMBER: False}
    many = {user: user % 2 == 0 for user in range(1, 701)}  # past one statement's rows
    await members.record(B, many, NOW)
    assert await members.known(B, list(many), NOW) == many


async def test_leaving_pauses_and_cancels_that_server_only_and_a_command_resumes(any_store: Any):
    outbox = Outbox(any_store)
    topic = await outbox.topic("Transport")
    pk = await outbox.article("ferry", [topic])
    in_a = await outbox.subscribe(A, MEMBER, topic)
    in_b = await outbox.subscribe(B, MEMBER, topic)
    refused = await outbox.subscribe(A, MEMBER, await outbox.topic("Energy"), disabled="DMs off")
    await outbox.subscribe(A, OTHER, topic)
    for guild, subscription, mode in ((A, in_a, "daily"), (B, in_b, "instant")):
        await outbox.add_row(guild, "dm", MEMBER, pk, mode=mode, subscription=subscription)
    await outbox.add_row(A, "channel", 1, pk)

    reason = f"{LEFT_REASON}: come back (since then)"
    assert await any_store.members.left(A, MEMBER, reason, NOW) == 1
    paused = dict(await sql(any_store, "SELECT id, disabled_reason FROM subscriptions"))
    assert paused[in_a] == reason and paused[refused] == "DMs off"  # another reason kept
    assert paused[in_b] is None and list(paused.values()).count(None) == 2
    rows = await sql(any_store, "SELECT guild_id, target_kind, state, last_error FROM deliveries")
    assert sorted(rows) == [
        (A, "channel", "pending", None),
        (A, "dm", "cancelled", LEFT_ERROR),
        (B, "dm", "pending", None),
    ]

    assert await any_store.members.seen(B, MEMBER, NOW) == 0
    assert await any_store.members.seen(A, MEMBER, NOW) == 1
    resumed = dict(await sql(any_store, "SELECT id, disabled_reason FROM subscriptions"))
    assert resumed[in_a] is None and resumed[refused] == "DMs off"
    assert await any_store.members.known(A, [MEMBER], NOW) == {MEMBER: True}
    # a member with nothing followed there is not remembered (the table stays the subscribers')
    assert await any_store.members.seen(A, 1234, NOW) == 0
    assert await any_store.members.known(A, [1234], NOW - HOUR) == {}


async def test_a_command_writes_only_when_it_changes_something(any_store: Any):
    """Noted before every command: a member who follows nothing there, or whose presence was
    noted within the hour and has nothing paused, is not written again."""
    outbox = Outbox(any_store)
    topic = await outbox.topic("Transport")
    await outbox.subscribe(A, MEMBER, topic)
    members = any_store.members
    assert await members.seen(A, MEMBER, NOW) == 0
    assert await members.known(A, [MEMBER], NOW) == {MEMBER: True}
    later = NOW + HOUR / 2
    assert await members.seen(A, MEMBER, later) == 0
    assert await members.known(A, [MEMBER], NOW + HOUR / 4) == {}  # still NOW's note
    assert await members.seen(A, MEMBER, NOW + 2 * HOUR) == 0
    assert await members.known(A, [MEMBER], NOW + 2 * HOUR) == {MEMBER: True}  # noted again
    # left, then back within the hour of a note: resumed all the same
    await members.left(A, MEMBER, f"{LEFT_REASON}: come back", NOW + 2 * HOUR)
    assert await members.seen(A, MEMBER, NOW + 2 * HOUR) == 1


async def test_a_left_members_data_goes_with_their_waiting_rows_and_only_while_still_gone(
    any_store: Any,
):
    outbox = Outbox(any_store)
    topic = await outbox.topic("Transport")
    pk = await outbox.article("ferry", [topic])
    in_a = await outbox.subscribe(A, MEMBER, topic)
    await outbox.subscribe(A, OTHER, topic)
    # a row planned as they were found gone, left pending; another member's, and a post
    await outbox.add_row(A, "dm", MEMBER, pk, mode="daily", subscription=in_a)
    await outbox.add_row(A, "dm", OTHER, pk)
    await outbox.add_row(A, "channel", 1, pk)
    await any_store.members.record(A, {MEMBER: False, OTHER: False}, NOW - 40 * 24 * HOUR)
    await any_store.deliveries.save_dm_channel(MEMBER, 55)
    cutoff = NOW - 30 * 24 * HOUR
    assert await any_store.left_members.due(cutoff, limit=10) == [(A, MEMBER), (A, OTHER)]

    await any_store.members.seen(A, OTHER, NOW)  # OTHER came back between the read and the step
    went = await any_store.left_members.delete([(A, MEMBER), (A, OTHER)], cutoff)
    assert went == {"members": 1, "waiting alerts": 1, "subscriptions": 1, "DM channel ids": 1}
    assert await sql(any_store, "SELECT user_id FROM subscriptions") == [(OTHER,)]
    rows = await sql(any_store, "SELECT target_kind, target_id FROM deliveries")
    assert sorted(rows) == [("channel", 1), ("dm", OTHER)]
    assert await any_store.deliveries.dm_channel(MEMBER) is None
    assert await any_store.left_members.due(cutoff, limit=10) == []
    assert await any_store.members.known(A, [OTHER], NOW) == {OTHER: True}
