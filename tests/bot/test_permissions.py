"""One set of rules, three readers: the bot's reading of REST payloads (``topicbot doctor``),
discord.py's reading of its gateway cache (``/feed add``, ``/feed list``) and the double's
(what it refuses) agree on the bot's permissions in a channel."""

from __future__ import annotations

import asyncio

import discord
import pytest

from bot.permissions import CHANNEL_POSTS, channel_permissions, invite_permissions
from tests.bot.harness import Harness
from tests.discord_double import payloads
from tests.discord_double.state import (
    ADMINISTRATOR,
    EMBED_LINKS,
    MEMBER_OVERWRITE,
    MENTION_EVERYONE,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Overwrite,
)

CASES = {
    "no overwrites": [],
    "@everyone denied, the bot's role allowed": [
        ("everyone", SEND_MESSAGES, 0),
        ("role", 0, SEND_MESSAGES),
    ],
    "the bot's role denied, the member allowed": [
        ("role", VIEW_CHANNEL, 0),
        ("member", 0, VIEW_CHANNEL),
    ],
    "the member denied": [("member", EMBED_LINKS, 0)],
    "no send: no embeds either": [("role", SEND_MESSAGES, 0), ("everyone", SEND_MESSAGES, 0)],
    "mentions allowed": [("role", 0, MENTION_EVERYONE)],
    "administrator": [("role", VIEW_CHANNEL, 0), ("admin", 0, 0)],
}


@pytest.mark.parametrize("case", list(CASES))
async def test_the_bot_discord_py_and_the_double_agree(harness: Harness, case: str):
    g = harness.first
    world = harness.double.world
    bot_id = world.bot_user.id
    channel = g.alerts
    for target, deny, allow in CASES[case]:
        if target == "admin":
            g.bot_role.permissions |= ADMINISTRATOR
            continue
        ids = {"everyone": g.id, "role": g.bot_role.id, "member": bot_id}
        kind = MEMBER_OVERWRITE if target == "member" else 0
        channel.overwrites.append(Overwrite(id=ids[target], type=kind, allow=allow, deny=deny))
    await harness.double.update_channel(channel)
    if case == "administrator":
        await harness.double.gateway.dispatch(
            "GUILD_ROLE_UPDATE", {"guild_id": str(g.id), "role": payloads.role(g.bot_role)}
        )
    expected = world.channel_permissions(channel, bot_id)

    from_rest = channel_permissions(
        guild=payloads.guild(world, g.guild, full=False),
        channel=payloads.channel(world, channel),
        member=payloads.member(world, g.guild.members[bot_id]),
        user_id=bot_id,
    )
    assert from_rest.value & _ours() == expected & _ours()

    for _ in range(200):  # until the bot has read the update from the gateway
        cached = harness.bot.get_channel(channel.id)
        assert isinstance(cached, discord.TextChannel)
        from_cache = cached.permissions_for(cached.guild.me)
        if from_cache.value & _ours() == expected & _ours():
            break
        await asyncio.sleep(0.01)
    assert from_cache.value & _ours() == expected & _ours()


def _ours() -> int:
    """The permissions the bot's checks read."""
    return invite_permissions().value | MENTION_EVERYONE


def test_the_invite_asks_for_what_a_feed_channel_needs():
    assert [need.flag for need in CHANNEL_POSTS] == ["view_channel", "send_messages", "embed_links"]
    assert invite_permissions().value == VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS
