"""The related engine on PostgreSQL before the PostgreSQL store ingests: a SQLite store takes
the writes (by the normal ingest), every write is copied into a PostgreSQL database
(``bench.pg_copy``), and the related engine's reads (``related``, ``associations``) go to
the PostgreSQL store. Once ``PgStore`` ingests, ``any_store`` replaces this."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from bench.pg_copy import copy_store
from storage import Store
from storage.articles import ArticleRepository
from storage.models import ArticleDraft, UpsertOutcome
from storage.postgresql.store import PgStore


class _CopyingArticles:
    """SQLite's article repository, copying the store to PostgreSQL after each write."""

    def __init__(self, articles: ArticleRepository, copy: Callable[[], Awaitable[None]]) -> None:
        self._articles = articles
        self._copy = copy

    async def upsert_batch(
        self, drafts: Sequence[ArticleDraft], now: datetime, *, origin_guild_id: int | None = None
    ) -> list[UpsertOutcome]:
        outcomes = await self._articles.upsert_batch(drafts, now, origin_guild_id=origin_guild_id)
        await self._copy()
        return outcomes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._articles, name)


class MirroredStore:
    """Writes on SQLite, copied; the related engine's reads on PostgreSQL."""

    def __init__(self, sqlite: Store, postgresql: PgStore) -> None:
        self.sqlite = sqlite
        self.postgresql = postgresql
        self.articles = _CopyingArticles(sqlite.articles, self.copy)
        self.related = postgresql.related
        self.associations = postgresql.associations

    async def copy(self) -> None:
        await copy_store(self.sqlite.path, self.postgresql._db)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sqlite, name)


@asynccontextmanager
async def mirrored(sqlite: Store, url: str) -> AsyncIterator[MirroredStore]:
    """``sqlite`` mirrored into the (empty) PostgreSQL database at ``url``."""
    async with await PgStore.open(url, pool_size=4, source="$TEST") as postgresql:
        store = MirroredStore(sqlite, postgresql)
        await store.copy()
        yield store
