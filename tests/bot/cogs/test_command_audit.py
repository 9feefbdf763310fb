"""The slash commands as members get them wrong and as a troublemaker tries them: what each
one answers, and what one server's people can learn of another's."""

from __future__ import annotations

import pytest

from tests.bot.harness import EPHEMERAL, Harness

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
    # its own server names it, and counts the article its members see
    here = await harness.autocomplete(g, g.members[0].id, "subscribe", {"topic": "acme"}, "topic")
    assert here == [{"name": "Acme Layoffs (1)", "value": "Acme Layoffs"}]
    followed = await harness.slash(g, g.members[0].id, "subscribe", {"topic": "acme layoffs"})
    assert followed.content.startswith("Subscribed to **Acme Layoffs**")


async def test_topic_suggestions_count_what_members_of_this_server_see(harness: Harness):
    # /topics and the autocomplete agree: a story retracted here is not counted here
    g, other = harness.first, harness.second
    riverton = await harness.store.articles.get_by_url(
        "https://www.riverton-ledger.example/news/2026/11/20/council-bans-face-scanning"
    )
    assert riverton is not None
    await harness.slash(g, g.moderator.id, "unpublish", {"article": riverton.id})
    listed = await harness.slash(g, g.members[0].id, "topics")
    counts = {
        line.split("**")[1]: int(line.split(" — ")[1].split()[0])
        for line in listed.embeds[0]["description"].splitlines()
    }
    offered = await harness.autocomplete(g, g.members[0].id, "subscribe", {"topic": ""}, "topic")
    for choice in offered:
        count = int(choice["name"].rsplit("(", 1)[1].rstrip(")"))
        assert count == counts.get(choice["value"], 0), choice
    there = await harness.autocomplete(
        other, other.members[0].id, "subscribe", {"topic": "privacy"}, "topic"
    )
    assert there[0]["name"] == f"Privacy ({counts['Privacy'] + 1})"


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
    card = await harness.reply(g, g.members[0].id, "related", {"story": coverage.id})
    assert card.followups[0].embeds[0]["footer"]["text"] == f"id {coverage.id}"
    for command in ("unpublish", "publish"):
        refused = await harness.slash(g, g.moderator.id, command, {"article": coverage.id})
        assert refused.message.flags & EPHEMERAL
        assert refused.content == (
            f"`{coverage.id}` is another outlet's coverage, listed in a story's file: it shows "
            "with that story, and is not published or retracted on its own."
        )
    assert await harness.store.audit.recent(g.id) == []
