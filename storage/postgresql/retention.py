"""Retention on PostgreSQL (the SQLite twin, with the rules in words: ``storage.retention``):
pruning old outbox rows (their counts kept), old articles and audit entries, in small batches,
and the record of the last pruning run. Space comes back by autovacuum: ``reclaim`` has
nothing to do, and the size is the database's."""

from __future__ import annotations

from datetime import datetime

from storage.models import PruningRun, StoreSize
from storage.postgresql.database import PgDatabase
from storage.retention import (
    LAST_RUN_KEY,
    PRUNE_ORDER,
    PRUNED_COLUMNS,
    SECONDS_A_DAY,
    articles_to_prune,
    done_day,
    run_from_json,
    run_to_json,
)
from storage.timestamps import to_timestamp

# The expression indexed by deliveries_done_by_day (migration 0003), spelled the same.
_DONE_DAY = f"({done_day('greatest')})"
_FINAL = "state <> 'pending'"
_FIRST_PRUNABLE_DAY = (
    f"SELECT {_DONE_DAY} FROM deliveries WHERE {_FINAL} AND {_DONE_DAY} < $1 "
    f"ORDER BY {_DONE_DAY} LIMIT 1"
)
# One statement: the batch (the first $2 final rows of day $1, in the index's order) is
# deleted, and exactly the deleted rows are added to the kept counts.
_PRUNE_DAY = f"""
WITH batch AS (
    SELECT {PRUNED_COLUMNS} FROM deliveries WHERE {_FINAL} AND {_DONE_DAY} = $1
    ORDER BY {PRUNE_ORDER} LIMIT $2 FOR UPDATE),
gone AS (
    DELETE FROM deliveries d USING batch b
    WHERE (d.article_pk, d.guild_id, d.target_kind, d.target_id)
        = (b.article_pk, b.guild_id, b.target_kind, b.target_id) AND d.{_FINAL}
    RETURNING b.*),
counted AS (
    INSERT INTO delivery_counts AS c (guild_id, target_kind, target_id, source_id, state, total)
    SELECT guild_id, target_kind, target_id, source_id, state, count(*) FROM gone
    WHERE source_id IS NOT NULL GROUP BY guild_id, target_kind, target_id, source_id, state
    ON CONFLICT (guild_id, target_kind, target_id, source_id, state)
    DO UPDATE SET total = c.total + excluded.total),
pruned AS (
    INSERT INTO delivery_pruned AS p (state, total) SELECT state, count(*) FROM gone
    GROUP BY state ON CONFLICT (state) DO UPDATE SET total = p.total + excluded.total)
SELECT count(*) FROM gone"""
_ARTICLES_TO_PRUNE = articles_to_prune("$1", "$2", "$3", true="true")
_UNUSED_TOPICS = (
    "DELETE FROM topics WHERE id = ANY($1::bigint[]) "
    "AND NOT EXISTS (SELECT 1 FROM article_topics at WHERE at.topic_id = topics.id) "
    "AND NOT EXISTS (SELECT 1 FROM feeds f WHERE f.topic_id = topics.id) "
    "AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.topic_id = topics.id)"
)


class PgRetentionRepository:
    """Named statements of housekeeping."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def prune_deliveries(self, cutoff: datetime, *, limit: int) -> int:
        """Delete up to ``limit`` of the oldest rows in a final state created and sent before
        the UTC day of ``cutoff``, all of one day, adding them to the kept counts in the same
        transaction; how many went (0: none is left)."""
        async with self._db.transaction():
            day = await self._db.scalar(_FIRST_PRUNABLE_DAY, to_timestamp(cutoff) // SECONDS_A_DAY)
            if day is None:
                return 0
            return int(await self._db.scalar(_PRUNE_DAY, day, limit))

    async def prune_articles(
        self, cutoff: datetime, published_cutoff: datetime | None, *, limit: int
    ) -> int:
        """Delete up to ``limit`` old articles that were never published (or, with
        ``published_cutoff``, published before it) and that nothing kept lists, with their
        topics, images, links and story keys; topics left with no article, feed or
        subscription go too. How many articles went."""
        published = None if published_cutoff is None else to_timestamp(published_cutoff)
        async with self._db.transaction():
            rows = await self._db.fetch_all(
                _ARTICLES_TO_PRUNE + " FOR UPDATE", to_timestamp(cutoff), published, limit
            )
            pks = [row[0] for row in rows]
            if not pks:
                return 0
            topics = await self._db.fetch_all(
                "SELECT DISTINCT topic_id FROM article_topics WHERE article_pk = ANY($1::bigint[])",
                pks,
            )
            # the foreign keys' cascades and the triggers take topics, images, links,
            # publications and outbox rows with each article; story keys have no foreign key
            # (migration 0006)
            await self._db.execute(
                "DELETE FROM story_title_keys WHERE article_pk = ANY($1::bigint[])", pks
            )
            await self._db.execute("DELETE FROM articles WHERE pk = ANY($1::bigint[])", pks)
            await self._db.execute(_UNUSED_TOPICS, [row[0] for row in topics])
        return len(pks)

    async def prune_audit(self, cutoff: datetime, *, limit: int) -> int:
        """Delete up to ``limit`` of the oldest audit entries written before ``cutoff``."""
        status = await self._db.execute(
            "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 "
            "ORDER BY id LIMIT $2)",
            to_timestamp(cutoff),
            limit,
        )
        return int(status.rsplit(" ", 1)[-1])

    async def pruned_totals(self) -> dict[str, int]:
        """Rows pruned so far over the store's life, by state."""
        rows = await self._db.fetch_all("SELECT state, total FROM delivery_pruned")
        return {str(state): int(total) for state, total in rows}

    async def save_run(self, run: PruningRun) -> None:
        """Record the current (or last) pruning run."""
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            LAST_RUN_KEY,
            run_to_json(run),
        )

    async def last_run(self) -> PruningRun | None:
        """The last pruning run recorded (finished or not)."""
        value = await self._db.scalar("SELECT value FROM meta WHERE key = $1", LAST_RUN_KEY)
        return None if value is None else run_from_json(str(value))

    async def size(self) -> StoreSize:
        """The database's size on disk. Free space inside it is autovacuum's to reuse, not
        the store's to give back: none is reported reclaimable."""
        row = await self._db.fetch_one(
            "SELECT pg_database_size(current_database()), current_setting('block_size')::int"
        )
        assert row is not None
        return StoreSize(
            bytes=int(row[0]),
            free_bytes=0,
            page_size=int(row[1]),
            incremental_vacuum=False,
            autovacuum=True,
        )

    async def reclaim(self, pages: int) -> int:
        """Nothing to do: autovacuum makes dead rows' space reusable (and the database does
        not shrink its files in small steps); no page is given back."""
        return 0
