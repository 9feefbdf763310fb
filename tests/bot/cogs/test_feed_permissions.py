"""/feed add refuses a channel the bot cannot post in; /feed list marks one that lost a
permission since. Permissions come from roles and channel overwrites, as on Discord."""

from __future__ import annotations

import asyncio

import pytest

from tests.bot.harness import EPHEMERAL, Harness
from tests.discord_double.state import (
    EMBED_LINKS,
    MENTION_EVERYONE,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Overwrite,
)

FIX = (
    ". Give my role those permissions in the channel's settings (Edit Channel → Permissions), "
    "then run `/feed add` again."
)


async def deny_bot(harness: Harness, channel_id: int, permissions: int) -> None:
    """Deny the bot's role ``permissions`` in a channel and wait until the bot knows."""
    g = harness.first
    channel = g.guild.channels[channel_id]
    channel.overwrites.append(Overwrite(id=g.bot_role.id, deny=permissions))
    await harness.double.update_channel(channel)
    cached = harness.bot.get_channel(channel_id)
    for _ in range(200):
        if getattr(cached, "overwrites", None):
            return
        await asyncio.sleep(0.01)
        cached = harness.bot.get_channel(channel_id)
    raise AssertionError("the bot never saw the channel update")


@pytest.mark.parametrize(
    ("denied", "named"),
    [
        (VIEW_CHANNEL, "View Channel"),
        (SEND_MESSAGES, "Send Messages"),
        (EMBED_LINKS, "Embed Links"),
        (EMBED_LINKS | MENTION_EVERYONE, "Embed Links"),
    ],
)
async def test_feed_add_refuses_a_channel_missing_a_permission(
    harness: Harness, denied: int, named: str
):
    g = harness.first
    await deny_bot(harness, g.alerts.id, denied)
    refused = await harness.slash(g, g.moderator.id, "feed add", {"channel": g.alerts.id})
    assert refused.message.flags & EPHEMERAL
    assert refused.content == f"Not added: I am missing {named} in <#{g.alerts.id}>{FIX}"
    assert await harness.store.feeds.for_guild(g.id) == []
    # the rest of the server is untouched: another channel still takes a feed
    added = await harness.slash(g, g.moderator.id, "feed add", {"channel": g.general.id})
    assert added.content.startswith("Added feed:")


async def test_a_role_members_cannot_mention_needs_mention_everyone(harness: Harness):
    g = harness.first
    g.moderator_role.mentionable = False  # Discord's default for a new role
    options = {"channel": g.alerts.id, "mention_role": g.moderator_role.id}
    refused = await harness.slash(g, g.moderator.id, "feed add", options)
    assert refused.content == (
        f"Not added: I am missing Mention @everyone, @here, and All Roles in <#{g.alerts.id}>" + FIX
    )
    readers = {"channel": g.alerts.id, "mention_role": g.member_role.id}
    added = await harness.slash(g, g.moderator.id, "feed add", readers)
    assert added.content.startswith("Added feed:")
    assert len(await harness.store.feeds.for_guild(g.id)) == 1


async def test_feed_list_marks_a_channel_that_lost_a_permission(harness: Harness):
    g = harness.first
    for channel in (g.alerts, g.general):
        added = await harness.slash(g, g.moderator.id, "feed add", {"channel": channel.id})
        assert added.content.startswith("Added feed:")
    await deny_bot(harness, g.alerts.id, SEND_MESSAGES)
    listing = await harness.slash(g, g.moderator.id, "feed list")
    lines = listing.embeds[0]["description"].splitlines()
    (alerts,) = [line for line in lines if line.startswith(f"<#{g.alerts.id}>")]
    (general,) = [line for line in lines if line.startswith(f"<#{g.general.id}>")]
    assert alerts.endswith(f" — ⚠️ I am missing Send Messages in <#{g.alerts.id}>")
    assert "⚠️" not in general


async def test_the_double_refuses_posts_as_discord_does(harness: Harness):
    g = harness.first
    await deny_bot(harness, g.alerts.id, SEND_MESSAGES)
    await deny_bot(harness, g.general.id, VIEW_CHANNEL)
    with pytest.raises(Exception, match="50013"):
        await harness.bot.get_partial_messageable(g.alerts.id).send("hello")
    with pytest.raises(Exception, match="50001"):
        await harness.bot.get_partial_messageable(g.general.id).send("hello")
