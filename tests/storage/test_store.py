"""The store against real SQLite files: migrations, upserts, related links, topics, search."""

from __future__ import annotations

import base64
import hashlib
import logging
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.articles.article_file import parse_article
from storage import Store, StoreError
from storage.database import migration_scripts
from storage.errors import ROW_REFUSED
from storage.models import ArticleDraft
from storage.prepare import prepare, short_id
from tests.factories import article_fields, article_text
from tests.storage.legacy import add_article, store_at_version

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def draft(**overrides: object) -> ArticleDraft:
    return parse_article(article_text(**overrides).encode(), source="test.md")


@pytest.fixture
async def sqlite_store(tmp_path):
    opened = await Store.open(tmp_path / "topicbot.db")
    yield opened
    await opened.close()


@pytest.fixture
def store(any_store):
    """The tests of the article API run on both engines."""
    return any_store


async def test_migrations_create_every_table_from_an_empty_file(tmp_path):
    path = tmp_path / "fresh.db"
    async with await Store.open(path):
        pass
    connection = sqlite3.connect(path)
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
    connection.close()
    assert version == len(migration_scripts())
    assert {
        "articles", "topics", "article_topics", "images", "related_links", "guild_publication",
        "guild_settings", "subscriptions", "feeds", "deliveries", "dm_channels", "audit_log",
        "meta", "articles_fts", "titles_fts",
    } <= tables  # fmt: skip
    assert mode == "wal"


async def test_reopening_a_migrated_file_keeps_its_data(tmp_path):
    path = tmp_path / "topicbot.db"
    async with await Store.open(path) as first:
        await first.articles.upsert_batch([draft()], NOW)
    async with await Store.open(path) as second:
        assert await second.articles.count() == 2


async def test_a_store_from_before_the_title_index_upgrades_and_its_titles_are_searched(
    tmp_path,
):
    path = tmp_path / "v3.db"
    connection = await store_at_version(path, 3)  # the schema as topicbot 0003 left it
    try:
        await add_article(
            connection,
            "https://harbour-times.example/transport/driverless-ferries",
            "Harbour City Trials Driverless Ferries",
            published_at=int(NOW.timestamp()),
        )
    finally:
        await connection.close()

    async with await Store.open(path) as store:
        assert await store._db.scalar("PRAGMA user_version") == len(migration_scripts())
        found = await store.publication.suggest(1, ["driverless", "fer"], "any")
        assert [g.article.title for g in found] == ["Harbour City Trials Driverless Ferries"]
        await store.articles.upsert_batch(
            [draft(title="Harbour City Ends Driverless Ferry Trial")], NOW + timedelta(days=1)
        )
        assert await store.publication.suggest(1, ["driverless", "fer"], "any") != []
        assert await store.publication.suggest(1, ["trials"], "any") == []  # retitled
        assert [g.article.title for g in await store.publication.suggest(1, ["ends"], "any")] == [
            "Harbour City Ends Driverless Ferry Trial"
        ]
    indexes_agree_with_their_content(path)


async def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.db"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 999")
    connection.close()
    with pytest.raises(StoreError, match="newer than this topicbot"):
        await Store.open(path)


async def test_foreign_keys_are_enforced(sqlite_store):
    with pytest.raises(sqlite3.IntegrityError):
        await sqlite_store._db.execute(
            "INSERT INTO article_topics (topic_id, article_pk, position) VALUES (999, 999, 0)"
        )


async def test_every_field_round_trips(store):
    source = draft(extraNote="kept")
    (outcome,) = await store.articles.upsert_batch([source], NOW)
    stored = await store.articles.get_by_url(source.canonical_url)
    assert outcome == "new"
    assert stored is not None
    assert stored.title == source.title
    assert stored.excerpt == source.excerpt
    assert stored.published_at == source.published_at
    assert stored.web_url == source.web_url
    assert stored.original_url == source.original_url
    assert (stored.category, stored.type, stored.quality, stored.heat) == (
        "news",
        "article",
        64,
        12,
    )
    assert stored.published is False
    assert stored.provider == source.provider
    assert stored.topics == ("Autonomous Vehicles", "Transport")
    assert stored.images == source.images
    assert stored.secured == source.secured
    assert stored.extra == {"extraNote": "kept"}
    assert stored.coverage_only is False
    assert len(stored.id) == 10
    assert await store.articles.get(stored.id.upper()) == stored


async def test_related_entries_are_coverage_only_articles_linked_both_ways(store):
    source = draft()
    await store.articles.upsert_batch([source], NOW)
    parent = await store.articles.get_by_url(source.canonical_url)
    assert parent is not None
    (link,) = await store.articles.related(parent.id)
    child = link.article
    assert link.direction == "listed_by_story"
    assert child.coverage_only is True
    assert child.title == "Captain-free ferries set sail in Harbour City"
    assert child.provider.name == "Coast Wire"
    assert child.quality == 41
    assert child.images[0].url == "https://coastwire.example/ferry.png"
    (back,) = await store.articles.related(child.id)
    assert back.direction == "lists_story"
    assert back.article.id == parent.id


async def test_reingesting_the_same_content_is_unchanged_and_adds_nothing(store):
    await store.articles.upsert_batch([draft()], NOW)
    before = await _everything_stored(store)
    outcomes = await store.articles.upsert_batch([draft()], NOW + timedelta(hours=1))
    assert outcomes == ["unchanged"]
    assert await _everything_stored(store) == before


async def _everything_stored(store):
    parent = await store.articles.get_by_url(draft().canonical_url)
    assert parent is not None
    return (
        await store.articles.count(),
        parent,
        await store.articles.related(parent.id),
        await store.topics.most_used(),
        await store.stories.story_of(parent.id),
    )


async def test_same_url_with_new_fields_updates_in_place(store):
    first = draft()
    await store.articles.upsert_batch([first], NOW)
    original = await store.articles.get_by_url(first.canonical_url)
    changed = draft(
        quality=90,
        published=True,
        topics=["Transport", "Energy"],
        webUrl="https://HARBOUR-TIMES.example/transport/driverless-ferries?utm_medium=x#top",
    )
    assert changed.canonical_url == first.canonical_url
    outcomes = await store.articles.upsert_batch([changed], NOW + timedelta(minutes=5))
    updated = await store.articles.get_by_url(first.canonical_url)
    assert outcomes == ["updated"]
    assert original is not None
    assert updated is not None
    assert updated.id == original.id
    assert (updated.quality, updated.published) == (90, True)
    assert updated.topics == ("Transport", "Energy")
    assert updated.source_published_at == NOW + timedelta(minutes=5)
    assert await store.articles.count() == 2


async def test_a_file_for_a_coverage_only_url_makes_it_a_full_article(store):
    await store.articles.upsert_batch([draft()], NOW)
    related = article_fields()["related"][0]
    full = draft(
        title=related["title"],
        webUrl=related["webUrl"],
        originalUrl=...,
        related=[],
        published=True,
    )
    (outcome,) = await store.articles.upsert_batch([full], NOW)
    stored = await store.articles.get_by_url(full.canonical_url)
    assert outcome == "new"
    assert stored is not None
    assert stored.coverage_only is False
    assert stored.published is True
    assert [r.direction for r in await store.articles.related(stored.id)] == ["lists_story"]
    assert await store.articles.count() == 2


def indexes_agree_with_their_content(path) -> None:
    """Both full-text indexes hold what their content (migration 0027's views) says."""
    checked = sqlite3.connect(path)  # raises "malformed" when an index and its content differ
    for index in ("articles_fts", "titles_fts"):
        checked.execute(f"INSERT INTO {index} ({index}, rank) VALUES ('integrity-check', 1)")
    checked.close()


async def test_a_coverage_entry_is_suggested_once_its_own_file_arrives(sqlite_store):
    await sqlite_store.articles.upsert_batch([draft()], NOW)
    assert await sqlite_store.publication.suggest(1, ["captain", "free"], "any") == []
    indexed = await sqlite_store._db.scalar("SELECT count(*) FROM titles_fts")
    assert indexed == 1  # the file's article, not its coverage entry
    related = article_fields()["related"][0]
    full = draft(title=related["title"], webUrl=related["webUrl"], originalUrl=..., related=[])
    await sqlite_store.articles.upsert_batch([full], NOW)
    found = await sqlite_store.publication.suggest(1, ["captain", "free"], "any")
    assert [g.article.title for g in found] == ["Captain-free ferries set sail in Harbour City"]
    indexes_agree_with_their_content(sqlite_store.path)


async def test_coverage_entries_never_overwrite_a_full_article(store):
    related = article_fields()["related"][0]
    full = draft(
        title="The outlet's own, fuller title",
        webUrl=related["webUrl"],
        originalUrl=...,
        related=[],
    )
    await store.articles.upsert_batch([full], NOW)
    await store.articles.upsert_batch([draft()], NOW)
    stored = await store.articles.get_by_url(full.canonical_url)
    assert stored is not None
    assert stored.title == "The outlet's own, fuller title"
    assert stored.coverage_only is False


async def test_topics_keep_the_first_display_form_and_fold_case_and_spacing(store):
    await store.articles.upsert_batch([draft(topics=["  machine  learning "], published=True)], NOW)
    second = draft(
        webUrl="https://b.example/2",
        originalUrl=...,
        topics=["MACHINE LEARNING"],
        related=[],
        published=True,
    )
    await store.articles.upsert_batch([second], NOW)
    topics = await store.topics.most_used()
    assert [(t.key, t.name, t.article_count) for t in topics] == [
        ("machine learning", "machine learning", 2)
    ]
    stored = await store.articles.get_by_url(second.canonical_url)
    assert stored is not None
    assert stored.topics == ("machine learning",)


async def test_a_batch_must_not_repeat_a_url(store):
    with pytest.raises(ValueError, match="same canonical URL"):
        await store.articles.upsert_batch([draft(), draft()], NOW)


async def test_a_failed_batch_leaves_nothing_behind(store):
    good = draft(webUrl="https://good.example/1", originalUrl=..., related=[])
    broken = replace(
        draft(webUrl="https://bad.example/2", originalUrl=..., related=[]), quality=500
    )
    with pytest.raises(ROW_REFUSED):
        await store.articles.upsert_batch([good, broken], NOW)
    assert await store.articles.count() == 0
    assert await store.topics.most_used() == []
    assert await store.articles.upsert_batch([good], NOW) == ["new"]
    if isinstance(store, Store):
        assert await store.integrity_check() == "ok"


async def test_short_id_collisions_get_a_longer_id(store, monkeypatch):
    import storage.prepare as prepare_module

    monkeypatch.setattr(
        prepare_module,
        "short_id",
        lambda url, length=10: ("x" * length)[:length] if length == 10 else url[-length:],
    )
    a = draft(webUrl="https://a.example/one", originalUrl=..., related=[])
    b = draft(webUrl="https://a.example/two", originalUrl=..., related=[])
    await store.articles.upsert_batch([a], NOW)
    await store.articles.upsert_batch([b], NOW)
    stored_a = await store.articles.get_by_url(a.canonical_url)
    stored_b = await store.articles.get_by_url(b.canonical_url)
    assert stored_a is not None
    assert stored_b is not None
    assert stored_a.id != stored_b.id


@pytest.mark.parametrize(
    ("hostile", "found"),
    [
        ('"ferries', 2), ("ferries\"", 2), ("NEAR(ferries harbour", 0), ("ferries*", 2),
        ("-ferries", 2), ("title:ferries", 0), ("ferries AND OR NOT", 0), ("^ferries", 2),
        ("ferries " * 2_000, 2), ("x" * 10_000, 0), ("🚢 ⛴", 0), ("عبارة", 0),
        ("'; DROP TABLE articles; --", 0),
    ],
)  # fmt: skip
async def test_search_never_reads_user_text_as_fts_syntax(store, hostile, found):
    await store.articles.upsert_batch([draft()], NOW)
    results = await store.articles.search(hostile.split())
    assert len(results) == found
    assert await store.articles.count() == 2


async def test_search_finds_title_excerpt_and_topic_words(store):
    await store.articles.upsert_batch([draft()], NOW)
    (found,) = await store.articles.search(["ferries", "driverless"])
    assert found.title.startswith("Harbour")
    assert len(await store.articles.search(["autonomous"])) == 1
    assert await store.articles.search(["submarine"]) == []


async def test_stats_count_articles_by_state(sqlite_store):
    published = draft(webUrl="https://p.example/1", originalUrl=..., published=True, related=[])
    await sqlite_store.articles.upsert_batch([draft(), published], NOW)
    stats = await sqlite_store.stats()
    assert (stats.articles, stats.published, stats.pending, stats.coverage_only) == (3, 1, 1, 1)
    assert stats.topics == 2
    assert stats.deliveries["pending"] == 0


async def test_concurrent_tasks_never_share_a_transaction(sqlite_store):
    """A job's rolled-back transaction must not take another task's write with it."""
    import asyncio

    started = asyncio.Event()

    async def doomed():
        async with sqlite_store._db.transaction():
            await sqlite_store._db.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
            started.set()
            await asyncio.sleep(0.05)
            raise RuntimeError("boom")

    async def failing_transaction():
        with pytest.raises(RuntimeError):
            await doomed()

    async def other_task_write():
        await started.wait()
        await sqlite_store.meta.put("b", "2")

    await asyncio.gather(failing_transaction(), other_task_write())
    assert await sqlite_store.meta.get("a") is None
    assert await sqlite_store.meta.get("b") == "2"


def test_fingerprints_are_the_ones_earlier_versions_stored():
    # Changing them would make every stored article come back "updated" after an upgrade.
    prepared = prepare(draft())
    assert prepared.article.fingerprint == "4ad29d8f2ce923126401fe63d7a0c098"
    assert [entry.fingerprint for entry in prepared.related] == ["8d4db45cf3aaed9407325950f1101c4a"]


async def test_a_lone_surrogate_in_typed_text_finds_nothing_instead_of_failing(store):
    await store.articles.upsert_batch([draft()], NOW)
    assert await store.topics.suggest(0, "\ud800") == []
    assert [t.name for t in await store.topics.suggest(0, "tran\udfff")] == []
    assert await store.articles.get("\ud800abc") is None


@settings(max_examples=200, deadline=None)
@given(url=st.text(st.characters(blacklist_categories=("Cs",))), length=st.integers(1, 40))
def test_short_ids_are_the_leading_base32_characters_of_the_url_digest(url, length):
    digest = hashlib.sha256(url.encode("utf-8")).digest()
    assert short_id(url, length) == base64.b32encode(digest).decode("ascii").lower()[:length]


async def test_secured_values_stay_out_of_the_log_even_at_debug_level(store, caplog):
    caplog.set_level(logging.DEBUG)
    await store.articles.upsert_batch([draft(secured="opaque-s3cr3t=;k")], NOW)
    stored = await store.articles.get_by_url(
        "https://harbour-times.example/transport/driverless-ferries"
    )
    assert stored is not None
    assert "opaque-s3cr3t" not in caplog.text


async def optimize_work(path, outbox_rows: int) -> int:
    """SQLite's progress ticks (one per 100 virtual machine steps) taken by ``optimize`` on a
    store of ``outbox_rows`` sent DMs whose outbox a command has read."""
    async with await Store.open(path) as store:
        db = store._db
        await db.execute("INSERT INTO topics (id, key, name) VALUES (1, 'ai', 'AI')")
        await db.execute(
            "WITH RECURSIVE n(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM n WHERE v < :last) "
            "INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, "
            "subscription_id, mode, state, next_attempt_at, created_at, sent_at) "
            "SELECT 1, v / 100, 'dm', v % 100, 1, 'instant', 'sent', 0, 0, 0 FROM n",
            {"last": outbox_rows - 1},
        )
        await store.deliveries.subscription_health(1, 5)  # the planner reads the outbox
        ticks = 0

        def tick() -> int:
            nonlocal ticks
            ticks += 1
            return 0

        await db.connection.set_progress_handler(tick, 100)
        await store.optimize()
        await db.connection.set_progress_handler(None, 0)
        analyzed = await db.scalar("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'deliveries'")
    assert analyzed, "optimize gathered no statistics for the outbox"
    return ticks


async def test_optimize_samples_the_outbox_instead_of_reading_all_of_it(tmp_path):
    # housekeeping runs optimize on the connection commands use: it must not read 60 million
    # outbox rows (a minute or two) every hour
    small = await optimize_work(tmp_path / "small.db", 4_000)
    large = await optimize_work(tmp_path / "large.db", 40_000)
    assert large < 2 * small
