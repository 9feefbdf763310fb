"""The retention audit of an operator's year (docs/audits/retention2-expectations.md): what the
store keeps of a member once nothing they follow is left, played through the Discord double on
both engines; what the operator would find in the store is what the docs say it keeps."""

from __future__ import annotations

from typing import Any

from tests.bot.harness import Harness
from tests.bot.test_alerts import follow, story
from tests.bot.test_lifecycle_audit import seed_topic
from tests.storage.outbox_data import sql

# The tables that name a member by their Discord user id, apart from the outbox (whose rows go
# by retention.deliveries_days) and the audit log (moderators').
MEMBER_TABLES = {
    "subscriptions": "SELECT count(*) FROM subscriptions WHERE user_id = :user",
    "member_checks": "SELECT count(*) FROM member_checks WHERE user_id = :user",
    "dm_channels": "SELECT count(*) FROM dm_channels WHERE user_id = :user",
}


async def named(store: Any, user_id: int) -> dict[str, int]:
    """How many rows of each table name the member."""
    return {
        table: int((await sql(store, query, user=user_id))[0][0])
        for table, query in MEMBER_TABLES.items()
    }


async def test_a_member_who_unsubscribes_from_everything_is_no_longer_named_in_the_store(
    harness: Harness,
):
    # architecture.md (Retention): a DM channel id goes "when nothing the bot keeps names that
    # member any more"; a member who stops following everything is such a member.
    a, b = harness.first, harness.second
    member = a.members[0]
    harness.double.world.add_member(b.guild, harness.double.world.users[member.id])
    await seed_topic(harness)
    await follow(harness, a, member.id, "Transport")
    await follow(harness, b, member.id, "Energy")
    harness.clock.advance(days=1, minutes=1)  # their presence is asked again before a DM
    await story(harness, 1, title="Transport news", topics=["Transport"])
    await story(harness, 2, title="Energy news", topics=["Energy"])
    await harness.deliver()
    assert len(harness.double.dms_to(member.id)) == 2
    assert await named(harness.store, member.id) == {
        "subscriptions": 2,
        "member_checks": 2,
        "dm_channels": 1,
    }

    gone = await harness.slash(a, member.id, "unsubscribe", {"topic": "Transport"})
    assert gone.content.startswith("Unsubscribed"), gone.content
    # still following Energy in the other server: its check and the DM channel stay
    assert await named(harness.store, member.id) == {
        "subscriptions": 1,
        "member_checks": 1,
        "dm_channels": 1,
    }
    gone = await harness.slash(b, member.id, "unsubscribe", {"topic": "Energy"})
    assert gone.content.startswith("Unsubscribed"), gone.content
    assert await named(harness.store, member.id) == dict.fromkeys(MEMBER_TABLES, 0)

    # following again works as for anyone new: the DM channel is opened afresh
    await follow(harness, a, member.id, "Transport")
    await story(harness, 3, title="More transport news", topics=["Transport"])
    await harness.deliver()
    titles = [m.embeds[0]["title"] for m in harness.double.dms_to(member.id) if m.embeds]
    assert titles[-1] == "More transport news"
