"""The related engine's and title autocomplete's postings on PostgreSQL (``search_words`` and
``suggest_words``, migration 0007) follow every write to ``articles``, so both find what the
articles now say: a new article, a title rewritten by a later ingest, an article removed, a
store emptied; and a store made before them gains them when it is migrated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest_asyncio

from bot.articles.article_file import parse_article
from storage.postgresql.schema import VERSION_TABLE, migrate, migrations
from storage.postgresql.store import PgStore
from storage.related import SearchTerm
from tests.factories import article_text

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
WORDS = ("semiconductor", "harvest", "tariffs", "25 million")


@pytest_asyncio.fixture
async def store(postgresql_database_url: str) -> AsyncIterator[PgStore]:
    async with await PgStore.open(postgresql_database_url, pool_size=2) as opened:
        yield opened


async def ingest(store: PgStore, n: int, title: str, excerpt: str = "") -> None:
    text = article_text(
        title=title,
        excerpt=excerpt,
        webUrl=f"https://outlet.example/{n}",
        originalUrl=...,
        publishedDateTime="2026-12-01T10:00:00Z",
        related=[],
    )
    await store.articles.upsert_batch([parse_article(text.encode(), source=f"{n}.md")], NOW)


async def found(store: PgStore) -> dict[str, int]:
    """How many articles the engine finds for each of ``WORDS``."""
    terms = [SearchTerm(word, (word,), 1.0) for word in WORDS]
    return await store.related.term_counts(terms, 0, 10**9, cap=100)


async def offered(store: PgStore, typed: str) -> list[str]:
    """The titles autocomplete offers for ``typed``."""
    found = await store.publication.suggest(1, typed.split(), "any")
    return [g.article.title for g in found]


async def test_search_and_autocomplete_find_what_the_articles_say_after_each_write(store):
    await ingest(store, 1, "Semiconductor tariffs rise", "A $25 million levy.")
    await ingest(store, 2, "Harvest festival opens", "Tariffs are not mentioned.")
    assert await found(store) == {"semiconductor": 1, "harvest": 1, "tariffs": 2, "25 million": 1}
    assert await offered(store, "semicon") == ["Semiconductor tariffs rise"]

    await ingest(store, 1, "Chip levies rise", "A levy of 25 million.")  # the same URL, rewritten
    assert await found(store) == {"semiconductor": 0, "harvest": 1, "tariffs": 1, "25 million": 1}
    assert await offered(store, "semicon") == []
    assert await offered(store, "chi") == ["Chip levies rise"]

    await store._db.execute("UPDATE articles SET coverage_only = 1 WHERE title LIKE 'Chip%'")
    assert await offered(store, "chi") == []  # coverage is not offered
    await store._db.execute("UPDATE articles SET coverage_only = 0 WHERE title LIKE 'Chip%'")
    assert await offered(store, "chi") == ["Chip levies rise"]

    await store._db.execute("DELETE FROM articles WHERE title LIKE 'Harvest%'")
    assert await found(store) == {"semiconductor": 0, "harvest": 0, "tariffs": 0, "25 million": 1}
    assert await offered(store, "harv") == []

    await store._db.execute("TRUNCATE articles CASCADE")
    await ingest(store, 3, "Harvest tariffs", "")
    assert await found(store) == {"semiconductor": 0, "harvest": 1, "tariffs": 1, "25 million": 0}
    assert await offered(store, "harv") == ["Harvest tariffs"]


async def test_a_store_made_before_the_postings_gains_them_when_migrated(postgresql_database_url):
    connection = await asyncpg.connect(postgresql_database_url)
    try:
        await connection.execute(VERSION_TABLE)
        for migration in migrations():
            if migration.version < 7:
                await connection.execute(migration.sql)
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
        await connection.execute(
            "INSERT INTO articles (id, canonical_url, web_url, title, excerpt, published_at,"
            " content_hash, ingested_at, updated_at) VALUES ('old', 'https://o.example/1',"
            " 'https://o.example/1', 'Semiconductor harvest', 'A 25 million tariffs plan',"
            " 1760000000, 'h', 1760000000, 1760000000)"
        )
        assert 7 in await migrate(connection)
    finally:
        await connection.close()
    async with await PgStore.open(postgresql_database_url, pool_size=1) as migrated:
        assert await found(migrated) == {
            "semiconductor": 1, "harvest": 1, "tariffs": 1, "25 million": 1,
        }  # fmt: skip
        assert await offered(migrated, "semiconductor harv") == ["Semiconductor harvest"]


async def test_a_figure_of_common_words_is_read_by_the_rarer_and_finds_exactly_its_articles(
    store,
):
    # "000" and "25" are in every article (the postings' most common words once analysed);
    # the phrase "25 000 000" is in two of them, and "450 000 000" in one.
    for n in range(1, 13):
        figure = "25,000,000" if n in (3, 9) else "450,000,000" if n == 5 else f"25,{n:03}"
        await ingest(store, n, f"Grid plan {n} costs {figure}", "Tender of 000 lots for 25 towns.")
    await store._db.execute("ANALYZE search_words")
    common = await store.related.common_words()
    assert {"000", "25"} <= set(common[:6])
    terms = [
        SearchTerm("25000000", ("25 000 000",), 1.0),
        SearchTerm("450000000", ("450 000 000",), 1.0),
        SearchTerm("25 towns", ("25 towns",), 1.0),
    ]
    counts = await store.related.term_counts(terms, 0, 10**9, cap=100)
    assert counts == {"25000000": 2, "450000000": 1, "25 towns": 12}
