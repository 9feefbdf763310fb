"""Hostile members, moderators and article producers against what the bot sends to Discord,
where tests/bot/test_abuse.py, tests/bot/test_render_audit.py and
tests/bot/cogs/test_command_audit.py do not go (see SECURITY_AUDIT.md beside this file): text
quoted back in replies, managed roles, buttons carried to another server, presses in bulk."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.bot.harness import EPHEMERAL, Harness
from tests.bot.test_render_audit import links

MASKED = "[Approve here](https://evil.example/login)"


def rendered_markup(text: str) -> list[str]:
    """What in ``text`` Discord would render as the writer's markup rather than as typed: a
    masked link, bold, a spoiler, a mention or channel (a backslash before it shows it as
    typed)."""
    found = [f"link to {url}" for _, url in links(text) if "evil.example" in url]
    for markup in (r"\*\*now\*\*", r"\|\|s\|\|", "<@&", "<#", "@everyone"):
        if re.search(r"(?<!\\)" + markup, text):
            found.append(markup)
    return found


def reply_of(result: Any) -> Any:
    return result.followups[0] if result.callback_type == 5 else result.message


async def test_a_files_title_quoted_in_a_moderators_reply_renders_no_link_or_markup(
    harness: Harness,
):
    title = f"{MASKED} **now** ||s|| @everyone"
    article = await harness.add_article(
        title=title, webUrl="https://producer.example/a", originalUrl=..., related=[]
    )
    g = harness.first
    assert (await harness.slash(g, g.moderator.id, "publish", {"article": article.id})).content
    again = reply_of(await harness.reply(g, g.moderator.id, "publish", {"article": article.id}))
    assert "is already published here" in again.content, again.content
    assert "Approve here" in again.content
    assert rendered_markup(again.content) == [], again.content
    assert again.allowed_mentions["parse"] == []


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("subscribe", {"topic": f"{MASKED} **now**"}),
        ("unsubscribe", {"topic": f"{MASKED} **now**"}),
        ("latest", {"topic": f"{MASKED} **now**"}),
        ("related", {"story": f"{MASKED} **now**"}),
    ],
)
async def test_what_a_member_typed_is_quoted_back_as_typed_not_as_a_link(
    harness: Harness, command: str, options: dict[str, str]
):
    g = harness.first
    reply = reply_of(await harness.reply(g, g.members[0].id, command, options))
    assert reply.flags & EPHEMERAL
    shown = reply.content or reply.embeds[0]["description"]
    assert "Approve here" in shown, shown
    assert rendered_markup(shown) == [], shown


async def test_a_bad_time_zone_is_quoted_back_as_typed_not_as_a_link(harness: Harness):
    g = harness.first
    typed = "[Paris](https://evil.example/tz) **now**"
    refused = await harness.slash(g, g.moderator.id, "settings", {"timezone": typed})
    assert refused.message.flags & EPHEMERAL
    assert "(you gave " in refused.content, refused.content
    assert "Paris" in refused.content
    assert rendered_markup(refused.content) == [], refused.content


# --- a bot's own role as the moderator role or a feed's mention -----------------------------


async def a_bots_role(harness: Harness, which: str) -> Any:
    """The bot's own role, or another bot's (both managed by Discord for that bot alone)."""
    g = harness.first
    if which == "ours":
        return g.bot_role
    world = harness.double.world
    role = world.add_role(g.guild, "Carl-bot")
    role.managed, role.tags = True, {"bot_id": str(world.ids.next())}
    await harness.double.create_role(g.guild, role)
    return role


@pytest.mark.parametrize("which", ["ours", "another bot's"])
async def test_a_bots_own_role_is_not_taken_as_the_moderator_role(harness: Harness, which: str):
    g = harness.first
    role = await a_bots_role(harness, which)
    refused = await harness.slash(g, g.moderator.id, "settings", {"moderator_role": role.id})
    assert refused.message.flags & EPHEMERAL
    assert refused.content == (
        f"`moderator_role` can't be @{role.name}: it is a bot's own role, which Discord gives "
        "to that bot alone. Pick the role your moderators have (members with Manage Server "
        "moderate already)."
    )
    assert (await harness.store.guild_settings.get(g.id)).moderator_role_id is None
    assert await harness.store.audit.recent(g.id) == []


@pytest.mark.parametrize("which", ["ours", "another bot's"])
async def test_a_bots_own_role_is_not_taken_as_a_feeds_mention(harness: Harness, which: str):
    g = harness.first
    role = await a_bots_role(harness, which)
    refused = await harness.slash(
        g, g.moderator.id, "feed add", {"channel": g.alerts.id, "mention_role": role.id}
    )
    assert refused.message.flags & EPHEMERAL
    assert refused.content == (
        f"`mention_role` can't be @{role.name}: it is a bot's own role, which Discord gives to "
        "that bot alone, so it would ping no one. Pick a role your readers have, or leave it out."
    )
    assert await harness.store.feeds.for_guild(g.id) == []
    assert await harness.store.audit.recent(g.id) == []
