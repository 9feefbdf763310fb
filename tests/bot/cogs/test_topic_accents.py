"""Topics typed without accents: a member on a phone or an English keyboard types `quebec`,
`zurich` or `sao paulo` and is offered, and can follow, Québec, Zürich and São Paulo."""

from __future__ import annotations

from typing import Any

from tests.bot.harness import EPHEMERAL, Harness
from tests.discord_double.plugin import GuildWorld

ACCENTED = ["Québec", "Zürich", "São Paulo", "Café", "Señor"]


async def carrying(harness: Harness, n: int, topics: list[str], **fields: Any) -> None:
    """An article of its own carrying ``topics``."""
    url = f"https://accents.example/{n}"
    await harness.add_article(
        originalUrl=url, webUrl=url, title=f"Story {n}", topics=topics, related=[], **fields
    )


async def offered(harness: Harness, typed: str, *, guild: GuildWorld | None = None) -> list[str]:
    world = guild or harness.first
    choices = await harness.autocomplete(
        world, world.members[0].id, "subscribe", {"topic": typed}, "topic"
    )
    return [c["value"] for c in choices]


async def test_autocomplete_offers_accented_topics_to_text_typed_without_accents(
    harness: Harness,
):
    await carrying(harness, 1, ACCENTED)
    assert (await offered(harness, "quebec"))[0] == "Québec"
    assert (await offered(harness, "zurich"))[0] == "Zürich"
    assert (await offered(harness, "sao"))[0] == "São Paulo"
    assert (await offered(harness, "SAO PAULO"))[0] == "São Paulo"
    assert (await offered(harness, "paulo"))[0] == "São Paulo"  # a word of the name
    assert (await offered(harness, "cafe"))[0] == "Café"
    assert (await offered(harness, "senor"))[0] == "Señor"
    assert (await offered(harness, "Québec"))[0] == "Québec"  # typed with its accent too


async def test_a_name_folding_alike_comes_before_busier_topics_that_only_start_with_it(
    harness: Harness,
):
    await carrying(harness, 1, ["Québec"])
    for n in range(2, 5):
        await carrying(harness, n, ["Quebec City"])
    assert (await offered(harness, "quebec"))[:2] == ["Québec", "Quebec City"]


async def test_two_topics_folding_alike_are_both_offered_the_exact_one_first(harness: Harness):
    await carrying(harness, 1, ["Québec"])
    await carrying(harness, 2, ["Quebec"])
    await carrying(harness, 3, ["Québec"])  # the accented one is the busier
    assert (await offered(harness, "quebec"))[:2] == ["Quebec", "Québec"]
    assert (await offered(harness, "québec"))[:2] == ["Québec", "Quebec"]


async def test_subscribing_to_a_name_typed_without_accents_follows_the_accented_topic(
    harness: Harness,
):
    await carrying(harness, 1, ACCENTED)
    member = harness.first.members[0].id
    result = await harness.slash(harness.first, member, "subscribe", {"topic": "quebec"})
    assert result.message.flags & EPHEMERAL
    assert result.content == "Subscribed to **Québec** — instant, quality 0+."
    again = await harness.slash(harness.first, member, "subscribe", {"topic": "SAO  PAULO"})
    assert again.content == "Subscribed to **São Paulo** — instant, quality 0+."

    own = await harness.autocomplete(
        harness.first, member, "unsubscribe", {"topic": "sao"}, "topic"
    )
    assert [c["value"] for c in own] == ["São Paulo"]
    gone = await harness.slash(harness.first, member, "unsubscribe", {"topic": "quebec"})
    assert gone.content == "Unsubscribed from **Québec**."


async def test_latest_and_feed_add_and_remove_take_a_name_typed_without_accents(harness: Harness):
    await carrying(harness, 1, ["Zürich"], published=True)
    g = harness.first
    latest = await harness.slash(g, g.members[0].id, "latest", {"topic": "zurich"})
    assert latest.embeds[0]["title"] == "Latest in Zürich"
    choices = await harness.autocomplete(
        g, g.moderator.id, "feed add", {"channel": g.alerts.id, "topic": "zur"}, "topic"
    )
    assert [c["value"] for c in choices] == ["Zürich"]
    feed = await harness.slash(
        g, g.moderator.id, "feed add", {"channel": g.alerts.id, "topic": "zurich"}
    )
    assert feed.content == f"Added feed: <#{g.alerts.id}> ← **Zürich**, quality 20+"
    routed = await harness.autocomplete(
        g, g.moderator.id, "feed remove", {"channel": g.alerts.id, "topic": "zur"}, "topic"
    )
    assert [c["value"] for c in routed] == ["Zürich"]
    removed = await harness.slash(
        g, g.moderator.id, "feed remove", {"channel": g.alerts.id, "topic": "ZURICH"}
    )
    assert removed.content == f"Removed 1 feed from <#{g.alerts.id}>."


async def test_naming_a_topic_two_topics_fold_as_asks_which_one(harness: Harness):
    await carrying(harness, 1, ["Québec"])
    await carrying(harness, 2, ["Quebéc"])
    result = await harness.slash(
        harness.first, harness.first.members[0].id, "subscribe", {"topic": "quebec"}
    )
    assert result.message.flags & EPHEMERAL
    assert result.content == "Did you mean Quebéc or Québec? Pick one of the suggestions."
    exact = await harness.slash(
        harness.first, harness.first.members[0].id, "subscribe", {"topic": "quebéc"}
    )
    assert exact.content == "Subscribed to **Quebéc** — instant, quality 0+."


async def test_another_guilds_own_accented_topic_is_neither_offered_nor_followed(
    harness: Harness,
):
    await carrying(harness, 1, ["Zürich Local"], origin_guild=harness.second.id)
    assert await offered(harness, "zurich") == []
    assert await offered(harness, "zurich", guild=harness.second) == ["Zürich Local"]
    result = await harness.slash(
        harness.first, harness.first.members[0].id, "subscribe", {"topic": "zurich local"}
    )
    assert result.content.startswith("There is no topic called “zurich local”.")


async def test_an_article_added_by_hand_under_a_name_typed_without_accents_joins_the_topic(
    harness: Harness,
):
    # A moderator types `quebec` in /article add: the members following Québec, and the
    # feed routing it, expect the article; /topics should not grow a second "quebec".
    await carrying(harness, 1, ["Québec"], published=True)
    g = harness.first
    reader = g.members[0].id
    followed = await harness.slash(g, reader, "subscribe", {"topic": "Québec"})
    assert followed.content.startswith("Subscribed to **Québec**")
    routed = await harness.slash(
        g, g.moderator.id, "feed add", {"channel": g.alerts.id, "topic": "Québec"}
    )
    assert routed.content.startswith("Added feed")
    await harness.deliver()
    sent_before = len(harness.double.dms_to(reader))

    added = await harness.slash(
        g,
        g.moderator.id,
        "article add",
        {"url": "https://accents.example/local", "title": "Snow closes the old town",
         "topics": "quebec, Winter", "quality": 70, "publish": True},
    )  # fmt: skip
    assert added.content.startswith("Added “Snow closes the old town”"), added.content
    await harness.deliver()
    dms = harness.double.dms_to(reader)[sent_before:]
    assert [m.embeds[0]["title"] for m in dms] == ["Snow closes the old town"]
    stored = await harness.store.articles.get_by_url("https://accents.example/local")
    assert stored is not None and stored.topics == ("Québec", "Winter")
    posted = harness.double.messages_in(g.alerts.id, include_ephemeral=False)
    assert "Snow closes the old town" in [m.embeds[0]["title"] for m in posted if m.embeds]
    listed = await harness.slash(g, reader, "topics")
    names = [line.split("**")[1] for line in listed.embeds[0]["description"].splitlines()]
    assert sorted(n for n in names if n.casefold() == "québec" or n == "quebec") == ["Québec"]


async def test_article_add_with_a_name_two_topics_fold_as_asks_which_one(harness: Harness):
    await carrying(harness, 1, ["Québec"])
    await carrying(harness, 2, ["Quebéc"])
    g = harness.first
    url = "https://accents.example/local"
    result = await harness.slash(
        g, g.moderator.id, "article add", {"url": url, "title": "Snow", "topics": "quebec"}
    )
    assert result.message.flags & EPHEMERAL
    assert result.content == (
        "`topics`: “quebec” could be Quebéc or Québec. Type the one you mean as it is written."
    )
    assert await harness.store.articles.get_by_url(url) is None
