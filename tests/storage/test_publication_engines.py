"""Publication as each guild sees it, the same tests on both engines
(``storage.api.PublicationApi``): the visibility rule in every state, moderators' lists, counts,
and title autocomplete."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.models import PublicationState
from storage.postgresql import titles
from storage.publication import SUGGEST_POOL
from tests.storage.rows import add_article

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DAY = 86_400
T0 = 1_790_000_000
GUILD, OTHER, MOD = 1, 2, 99


async def decide(store, guild: int, article_id: str, state: PublicationState) -> None:
    await store.publication.decide(guild, article_id, state, MOD, NOW)


def names(listed) -> list[str]:
    return [item.article.canonical_url.split("/")[2].removesuffix(".example") for item in listed]


async def every_state(store) -> None:
    """One article in each state the rule knows, newest last."""
    await add_article(store, "source", at=T0, published=True)
    await add_article(store, "waiting", at=T0 + 1)
    await add_article(store, "coverage", at=T0 + 2, coverage=True)
    await decide(store, GUILD, await add_article(store, "pulled", at=T0 + 3, published=True),
                 "retracted")  # fmt: skip
    await decide(store, GUILD, await add_article(store, "picked", at=T0 + 4), "published")
    own = await add_article(store, "own", at=T0 + 5, origin=GUILD)
    await decide(store, GUILD, own, "published")
    await add_article(store, "ownpending", at=T0 + 6, origin=GUILD)
    theirs = await add_article(store, "theirs", at=T0 + 7, published=True, origin=OTHER)
    await decide(store, OTHER, theirs, "published")


async def test_members_lists_follow_the_rule_in_every_state(any_store):
    await every_state(any_store)
    published = await any_store.publication.listing(GUILD, "published", limit=50)
    assert names(published) == ["own", "picked", "source"]  # newest first, full articles
    assert {item.state for item in published} == {"published"}
    assert names(await any_store.publication.listing(OTHER, "published", limit=50)) == [
        "theirs",
        "pulled",
        "source",
    ]
    assert await any_store.publication.count(GUILD, "published") == 3


async def test_moderators_see_each_state_and_never_another_guilds_own(any_store):
    await every_state(any_store)
    listed = await any_store.publication.listing(GUILD, "any", limit=50)
    assert [(name, item.state) for name, item in zip(names(listed), listed, strict=True)] == [
        ("ownpending", "pending"),
        ("own", "published"),
        ("picked", "published"),
        ("pulled", "retracted"),
        ("waiting", "pending"),
        ("source", "published"),
    ]
    assert names(await any_store.publication.pending(GUILD, limit=10)) == ["ownpending", "waiting"]
    assert names(await any_store.publication.pending(GUILD, limit=1, offset=1)) == ["waiting"]
    assert await any_store.publication.count(GUILD, "pending") == 2
    assert await any_store.publication.count(OTHER, "pending") == 2  # waiting, picked


async def test_get_shows_the_article_as_the_guild_sees_it(any_store):
    await every_state(any_store)
    theirs = await any_store.publication.get(OTHER, (await listed_id(any_store, "theirs")))
    assert theirs is not None and theirs.state == "published"
    assert await any_store.publication.get(GUILD, theirs.article.id) is None
    pulled = await listed_id(any_store, "pulled")
    found = await any_store.publication.get(GUILD, f"  {pulled.upper()} ")
    assert found is not None and found.state == "retracted"
    assert (await any_store.publication.get(OTHER, pulled)).state == "published"  # type: ignore[union-attr]
    assert await any_store.publication.get(GUILD, "nosuchid") is None


async def listed_id(store, name: str) -> str:
    listed = await store.publication.listing(OTHER if name == "theirs" else GUILD, "any", limit=50)
    return next(item.article.id for item in listed if names([item]) == [name])


async def test_a_new_decision_replaces_the_last(any_store):
    article = await add_article(any_store, "waiting", at=T0)
    await decide(any_store, GUILD, article, "published")
    await decide(any_store, GUILD, article, "retracted")
    found = await any_store.publication.get(GUILD, article)
    assert found is not None and found.state == "retracted"
    assert await any_store.publication.count(GUILD, "published") == 0


async def test_lists_filter_by_quality_and_topic(any_store):
    await add_article(any_store, "low", at=T0, published=True, quality=20, topics=["Ports"])
    await add_article(any_store, "high", at=T0 + 1, published=True, quality=80, topics=["Ports"])
    await add_article(any_store, "other", at=T0 + 2, published=True, quality=90, topics=["AI"])
    listing = any_store.publication.listing
    assert names(await listing(GUILD, "published", limit=9, min_quality=50)) == ["other", "high"]
    assert names(await listing(GUILD, "published", limit=9, topic_key="ports")) == ["high", "low"]
    assert names(await listing(GUILD, "published", limit=9, topic_key="nothing")) == []


async def test_autocomplete_matches_title_words_and_a_typed_prefix(any_store):
    add = add_article
    await add(any_store, "a", at=T0, published=True, title="Harbour ferries resume service")
    await add(any_store, "b", at=T0 + DAY, published=True, title="Ferries strike at the harbour")
    await add(any_store, "c", at=T0 + 2 * DAY, title="Harbour ferry pending review")
    await add(any_store, "d", at=T0 + 3 * DAY, published=True, title="Zürich trams")
    suggest = any_store.publication.suggest
    assert set(names(await suggest(GUILD, ["harbour", "ferries"], "published"))) == {"a", "b"}
    assert names(await suggest(GUILD, ["harbour", "fer"], "pending")) == ["c"]
    assert names(await suggest(GUILD, ["zurich"], "published")) == ["d"]  # accents fold
    assert names(await suggest(GUILD, ["fe"], "any")) == []  # two letters: a whole word only
    assert names(await suggest(GUILD, [], "published", limit=2)) == ["d", "b"]  # newest


async def test_autocomplete_never_reads_typed_text_as_query_syntax(any_store):
    await add_article(any_store, "a", at=T0, published=True, title="Harbour ferries resume")
    suggest = any_store.publication.suggest
    for hostile in (["harbour", "&", "!"], ["harbour:*"], ["'harbour'"], ["(harbour"], ["\x00"]):
        assert names(await suggest(GUILD, hostile, "published")) in (["a"], []), hostile
    assert names(await suggest(GUILD, ["harbour)", "|ferries"], "published")) == ["a"]


async def test_typed_text_without_a_word_offers_nothing(any_store):
    await add_article(any_store, "a", at=T0, published=True, title="Harbour ferries resume")
    for typed in (["🚓"], ["!!!"], ["(((", "&"]):
        assert names(await any_store.publication.suggest(GUILD, typed, "published")) == [], typed


async def test_autocomplete_of_a_common_word_offers_the_newest_matches(any_store):
    # more matches than autocomplete ranks (SUGGEST_POOL): the latest stored are offered,
    # so the best title, stored first, is not among them
    await add_article(any_store, "first", at=T0 + DAY, published=True, title="Harbour")
    for n in range(SUGGEST_POOL + 50):
        title = f"Harbour ferries update number {n:04d}"
        await add_article(any_store, f"h{n}", at=T0 + n, published=True, title=title)
    offered = await any_store.publication.suggest(GUILD, ["harbour"], "published", limit=3)
    assert names(offered) == [f"h{n}" for n in (449, 448, 447)]
    rare = await any_store.publication.suggest(GUILD, ["harbour", "0007"], "published")
    assert names(rare) in (["h7"], [])  # a number is a word on SQLite only


async def test_autocomplete_finds_a_rare_pair_behind_many_newer_matches_of_the_last_word(
    any_store, monkeypatch
):
    # PostgreSQL checks the newest few candidates of the last word against the other words,
    # then asks the title index for the rest: the old match is found either way
    monkeypatch.setattr(titles, "_WALKED", 5)
    await add_article(any_store, "old", at=T0, published=True, title="Harbour pilots strike")
    for n in range(20):
        title = f"Ferries harbour update {n:02d}"
        await add_article(any_store, f"h{n}", at=T0 + 1 + n, published=True, title=title)
    offered = await any_store.publication.suggest(GUILD, ["pilots", "harb"], "published")
    assert names(offered) == ["old"]
    newest = await any_store.publication.suggest(GUILD, ["update", "harb"], "published", limit=2)
    assert names(newest) == ["h19", "h18"]
