"""A topic typed slightly wrong, wherever a topic is typed: `/subscribe`, `/latest`,
`/feed add`, `/feed remove`, `/unsubscribe` all name it by one rule (the exact name, else the
one folding alike, else "Did you mean" the ones folding alike or the close spellings), and a
member or moderator who misspells it is told which topic they likely meant."""

from __future__ import annotations

from tests.bot.harness import EPHEMERAL, Harness


async def carrying(harness: Harness, n: int, topics: list[str], **fields: object) -> None:
    """An article of its own carrying ``topics``."""
    url = f"https://naming.example/{n}"
    await harness.add_article(
        originalUrl=url, webUrl=url, title=f"Story {n}", topics=topics, related=[], **fields
    )


async def test_subscribe_to_a_misspelled_topic_names_the_close_one(harness: Harness):
    await carrying(harness, 1, ["Climate", "Elections"])
    member = harness.first.members[0].id
    result = await harness.slash(harness.first, member, "subscribe", {"topic": "climte"})
    assert result.message.flags & EPHEMERAL
    assert result.content == (
        "There is no topic called “climte”. Did you mean Climate? Pick one of the suggestions."
    )
    assert await harness.store.subscriptions.for_member(harness.first.id, member) == []


async def test_latest_and_feed_add_with_a_misspelled_topic_name_the_close_one(harness: Harness):
    await carrying(harness, 1, ["Climate"], published=True)
    g = harness.first
    latest = await harness.slash(g, g.members[0].id, "latest", {"topic": "Climat"})
    assert latest.message.flags & EPHEMERAL
    assert "Did you mean Climate?" in latest.content
    feed = await harness.slash(
        g, g.moderator.id, "feed add", {"channel": g.alerts.id, "topic": "climatte"}
    )
    assert feed.message.flags & EPHEMERAL
    assert "Did you mean Climate?" in feed.content
    assert await harness.store.feeds.for_guild(g.id) == []


async def test_a_name_far_from_every_topic_suggests_nothing(harness: Harness):
    await carrying(harness, 1, ["Climate"])
    result = await harness.slash(
        harness.first, harness.first.members[0].id, "subscribe", {"topic": "gardening"}
    )
    assert result.content == (
        "There is no topic called “gardening”. Start typing and pick one of the suggestions, "
        "or see them all with `/topics`."
    )


async def test_several_close_topics_are_all_offered_most_used_first(harness: Harness):
    await carrying(harness, 1, ["Economy"])
    await carrying(harness, 2, ["Ecology"])
    await carrying(harness, 3, ["Ecology"])
    result = await harness.slash(
        harness.first, harness.first.members[0].id, "subscribe", {"topic": "ecoomy"}
    )
    assert result.content == (
        "There is no topic called “ecoomy”. Did you mean Economy? Pick one of the suggestions."
    )
    both = await harness.slash(
        harness.first, harness.first.members[0].id, "subscribe", {"topic": "ecolomy"}
    )
    assert "Did you mean Ecology or Economy?" in both.content


async def test_a_close_topic_that_is_another_servers_own_is_not_suggested(harness: Harness):
    await carrying(harness, 1, ["Harbour Works"], origin_guild=harness.second.id)
    result = await harness.slash(
        harness.first, harness.first.members[0].id, "subscribe", {"topic": "harbour work"}
    )
    assert "Did you mean" not in result.content
    assert "Harbour" not in result.content.replace("“harbour work”", "")


async def test_a_suggested_name_cannot_ping_anyone(harness: Harness):
    await carrying(harness, 1, ["@everyone"])
    result = await harness.slash(
        harness.first, harness.first.members[0].id, "subscribe", {"topic": "@everyon"}
    )
    assert "Did you mean" in result.content
    assert "@everyone" not in result.content
    assert not result.message.allowed_mentions.get("parse")


async def test_feed_remove_with_a_misspelled_topic_names_the_channels_close_feed(
    harness: Harness,
):
    await carrying(harness, 1, ["Climate", "Elections"])
    g = harness.first
    for topic in ("Climate", "Elections"):
        await harness.slash(g, g.moderator.id, "feed add", {"channel": g.alerts.id, "topic": topic})
    wrong = await harness.slash(
        g, g.moderator.id, "feed remove", {"channel": g.alerts.id, "topic": "climte"}
    )
    assert wrong.message.flags & EPHEMERAL
    assert wrong.content == (
        f"<#{g.alerts.id}> has no feed for “climte”. Did you mean Climate? "
        "Pick one of the suggestions; `/feed list` shows this server's feeds."
    )
    assert len(await harness.store.feeds.for_guild(g.id)) == 2
    right = await harness.slash(
        g, g.moderator.id, "feed remove", {"channel": g.alerts.id, "topic": "climate"}
    )
    assert right.content == f"Removed 1 feed from <#{g.alerts.id}>."


async def test_feed_remove_of_a_name_two_feeds_fold_as_asks_which_one(harness: Harness):
    await carrying(harness, 1, ["Québec", "Quebéc"])
    g = harness.first
    for topic in ("Québec", "Quebéc"):
        await harness.slash(g, g.moderator.id, "feed add", {"channel": g.alerts.id, "topic": topic})
    result = await harness.slash(
        g, g.moderator.id, "feed remove", {"channel": g.alerts.id, "topic": "quebec"}
    )
    assert result.content == "Did you mean Quebéc or Québec? Pick one of the suggestions."
    assert len(await harness.store.feeds.for_guild(g.id)) == 2


async def test_unsubscribe_from_a_topic_not_followed_names_the_close_ones_followed(
    harness: Harness,
):
    await carrying(harness, 1, ["Climate", "Elections", "Climbing"])
    g = harness.first
    member = g.members[0].id
    await harness.slash(g, member, "subscribe", {"topic": "Climate"})
    await harness.slash(g, member, "subscribe", {"topic": "Elections"})
    result = await harness.slash(g, member, "unsubscribe", {"topic": "climte"})
    assert result.message.flags & EPHEMERAL
    assert result.content == (
        "You are not subscribed to “climte” here. Did you mean Climate? "
        "`/subscriptions` lists the topics you follow."
    )
    assert len(await harness.store.subscriptions.for_member(g.id, member)) == 2
    far = await harness.slash(g, member, "unsubscribe", {"topic": "Gardening"})
    assert far.content == (
        "You are not subscribed to “Gardening” here. `/subscriptions` lists the topics you follow."
    )


async def test_autocomplete_offers_the_close_spellings_when_nothing_holds_what_is_typed(
    harness: Harness,
):
    await carrying(harness, 1, ["Climate", "Elections", "Climbing"])
    g = harness.first
    offered = await harness.autocomplete(
        g, g.members[0].id, "subscribe", {"topic": "climte"}, "topic"
    )
    assert [c["value"] for c in offered] == ["Climate"]
    latest = await harness.autocomplete(
        g, g.members[0].id, "latest", {"topic": "elcetions"}, "topic"
    )
    assert [c["value"] for c in latest] == ["Elections"]
    none = await harness.autocomplete(g, g.members[0].id, "subscribe", {"topic": "zzzzzz"}, "topic")
    assert none == []
