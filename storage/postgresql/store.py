"""The store on PostgreSQL: one object that owns the pool and exposes the repositories, as
``storage.store.Store`` does for the SQLite file (both behind ``storage.api.StoreApi``).

A repository whose statements are SQLite's too is the SQLite package's, run on the pool's
named-parameter face (``PgDatabase.named``); the others are here, one module each.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Self

from storage.feeds import FeedRepository
from storage.grouping import GroupingRules
from storage.guilds import AuditRepository, GuildSettingsRepository, MetaRepository
from storage.left_members import LeftMembersRepository
from storage.left_servers import LeftServersRepository
from storage.lifetime import ClosedOnExit
from storage.members import MemberRepository
from storage.models import Gauges, StoreStats
from storage.postgresql.articles import ARTICLE, PgArticleRepository
from storage.postgresql.associations import PgAssociationRepository
from storage.postgresql.connection import url_from_environment
from storage.postgresql.database import PgDatabase
from storage.postgresql.outbox.repository import DEFAULT_LEASE, PgDeliveryRepository
from storage.postgresql.related import PgRelatedRepository
from storage.postgresql.retention import PgRetentionRepository
from storage.postgresql.schema import migrate, migrations, open_migrated_pool, schema_version
from storage.postgresql.stories import PgStoryRepository
from storage.postgresql.titles import PgTitleSuggestions
from storage.publication import PublicationRepository
from storage.stats import store_gauges, store_stats
from storage.subscriptions import SubscriptionRepository
from storage.topics import TopicRepository

DEFAULT_POOL_SIZE = 10


class PgStore(ClosedOnExit):
    """topicbot's store on a PostgreSQL database. Open once at start with ``PgStore.open``
    and close at exit."""

    def __init__(
        self,
        db: PgDatabase,
        *,
        grouping: GroupingRules | None = None,
        claimer: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self._db = db
        self._grouping = grouping
        self.articles = PgArticleRepository(db, grouping)
        self.stories = PgStoryRepository(db, self.articles)
        # the repositories whose statements both engines share
        self.topics = TopicRepository(db.named)
        self.subscriptions = SubscriptionRepository(db.named)
        self.guild_settings = GuildSettingsRepository(db.named)
        self.meta = MetaRepository(db.named)
        self.members = MemberRepository(db.named)
        self.feeds = FeedRepository(db.named)
        self.audit = AuditRepository(db.named)
        self.publication = PublicationRepository(db.named, ARTICLE, PgTitleSuggestions(db))
        self.retention = PgRetentionRepository(db)
        self.left_servers = LeftServersRepository(db.named)
        self.left_members = LeftMembersRepository(db.named)
        self.related = PgRelatedRepository(db, self.articles)
        self.associations = PgAssociationRepository(db)
        self.deliveries = PgDeliveryRepository(db, claimer=claimer, lease=lease)

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        source: str = "$TOPICBOT_DATABASE_URL",
        grouping: GroupingRules | None = None,
        claimer: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> Self:
        """Connect a pool of ``pool_size`` to ``url`` and bring the schema up to date;
        ``source`` names where the URL came from in errors (never the URL: it may hold a
        password). ``claimer`` names this process as a sender of the outbox (default: host
        and process id) and ``lease`` is how long rows it claims stay its own
        (``storage.postgresql.outbox.sending``)."""
        pool = await open_migrated_pool(url, size=pool_size, source=source)
        return cls(PgDatabase(pool), grouping=grouping, claimer=claimer, lease=lease)

    async def migrate(self) -> None:
        """Bring the schema up to date (``open`` does; for a store built on a pool of its
        caller's)."""
        async with self._db.pool.acquire() as connection:
            await migrate(connection)

    def transaction(self) -> AbstractAsyncContextManager[None]:
        """Make the block's calls (from this task) one transaction, rolled back if it raises."""
        return self._db.transaction()

    async def stats(self) -> StoreStats:
        """Counts of articles, topics, subscriptions, feeds and deliveries."""
        return await store_stats(self._db, self.retention)

    async def gauges(self) -> Gauges:
        """Outbox depth by mode, paused targets and the database's size."""
        return await store_gauges(self._db, (await self.retention.size()).bytes)

    async def ping(self) -> bool:
        """Whether the database answers a trivial query."""
        return bool(await self._db.scalar("SELECT 1") == 1)

    async def optimize(self) -> None:
        """Refresh the planner's statistics (autovacuum does too, on its own schedule)."""
        await self._db.execute("ANALYZE")

    async def quick_check(self) -> list[str]:
        """['ok'] when the database takes writes and holds this version's schema; else what
        is wrong (the server checks its own pages: there is no file here to check)."""
        problems = []
        if await self._db.scalar("SELECT pg_is_in_recovery()"):
            problems.append("the server is a read-only standby (in recovery)")
        async with self._db.pool.acquire() as connection:
            found = await schema_version(connection)
        newest = migrations()[-1].version
        if found != newest:
            problems.append(f"the schema is at version {found}, this version needs {newest}")
        return problems or ["ok"]

    async def close(self) -> None:
        """Close every connection of the pool."""
        await self._db.close()


async def open_from_environment(
    variable: str, *, pool_size: int = DEFAULT_POOL_SIZE, grouping: GroupingRules | None = None
) -> PgStore:
    """``PgStore.open`` on the URL held by the environment variable ``variable`` (the URL
    is never read from a file: it may hold a password)."""
    url, source = url_from_environment(variable)
    return await PgStore.open(url, pool_size=pool_size, source=source, grouping=grouping)
