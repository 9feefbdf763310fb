"""The one visibility rule (``storage.visibility.members_see``) on a real store, and the topic
counts kept by it: stored (for a guild that decided nothing) and per guild."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.articles.article_file import parse_article
from bot.domain.visibility import NO_GUILD
from storage import Store
from storage.models import ArticleDraft, PublicationState
from storage.publication import StateFilter
from storage.visibility import guild_state, members_see
from tests.factories import article_text
from tests.storage import rows as plain
from tests.storage.legacy import add_article, store_at_version

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
GUILD, OTHER = 1, 2
MOD = 99


def draft(name: str, *, published: bool, topics: list[str], **fields: Any) -> ArticleDraft:
    text = article_text(
        webUrl=f"https://{name}.example/story",
        originalUrl=...,
        title=f"Story from {name}",
        published=published,
        topics=topics,
        related=fields.pop("related", []),
        **fields,
    )
    return parse_article(text.encode(), source=f"{name}.md")


def url(name: str) -> str:
    return f"https://{name}.example/story"


async def put(
    store: Store, name: str, *, published: bool, topics: Sequence[str] = (), **kw: Any
) -> str:
    origin = kw.pop("origin", None)
    await store.articles.upsert_batch(
        [draft(name, published=published, topics=list(topics), **kw)], NOW, origin_guild_id=origin
    )
    found = await store.articles.get_by_url(url(name))
    assert found is not None
    return found.id


async def decide(store: Any, guild: int, article_id: str, state: PublicationState) -> None:
    await store.publication.decide(guild, article_id, state, MOD, NOW)


@pytest.fixture
def store(any_store: Any) -> Any:
    """The store on each engine in turn."""
    return any_store


async def seen(store: Any, guild: int | None) -> set[str]:
    """The names (hosts) of the articles that members of ``guild`` see, by the rule itself
    (either engine)."""
    sql = f"SELECT a.canonical_url FROM articles a WHERE {members_see(guild='?')}"
    rows = await plain.rows(store, sql, *[guild] * sql.count("?"))
    return {row[0].split("/")[2].removesuffix(".example") for row in rows}


async def test_the_rule_in_every_state(store: Any):
    add = plain.add_article
    await add(store, "source", at=1, published=True)
    await add(store, "waiting", at=2)
    await add(store, "coverage", at=3, coverage=True)
    await decide(store, GUILD, await add(store, "pulled", at=4, published=True), "retracted")
    await decide(store, GUILD, await add(store, "picked", at=5), "published")
    own = await add(store, "own", at=6, origin=GUILD)
    await decide(store, GUILD, own, "published")
    await add(store, "ownpending", at=7, origin=GUILD)
    await decide(
        store, OTHER, await add(store, "theirs", at=8, published=True, origin=OTHER), "published"
    )

    everyone = {"source", "coverage"}
    assert await seen(store, GUILD) == everyone | {"picked", "own"}
    assert await seen(store, OTHER) == everyone | {"pulled", "theirs"}
    assert await seen(store, None) == everyone | {"pulled"}
    assert await seen(store, NO_GUILD) == await seen(store, None)


async def test_the_state_moderators_see(store: Any):
    pulled = await plain.add_article(store, "pulled", at=1, published=True)
    await decide(store, GUILD, pulled, "retracted")
    await plain.add_article(store, "waiting", at=2)
    rows = await plain.rows(
        store,
        f"SELECT a.canonical_url, {guild_state(guild='?')} FROM articles a ORDER BY a.pk",
        GUILD,
    )
    assert [r[1] for r in rows] == ["retracted", "pending"]
    lists: list[tuple[StateFilter, list[str]]] = [("pending", ["waiting"]), ("published", [])]
    for state, expected in lists:
        listed = await store.publication.listing(GUILD, state, limit=10)
        assert [a.article.canonical_url for a in listed] == [url(n) for n in expected]


async def brute_force_counts(store: Any, guild: int | None) -> dict[str, int]:
    sql = (
        "SELECT t.name, count(*) FROM article_topics at JOIN articles a ON a.pk = at.article_pk "
        f"JOIN topics t ON t.id = at.topic_id WHERE {members_see(guild='?')} GROUP BY t.name"
    )
    return dict(await plain.rows(store, sql, *[guild] * sql.count("?")))


async def assert_counts_follow_the_rule(store: Any) -> None:
    stored = {t.name: t.article_count for t in await store.topics.most_used(limit=1000)}
    expected = await brute_force_counts(store, None)
    assert {n: c for n, c in stored.items() if c} == expected
    assert all(c >= 0 for c in stored.values())
    for guild in (GUILD, OTHER, NO_GUILD):
        counted = {t.name: t.article_count for t in await store.topics.seen_in(guild, limit=1000)}
        assert counted == await brute_force_counts(store, guild), guild
        assert await store.topics.count_seen_in(guild) == len(counted)


async def test_topic_counts_follow_the_rule_through_every_change(store: Any):
    check = assert_counts_follow_the_rule
    await put(store, "a", published=True, topics=["Ports", "Labour"])
    await put(store, "b", published=False, topics=["Ports"])
    related = [{"title": "Covered", "webUrl": url("c"), "publishedDateTime": "2026-11-20"}]
    await put(store, "lister", published=True, topics=["Labour"], related=related)
    await check(store)

    await put(store, "b", published=True, topics=["Ports", "Weather"])  # the source publishes
    await put(store, "a", published=False, topics=["Ports", "Labour"])  # and takes one back
    await check(store)
    await put(store, "c", published=True, topics=["Ports", "Covered Topic"])  # coverage -> full
    await check(store)

    own = await put(store, "own", published=False, topics=["Local", "Ports"], origin=GUILD)
    await decide(store, GUILD, own, "published")
    await decide(store, GUILD, await put(store, "b", published=True, topics=["Ports"]), "retracted")
    await decide(
        store, OTHER, await put(store, "a", published=False, topics=["Ports"]), "published"
    )
    await check(store)

    await put(store, "own", published=True, topics=["Local", "Ports"])  # a file takes it over
    await check(store)
    await decide(store, GUILD, own, "retracted")
    await check(store)

    await plain.run(store, "DELETE FROM articles WHERE canonical_url = ?", url("b"))
    await plain.run(store, "DELETE FROM articles WHERE canonical_url = ?", url("own"))
    await check(store)
    assert {t.name for t in await store.topics.seen_in(GUILD, limit=100)} == {
        "Labour", "Ports", "Covered Topic"
    }  # fmt: skip


async def test_migration_11_recounts_topics_by_the_rule(tmp_path):
    path = tmp_path / "v10.db"
    connection = await store_at_version(path, 10)
    try:
        published = await add_article(connection, url("p"), "Published", published_at=1)
        pending = await add_article(connection, url("q"), "Pending", published_at=1)
        theirs = await add_article(connection, url("t"), "Theirs", published_at=1)
        await connection.execute(
            f"UPDATE articles SET published = 1 WHERE pk IN ({published}, {theirs})"
        )
        await connection.execute(f"UPDATE articles SET origin_guild_id = 5 WHERE pk = {theirs}")
        await connection.execute("INSERT INTO topics (id, key, name) VALUES (1, 'ports', 'Ports')")
        await connection.executemany(
            "INSERT INTO article_topics (topic_id, article_pk, position) VALUES (1, ?, 0)",
            [(published,), (pending,), (theirs,)],
        )
        await connection.commit()
        async with connection.execute("SELECT article_count FROM topics") as cursor:
            assert await cursor.fetchall() == [(3,)]  # what version 10 counted
    finally:
        await connection.close()
    async with await Store.open(path) as store:
        (ports,) = await store.topics.most_used()
        assert ports.article_count == 1
        assert [t.article_count for t in await store.topics.seen_in(5, limit=10)] == [2]
        await assert_counts_follow_the_rule(store)


async def test_a_topic_only_another_guilds_own_articles_carry_is_not_offered(store: Any):
    await put(store, "own", published=True, topics=["Local Secret", "Ports"], origin=GUILD)
    await put(store, "pending", published=False, topics=["Pending Only"])
    await put(store, "gone", published=True, topics=["Orphan"])
    await plain.run(store, "DELETE FROM articles WHERE canonical_url = ?", url("gone"))
    await put(store, "wide", published=True, topics=["Ports"])

    async def offered(guild: int, typed: str) -> list[str]:
        return [t.name for t in await store.topics.suggest(guild, typed)]

    assert await offered(OTHER, "") == ["Ports", "Orphan", "Pending Only"]
    assert await offered(GUILD, "") == ["Ports", "Local Secret", "Orphan", "Pending Only"]
    assert await offered(OTHER, "secret") == []
    assert await offered(GUILD, "secret") == ["Local Secret"]
    assert await store.topics.offered(OTHER, "local secret") is None
    here = await store.topics.offered(GUILD, "LOCAL  secret")
    assert here is not None and here.name == "Local Secret"
    for name in ("Ports", "Pending Only", "Orphan"):  # a topic kept for its subscriptions
        assert await store.topics.offered(OTHER, name) is not None, name
