"""Stores as earlier topicbot versions left them, written with raw SQL of their schema."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from storage.database import migrate, open_connection
from storage.prepare import short_id
from storage.titles import analyse


async def store_at_version(path: Path, version: int) -> aiosqlite.Connection:
    """A database migrated up to ``version`` only; the caller closes it."""
    connection = await open_connection(path)
    await migrate(connection, up_to=version)
    return connection


async def add_article(
    connection: aiosqlite.Connection,
    url: str,
    title: str,
    *,
    published_at: int,
    domain: str = "old.example",
    story_keys: bool = False,
) -> int:
    """An article row as ingest wrote it then (with its story title keys, schema 3 to 6)."""
    cursor = await connection.execute(
        "INSERT INTO articles (id, canonical_url, web_url, title, published_at, provider_domain, "
        "content_hash, story_id, ingested_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'legacy', NULL, ?, ?)",
        (short_id(url), url, url, title, published_at, domain, published_at, published_at),
    )
    pk = int(cursor.lastrowid or 0)
    await connection.execute("UPDATE articles SET story_id = pk WHERE pk = ?", (pk,))
    if story_keys:
        _, keys = analyse(title)
        await connection.executemany(
            "INSERT INTO story_title_keys (key, published_at, article_pk) VALUES (?, ?, ?)",
            [(key, published_at, pk) for key in keys],
        )
    await connection.commit()
    return pk
