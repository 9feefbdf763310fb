"""Hostile members, moderators and article producers against what the bot sends to Discord,
where tests/bot/test_abuse.py, tests/bot/test_render_audit.py and
tests/bot/cogs/test_command_audit.py do not go (see SECURITY_AUDIT.md beside this file): text
quoted back in replies, managed roles, buttons carried to another server, presses in bulk."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.ui import pages
from tests.bot.harness import EPHEMERAL, Harness
from tests.bot.test_alerts import story
from tests.bot.test_render_audit import all_text, everywhere, followed_and_routed, links

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
    again = reply_of(await harness.slash(g, g.moderator.id, "publish", {"article": article.id}))
    assert "is already published here" in again.content, again.content
    assert "Approve here" in again.content
    assert rendered_markup(again.content) == [], again.content
    assert again.allowed_mentions["parse"] == []


async def test_a_feeds_title_quoted_in_a_moderators_reply_reads_as_it_does_everywhere(
    harness: Harness,
):
    article = await harness.add_article(
        title="Ferries &amp; <b>boats</b> &#8217;24",
        webUrl="https://producer.example/feed",
        originalUrl=...,
        related=[],
    )
    g = harness.first
    await harness.slash(g, g.moderator.id, "publish", {"article": article.id})
    again = await harness.slash(g, g.moderator.id, "publish", {"article": article.id})
    assert again.content == "“Ferries & boats ’24” is already published here."


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
    reply = reply_of(await harness.slash(g, g.members[0].id, command, options))
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


# --- what held: kept as guards ----------------------------------------------------------------


def bodies_with_text(harness: Harness) -> list[dict[str, Any]]:
    """Every message body the bot sent with content or embeds: channel posts, DMs, interaction
    replies and their follow-ups and edits."""
    found = []
    for request in harness.double.requests():
        body = request.json if isinstance(request.json, dict) else {}
        body = body.get("data") if isinstance(body.get("data"), dict) else body
        if body.get("content") or body.get("embeds"):
            found.append(body)
    return found


INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u034f", "\u180e"]


async def test_a_mention_split_by_an_invisible_character_stays_broken_everywhere(
    make_harness: Any,
):
    """A file's mentions written with an invisible character inside (which a reader does not
    see) reach no surface as a working mention, channel or masked link, whatever the bot
    drops from the text before escaping it; and every message the bot sends allows no ping
    of its own accord."""
    harness = await make_harness(seed=False)
    harness.clock.now = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)
    g = harness.first
    split = " ".join(
        f"@{z}everyone @{z}here <{z}@&{g.member_role.id}> <@{z}{g.members[1].id}> "
        f"<{z}#{g.general.id}> [{z}Go]{z}(https://evil.example)"
        for z in INVISIBLE
    )
    article = await story(
        harness,
        1,
        title=split[:990],
        excerpt=split,
        topics=["Media"],
        provider={"name": split[:200]},
    )
    await followed_and_routed(harness, "Media")
    await harness.deliver()
    seen = await everywhere(harness, article.id, "Media")
    for where, message in seen.items():
        text = all_text(message)
        assert "@everyone" not in text and "@here" not in text, where
        assert not re.search(r"(?<!\\)<[@#]", text), f"{where}: {text}"
        assert all("evil.example" not in url for _, url in links(text)), where
    sent = bodies_with_text(harness)
    assert len(sent) >= len(seen)
    for body in sent:
        mentions = body.get("allowed_mentions") or {}
        assert mentions.get("parse") == [], body
        assert not mentions.get("users"), body


def carrying(custom_ids: list[str]) -> list[dict[str, Any]]:
    """Action rows holding a button for each custom id."""
    buttons = [{"type": 2, "style": 2, "label": "x", "custom_id": c} for c in custom_ids]
    return [{"type": 1, "components": buttons[i : i + 5]} for i in range(0, len(buttons), 5)]


async def test_buttons_carried_from_another_server_change_and_show_nothing_of_it(
    harness: Harness,
):
    """Discord delivers a press only for a button on the bot's own message, so another
    server's custom ids can reach server B only on a message of B's; pressed there by B's
    moderator, they name nothing of A's and change nothing in either server."""
    a, b = harness.first, harness.second
    pending = await harness.slash(
        a,
        a.moderator.id,
        "article add",
        {"url": "https://own-a.example/plan", "title": "Harbour plan A", "topics": "Plans A"},
    )
    secret = pending.content.split("`")[1]
    retracted = await harness.slash(
        a,
        a.moderator.id,
        "article add",
        {"url": "https://own-a.example/vote", "title": "Harbour vote A", "topics": "Plans A",
         "publish": True},
    )  # fmt: skip
    gone = retracted.content.split("`")[1]
    await harness.slash(a, a.moderator.id, "unpublish", {"article": gone})
    a_audit = await harness.store.audit.recent(a.id)
    ids = [
        f"tb:queue:publish:{secret}:1",
        f"tb:queue:reject:{secret}:1",
        f"tb:retract:delete:{gone}",
        "tb:page:audit:2",
        "tb:page:feeds:2",
    ]
    bot = harness.double.world.bot_user.id
    for custom_id in ids:
        message = await harness.double.create_message(
            b.general, bot, {"content": "x", "components": carrying(ids)}
        )
        pressed = await harness.double.click(message, custom_id, b.moderator.id)
        if custom_id.startswith("tb:retract"):
            await pressed.wait_edits(1)
            shown = pressed.edits[-1].get("content", "")
        else:
            shown = all_text(pressed.message)
        assert "Harbour" not in shown and "Plans A" not in shown, (custom_id, shown)
    assert (await harness.store.publication.get(a.id, secret)).state == "pending"
    assert (await harness.store.publication.get(a.id, gone)).state == "retracted"
    assert await harness.store.publication.get(b.id, secret) is None
    assert await harness.store.audit.recent(a.id) == a_audit
    assert await harness.store.audit.recent(b.id) == []


async def test_a_member_subscribing_to_a_hundred_topics_stops_at_the_cap_and_others_go_on(
    make_harness: Any,
):
    harness = await make_harness(seed=False, commands={"max_subscriptions_per_member": 25})
    harness.double.enforce_rate_limits()
    for n in range(100):
        await story(harness, n, topics=[f"Topic {n:03d}"])
    g = harness.first
    spammer, other = g.members[0].id, g.members[1].id
    replies = [
        await harness.slash(g, spammer, "subscribe", {"topic": f"Topic {n:03d}"})
        for n in range(100)
    ]
    assert all(r.message.flags & EPHEMERAL for r in replies)
    assert all(r.content.startswith("Subscribed to **Topic") for r in replies[:25])
    assert {r.content for r in replies[25:]} == {
        "You already follow 25 topics here, the most allowed. Use `/unsubscribe` to make room."
    }
    assert len(await harness.store.subscriptions.for_member(g.id, spammer)) == 25
    fine = await harness.slash(g, other, "subscribe", {"topic": "Topic 099"})
    assert fine.content.startswith("Subscribed to **Topic 099**")
    assert harness.double.rate_limit_hits == 0


async def test_fifty_presses_of_one_button_are_each_answered_within_discords_limits(
    make_harness: Any,
):
    harness = await make_harness(seed=False)
    harness.double.enforce_rate_limits()
    for n in range(40):
        await story(harness, n, topics=[f"Topic {n:03d}"])
    g = harness.first
    spammer, other = g.members[0].id, g.members[1].id
    listing = await harness.slash(g, spammer, "topics")
    (next_page,) = [
        c
        for row in listing.message.components
        for c in row["components"]
        if c.get("label") == "Next ▶"
    ]
    presses = [
        asyncio.create_task(harness.double.click(listing.message, next_page["custom_id"], spammer))
        for _ in range(50)
    ]
    meanwhile = await harness.slash(g, other, "subscriptions")
    assert meanwhile.content.startswith("You don't follow any topics here yet")
    for pressed in await asyncio.gather(*presses):
        await shown_in_place(pressed)
        assert "page 2 of" in all_text(pressed.message)
    assert harness.double.rate_limit_hits == 0


async def shown_in_place(pressed: Any) -> None:
    """A page button's answer: the listing shown again in place, at once (7) or, when the
    page took long to render, acknowledged first (6) and edited once ready."""
    assert pressed.callback_type in (6, 7)
    if pressed.callback_type == 6:
        await pressed.wait_edits(1)


async def test_a_page_slow_to_render_is_acknowledged_in_time_then_shown(
    make_harness: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = await make_harness(seed=False)
    for n in range(40):
        await story(harness, n, topics=[f"Topic {n:03d}"])
    g = harness.first
    listing = await harness.slash(g, g.members[0].id, "topics")
    (next_page,) = [
        c
        for row in listing.message.components
        for c in row["components"]
        if c.get("label") == "Next ▶"
    ]
    render = pages._PAGE_RENDERERS["topics"]

    async def slow(interaction: Any, page: int) -> Any:
        await asyncio.sleep(pages.ANSWER_WITHIN_S + 0.5)  # a store busy past Discord's 3 s
        return await render(interaction, page)

    monkeypatch.setitem(pages._PAGE_RENDERERS, "topics", slow)
    pressed = await harness.double.click(listing.message, next_page["custom_id"], g.members[0].id)
    assert pressed.callback_type == 6
    await pressed.wait_edits(1)
    assert "page 2 of" in all_text(pressed.message)


MEMBER_PERMISSIONS = 1 << 31  # use application commands, nothing more


async def test_the_audit_log_and_its_pages_refuse_a_member_whom_an_admin_showed_them_to(
    harness: Harness,
):
    """A server admin may show /audit to everyone in Integrations; the bot checks itself."""
    g = harness.first
    for n in range(12):  # more than a page of entries
        await harness.slash(g, g.moderator.id, "settings", {"min_quality": 30 + n})
    member = g.members[0].id
    refused = await harness.slash(g, member, "audit", permissions=MEMBER_PERMISSIONS, force=True)
    assert refused.message.flags & EPHEMERAL
    assert refused.content.startswith("Only moderators can do this")
    log = await harness.slash(g, g.moderator.id, "audit")
    (next_page,) = [
        c for row in log.message.components for c in row["components"] if c.get("label") == "Next ▶"
    ]
    pressed = await harness.double.click(
        log.message, next_page["custom_id"], member, permissions=MEMBER_PERMISSIONS
    )
    assert pressed.message.flags & EPHEMERAL
    assert pressed.content.startswith("Only moderators can do this")


async def test_a_related_entrys_hostile_title_and_outlet_link_only_to_the_entry(
    make_harness: Any,
):
    harness = await make_harness(seed=False)
    g = harness.first
    hostile = f"{MASKED} **now** @everyone <@&123456789012345678>"
    article = await story(
        harness,
        1,
        title="Ferry strike hits harbour",
        topics=["Transport"],
        related=[
            {
                "title": f"Ferry strike {hostile}",
                "webUrl": "https://cover.example/1",
                "provider": {"name": f"Outlet {hostile}", "domain": "cover.example"},
                "excerpt": hostile,
            },
            {"title": "Ferry strike, script", "webUrl": "javascript:alert(1)"},
            {"title": "Ferry strike, data", "webUrl": "data:text/html,hi"},
        ],
    )
    await followed_and_routed(harness, "Transport")
    await harness.deliver()
    related = await harness.slash(g, g.members[0].id, "related", {"story": article.id})
    seen = {
        "related": related.followups[0],
        "post": harness.double.messages_in(g.alerts.id, include_ephemeral=False)[-1],
        "dm": harness.double.dms_to(g.members[0].id)[-1],
    }
    for where, message in seen.items():
        text = all_text(message)
        assert [url for _, url in links(text)] == ["https://cover.example/1"], (where, text)
        assert rendered_markup(text) == [], (where, text)
        assert "script" not in text and "Ferry strike, data" not in text, where
