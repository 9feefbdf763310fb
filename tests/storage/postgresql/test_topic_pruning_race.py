"""Housekeeping deletes topics nothing holds while ingest, in another session (the worker's
inbox job beside a `topicbot ingest`, or two jobs of one process), files an article under one of
them. Whichever comes first, the article keeps its topic and ingest stores its batch.

Each interleaving is made certain with a third connection that holds the lock the other side
would take, rather than hoped for."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg

from bot.articles.article_file import parse_article
from storage.postgresql.store import PgStore
from tests.factories import article_text
from tests.postgresql import until_sessions_wait_for_locks

NOW = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)


def _ferry_story() -> object:
    text = article_text(title="Ferry crews strike", webUrl="https://news.example/ferry",
                        originalUrl=..., related=[], topics=["Ferries"])  # fmt: skip
    return parse_article(text.encode(), source="ferry.md")


async def _unused_topic(connection: asyncpg.Connection) -> int:
    """A topic nothing holds (its articles pruned long ago): housekeeping's to delete."""
    return int(
        await connection.fetchval(
            "INSERT INTO topics (key, name) VALUES ('ferries', 'Ferries') RETURNING id"
        )
    )


async def _topics_of(store: PgStore, url: str) -> list[str]:
    article = await store.articles.get_by_url(url)
    assert article is not None
    return list(article.topics)


async def test_ingest_filing_under_a_topic_that_housekeeping_would_delete_keeps_the_topic(
    postgresql_database_url: str,
):
    async with await PgStore.open(postgresql_database_url, pool_size=3, source="$TEST") as store:
        holder = await asyncpg.connect(postgresql_database_url)
        try:
            await _unused_topic(holder)
            async with holder.transaction():
                # ingest has looked its topic up and is about to file the article under it;
                # housekeeping runs now
                await holder.execute("LOCK TABLE article_topics IN SHARE ROW EXCLUSIVE MODE")
                ingest = asyncio.ensure_future(
                    store.articles.upsert_batch([_ferry_story()], NOW)  # type: ignore[list-item]
                )
                await until_sessions_wait_for_locks(holder, 1, "ingest never reached its topics")
                prune = asyncio.ensure_future(store.retention.prune_topics(limit=100))
                await _until_done_or_waiting(holder, prune, 2)
            assert list(await ingest) == ["new"]
            assert await prune == 0
        finally:
            await holder.close()
        assert await _topics_of(store, "https://news.example/ferry") == ["Ferries"]


async def _until_done_or_waiting(
    holder: asyncpg.Connection, task: asyncio.Future[object], sessions: int
) -> None:
    """Return once ``task`` is done or ``sessions`` sessions wait for a lock."""
    waiting = asyncio.ensure_future(until_sessions_wait_for_locks(holder, sessions, "no wait"))
    await asyncio.wait([task, waiting], return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()


async def test_housekeeping_leaves_a_topic_that_ingest_is_filing_an_article_under(
    postgresql_database_url: str,
):
    async with await PgStore.open(postgresql_database_url, pool_size=3, source="$TEST") as store:
        holder = await asyncpg.connect(postgresql_database_url)
        try:
            topic_id = await _unused_topic(holder)
            async with holder.transaction():
                # what ingest holds once it has looked the topic up, until it commits
                await holder.execute("SELECT 1 FROM topics WHERE id = $1 FOR KEY SHARE", topic_id)
                pruned = await asyncio.wait_for(store.retention.prune_topics(limit=100), 20)
                assert pruned == 0  # not waited for: passed over, for the next run to judge
        finally:
            await holder.close()
        await store.articles.upsert_batch([_ferry_story()], NOW)  # type: ignore[list-item]
        assert await store.retention.prune_topics(limit=100) == 0  # held by its article now
        assert await _topics_of(store, "https://news.example/ferry") == ["Ferries"]
