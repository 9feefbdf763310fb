"""The PostgreSQL schema: every table and column of the SQLite store's, migrations applied once
(also by two processes starting together), and what stands in for FTS5 and SQLite's triggers."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from storage import Store
from storage.postgresql.schema import migrate, migrations, open_migrated_pool, schema_version

NOW = 1_760_000_000


async def sqlite_columns(path: Path) -> dict[str, set[str]]:
    store = await Store.open(path)
    await store.close()
    with sqlite3.connect(path) as db:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if "_fts" not in name
        ]
        return {t: {row[1] for row in db.execute(f"PRAGMA table_info('{t}')")} for t in tables}


async def postgresql_columns(connection: asyncpg.Connection) -> dict[str, set[str]]:
    rows = await connection.fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'public'"
    )
    columns: dict[str, set[str]] = {}
    for row in rows:
        columns.setdefault(row["table_name"], set()).add(row["column_name"])
    return columns


async def test_every_sqlite_table_and_column_has_its_place(connection, tmp_path):
    on_sqlite = await sqlite_columns(tmp_path / "store.db")
    on_postgresql = await postgresql_columns(connection)
    assert "articles" in on_sqlite  # the comparison below compares something
    for table, names in on_sqlite.items():
        assert names <= on_postgresql.get(table, set()), table
    added = {t: on_postgresql[t] - on_sqlite.get(t, set()) for t in on_postgresql}
    assert {t: c for t, c in added.items() if c} == {
        "articles": {"search", "title_words"},
        "deliveries": {"claimed_by", "lease_until"},
        "schema_migrations": {"version", "name", "applied_at"},
        # the related engine's and title autocomplete's postings (migration 0007)
        "search_words": {"word", "pk"},
        "suggest_words": {"prefix", "pk", "word"},
    }


# SQLite's indexes and triggers that PostgreSQL has under another name or not at all, each on
# purpose; every other one must be there under its SQLite name. None: nothing stands in for it.
INDEX_STAND_INS: dict[str, str | None] = {
    # FTS5 virtual tables: the related engine's postings (0007; the `search` column they are
    # filled from has no index since 0008), title autocomplete's GIN index.
    "articles_fts": "search_words_pkey",
    "titles_fts": "articles_title_words",
}
TRIGGER_STAND_INS: dict[str, str | None] = {
    # They keep the FTS5 tables; the tsvector columns are generated, kept by PostgreSQL itself.
    "articles_fts_insert": None,
    "articles_fts_delete": None,
    "articles_fts_update": None,
    "articles_fts_update_old": None,
    "titles_fts_insert": None,
    "titles_fts_delete": None,
    "titles_fts_update": None,
    "titles_fts_update_old": None,
}


async def sqlite_schema_names(path: Path, kind: str) -> set[str]:
    """The store's indexes (with the FTS5 virtual tables, which stand where indexes do) or
    triggers on SQLite; not the automatic indexes, nor the FTS5 tables' shadow tables'."""
    store = await Store.open(path)
    await store.close()
    with sqlite3.connect(path) as db:
        if kind == "trigger":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            query = (
                "SELECT name FROM sqlite_master WHERE (type = 'index' AND sql IS NOT NULL "
                "AND tbl_name NOT LIKE '%\\_fts\\_%' ESCAPE '\\') "
                "OR (type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%')"
            )
        return {name for (name,) in db.execute(query)}


async def postgresql_schema_names(connection: asyncpg.Connection, kind: str) -> set[str]:
    if kind == "trigger":
        query = "SELECT tgname AS name FROM pg_trigger WHERE NOT tgisinternal"
    else:
        query = "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public'"
    return {row["name"] for row in await connection.fetch(query)}


@pytest.mark.parametrize(
    ("kind", "stand_ins", "one_there"),
    [
        ("index", INDEX_STAND_INS, "deliveries_history"),
        ("trigger", TRIGGER_STAND_INS, "articles_deliveries_delete"),
    ],
)
async def test_every_sqlite_index_and_trigger_has_its_place(
    connection, tmp_path, kind, stand_ins, one_there
):
    on_sqlite = await sqlite_schema_names(tmp_path / "store.db", kind)
    on_postgresql = await postgresql_schema_names(connection, kind)
    assert one_there in on_sqlite  # the comparison below compares something
    assert set(stand_ins) <= on_sqlite  # no stand-in for what SQLite no longer has
    missing = {
        name: stand_ins.get(name, name)
        for name in on_sqlite
        if stand_ins.get(name, name) not in on_postgresql | {None}
    }
    assert missing == {}


async def test_migrations_are_recorded_and_applied_once(connection):
    latest = len(migrations())
    assert await schema_version(connection) == latest
    assert await migrate(connection) == []
    recorded = await connection.fetch("SELECT version, name FROM schema_migrations")
    assert [(r["version"], r["name"]) for r in recorded] == [
        (m.version, m.name) for m in migrations()
    ]


async def test_two_migrators_starting_together_apply_the_schema_once(postgresql_database_url):
    first, second = [await asyncpg.connect(postgresql_database_url) for _ in range(2)]
    try:
        applied = await asyncio.gather(migrate(first), migrate(second))
        everything = [m.version for m in migrations()]
        assert sorted(applied) == [[], everything]  # one applied all, the other found it done
        count = await first.fetchval("SELECT count(*) FROM schema_migrations")
        assert count == len(everything)
    finally:
        await first.close()
        await second.close()


async def add_article(connection, id_: str, title: str, **columns) -> int:
    values = {
        "id": id_,
        "canonical_url": f"https://news.example/{id_}",
        "web_url": f"https://news.example/{id_}",
        "title": title,
        "published_at": NOW,
        "content_hash": id_,
        "ingested_at": NOW,
        "updated_at": NOW,
        **columns,
    }
    names = ", ".join(values)
    marks = ", ".join(f"${n}" for n in range(1, len(values) + 1))
    return await connection.fetchval(
        f"INSERT INTO articles ({names}) VALUES ({marks}) RETURNING pk", *values.values()
    )


async def matches(connection, query: str) -> list[str]:
    rows = await connection.fetch(
        "SELECT id FROM articles WHERE search @@ websearch_to_tsquery('topicbot_text', $1) "
        "ORDER BY ts_rank(search, websearch_to_tsquery('topicbot_text', $1)) DESC, id",
        query,
    )
    return [row["id"] for row in rows]


async def test_search_weighs_the_title_above_topics_above_the_excerpt(connection):
    await add_article(connection, "excerpt", "Port news", excerpt="Lithium prices rise")
    await add_article(connection, "title", "Lithium mine opens")
    await add_article(connection, "topics", "Mining news", topics_text="Lithium")
    await add_article(connection, "none", "Rail strike")
    assert await matches(connection, "lithium") == ["title", "topics", "excerpt"]


async def test_search_folds_case_and_accents_and_splits_compounds(connection):
    await add_article(connection, "cafe", "Café chains go AI-driven")
    assert await matches(connection, "CAFE") == ["cafe"]
    assert await matches(connection, "driven") == ["cafe"]


async def test_member_text_is_never_query_syntax(connection):
    await add_article(connection, "quote", 'Markets "rally" (again) & -fall')
    for typed in ['"rally', "(again", "& -", "rally:*", "!", "'"]:
        await matches(connection, typed)  # no syntax error, whatever is typed
    assert await matches(connection, "rally (again)") == ["quote"]


async def test_title_autocomplete_takes_a_prefix_and_offers_only_full_articles(connection):
    await add_article(connection, "full", "Semiconductor export rules")
    await add_article(connection, "coverage", "Semiconductor tariffs", coverage_only=1)
    rows = await connection.fetch(
        "SELECT id FROM articles WHERE coverage_only = 0 "
        "AND title_words @@ to_tsquery('topicbot_text', $1)",
        "semicon:*",
    )
    assert [row["id"] for row in rows] == ["full"]


async def topic_counts(connection) -> dict[str, int]:
    rows = await connection.fetch("SELECT key, article_count FROM topics")
    return {row["key"]: row["article_count"] for row in rows}


async def test_topic_counts_follow_what_members_see(connection):
    ai, chips = [
        await connection.fetchval(
            "INSERT INTO topics (key, name) VALUES ($1, $1) RETURNING id", key
        )
        for key in ("ai", "chips")
    ]
    seen = await add_article(connection, "seen", "Seen", published=1)
    pending = await add_article(connection, "pending", "Pending")
    own = await add_article(connection, "own", "A guild's own", published=1, origin_guild_id=5)
    await connection.executemany(
        "INSERT INTO article_topics (topic_id, article_pk, position) VALUES ($1, $2, 0)",
        [(ai, seen), (chips, seen), (ai, pending), (ai, own)],
    )
    assert await topic_counts(connection) == {"ai": 1, "chips": 1}
    await connection.execute("UPDATE articles SET published = 1 WHERE pk = $1", pending)
    assert await topic_counts(connection) == {"ai": 2, "chips": 1}
    await connection.execute(
        "DELETE FROM article_topics WHERE article_pk = $1 AND topic_id = $2", seen, chips
    )
    await connection.execute("DELETE FROM articles WHERE pk = ANY($1)", [seen, own])
    assert await topic_counts(connection) == {"ai": 1, "chips": 0}


async def add_delivery(connection, article_pk: int, target_id: int) -> None:
    await connection.execute(
        "INSERT INTO deliveries (guild_id, target_kind, target_id, article_pk, "
        "next_attempt_at, created_at) VALUES (1, 'dm', $1, $2, $3, $3)",
        target_id,
        article_pk,
        NOW,
    )


async def test_an_articles_outbox_rows_go_with_it(connection):
    gone = await add_article(connection, "gone", "Gone")
    kept = await add_article(connection, "kept", "Kept")
    for target in (10, 11):
        await add_delivery(connection, gone, target)
    await add_delivery(connection, kept, 10)
    await connection.execute("DELETE FROM articles WHERE pk = $1", gone)
    left = await connection.fetch("SELECT article_pk FROM deliveries")
    assert [row["article_pk"] for row in left] == [kept]


async def add_feed_and_subscription(connection, topic_key: str, channel: int) -> list[int]:
    """A topic with a channel feed and a member's subscription, each with kept counts."""
    topic = await connection.fetchval(
        "INSERT INTO topics (key, name) VALUES ($1, $1) RETURNING id", topic_key
    )
    feed = await connection.fetchval(
        "INSERT INTO feeds (guild_id, channel_id, topic_id, created_by, created_at) "
        "VALUES (7, $1, $2, 9, $3) RETURNING id",
        channel,
        topic,
        NOW,
    )
    subscription = await connection.fetchval(
        "INSERT INTO subscriptions (guild_id, user_id, topic_id, created_at, updated_at) "
        "VALUES (7, 500, $1, $2, $2) RETURNING id",
        topic,
        NOW,
    )
    await connection.executemany(
        "INSERT INTO delivery_counts (guild_id, target_kind, target_id, source_id, state, total) "
        "VALUES (7, $1, $2, $3, $4, 3)",
        [
            ("channel", channel, feed, "sent"),
            ("channel", channel, feed, "failed"),
            ("dm", 500, subscription, "sent"),
        ],
    )
    return [topic, feed, subscription]


async def kept_counts(connection) -> set[tuple[str, int]]:
    rows = await connection.fetch("SELECT target_kind, source_id FROM delivery_counts")
    return {(row["target_kind"], row["source_id"]) for row in rows}


async def test_counts_of_removed_feeds_and_subscriptions_go_with_them(connection):
    _, ai_feed, ai_subscription = await add_feed_and_subscription(connection, "ai", 70)
    chips, chips_feed, chips_subscription = await add_feed_and_subscription(connection, "chips", 71)
    await connection.execute("DELETE FROM subscriptions WHERE id = $1", ai_subscription)
    assert await kept_counts(connection) == {
        ("channel", ai_feed),
        ("channel", chips_feed),
        ("dm", chips_subscription),
    }
    await connection.execute("DELETE FROM feeds WHERE id = $1", ai_feed)
    assert await kept_counts(connection) == {("channel", chips_feed), ("dm", chips_subscription)}
    await connection.execute("DELETE FROM topics WHERE id = $1", chips)  # both cascade
    assert await kept_counts(connection) == set()


# SQLite's pruning statements (storage/retention.py) as PostgreSQL will run them: the day
# written as the index writes it.
DONE_DAY = "greatest(created_at, coalesce(sent_at, 0)) / 86400"
PRUNABLE = (
    "SELECT article_pk, guild_id, target_kind, target_id, state FROM deliveries "
    f"WHERE state <> 'pending' AND {DONE_DAY} = $1 "
    "ORDER BY guild_id, target_kind, target_id, article_pk LIMIT $2"
)
DELETE_PRUNABLE = (
    f"DELETE FROM deliveries WHERE state <> 'pending' AND {DONE_DAY} = $1 "
    "AND (guild_id, target_kind, target_id, article_pk) <= ($2, $3, $4, $5)"
)


async def plan(connection, statement: str, *arguments) -> str:
    async with connection.transaction():
        # On a near-empty table a scan of it is cheapest; what is asked is whether the
        # index can serve the statement, as SQLite's test asks with INDEXED BY.
        await connection.execute("SET LOCAL enable_seqscan = off")
        rows = await connection.fetch(f"EXPLAIN {statement}", *arguments)
    return "\n".join(row[0] for row in rows)


async def test_pruning_reads_the_outbox_by_day_then_target_through_its_index(connection):
    chosen = await plan(connection, PRUNABLE, 20_000, 10)
    assert "deliveries_done_by_day" in chosen
    assert "Sort" not in chosen  # the index gives the order
    chosen = await plan(connection, DELETE_PRUNABLE, 20_000, 7, "dm", 500, 1)
    assert "deliveries_done_by_day" in chosen


CLAIM = (
    "UPDATE deliveries d SET claimed_by = $1, lease_until = $2 FROM ("
    "SELECT article_pk, guild_id, target_kind, target_id FROM deliveries "
    "WHERE state = 'pending' AND mode = 'instant' AND next_attempt_at <= $2 "
    "AND (lease_until IS NULL OR lease_until < $2) "
    "ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) due "
    "WHERE (d.article_pk, d.guild_id, d.target_kind, d.target_id) = "
    "(due.article_pk, due.guild_id, due.target_kind, due.target_id) RETURNING d.target_id"
)


@pytest.mark.parametrize("batch", [2, 3])
async def test_two_senders_claim_disjoint_rows(connection, postgresql_database_url, batch):
    article = await add_article(connection, "a", "A")
    for target in range(5):
        await add_delivery(connection, article, target)
    other = await asyncpg.connect(postgresql_database_url)
    try:
        async with connection.transaction(), other.transaction():
            mine = await connection.fetch(CLAIM, "one", NOW + 60, batch)
            theirs = await other.fetch(CLAIM, "two", NOW + 60, batch)
        claimed = [row["target_id"] for row in mine + theirs]
        assert len(mine) == batch
        assert sorted(claimed) == sorted(set(claimed))  # no row claimed twice
        assert len(claimed) == min(5, 2 * batch)
    finally:
        await other.close()


async def test_a_pool_opens_on_an_up_to_date_schema(postgresql_database_url):
    pool = await open_migrated_pool(postgresql_database_url, size=2, source="$TEST")
    try:
        async with pool.acquire() as lent:
            assert await schema_version(lent) == len(migrations())
    finally:
        await pool.close()


async def test_ingest_writes_no_index_of_the_search_column(connection):
    # the column is read by pk alone (migration 0008): an index of it would only slow ingest
    indexes = await connection.fetch(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'articles' AND indexdef LIKE $1",
        "%(search)%",
    )
    assert indexes == []
