"""Topics as typed without accents (``storage.topics.topic_fold``): the fold itself, stored
by every insert on both engines, and filled in on stores made before it was."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bot.articles.article_file import parse_article
from storage import Store
from storage.postgresql.schema import VERSION_TABLE, migrations
from storage.postgresql.store import PgStore
from storage.topics import topic_fold, topic_key
from tests.engines import statements
from tests.factories import article_text
from tests.storage.legacy import store_at_version

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
GUILD = 7
# The schema versions before topics.folded: SQLite 0020, PostgreSQL 0014.
SQLITE_BEFORE, POSTGRESQL_BEFORE = 19, 13


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("Québec", "quebec"),
        ("Zürich", "zurich"),
        ("São Paulo", "sao paulo"),
        ("Café", "cafe"),
        ("Cafe\u0301", "cafe"),  # the accent typed as a combining mark
        ("Señor", "senor"),
        ("  QUÉBEC  City ", "quebec city"),
        ("Straße", "strasse"),  # casefold
        ("Ærø", "aero"),  # letters that do not decompose, spelled out
        ("Œuvre", "oeuvre"),
        ("Łódź", "lodz"),
        ("Đakovo", "dakovo"),
        ("Þórshöfn", "thorshofn"),
        ("İstanbul", "istanbul"),
        ("ﬁnance", "finance"),  # compatibility forms (NFKD)
        ("Zu\u200brich", "zurich"),  # invisible characters, as the key drops them
        ("Ελληνικά", "ελληνικα"),
        ("Йод", "иод"),
        ("東京", "東京"),
        ("AI", "ai"),
        ("", ""),
    ],
)
def test_a_topic_folds_as_typed_without_accents(name: str, folded: str):
    assert topic_fold(name) == folded
    assert topic_fold(topic_key(name)) == folded  # from the key or the name alike


async def ingest(store, topics: list[str], n: int = 1, origin_guild: int | None = None) -> None:
    url = f"https://folds.example/{n}"
    text = article_text(originalUrl=url, webUrl=url, topics=topics, related=[])
    draft = parse_article(text.encode(), source="test.md")
    await store.articles.upsert_batch([draft], NOW, origin_guild_id=origin_guild)


async def stored_folds(store) -> dict[str, str | None]:
    rows = await statements(store).fetch_all("SELECT name, folded FROM topics")
    return {str(name): folded for name, folded in rows}


async def test_ingest_stores_each_topics_fold(any_store):
    await ingest(any_store, ["Québec", "São Paulo"])
    await ingest(any_store, ["QUÉBEC", "Ærø"], n=2)  # Québec again, by its key
    assert await stored_folds(any_store) == {
        "Québec": "quebec",
        "São Paulo": "sao paulo",
        "Ærø": "aero",
    }


async def test_naming_finds_the_topics_that_fold_alike_and_the_guild_may_name(any_store):
    await ingest(any_store, ["Québec"])
    await ingest(any_store, ["Quebec"], n=2)
    await ingest(any_store, ["QUEBEC!"], n=3)  # folds differently
    await ingest(any_store, ["Quebéc"], n=4, origin_guild=GUILD + 1)  # another guild's own
    alike = await any_store.topics.offered_alike(GUILD, "QUÉBEC")
    assert sorted(t.name for t in alike) == ["Quebec", "Québec"]
    assert sorted(t.name for t in await any_store.topics.offered_alike(GUILD + 1, "quebec")) == [
        "Quebec",
        "Quebéc",
        "Québec",
    ]
    assert await any_store.topics.offered_alike(GUILD, "montreal") == []


async def add_unfolded(db, names: list[str]) -> None:
    """Topic rows as a store before topics.folded held them."""
    for name in names:
        await db.execute("INSERT INTO topics (key, name) VALUES ($1, $2)", topic_key(name), name)


LEGACY = ["Québec", "Zürich", "São Paulo", "Café", "Señor", "AI"]
EXPECTED = {name: topic_fold(name) for name in LEGACY}


async def test_a_sqlite_store_made_before_folds_gets_them_when_it_opens(
    tmp_path: Path, monkeypatch
):
    monkeypatch.setattr("storage.store.FOLD_BATCH", 2)  # several batches
    path = tmp_path / "topicbot.db"
    connection = await store_at_version(path, SQLITE_BEFORE)
    try:
        await connection.executemany(
            "INSERT INTO topics (key, name) VALUES (?, ?)",
            [(topic_key(name), name) for name in LEGACY],
        )
        await connection.commit()
    finally:
        await connection.close()
    async with await Store.open(path) as store:
        assert await stored_folds(store) == EXPECTED
        assert [t.name for t in await store.topics.suggest(GUILD, "sao")] == ["São Paulo"]
        await statements(store).execute("UPDATE topics SET folded = 'kept' WHERE key = 'ai'")
    async with await Store.open(path) as store:  # folded once: a fold is never redone
        assert (await stored_folds(store))["AI"] == "kept"


async def test_a_postgresql_store_made_before_folds_gets_them_when_it_opens(
    postgresql_database_url: str, monkeypatch
):
    monkeypatch.setattr("storage.postgresql.schema.FOLD_BATCH", 2)
    connection = await asyncpg.connect(postgresql_database_url)
    try:
        await connection.execute(VERSION_TABLE)
        for migration in migrations()[:POSTGRESQL_BEFORE]:
            async with connection.transaction():
                await connection.execute(migration.sql)
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
        await add_unfolded(connection, LEGACY)
    finally:
        await connection.close()
    async with await PgStore.open(postgresql_database_url, pool_size=2, source="$T") as store:
        assert await stored_folds(store) == EXPECTED
        assert [t.name for t in await store.topics.suggest(GUILD, "sao")] == ["São Paulo"]
        await statements(store).execute("UPDATE topics SET folded = 'kept' WHERE key = 'ai'")
    async with await PgStore.open(postgresql_database_url, pool_size=2, source="$T") as store:
        assert (await stored_folds(store))["AI"] == "kept"
