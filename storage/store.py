"""The store: one object that owns the connection and exposes the repositories."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Self

import aiosqlite

from storage.articles import ArticleRepository
from storage.database import migrate, open_connection
from storage.feeds import FeedRepository
from storage.guilds import AuditRepository, GuildSettingsRepository, MetaRepository
from storage.models import StoreStats
from storage.publication import PublicationRepository
from storage.stats import store_stats
from storage.subscriptions import SubscriptionRepository
from storage.topics import TopicRepository


class Store:
    """topicbot's embedded database. Open once at start with ``Store.open`` and close at exit."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection = connection
        self.path = path
        self.articles = ArticleRepository(connection)
        self.topics = TopicRepository(connection)
        self.publication = PublicationRepository(connection, self.articles)
        self.subscriptions = SubscriptionRepository(connection)
        self.feeds = FeedRepository(connection)
        self.guild_settings = GuildSettingsRepository(connection)
        self.audit = AuditRepository(connection)
        self.meta = MetaRepository(connection)

    @classmethod
    async def open(cls, path: Path | str) -> Self:
        """Open (creating if needed) and migrate the database file at ``path``."""
        resolved = Path(path)
        if str(resolved) != ":memory:":
            resolved.parent.mkdir(parents=True, exist_ok=True)
        connection = await open_connection(resolved)
        try:
            await migrate(connection)
        except BaseException:
            await connection.close()
            raise
        return cls(connection, resolved)

    async def close(self) -> None:
        """Flush and close the connection (checkpointing the WAL)."""
        await self._connection.close()

    async def stats(self) -> StoreStats:
        """Counts of articles, topics, subscriptions, feeds and deliveries."""
        return await store_stats(self._connection)

    async def integrity_check(self) -> str:
        """SQLite's own verdict on the file: 'ok' when healthy."""
        async with self._connection.execute("PRAGMA integrity_check") as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else "no answer"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
