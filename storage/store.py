"""The store: one object that owns the connection and exposes the repositories."""

from __future__ import annotations

import os
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Self

import aiosqlite

from storage.articles import ARTICLE, ArticleRepository
from storage.associations import AssociationRepository
from storage.checkpoints import SAFETY_NET_PAGES, WAL_SIZE_LIMIT_BYTES, WalCheckpointer
from storage.database import (
    DEFAULT_CACHE_MB,
    Database,
    cap_size,
    latest_schema_version,
    make_room_for,
    migrate,
    open_connection,
    schema_version,
)
from storage.exclusive import StoreInUse, held_elsewhere
from storage.feeds import FeedRepository
from storage.grouping import GroupingRules
from storage.guilds import AuditRepository, GuildSettingsRepository, MetaRepository
from storage.left_members import LeftMembersRepository
from storage.left_servers import SQLITE_BY_GUILD, LeftServersRepository
from storage.lifetime import ClosedOnExit
from storage.members import MemberRepository
from storage.models import Gauges, StoreStats
from storage.outbox.repository import DeliveryRepository
from storage.publication import FtsTitleSuggestions, PublicationRepository
from storage.related import RelatedRepository
from storage.retention import RetentionRepository
from storage.stats import store_gauges, store_stats
from storage.stories import StoryRepository
from storage.subscriptions import SubscriptionRepository
from storage.topics import FOLD_BATCH, UNFOLDED, TopicRepository, folds_of

# Rows ANALYZE reads of each index when ``optimize`` refreshes the statistics. Unbounded, it
# read the whole outbox every time its row count had moved, on the connection commands use:
# 3.4 s at 3.6 million rows, a minute or two at 60 million, each housekeeping run. SQLite 3.46
# and later bound ``PRAGMA optimize`` by themselves to this same figure (their default).
ANALYSIS_LIMIT = 2000
# Page cache of the housekeeping connection: a pruning step touches a few hundred pages.
HOUSEKEEPING_CACHE_MB = 8


class Store(ClosedOnExit):
    """topicbot's embedded database. Open once at start with ``Store.open`` and close at exit.

    Searches (``related``, autocomplete) run on a second, read-only connection of their own,
    so they never queue behind a write on the main one; a third folds the WAL back into the
    file in the background (``WalCheckpointer``), so no commit stops to do it; housekeeping
    (``retention``) prunes and reclaims on a fourth, so the commands' and sending's reads on
    the main one never queue behind a pruning step (a write there waits for the step to
    commit, through SQLite's busy handler, as every transaction begins IMMEDIATE).
    """

    def __init__(
        self,
        db: Database,
        path: Path,
        *,
        search_db: Database | None = None,
        checkpointer: WalCheckpointer | None = None,
        housekeeping_db: Database | None = None,
        grouping: GroupingRules | None = None,
    ) -> None:
        self._db = db
        self._search_db = search_db
        self._housekeeping_db = housekeeping_db
        self._checkpointer = checkpointer
        self.path = path
        connection = db
        search = search_db or db
        self.articles = ArticleRepository(connection, grouping)
        self.stories = StoryRepository(connection, self.articles)
        self.related = RelatedRepository(search, ArticleRepository(search))
        self.associations = AssociationRepository(connection, search)
        self.topics = TopicRepository(connection)
        self.publication = PublicationRepository(
            connection, ARTICLE, FtsTitleSuggestions(connection, ARTICLE)
        )
        self.subscriptions = SubscriptionRepository(connection)
        self.feeds = FeedRepository(connection)
        self.guild_settings = GuildSettingsRepository(connection)
        self.audit = AuditRepository(connection)
        self.meta = MetaRepository(connection)
        self.members = MemberRepository(connection)
        self.deliveries = DeliveryRepository(connection)
        self.retention = RetentionRepository(housekeeping_db or db)
        self.left_servers = LeftServersRepository(housekeeping_db or db, by_guild=SQLITE_BY_GUILD)
        self.left_members = LeftMembersRepository(housekeeping_db or db)

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        grouping: GroupingRules | None = None,
        max_size_mb: int | None = None,
        checkpoint_seconds: float = 1.0,
        cache_mb: int = DEFAULT_CACHE_MB,
    ) -> Self:
        """Open (creating if needed) and migrate the database file at ``path``; ``grouping``
        sets when near-identical headlines make one story; ``max_size_mb`` caps the file
        (writes past it fail with "database or disk is full", as on a full disk);
        ``checkpoint_seconds`` is how often the WAL is folded back in the background;
        ``cache_mb`` bounds the page cache of each of the main and search connections."""
        resolved = Path(path)
        in_memory = str(resolved) == ":memory:"
        if not in_memory:
            make_room_for(resolved)
        connection = await open_connection(resolved, cache_mb=cache_mb)
        search: Database | None = None
        housekeeping: Database | None = None
        checkpointer: WalCheckpointer | None = None
        try:
            if not in_memory:
                await _refuse_upgrade_under_a_running_bot(connection, resolved)
            await migrate(connection)
            await _fill_topic_folds(connection)
            if max_size_mb is not None:
                await cap_size(connection, max_size_mb)
            if not in_memory:
                search = Database(
                    await open_connection(resolved, read_only=True, cache_mb=cache_mb)
                )
                housekeeping = Database(
                    await open_connection(resolved, cache_mb=min(cache_mb, HOUSEKEEPING_CACHE_MB))
                )
                checkpointer = await WalCheckpointer.start(resolved, interval=checkpoint_seconds)
                for writer in (connection, housekeeping.connection):
                    await writer.execute(f"PRAGMA wal_autocheckpoint = {SAFETY_NET_PAGES}")
                    await writer.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")
                if max_size_mb is not None:
                    await cap_size(housekeeping.connection, max_size_mb)
        except BaseException:
            await _close_all(checkpointer, search, housekeeping)
            await connection.close()
            raise
        return cls(
            Database(connection),
            resolved,
            search_db=search,
            checkpointer=checkpointer,
            housekeeping_db=housekeeping,
            grouping=grouping,
        )

    async def close(self) -> None:
        """Stop the background checkpoints, close the search and housekeeping connections,
        then flush and close the main one (which checkpoints the WAL a last time)."""
        try:
            await _close_all(self._checkpointer, self._search_db, self._housekeeping_db)
        finally:
            await self._db.close()

    def transaction(self) -> AbstractAsyncContextManager[None]:
        """Make the block's calls (from this task) one write transaction, rolled back if it
        raises: several repositories' changes land together or not at all."""
        return self._db.transaction()

    async def stats(self) -> StoreStats:
        """Counts of articles, topics, subscriptions, feeds and deliveries."""
        return await store_stats(self._db, self.retention)

    async def gauges(self) -> Gauges:
        """Outbox depth by mode, paused targets and size (the write-ahead log included)."""
        size = await self.retention.size()
        return await store_gauges(self._db, size.bytes + self._wal_bytes())

    def _wal_bytes(self) -> int:
        try:
            return os.stat(f"{self.path}-wal").st_size
        except OSError:
            return 0

    async def ping(self) -> bool:
        """Whether the main connection answers a trivial query."""
        return bool(await self._db.scalar("SELECT 1") == 1)

    async def optimize(self) -> None:
        """Let SQLite refresh its statistics (from a sample of each index, ``ANALYSIS_LIMIT``
        rows) and fold the WAL back into the file."""
        await self._db.execute(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
        await self._db.execute("PRAGMA optimize")
        await self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def integrity_check(self) -> str:
        """SQLite's own verdict on the file: 'ok' when healthy."""
        return str(await self._db.scalar("PRAGMA integrity_check") or "no answer")

    async def quick_check(self) -> list[str]:
        """SQLite's quick check of the file (structure, not index contents): ['ok'] when
        healthy, else what it found."""
        rows = await self._db.fetch_all("PRAGMA quick_check")
        return [str(row[0]) for row in rows] or ["no answer"]


async def _fill_topic_folds(connection: aiosqlite.Connection) -> None:
    """Fold the names of topics stored before topics.folded was (migration 0020), a batch per
    transaction; nothing to do once they all are."""
    while True:
        async with connection.execute(UNFOLDED.format(limit=FOLD_BATCH)) as cursor:
            rows = [tuple(row) for row in await cursor.fetchall()]
        if not rows:
            return
        await connection.execute("BEGIN IMMEDIATE")
        try:
            await connection.executemany(
                "UPDATE topics SET folded = ? WHERE id = ? AND folded IS NULL", folds_of(rows)
            )
        except BaseException:
            await connection.rollback()
            raise
        await connection.commit()


async def _close_all(
    checkpointer: WalCheckpointer | None, search: Database | None, housekeeping: Database | None
) -> None:
    try:
        if checkpointer is not None:
            await checkpointer.close()
    finally:
        try:
            if search is not None:
                await search.close()
        finally:
            if housekeeping is not None:
                await housekeeping.close()


async def _refuse_upgrade_under_a_running_bot(connection: aiosqlite.Connection, path: Path) -> None:
    """Upgrading the schema of a store that an older topicbot still runs on would change its
    tables under it (a `topicbot stats` of the new version, run before the restart)."""
    current = await schema_version(connection)
    latest = latest_schema_version()
    if not 0 < current < latest:
        return
    holder = held_elsewhere(path)
    if holder is not None:
        raise StoreInUse(
            f"{path} is at schema version {current} and an older topicbot runs on it{holder}; "
            f"this one needs version {latest}: stop the running bot, then start this version "
            "(it upgrades the store)"
        )
