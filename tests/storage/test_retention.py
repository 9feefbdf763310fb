"""Retention against real SQLite files: pruning keeps every outbox row the rules still read
(pending, the story window, the DM cap), removes the rest in batches, keeps the counts that
commands and `topicbot stats` show, and an interrupted run loses nothing and is finished by the
next one."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import RetentionSettings
from bot.domain.retention import Housekeeper, deliveries_cutoff
from storage import Store
from storage.postgresql.store import PgStore
from storage.retention import PRUNABLE
from tests.storage import rows as plain
from tests.storage.legacy import add_article as add_legacy_article
from tests.storage.legacy import store_at_version

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DAY = 86_400
GUILD, CHANNEL, FEED, MEMBER, SUBSCRIPTION = 7, 70, 1, 500, 2


def ago(days: float) -> int:
    return int((NOW - timedelta(days=days)).timestamp())


async def seed(store, rows: list[tuple[str, int, str, int, int | None]]) -> None:
    """A feed, a subscription, and outbox rows (kind, target, state, created, sent) of
    articles of their own, written as planning and sending would leave them (either engine)."""
    await plain.run(
        store, "INSERT INTO topics (id, key, name) VALUES (1, 'ai', 'AI') ON CONFLICT DO NOTHING"
    )
    await plain.run(
        store,
        "INSERT INTO feeds (id, guild_id, channel_id, topic_id, created_by, created_at) "
        "VALUES (?, ?, ?, 1, 9, 0)",
        FEED,
        GUILD,
        CHANNEL,
    )
    await plain.run(
        store,
        "INSERT INTO subscriptions (id, guild_id, user_id, topic_id, created_at, updated_at) "
        "VALUES (?, ?, ?, 1, 0, 0)",
        SUBSCRIPTION,
        GUILD,
        MEMBER,
    )
    for n, (kind, target, state, created, sent) in enumerate(rows):
        article = await plain.add_article(store, f"a{n}", at=created)
        await plain.run(
            store,
            "INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, feed_id, "
            "subscription_id, mode, state, next_attempt_at, created_at, sent_at) "
            "SELECT ?, pk, ?, ?, ?, ?, 'instant', ?, ?, ?, ? FROM articles WHERE id = ?",
            GUILD,
            kind,
            target,
            FEED if kind == "channel" else None,
            SUBSCRIPTION if kind == "dm" else None,
            state,
            created,
            created,
            sent,
            article,
        )


async def outbox(store) -> list[tuple[str, str, int]]:
    found = await plain.rows(
        store,
        "SELECT target_kind, state, created_at FROM deliveries ORDER BY created_at, target_kind",
    )
    return [(kind, state, created) for kind, state, created in found]


async def shown(store) -> tuple[object, ...]:
    """Every count a command shows: /feed list, /subscriptions, topicbot stats."""
    stats = await store.stats()
    return (
        await store.deliveries.feed_health(GUILD),
        await store.deliveries.subscription_health(GUILD, MEMBER),
        stats.deliveries,
    )


@pytest.fixture
def store(any_store):
    """The store on each engine in turn (tests of SQLite's file open their own)."""
    return any_store


def housekeeper(store, *, story_hours: float = 72, **settings: object) -> Housekeeper:
    return Housekeeper(
        store,
        RetentionSettings.model_validate(settings),
        story_window=timedelta(hours=story_hours),
        clock=lambda: NOW,
        pause_seconds=0,
        timer=lambda: 0.0,  # every step quick: sizes double from 16 up to batch_rows
    )


async def test_pruning_keeps_what_the_rules_read_and_removes_the_rest(store):
    rows = [
        ("dm", MEMBER, "sent", ago(40), ago(40)),  # old: goes
        ("channel", CHANNEL, "sent", ago(31), ago(31)),  # old: goes
        ("channel", CHANNEL, "failed", ago(35), None),  # old: goes
        ("dm", MEMBER, "dead", ago(33), None),  # old: goes
        ("dm", MEMBER, "cancelled", ago(50), None),  # old: goes
        ("dm", MEMBER, "pending", ago(45), None),  # waiting (a bot long down): stays
        ("dm", MEMBER, "sent", ago(40), ago(0.01)),  # sent within the DM cap's hour: stays
        ("channel", CHANNEL, "sent", ago(2), ago(2)),  # within the story window: stays
        ("dm", MEMBER, "sent", ago(29), ago(29)),  # within 30 days: stays
    ]
    await seed(store, rows)
    before = await shown(store)
    dm_cap = await store.deliveries.instant_dms_since(MEMBER, NOW - timedelta(hours=1))

    run = await housekeeper(store, batch_rows=100).run()

    assert run.deliveries == 5
    assert run.finished_at == NOW
    assert await outbox(store) == [
        ("dm", "pending", ago(45)),
        ("dm", "sent", ago(40)),
        ("dm", "sent", ago(29)),
        ("channel", "sent", ago(2)),
    ]
    assert await shown(store) == before
    assert await store.deliveries.instant_dms_since(MEMBER, NOW - timedelta(hours=1)) == 1
    assert dm_cap == 1
    stats = await store.stats()
    assert stats.deliveries_pruned == {
        "pending": 0,
        "sent": 2,
        "failed": 1,
        "dead": 1,
        "skipped": 0,
        "cancelled": 1,
    }
    assert stats.last_pruning == run


async def test_a_story_window_longer_than_retention_keeps_its_rows(store):
    rows = [("dm", MEMBER, "sent", ago(40), ago(40)), ("dm", MEMBER, "sent", ago(50), ago(50))]
    await seed(store, rows)
    run = await housekeeper(store, story_hours=45 * 24, deliveries_days=30).run()
    assert run.deliveries == 1
    assert await outbox(store) == [("dm", "sent", ago(40))]


def test_the_cutoff_is_never_nearer_than_the_story_window_or_the_dm_cap():
    window = timedelta(hours=72)
    assert deliveries_cutoff(NOW, 30, window) == NOW - timedelta(days=30)
    assert deliveries_cutoff(NOW, 1, window) == NOW - window
    assert deliveries_cutoff(NOW, 1, timedelta(minutes=5)) == NOW - timedelta(days=1)
    assert deliveries_cutoff(NOW, None, window) is None


async def test_keeping_forever_prunes_nothing(store):
    await seed(store, [("dm", MEMBER, "sent", ago(400), ago(400))])
    run = await housekeeper(store, deliveries_days=None).run()
    assert run.deliveries == 0
    assert len(await outbox(store)) == 1


def old_rows(count: int) -> list[tuple[str, int, str, int, int | None]]:
    return [
        ("dm" if n % 2 else "channel", MEMBER if n % 2 else CHANNEL, "sent", ago(40 + n / 100), 1)
        for n in range(count)
    ]


async def test_rows_go_in_batches_of_at_most_the_limit_a_day_at_a_time(store):
    await seed(store, old_rows(250))  # UTC days of 99, 100 and 51 rows
    taken = []
    cutoff = NOW - timedelta(days=30)
    while batch := await store.retention.prune_deliveries(cutoff, limit=40):
        taken.append(batch)
    assert taken == [40, 40, 19, 40, 40, 20, 40, 11]
    assert await outbox(store) == []


async def test_an_interrupted_run_loses_nothing_and_the_next_run_finishes(tmp_path):
    async with await Store.open(tmp_path / "topicbot.db") as store:
        await seed(store, old_rows(250))
        before = await shown(store)
        # Batches of 16, 32 and the first day's last 51, then the second day's 100 go; the
        # batch of the third day's 51 fails inside its transaction, as a crash or a full disk
        # would. (A temporary trigger belongs to its connection: housekeeping's own.)
        pruning = store.retention._db
        await pruning.execute(
            "CREATE TEMP TRIGGER fourth_batch_fails BEFORE DELETE ON main.deliveries "
            "WHEN (SELECT count(*) FROM main.deliveries) <= 50 "
            "BEGIN SELECT RAISE(ABORT, 'interrupted'); END"
        )
        with pytest.raises(sqlite3.IntegrityError, match="interrupted"):
            await housekeeper(store, batch_rows=100).run()
        assert len(await outbox(store)) == 51
        assert await shown(store) == before
        interrupted = await store.retention.last_run()
        assert interrupted is not None
        assert (interrupted.deliveries, interrupted.finished_at) == (199, None)

        await pruning.execute("DROP TRIGGER temp.fourth_batch_fails")
        run = await housekeeper(store, batch_rows=100).run()
        assert run.deliveries == 51
        assert await outbox(store) == []
        assert await shown(store) == before


async def test_a_run_cancelled_between_batches_is_finished_by_the_next(store, monkeypatch):
    await seed(store, old_rows(250))
    before = await shown(store)
    prune, batches, second_done = store.retention.prune_deliveries, [], asyncio.Event()

    async def counted(cutoff: datetime, *, limit: int) -> int:
        batches.append(await prune(cutoff, limit=limit))
        if len(batches) == 2:
            second_done.set()
        return batches[-1]

    monkeypatch.setattr(store.retention, "prune_deliveries", counted)
    keeper = Housekeeper(
        store,
        RetentionSettings(batch_rows=100),
        story_window=timedelta(hours=72),
        clock=lambda: NOW,
        pause_seconds=0.2,
        timer=lambda: 0.0,
    )
    task = asyncio.create_task(keeper.run())
    await second_done.wait()
    task.cancel()  # during the pause after the second batch (16 and 32 rows)
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(await outbox(store)) == 202
    assert await shown(store) == before

    monkeypatch.undo()
    await housekeeper(store, batch_rows=100).run()
    assert await outbox(store) == []
    assert await shown(store) == before


class ScriptedTimer:
    """A timer under which each step (read at its start and end) takes the next duration."""

    def __init__(self, durations: list[float]) -> None:
        self._durations = iter(durations)
        self._now = 0.0
        self._at_start = True

    def __call__(self) -> float:
        if not self._at_start:
            self._now += next(self._durations)
        self._at_start = not self._at_start
        return self._now


async def test_steps_grow_while_quick_and_shrink_after_a_slow_one(store, monkeypatch):
    await seed(store, old_rows(400))
    prune, asked = store.retention.prune_deliveries, []

    async def recorded(cutoff: datetime, *, limit: int) -> int:
        asked.append(limit)
        return await prune(cutoff, limit=limit)

    monkeypatch.setattr(store.retention, "prune_deliveries", recorded)
    quick, slow = 0.001, 0.020  # against a budget of 0.005 s a step
    keeper = Housekeeper(
        store,
        RetentionSettings(batch_rows=100),
        story_window=timedelta(hours=72),
        clock=lambda: NOW,
        pause_seconds=0,
        step_seconds=0.005,
        timer=ScriptedTimer([quick, quick, slow] + [quick] * 10),
    )
    run = await keeper.run()
    # doubling from 16 to the batch size, back to 16 after the slow third step; the last
    # step finds nothing left
    assert asked == [16, 32, 64, 16, 32, 64, 100, 100, 100, 100]
    assert run.deliveries == 400
    assert await outbox(store) == []


async def test_counts_of_removed_feeds_and_subscriptions_go_with_them(store):
    await seed(store, old_rows(4))
    await housekeeper(store).run()
    assert await plain.value(store, "SELECT count(*) FROM delivery_counts") == 2
    before = (await store.stats()).deliveries
    assert await store.subscriptions.delete(GUILD, MEMBER, "ai")
    assert await plain.value(store, "SELECT count(*) FROM delivery_counts") == 1
    assert await store.feeds.remove_channel(GUILD, CHANNEL) == 1
    assert await plain.value(store, "SELECT count(*) FROM delivery_counts") == 0
    assert (await store.stats()).deliveries == before


async def test_pruning_reads_the_outbox_by_day_then_target_through_its_index(tmp_path):
    async with await Store.open(tmp_path / "topicbot.db") as store:
        plan = await store._db.fetch_all(
            f"EXPLAIN QUERY PLAN {PRUNABLE}", {"this_day": 5, "limit": 10}
        )
    assert any("deliveries_done_by_day" in row[3] for row in plan)
    assert not any("TEMP B-TREE" in row[3] for row in plan)


async def test_audit_entries_older_than_audit_days_go_and_by_default_none(store):
    for days in (400, 40, 10, 1):
        await store.audit.record(GUILD, 9, f"publish {days}", NOW - timedelta(days=days))
    assert (await housekeeper(store).run()).audit_entries == 0
    assert len(await store.audit.recent(GUILD)) == 4

    run = await housekeeper(store, audit_days=30, batch_rows=100).run()

    assert run.audit_entries == 2
    assert [entry.action for entry in await store.audit.recent(GUILD)] == [
        "publish 1",
        "publish 10",
    ]


async def test_a_new_store_gives_free_pages_back_incrementally(tmp_path):
    async with await Store.open(tmp_path / "topicbot.db") as store:
        size = await store.retention.size()
    assert size.incremental_vacuum


async def test_a_store_from_version_12_is_rebuilt_with_incremental_vacuum_and_keeps_its_rows(
    tmp_path,
):
    path = tmp_path / "v12.db"
    connection = await store_at_version(path, 12)
    try:
        pk = await add_legacy_article(connection, "https://a.example/1", "A", published_at=ago(1))
        await connection.execute(
            "INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, "
            "next_attempt_at, created_at) VALUES (7, ?, 'dm', 5, 0, 0)",
            (pk,),
        )
        await connection.commit()
        assert await (await connection.execute("PRAGMA auto_vacuum")).fetchone() == (0,)
    finally:
        await connection.close()

    async with await Store.open(path) as store:
        assert (await store.retention.size()).incremental_vacuum
        assert await store._db.scalar("SELECT count(*) FROM deliveries") == 1
        assert await store.integrity_check() == "ok"


async def test_housekeeping_gives_the_pages_pruning_freed_back_a_step_at_a_time(tmp_path):
    async with await Store.open(tmp_path / "topicbot.db") as store:
        await seed(store, old_rows(1))
        # 20,000 old sent DMs of one article, as a plan and its sends leave them
        await store._db.execute(
            "INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, "
            "subscription_id, state, next_attempt_at, created_at, sent_at, note) "
            "WITH RECURSIVE n(value) AS (SELECT 1000 UNION ALL SELECT value + 1 FROM n "
            "WHERE value < 20999) SELECT 7, 1, 'dm', value, 2, 'sent', :at, :at, :at, 'x' "
            "FROM n",
            {"at": ago(40)},
        )
        before = await store.retention.size()
        steps = []
        reclaim = store.retention.reclaim

        async def counted(pages: int) -> int:
            steps.append(await reclaim(pages))
            return steps[-1]

        store.retention.reclaim = counted  # type: ignore[method-assign]
        run = await housekeeper(store, reclaim_pages=16).run()
        after = await store.retention.size()

    assert run.deliveries == 20_001
    assert after.free_bytes == 0
    assert run.pages_reclaimed * after.page_size >= before.bytes - after.bytes > 0
    assert len(steps) > 2 and max(steps) == 16


def article(n: int, *, published: bool = False, when: str = "2026-08-01T08:00:00Z", **fields):
    from bot.articles.article_file import parse_article
    from tests.factories import article_text

    fields.setdefault("related", [])
    return parse_article(
        article_text(
            title=f"Story number {n} about harbour{n} ferries",
            webUrl=f"https://harbour-times.example/{n}",
            originalUrl=...,
            publishedDateTime=when,
            published=published,
            topics=[f"Topic{n}"],
            **fields,
        ).encode(),
        source=f"{n}.md",
    )


def coverage(n: int, when: str = "2026-08-01T09:00:00Z") -> dict[str, object]:
    return {
        "title": f"Coverage {n} of harbour ferries",
        "webUrl": f"https://coast.example/{n}",
        "publishedDateTime": when,
        "provider": {"name": "Coast", "domain": "coast.example"},
    }


async def titles(store) -> list[str]:
    return [
        title for (title,) in await plain.rows(store, "SELECT title FROM articles ORDER BY title")
    ]


async def test_old_unpublished_articles_and_coverage_go_with_everything_they_carry(tmp_path):
    old = NOW - timedelta(days=100)
    async with await Store.open(tmp_path / "topicbot.db") as store:
        await store.articles.upsert_batch(
            [
                article(1, related=[coverage(1)]),  # never published: goes, with its entry
                article(2, published=True, related=[coverage(2)]),  # published: stays
                article(3, related=[coverage(2)]),  # goes; coverage 2 is listed by 2: stays
                article(4, when="2026-11-20T08:00:00Z"),  # recent: stays
                article(5),  # goes, but its topic has a subscriber: the topic stays
            ],
            old,
        )
        await store._db.execute(
            "INSERT INTO subscriptions (guild_id, user_id, topic_id, created_at, updated_at) "
            "SELECT 7, 500, id, 0, 0 FROM topics WHERE key = 'topic5'"
        )

        run = await housekeeper(store, articles_days=30, batch_rows=100).run()

        assert run.articles == 4
        assert await titles(store) == [
            "Coverage 2 of harbour ferries",
            "Story number 2 about harbour2 ferries",
            "Story number 4 about harbour4 ferries",
        ]
        topics = await store._db.fetch_all("SELECT key FROM topics ORDER BY key")
        assert topics == [("topic2",), ("topic4",), ("topic5",)]
        assert (await store.subscriptions.for_member(7, 500))[0].topic_name == "Topic5"
        for table in ("article_topics", "images", "related_links", "story_title_keys"):
            orphans = await store._db.scalar(
                f"SELECT count(*) FROM {table} WHERE "
                f"{'child_pk' if table == 'related_links' else 'article_pk'} "
                "NOT IN (SELECT pk FROM articles)"
            )
            assert orphans == 0, table
        assert await store._db.scalar("SELECT count(*) FROM images") == 2  # of 2 and 4
        for index in ("articles_fts", "titles_fts"):
            await store._db.execute(f"INSERT INTO {index} ({index}) VALUES ('integrity-check')")
            for word, found in (("harbour1", 0), ("harbour3", 0), ("harbour2", 1)):
                sql = f"SELECT count(*) FROM {index} WHERE {index} MATCH ?"
                assert await store._db.scalar(sql, (word,)) == found, (index, word)


async def test_published_articles_go_only_with_published_articles_days_and_no_outbox_rows(
    store,
):
    old = NOW - timedelta(days=100)
    await store.articles.upsert_batch(
        [
            article(1, published=True, related=[coverage(1)]),
            article(2, published=True),
            article(3),  # published by a server's moderators
        ],
        old,
    )
    three = await store.articles.get_by_url("https://harbour-times.example/3")
    assert three is not None
    await store.publication.decide(7, three.id, "published", 1, old)
    two = await store.articles.get_by_url("https://harbour-times.example/2")
    assert two is not None
    await plain.run(
        store,
        "INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, state, "
        "next_attempt_at, created_at) SELECT 7, pk, 'dm', 5, 'sent', 0, ? "
        "FROM articles WHERE id = ?",
        ago(20),
        two.id,
    )
    assert (await housekeeper(store, articles_days=30).run()).articles == 0

    run = await housekeeper(
        store, articles_days=30, published_articles_days=60, deliveries_days=30
    ).run()

    assert (run.deliveries, run.articles) == (0, 3)
    assert await titles(store) == ["Story number 2 about harbour2 ferries"]


async def test_a_published_articles_days_shorter_than_articles_days_waits_for_it(store):
    # articles_days applies to every article: a published one goes at the later of the two
    await store.articles.upsert_batch(
        [article(1, published=True, when="2026-11-06T08:00:00Z")], NOW - timedelta(days=20)
    )
    await store.articles.upsert_batch(
        [article(2, published=True, when="2026-10-17T08:00:00Z")], NOW - timedelta(days=40)
    )

    run = await housekeeper(store, articles_days=30, published_articles_days=7).run()

    assert run.articles == 1
    assert await titles(store) == ["Story number 1 about harbour1 ferries"]


def test_published_articles_days_needs_articles_days():
    with pytest.raises(ValueError, match="published_articles_days needs articles_days"):
        RetentionSettings(published_articles_days=10)


async def test_a_members_counts_are_read_from_their_own_rows_not_the_servers(tmp_path):
    # /subscriptions in a server of 2,000 members would otherwise read 2,000 members' rows
    async with await Store.open(tmp_path / "topicbot.db") as store:
        await seed(store, old_rows(4))
        asked: list[tuple[str, object]] = []
        fetch_all = store._db.fetch_all

        async def recorded(sql: str, params: object = ()) -> list[tuple[object, ...]]:
            asked.append((sql, params))
            return await fetch_all(sql, params)  # type: ignore[arg-type]

        store._db.fetch_all = recorded  # type: ignore[method-assign]
        counts = await store.deliveries.subscription_health(GUILD, MEMBER)
        store._db.fetch_all = fetch_all  # type: ignore[method-assign]
        assert counts[SUBSCRIPTION].sent == 2
        [(sql, params)] = asked
        plan = await store._db.fetch_all(f"EXPLAIN QUERY PLAN {sql}", params)  # type: ignore[arg-type]
        [history] = [row[3] for row in plan if "deliveries_history" in row[3]]
        assert "target_id=?" in history


# An article's story keys, topics, images and links go with it (on PostgreSQL no foreign key
# takes them: see its migrations 0006 and 0008).
ORPHANS = (
    "SELECT (SELECT count(*) FROM story_title_keys WHERE article_pk NOT IN (SELECT pk FROM articles))"
    " + (SELECT count(*) FROM article_topics WHERE article_pk NOT IN (SELECT pk FROM articles))"
    " + (SELECT count(*) FROM images WHERE article_pk NOT IN (SELECT pk FROM articles))"
    " + (SELECT count(*) FROM related_links WHERE parent_pk NOT IN (SELECT pk FROM articles)"
    " OR child_pk NOT IN (SELECT pk FROM articles))"
)


async def test_old_articles_go_by_the_rules_with_what_they_carry(store):
    """The article rules on either engine, with rows as ingest leaves them."""
    old, recent = ago(100), ago(2)
    gone = await plain.add_article(store, "gone", at=old, topics=["Gone"])
    lister = await plain.add_article(store, "lister", at=old, published=True, topics=["Kept"])
    await plain.add_article(store, "listed", at=old, coverage=True)
    await plain.add_article(store, "subscribed", at=old, topics=["Followed"])
    await plain.add_article(store, "recent", at=recent, topics=["Gone"])
    picked = await plain.add_article(store, "picked", at=old)
    await store.publication.decide(GUILD, picked, "published", 9, NOW)
    await plain.run(
        store,
        "INSERT INTO related_links (parent_pk, child_pk, position) SELECT p.pk, c.pk, 0 "
        "FROM articles p, articles c WHERE p.id = ? AND c.canonical_url LIKE '%listed%'",
        lister,
    )
    await plain.run(
        store,
        "INSERT INTO images (article_pk, position, url) SELECT pk, 0, 'https://i.example/1' "
        "FROM articles WHERE id = ?",
        gone,
    )
    await plain.run(
        store,
        "INSERT INTO subscriptions (guild_id, user_id, topic_id, created_at, updated_at) "
        "SELECT 7, 500, id, 0, 0 FROM topics WHERE key = 'followed'",
    )

    await plain.run(  # a title key of each article, as grouping files them
        store,
        "INSERT INTO story_title_keys (week, key, published_at, article_pk) "
        "SELECT published_at / 604800, pk, published_at, pk FROM articles",
    )
    run = await housekeeper(store, articles_days=30, batch_rows=100).run()

    assert run.articles == 2  # "gone" and "subscribed"
    assert await plain.value(store, ORPHANS) == 0
    assert await titles(store) == [
        f"Story from {n}" for n in ("listed", "lister", "picked", "recent")
    ]
    topics = await plain.rows(store, "SELECT key FROM topics ORDER BY key")
    assert topics == [("followed",), ("gone",), ("kept",)]  # "gone" stays for "recent"
    assert await plain.value(store, "SELECT count(*) FROM images") == 0

    run = await housekeeper(store, articles_days=30, published_articles_days=60).run()
    assert run.articles == 3  # "lister", then "listed" it no longer lists, and "picked"
    assert await titles(store) == ["Story from recent"]
    assert await plain.value(store, "SELECT count(*) FROM related_links") == 0


async def test_space_on_postgresql_is_the_databases_and_autovacuum_reuses_it(
    postgresql_database_url,
):
    async with await PgStore.open(postgresql_database_url, pool_size=2) as pg:
        await seed(pg, old_rows(20))
        size = await pg.retention.size()
        assert size.bytes > 1_000_000 and size.page_size == 8192
        assert (size.free_bytes, size.incremental_vacuum, size.autovacuum) == (0, False, True)
        run = await housekeeper(pg, batch_rows=100).run()
        assert (run.deliveries, run.pages_reclaimed) == (20, 0)
        assert (await pg.gauges()).size_bytes >= size.bytes - 1_000_000


async def test_a_row_turning_prunable_behind_where_pruning_stopped_still_goes(store):
    # A day's rows go in target order: the pending row (the first article) sorts first in its
    # day, so the steps pass it before it is cancelled.
    rows = [("channel", CHANNEL, "pending", ago(45), None)]
    rows += [("channel", CHANNEL, "sent", ago(45), ago(45))] * 30
    rows += [("dm", MEMBER, "sent", ago(45), ago(45))] * 30
    await seed(store, rows)
    cutoff = NOW - timedelta(days=30)
    assert await store.retention.prune_deliveries(cutoff, limit=10) == 10
    assert await store.retention.prune_deliveries(cutoff, limit=10) == 10
    await plain.run(store, "UPDATE deliveries SET state = 'cancelled' WHERE state = 'pending'")
    while await store.retention.prune_deliveries(cutoff, limit=10):
        pass
    assert await outbox(store) == []
    assert (await store.stats()).deliveries_pruned == {
        "pending": 0,
        "sent": 60,
        "failed": 0,
        "dead": 0,
        "skipped": 0,
        "cancelled": 1,
    }


async def done_by_day_blocks(pg: PgStore) -> int:
    """Buffers the pruning index has been read from (its own connection's statistics, sent
    to the server first: pg_stat's counters are flushed lazily)."""
    await pg._db.execute("SELECT pg_stat_force_next_flush()")
    return int(
        await pg._db.scalar(
            "SELECT idx_blks_hit + idx_blks_read FROM pg_statio_user_indexes "
            "WHERE indexrelname = 'deliveries_done_by_day'"
        )
    )


async def test_on_postgresql_a_steps_reads_do_not_grow_with_the_rows_pruned_before_it(
    postgresql_database_url,
):
    # Rows deleted stay in the index until VACUUM (kept away here): a step that sought the
    # oldest prunable row from the index's start read every one pruned before it.
    async with await PgStore.open(postgresql_database_url, pool_size=1) as pg:
        await pg._db.execute("ALTER TABLE deliveries SET (autovacuum_enabled = false)")
        article = await plain.add_article(pg, "old", at=ago(40))
        await pg._db.execute(
            "INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, mode, "
            "state, next_attempt_at, created_at, sent_at) SELECT $1, pk, 'dm', 1000 + v, "
            "'instant', 'sent', $2, $2, $2 FROM articles, generate_series(1, 6000) v "
            "WHERE id = $3",
            GUILD,
            ago(40),
            article,
        )
        cutoff = NOW - timedelta(days=30)
        read = []
        for _ in range(60):
            before = await done_by_day_blocks(pg)
            assert await pg.retention.prune_deliveries(cutoff, limit=100) == 100
            read.append(await done_by_day_blocks(pg) - before)
        assert await pg.retention.prune_deliveries(cutoff, limit=100) == 0
        # The first few executions of a statement are planned with their values, which reads
        # the index's ends too; from then on a step reads about as much as the steps before
        # it (it read 2 to 3 more buffers for each step before it: 12 to 88 over 60 steps).
        assert max(read[-10:]) <= max(read[10:20]) + 4, read


async def test_commands_read_while_a_pruning_step_holds_its_transaction(tmp_path):
    # housekeeping prunes on a connection of its own: a command's read does not queue behind a
    # step, and a write waits for the step to commit, then lands
    async with await Store.open(tmp_path / "topicbot.db") as store:
        await seed(store, old_rows(4))
        in_step, step_may_end = asyncio.Event(), asyncio.Event()

        async def pruning_step() -> None:
            async with store.retention._db.transaction():
                await store.retention._db.execute(
                    "DELETE FROM deliveries WHERE created_at = ?", (ago(40),)
                )
                in_step.set()
                await step_may_end.wait()

        step = asyncio.create_task(pruning_step())
        await in_step.wait()
        try:
            read = store.deliveries.subscription_health(GUILD, MEMBER)
            counts = await asyncio.wait_for(read, 5)
            assert counts[SUBSCRIPTION].sent == 2  # the step's delete is not committed yet
            write = asyncio.create_task(store.audit.record(GUILD, 9, "feed.add", NOW))
            await asyncio.sleep(0.05)
            assert not write.done()
        finally:
            step_may_end.set()
        await asyncio.wait_for(asyncio.gather(step, write), 5)
        assert [entry.action for entry in await store.audit.recent(GUILD)] == ["feed.add"]
