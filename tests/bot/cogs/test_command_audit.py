"""The slash commands as members get them wrong and as a troublemaker tries them: what each
one answers, and what one server's people can learn of another's."""

from __future__ import annotations

import asyncio
import re

import asyncpg
import pytest

from bot.errors import STORE_LOST
from tests.bot.harness import EPHEMERAL, Harness
from tests.postgresql import until_sessions_wait_for_locks

SECRET = "https://acme-intranet.example/layoffs"


async def private_article(harness: Harness) -> str:
    """The first server's moderators add (and publish) an article of their own, under a topic
    no other article carries; returns its id."""
    g = harness.first
    added = await harness.slash(
        g,
        g.moderator.id,
        "article add",
        {"url": SECRET, "title": "Acme plans layoffs", "topics": "Acme Layoffs", "publish": True},
    )
    assert added.content.startswith("Added “Acme plans layoffs”"), added.content
    article = await harness.store.articles.get_by_url(SECRET)
    assert article is not None
    return article.id


async def test_another_servers_own_topic_is_not_offered_nor_accepted(harness: Harness):
    await private_article(harness)
    g, other = harness.first, harness.second
    member, moderator = other.members[0].id, other.moderator.id
    for command, options in [
        ("subscribe", {"topic": "acme"}),
        ("latest", {"topic": "acme"}),
        ("feed add", {"channel": other.alerts.id, "topic": "acme"}),
    ]:
        offered = await harness.autocomplete(other, moderator, command, options, "topic")
        assert "Acme Layoffs" not in [c["value"] for c in offered], command
    nowhere = "There is no topic called “Acme Layoffs”."
    for user, command, options in [
        (member, "subscribe", {"topic": "Acme Layoffs"}),
        (member, "latest", {"topic": "acme layoffs"}),
        (moderator, "feed add", {"channel": other.alerts.id, "topic": "Acme Layoffs"}),
    ]:
        refused = await harness.slash(other, user, command, options)
        assert refused.message.flags & EPHEMERAL
        assert refused.content.startswith(nowhere.replace("Acme Layoffs", options["topic"]))
    assert await harness.store.subscriptions.count(other.id, member) == 0
    assert await harness.store.feeds.for_guild(other.id) == []
    # its own server names it
    here = await harness.autocomplete(g, g.members[0].id, "subscribe", {"topic": "acme"}, "topic")
    assert [c["value"] for c in here] == ["Acme Layoffs"]
    followed = await harness.slash(g, g.members[0].id, "subscribe", {"topic": "acme layoffs"})
    assert followed.content.startswith("Subscribed to **Acme Layoffs**")


async def add(harness: Harness, **fields: object) -> str:
    g = harness.first
    result = await harness.slash(g, g.moderator.id, "article add", dict(fields))
    assert result.message.flags & EPHEMERAL
    return result.content or ""


@pytest.mark.parametrize(
    ("title", "topics", "expected"),
    [
        ("Fête", " , ,  ", "`topics`: give at least one topic, such as `Privacy, AI`."),
        (
            "Fête",
            "\u200b, \u2800,\u3164",
            "`topics`: give at least one topic, such as `Privacy, AI`.",
        ),
        ("\u200b", "Community", "`title`: type the article's headline."),
        ("\u202e\u200d", "Community", "`title`: type the article's headline."),
    ],
)
async def test_article_add_refuses_a_title_or_topics_that_show_nothing(
    harness: Harness, title: str, topics: str, expected: str
):
    url = "https://local.example/news/fete"
    assert await add(harness, url=url, title=title, topics=topics) == expected
    assert await harness.store.articles.get_by_url(url) is None
    assert await harness.store.audit.recent(harness.first.id) == []


async def test_article_add_drops_an_invisible_topic_beside_real_ones(harness: Harness):
    url = "https://local.example/news/fete"
    shown = await add(harness, url=url, title="Fête", topics="Community, \u200b")
    assert shown.startswith("Added “Fête”")
    article = await harness.store.articles.get_by_url(url)
    assert article is not None
    assert article.topics == ("Community",)
    g = harness.first
    offered = await harness.autocomplete(g, g.members[0].id, "latest", {"topic": ""}, "topic")
    assert [c["value"] for c in offered if not c["value"].strip("\u200b")] == []


async def test_article_add_says_how_long_a_topic_may_be(harness: Harness):
    shown = await add(harness, url="https://l.example/a", title="t", topics="x" * 300)
    assert shown.startswith("`topics[0]`: String should have at most 100 characters (got 'xxx")


async def test_article_add_of_another_servers_own_link_names_nothing_of_it(harness: Harness):
    secret_id = await private_article(harness)
    other = harness.second
    refused = await harness.slash(
        other,
        other.moderator.id,
        "article add",
        {"url": SECRET + "?utm_source=x", "title": "Layoffs", "topics": "Jobs"},
    )
    assert refused.message.flags & EPHEMERAL
    assert (
        refused.content == "Another server added that link for itself, so it can't be added here."
    )
    assert secret_id not in refused.content
    assert await harness.store.audit.recent(other.id) == []
    # a link a file brought is everyone's: its id, and what to do with it
    parcel = "https://securitybrief.example/breaches/parcel-firm-2-million-addresses"
    known = await harness.slash(
        other, other.moderator.id, "article add", {"url": parcel, "title": "x", "topics": "y"}
    )
    assert known.content.endswith("Use `/publish` to publish it.")


async def test_everyone_is_neither_a_moderator_role_nor_a_feed_mention(harness: Harness):
    g = harness.first
    everyone = g.id  # the @everyone role's id is the server's
    refused = await harness.slash(g, g.moderator.id, "settings", {"moderator_role": everyone})
    assert refused.message.flags & EPHEMERAL
    assert refused.content == (
        "`moderator_role` can't be @everyone: pick the role your moderators have "
        "(members with Manage Server moderate already)."
    )
    assert (await harness.store.guild_settings.get(g.id)).moderator_role_id is None
    feed = await harness.slash(
        g, g.moderator.id, "feed add", {"channel": g.alerts.id, "mention_role": everyone}
    )
    assert feed.message.flags & EPHEMERAL
    assert feed.content == (
        "`mention_role` can't be @everyone: Discord does not ping it as a role. "
        "Pick another role, or leave it out."
    )
    assert await harness.store.feeds.for_guild(g.id) == []
    assert await harness.store.audit.recent(g.id) == []


async def test_publish_or_unpublish_of_coverage_says_what_it_is(harness: Harness):
    # members see coverage (with its id in /related's card); a moderator who tries to retract
    # it was told there is no such article here
    await harness.add_article(
        title="Harbour ferries sail without captains",
        webUrl="https://harbour-times.example/ferries/captainless",
        originalUrl=...,
        published=True,
        related=[{"title": "Ferry take", "webUrl": "https://outlet1.example/ferries"}],
    )
    coverage = await harness.store.articles.get_by_url("https://outlet1.example/ferries")
    assert coverage is not None and coverage.coverage_only
    g = harness.first
    card = await harness.slash(g, g.members[0].id, "related", {"story": coverage.id})
    assert card.followups[0].embeds[0]["footer"]["text"] == f"id {coverage.id}"
    for command in ("unpublish", "publish"):
        refused = await harness.slash(g, g.moderator.id, command, {"article": coverage.id})
        assert refused.message.flags & EPHEMERAL
        assert refused.content == (
            f"`{coverage.id}` is another outlet's coverage, listed in a story's file: it shows "
            "with that story, and is not published or retracted on its own."
        )
    assert await harness.store.audit.recent(g.id) == []
    # nor is it added by hand: no other server added it, and /publish would refuse it
    added = await harness.slash(
        g,
        g.moderator.id,
        "article add",
        {"url": "https://outlet1.example/ferries", "title": "Ferry take", "topics": "Transport"},
    )
    assert added.message.flags & EPHEMERAL
    assert added.content == (
        f"That link is another outlet's coverage (`{coverage.id}`), listed in a story's file: it "
        "shows with that story, and can't be added or published on its own."
    )
    assert await harness.store.audit.recent(g.id) == []


HOSTILE = "@everyone @here <@&123456789012345678> <@123456789012345678> `x` ||s|| [go](https://evil.example)"


def unsafe(text: str) -> list[str]:
    """What in ``text`` would ping someone or format as the writer meant, as Discord reads it."""
    found = []
    for ping in ("@everyone", "@here", "<@&123456789012345678>", "<@123456789012345678>"):
        if ping in text:
            found.append(ping)
    for markup in ("`x`", "||s||", "[go](https://evil.example)"):
        if re.search(r"(?<!\\)" + re.escape(markup), text):  # a backslash shows it as typed
            found.append(markup)
    return found


def message_text(message) -> str:
    parts = [message.content or ""]
    for embed in message.embeds:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields", [])]
    return "\n".join(parts)


async def test_hostile_article_text_neither_pings_nor_formats_anywhere(harness: Harness):
    fields = {
        "originalUrl": ...,
        "related": [],
        "title": f"Harbour ferry strike {HOSTILE} " + "long " * 80,
        "excerpt": f"Harbour ferry strike {HOSTILE}",
        "provider": {"name": f"Outlet {HOSTILE}", "domain": "outlet.example"},
        "topics": ["Harbour ||s||", "<@&123456789012345678>"],
    }
    story = await harness.add_article(webUrl="https://outlet.example/a", published=True, **fields)
    await harness.add_article(webUrl="https://outlet.example/b", published=False, **fields)
    g = harness.first
    member, moderator = g.members[0].id, g.moderator.id
    for command, options, focused in [
        ("publish", {"article": "harbour"}, "article"),
        ("unpublish", {"article": "harbour"}, "article"),
        ("related", {"story": "harbour"}, "story"),
        ("subscribe", {"topic": ""}, "topic"),
    ]:
        choices = await harness.autocomplete(g, moderator, command, options, focused)
        assert choices, command
        assert len(choices) <= 25
        assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices), command
    seen = []
    for user, command, options in [
        (member, "latest", None),
        (member, "related", {"query": "harbour ferry strike"}),
        (member, "related", {"story": story.id}),
        (member, "topics", None),
        (moderator, "queue", None),
        (moderator, "publish", {"article": story.id}),  # already published: quotes its title
        (moderator, "unpublish", {"article": story.id}),
    ]:
        result = await harness.slash(g, user, command, options)
        message = result.followups[0] if result.callback_type == 5 else result.message
        assert message.allowed_mentions.get("parse") == [], command
        assert not message.allowed_mentions.get("roles"), command
        assert not message.allowed_mentions.get("users"), command
        assert unsafe(message_text(message)) == [], (command, message_text(message))
        seen.append(message_text(message))
    assert all("Harbour" in text for text in seen), seen  # each shows the hostile text


MEMBER_PERMISSIONS = 1 << 31  # use application commands, nothing more
NOT_A_MODERATOR = (
    "Only moderators can do this: you need the Manage Server permission "
    "or this server's moderator role."
)


async def test_feed_and_settings_changes_by_a_member_are_refused_and_leave_no_trace(
    harness: Harness,
):
    g = harness.first
    await harness.slash(g, g.moderator.id, "feed add", {"channel": g.alerts.id})
    await harness.slash(g, g.moderator.id, "settings", {"min_quality": 40})
    before = await harness.store.audit.recent(g.id)
    member = g.members[0].id
    for command, options in [
        ("feed add", {"channel": g.general.id}),
        ("feed remove", {"channel": g.alerts.id}),
        ("settings", {"reset": "min_quality"}),
        ("settings", {"moderator_role": g.member_role.id}),
    ]:
        refused = await harness.slash(
            g, member, command, options, permissions=MEMBER_PERMISSIONS, force=True
        )
        assert refused.message.flags & EPHEMERAL, command
        assert refused.content == NOT_A_MODERATOR, command
    assert [f.channel_id for f in await harness.store.feeds.for_guild(g.id)] == [g.alerts.id]
    settings = await harness.store.guild_settings.get(g.id)
    assert (settings.min_quality, settings.moderator_role_id) == (40, None)
    assert await harness.store.audit.recent(g.id) == before


async def test_queue_paging_refuses_a_member_who_is_not_a_moderator(harness: Harness):
    for n in range(6):
        await harness.add_article(
            title=f"Pending story number {n}",
            webUrl=f"https://queue.example/{n}",
            originalUrl=...,
            related=[],
        )
    g = harness.first
    queue = await harness.slash(g, g.moderator.id, "queue")
    (next_page,) = [
        c
        for row in queue.message.components
        for c in row["components"]
        if c.get("label") == "Next ▶"
    ]
    crafted = await harness.double.click(
        queue.message, next_page["custom_id"], g.members[0].id, permissions=MEMBER_PERMISSIONS
    )
    assert crafted.message.flags & EPHEMERAL
    assert crafted.content == NOT_A_MODERATOR
    assert queue.message.embeds[0]["title"].startswith("1. ")  # the moderator's page unchanged


async def test_a_moderator_of_one_server_has_no_power_in_another(harness: Harness):
    a, b = harness.first, harness.second
    helper = a.members[1]
    await harness.slash(a, a.moderator.id, "settings", {"moderator_role": a.member_role.id})
    assert a.member_role.id in a.guild.members[helper.id].roles
    harness.double.world.add_member(b.guild, helper)
    for user in (helper.id, a.moderator.id):
        if user not in b.guild.members:
            harness.double.world.add_member(b.guild, harness.double.world.users[user])
        for command, options in [("queue", None), ("settings", {"min_quality": 0})]:
            refused = await harness.slash(
                b, user, command, options, permissions=MEMBER_PERMISSIONS, force=True
            )
            assert refused.content == NOT_A_MODERATOR, (user, command)
        assert (
            await harness.autocomplete(
                b, user, "publish", {"article": "parcel"}, "article", permissions=MEMBER_PERMISSIONS
            )
            == []
        )
    assert (await harness.store.guild_settings.get(b.id)).min_quality is None
    assert await harness.store.audit.recent(b.id) == []


@pytest.mark.parametrize("blank", ["   ", "\t"])
async def test_blank_names_are_asked_for_not_quoted_back_empty(harness: Harness, blank: str):
    g = harness.first
    member, moderator = g.members[0].id, g.moderator.id
    expected = {
        "unsubscribe": "Type one of your topics, then pick it from the suggestions. "
        "`/subscriptions` lists the topics you follow.",
        "publish": "Start typing an article's title and pick one of the suggestions, "
        "or use `/queue`.",
        "unpublish": "Start typing an article's title and pick one of the suggestions, "
        "or use `/queue`.",
        "related": "Start typing a story's title and pick one of the suggestions.",
    }
    for user, command, option in [
        (member, "unsubscribe", "topic"),
        (moderator, "publish", "article"),
        (moderator, "unpublish", "article"),
        (member, "related", "story"),
    ]:
        result = await harness.slash(g, user, command, {option: blank})
        message = result.followups[0] if result.callback_type == 5 else result.message
        assert message.flags & EPHEMERAL, command
        assert message.content == expected[command], command


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
async def test_a_command_whose_database_session_ends_says_so_and_the_next_one_works(
    harness: Harness, postgresql_database_url: str
):
    # the server restarts, or an administrator ends the bot's sessions, while /subscribe waits
    # on a lock: the member reads what happened (not "something went wrong" with an error id)
    g = harness.first
    member = g.members[0].id
    admin = await asyncpg.connect(postgresql_database_url)
    try:
        async with admin.transaction():
            await admin.execute("LOCK TABLE subscriptions IN ACCESS EXCLUSIVE MODE")
            answer = asyncio.ensure_future(harness.slash(g, member, "subscribe", {"topic": "AI"}))
            await until_sessions_wait_for_locks(admin, 1, "/subscribe never waited on the lock")
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            refused = await answer
    finally:
        await admin.close()
    assert refused.message.flags & EPHEMERAL
    assert refused.content == STORE_LOST
    followed = await harness.slash(g, member, "subscribe", {"topic": "AI"})
    assert followed.content.startswith("Subscribed to **ai**")
