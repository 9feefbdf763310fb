"""Rows written with plain SQL on either engine, for tests of repositories that read what
others write (articles, while the PostgreSQL article repository is not on main; outbox rows
as planning and sending leave them). Statements are written with ``?`` placeholders, which
become ``$1``, ``$2``... on PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.postgresql.params import numbered
from storage.postgresql.store import PgStore
from storage.prepare import short_id


def on_postgresql(store: Any) -> bool:
    return isinstance(store, PgStore)


async def run(store: Any, sql: str, *args: Any) -> None:
    if on_postgresql(store):
        await store._db.execute(numbered(sql), *args)
    else:
        await store._db.execute(sql, args)


async def rows(store: Any, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    if on_postgresql(store):
        return [tuple(row) for row in await store._db.fetch_all(numbered(sql), *args)]
    return [tuple(row) for row in await store._db.fetch_all(sql, args)]


async def value(store: Any, sql: str, *args: Any) -> Any:
    found = await rows(store, sql, *args)
    return found[0][0] if found else None


async def add_article(
    store: Any,
    name: str,
    *,
    at: int,
    title: str | None = None,
    published: bool = False,
    coverage: bool = False,
    origin: int | None = None,
    quality: int = 50,
    topics: Sequence[str] = (),
) -> str:
    """An article at https://{name}.example/story as ingest leaves it; its id."""
    url = f"https://{name}.example/story"
    article_id = short_id(url)
    await run(
        store,
        "INSERT INTO articles (id, canonical_url, web_url, title, published_at, published, "
        "coverage_only, quality, origin_guild_id, topics_text, content_hash, ingested_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'test', ?, ?)",
        article_id,
        url,
        url,
        title or f"Story from {name}",
        at,
        int(published),
        int(coverage),
        quality,
        origin,
        " ".join(topics),
        at,
        at,
    )
    for position, topic in enumerate(topics):
        await run(
            store,
            "INSERT INTO topics (key, name) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            topic.lower(),
            topic,
        )
        await run(
            store,
            "INSERT INTO article_topics (topic_id, article_pk, position) "
            "SELECT t.id, a.pk, ? FROM topics t, articles a WHERE t.key = ? AND a.id = ?",
            position,
            topic.lower(),
            article_id,
        )
    return article_id
