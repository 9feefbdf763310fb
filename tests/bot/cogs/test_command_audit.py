"""The slash commands as members get them wrong and as a troublemaker tries them: what each
one answers, and what one server's people can learn of another's."""

from __future__ import annotations

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
