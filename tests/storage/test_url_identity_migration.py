"""Stores made before an article's identity ignored the scheme, a trailing slash and ports 80
and 443 (SQLite's migration 0023, PostgreSQL's 0017): each key is recomputed as ingest now
computes it, and where two stored articles meet under one key nothing is deleted, and later
files go to the one already posted."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from bot.articles.urls import canonical_url
from bot.domain.related import RelatedService
from bot.ingest.writer import ingest_paths
from storage.postgresql.params import numbered
from storage.postgresql.schema import VERSION_TABLE, migrations
from storage.prepare import short_id
from tests.engines import ENGINES, open_store, postgresql_url, statements
from tests.factories import write_article
from tests.storage.legacy import store_at_version
from tests.waiting import eventually

# The schema versions before the new identity: SQLite 0022, PostgreSQL 0016.
SQLITE_BEFORE, POSTGRESQL_BEFORE = 22, 16
AT = 1_790_000_000
GUILD = 7

# Keys as the old rule left them (scheme kept, trailing slash kept, the other default port).
ALONE = [
    "http://a.example/x",
    "https://a.example/y/",
    "http://a.example/",
    "https://b.example//",
    "http://a.example:443/p/?q=1",
    "https://a.example:80/p",
    "https://a.example:8080/p/",
    "https://[2001:db8::1]:80/v6/",
    "https://a.example/s/?next=/b/",
    "https://a.example/q?x=a/",
    "http://www.a.example/x",  # www. is another site: not a.example/x
    "https://a.example/Case/Kept/",
]
# (key, coverage-only, planned) in the order they were stored; the first listed per group of
# ``WINNERS`` is the one that must keep the identity.
MET = [
    ("http://news.example/story", False, True),  # posted first...
    ("https://news.example/story", False, True),  # ...and posted again over https
    ("https://news.example/cov", True, False),  # known first as coverage
    ("http://news.example/cov/", False, False),  # then the full article
    ("https://news.example/p", False, False),  # pending, never posted
    ("http://news.example/p/", False, True),  # the one posted
    ("http://news.example/t", False, False),
    ("https://news.example/t/", False, False),
    ("http://news.example/t/", False, False),
]
WINNERS = {
    "https://news.example/story": "http://news.example/story",
    "https://news.example/cov": "http://news.example/cov/",
    "https://news.example/p": "http://news.example/p/",
    "https://news.example/t": "http://news.example/t",
}
INSERT = (
    "INSERT INTO articles (id, canonical_url, web_url, title, published_at, published, "
    "coverage_only, planned_at, content_hash, ingested_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'legacy', ?, ?)"
)
# (article pk, target kind, target id, state): rows as the old code's planner wrote them
INSERT_DELIVERY = (
    "INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, mode, state, "
    f"next_attempt_at, created_at) VALUES ({GUILD}, ?, ?, ?, 'instant', ?, {AT}, {AT})"
)


def rows(
    alone: list[str] = ALONE, met: list[tuple[str, bool, bool]] = MET
) -> list[tuple[Any, ...]]:
    found = []
    for n, (url, coverage, planned) in enumerate([(u, False, False) for u in alone] + met):
        found.append(
            (short_id(url), url, url, f"Story {n}", AT, int(not coverage), int(coverage),
             AT + n if planned else None, AT + n, AT + n)
        )  # fmt: skip
    return found


async def sqlite_before(
    path: Path, written: list[tuple[Any, ...]], sends: Sequence[tuple[Any, ...]] = ()
) -> None:
    connection = await store_at_version(path, SQLITE_BEFORE)
    try:
        await connection.executemany(INSERT, written)
        await connection.executemany(INSERT_DELIVERY, sends)
        await connection.commit()
    finally:
        await connection.close()


async def postgresql_before(
    url: str, written: list[tuple[Any, ...]], sends: Sequence[tuple[Any, ...]] = ()
) -> None:
    connection = await asyncpg.connect(url)
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
        await connection.executemany(numbered(INSERT), written)
        await connection.executemany(numbered(INSERT_DELIVERY), sends)
    finally:
        await connection.close()


Migrate = Callable[..., AbstractAsyncContextManager[Any]]


@pytest.fixture(params=ENGINES)
def migrate(request: pytest.FixtureRequest, tmp_path: Path) -> Migrate:
    """``async with migrate(rows) as store``: a store of the old schema holding ``rows``,
    opened (so migrated) by this version; on each engine in turn."""
    url = postgresql_url(request)
    path = tmp_path / "topicbot.db"

    @asynccontextmanager
    async def opened(
        written: list[tuple[Any, ...]], sends: Sequence[tuple[Any, ...]] = ()
    ) -> AsyncIterator[Any]:
        if url is None:
            await sqlite_before(path, written, sends)
        else:
            await postgresql_before(url, written, sends)
        async with await open_store(path, url) as store:
            yield store

    return opened


@pytest_asyncio.fixture
async def migrated(migrate: Migrate) -> AsyncIterator[Any]:
    """The old store holding ``rows()``, migrated."""
    async with migrate(rows()) as store:
        yield store


async def keys_by_id(store: Any) -> dict[str, str]:
    found = await store._db.fetch_all("SELECT id, canonical_url FROM articles")
    return {str(article_id): str(key) for article_id, key in found}


async def test_every_key_is_recomputed_as_ingest_computes_it(migrated: Any):
    keys = await keys_by_id(migrated)
    for old in ALONE:
        assert keys[short_id(old)] == canonical_url(old), old  # the id is kept
    assert keys[short_id("http://www.a.example/x")] == "https://www.a.example/x"
    assert keys[short_id("http://a.example/x")] == "https://a.example/x"


async def test_articles_that_meet_under_one_key_are_all_kept_and_one_takes_it(migrated: Any):
    keys = await keys_by_id(migrated)
    assert len(keys) == len(ALONE) + len(MET)  # nothing deleted
    for new, winner in WINNERS.items():
        assert keys[short_id(winner)] == new
        for old, _, _ in MET:
            if old != winner and canonical_url(old) == new:
                assert keys[short_id(old)] == f"{old}#duplicate"
    for new, winner in WINNERS.items():
        stored = await migrated.articles.get_by_url(new)
        assert stored is not None and stored.id == short_id(winner)


async def test_a_file_sent_again_goes_to_the_article_already_posted(migrated: Any, tmp_path: Path):
    before = len(await keys_by_id(migrated))
    sent = [
        ("https://news.example/story/", "Story 12"),
        ("http://news.example/cov", "Story 15"),
        ("https://news.example/p/", "Story 17"),
        ("HTTPS://News.Example/t//?utm_source=rss", "Story 18"),
    ]
    for n, (url, title) in enumerate(sent):
        write_article(
            tmp_path / "inbox", f"{n}.md", webUrl=url, originalUrl=url, title=title, related=[]
        )
    report = await ingest_paths(migrated, [tmp_path / "inbox"])
    assert report.rejected == []
    assert report.new == 0
    assert len(await keys_by_id(migrated)) == before
    for url, _ in sent:
        stored = await migrated.articles.get_by_url(canonical_url(url))
        assert stored is not None
        assert stored.id == short_id(WINNERS[canonical_url(url)])
        assert stored.web_url == url  # shown as the file wrote it


_PIECES = ["a", "b-", ".", "/", "//", "x", "%2F", "~", ":", "@", "?", "=", "&", "é", "utm_x",
           "0", "Z", ";", "amp", "/amp/"]  # fmt: skip


def old_keys(count: int, seed: int = 22) -> list[str]:
    """Keys as the old rule left them: today's key, over http or https, with its default port
    of the other scheme or not, a trailing slash added to its path or not."""
    chance = random.Random(seed)
    found: set[str] = set()
    while len(found) < count:
        path = "".join(chance.choice(_PIECES) for _ in range(chance.randrange(8)))
        host = chance.choice(["n.example", "www.n.example", "[2001:db8::2]", "n.example:8443"])
        key = canonical_url(f"https://{host}/{path}")
        head, _, query = key.partition("?")
        if chance.random() < 0.5:
            head += "/" * chance.randrange(1, 3)
        if chance.random() < 0.5:
            head = head.replace("https://", "http://", 1)
        if chance.random() < 0.2 and ":8443" not in head:
            head = head.replace(
                ".example", ".example:443" if head.startswith("http:") else ".example:80", 1
            )
            head = head.replace("]", "]:80", 1) if head.startswith("https:") else head
        found.add(head + ("?" + query if query else ""))
    return sorted(found)


async def test_the_migration_computes_the_key_ingest_computes(migrate: Migrate):
    keys = old_keys(400)
    async with migrate(rows(keys, [])) as store:
        stored = await keys_by_id(store)
    for old in keys:
        new = stored[short_id(old)]
        if new.endswith("#duplicate"):
            assert new == f"{old}#duplicate"
        else:
            assert new == canonical_url(old), old
    taken = [key for key in stored.values() if not key.endswith("#duplicate")]
    assert sorted(taken) == sorted({canonical_url(old) for old in keys})


async def test_related_lists_two_articles_that_met_under_one_key_once(migrate: Migrate):
    # a story's file listed its coverage over http, its next version over https (its excerpt
    # reworded): two coverage articles; of no known outlet, so only their link tells them apart
    story = "https://harbour.example/ferry-pilot"
    again = ["http://wire.example/ferries/", "https://wire.example/ferries"]
    written = [
        (short_id(story), story, story, "Ferry pilot expands to the islands", AT, 1, 0, None,
         AT, AT),
        *[(short_id(url), url, url, "Island ferries get a pilot", AT + n, 0, 1, None, AT + n,
           AT + n) for n, url in enumerate(again, 1)],
    ]  # fmt: skip
    async with migrate(written) as store:
        db = statements(store)
        for n, url in enumerate(again):
            await db.execute(
                "UPDATE articles SET excerpt = :excerpt WHERE id = :id",
                {"excerpt": f"Reworded {n}.", "id": short_id(url)},
            )
            await db.execute(
                "INSERT INTO related_links (parent_pk, child_pk, position) "
                "SELECT p.pk, c.pk, :n FROM articles p, articles c "
                "WHERE p.id = :parent AND c.id = :child",
                {"n": n, "parent": short_id(story), "child": short_id(url)},
            )
        _, results = await RelatedService(store).for_story(GUILD, short_id(story))
    listed = [r.article.title for r in results]
    assert listed == ["Island ferries get a pilot"]


async def test_an_old_process_writing_while_postgresql_migrates_neither_fails_nor_is_skipped(
    postgresql_database_url: str,
):
    # A rolling upgrade: the old process (holding the worker lease) ingests while a new one
    # migrates. Its transaction stores the https copy of a posted story, and an http link of
    # the old kind, as the migration begins.
    url = postgresql_database_url
    await postgresql_before(url, rows(alone=[], met=MET[:1]))
    old_process = await asyncpg.connect(url)
    written = rows(
        alone=["http://late.example/x/"], met=[("https://news.example/story", False, False)]
    )
    try:
        async with old_process.transaction():
            await old_process.executemany(numbered(INSERT), written[:1] + written[-1:])
            opening = asyncio.create_task(open_store(Path("unused"), url))
            await eventually(lambda: waiting_for_a_lock(old_process), "the migration waits")
        async with await opening as store:
            keys = await keys_by_id(store)
    finally:
        await old_process.close()
    assert keys == {
        short_id("http://news.example/story"): "https://news.example/story",
        short_id("https://news.example/story"): "https://news.example/story#duplicate",
        short_id("http://late.example/x/"): "https://late.example/x",
    }


async def waiting_for_a_lock(other: asyncpg.Connection) -> bool:
    """Whether another session than ``other`` waits for a lock (the migrating one)."""
    return bool(
        await other.fetchval(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()"
        )
    )


async def test_a_story_stored_twice_and_not_yet_planned_is_posted_once(migrated: Any):
    # The old rule stored a story again when its file came back over https (or with a slash):
    # the copy not yet planned at the upgrade would be posted and alerted a second time.
    cutoff = datetime.fromtimestamp(AT - 3600, UTC)
    waiting = {p.article_pk for p in await migrated.deliveries.unplanned(cutoff, limit=100)}
    pks = dict(await migrated._db.fetch_all("SELECT canonical_url, pk FROM articles"))
    duplicates = {pk for key, pk in pks.items() if str(key).endswith("#duplicate")}
    assert duplicates and not waiting & duplicates
    # the one that keeps the key goes out, once: "t" was stored three times, never planned
    assert pks["https://news.example/t"] in waiting
    assert pks["https://news.example/cov"] in waiting  # the full article, known first as coverage


async def test_a_story_planned_twice_reaches_no_target_twice(migrate: Migrate):
    # Both copies planned before the upgrade; the posted one reached the channel and one
    # member, the other's rows wait: only where the first never went may the second go.
    posted, again = "http://news.example/d", "https://news.example/d/"
    sends = [
        (1, "channel", 80, "sent"),
        (1, "dm", 10, "pending"),
        (2, "channel", 80, "pending"),  # the channel has the story: cancelled
        (2, "dm", 10, "pending"),  # so will member 10: cancelled
        (2, "dm", 11, "pending"),  # member 11 gets it from this copy only: kept
        (1, "dm", 12, "dead"),
        (2, "dm", 12, "pending"),  # the first never reached member 12: kept
    ]
    written = rows(alone=[], met=[(posted, False, True), (again, False, True)])
    async with migrate(written, sends) as store:
        due = await store.deliveries.due(datetime.fromtimestamp(AT + 60, UTC), limit=100)
        states = {
            (pk, kind, target): (state, error)
            for pk, kind, target, state, error in await store._db.fetch_all(
                "SELECT article_pk, target_kind, target_id, state, last_error FROM deliveries"
            )
        }
    assert sorted((d.article_pk, d.target_kind, d.target_id) for d in due) == [
        (1, "dm", 10), (2, "dm", 11), (2, "dm", 12)
    ]  # fmt: skip
    assert states[(2, "channel", 80)] == ("cancelled", "duplicate")
