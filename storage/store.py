"""The store: one object that owns the connection and exposes the repositories."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Self

from storage.articles import ArticleRepository
from storage.database import Database, migrate, open_connection
from storage.deliveries import DeliveryRepository
from storage.feeds import FeedRepository
from storage.guilds import AuditRepository, GuildSettingsRepository, MetaRepository
from storage.models import StoreStats
from storage.publication import PublicationRepository
from storage.stats import store_stats
from storage.subscriptions import SubscriptionRepository
from storage.topics import TopicRepository


class Store:
    """topicbot's embedded database. Open once at start with ``Store.open`` and close at exit."""

    def __init__(self, db: Database, path: Path) -> None:
        self._db = db
        self.path = path
        connection = db
        self.articles = ArticleRepository(connection)
        self.topics = TopicRepository(connection)
        self.publication = PublicationRepository(connection, self.articles)
        self.subscriptions = SubscriptionRepository(connection)
        self.feeds = FeedRepository(connection)
        self.guild_settings = GuildSettingsRepository(connection)
        self.audit = AuditRepository(connection)
        self.meta = MetaRepository(connection)
        self.deliveries = DeliveryRepository(connection)

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
        return cls(Database(connection), resolved)

    async def close(self) -> None:
        """Flush and close the connection (checkpointing the WAL)."""
        await self._db.close()

    async def stats(self) -> StoreStats:
        """Counts of articles, topics, subscriptions, feeds and deliveries."""
        return await store_stats(self._db)

    async def optimize(self) -> None:
        """Let SQLite refresh its statistics and fold the WAL back into the file."""
        await self._db.execute("PRAGMA optimize")
        await self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def integrity_check(self) -> str:
        """SQLite's own verdict on the file: 'ok' when healthy."""
        return str(await self._db.scalar("PRAGMA integrity_check") or "no answer")

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
