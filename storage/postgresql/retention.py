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
    unused_topics,
)
from storage.timestamps import to_timestamp

# The expression indexed by deliveries_done_by_day (migration 0003), spelled the same.
_DONE_DAY = f"({done_day('greatest')})"
_FINAL = "state <> 'pending'"
# A row's place in that index: pruning goes in this order, and a step starts after the key
# where the previous one stopped (``PgRetentionRepository._cursor``).
_KEY = f"{_DONE_DAY}, {PRUNE_ORDER}"
_AFTER = f"({_KEY}) > ($2::bigint, $3::bigint, $4::text, $5::bigint, $6::bigint)"
_FIRST_PRUNABLE_DAY = (
    f"SELECT {_DONE_DAY} FROM deliveries WHERE {_FINAL} AND {_DONE_DAY} < $1 "
    f"ORDER BY {_DONE_DAY} LIMIT 1"
)
_NEXT_PRUNABLE_DAY = (
    f"SELECT {_DONE_DAY} FROM deliveries WHERE {_FINAL} AND {_DONE_DAY} < $1 AND {_AFTER} "
    f"ORDER BY {_KEY} LIMIT 1"
)


def _prune_day(day: str, limit: str) -> str:
    """One statement: the batch (the first ``limit`` final rows that ``day`` selects, in the
    index's order) is deleted, exactly the deleted rows are added to the kept counts, and the
    count comes back with the batch's last key."""
    return f"""
WITH batch AS (
    SELECT {PRUNED_COLUMNS} FROM deliveries WHERE {_FINAL} AND {day}
    ORDER BY {_KEY} LIMIT {limit} FOR UPDATE),
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
SELECT (SELECT count(*) FROM gone), guild_id, target_kind, target_id, article_pk FROM batch
ORDER BY guild_id DESC, target_kind DESC, target_id DESC, article_pk DESC LIMIT 1"""


_PRUNE_DAY_FROM_START = _prune_day(f"{_DONE_DAY} = $1", "$2")
# Day $1's rows after the key: written as a range up to the day's end, not as "day = $1", for
# with an equality on the day the index scan starts at the day's first entry and only
# filters by the key (walking the entries deleted before it); a range lets the key be the
# scan's start. The day is the first with a prunable row after the key, so nothing of an
# earlier day lies in that range.
_PRUNE_DAY_AFTER = _prune_day(f"{_AFTER} AND {_DONE_DAY} <= $1", "$7")
# A step's commit does not wait for its WAL to reach the disk: that flush was most of a
# step (a 16-row step 6.9 ms at p50 with it, 1.4 ms without; 256 rows 7.7 and 1.9 ms), so
# steps overran their 5 ms budget at any size. A crash can lose only the last steps'
# commits, each whole (the rows come back with their counts and are pruned again), never
# make the store inconsistent; the next commit that waits (any other write) flushes them.
# SQLite's file makes the same trade for every write (synchronous = NORMAL in WAL mode).
_NO_WAIT_FOR_THE_DISK = "SET LOCAL synchronous_commit = off"
_ARTICLES_TO_PRUNE = articles_to_prune("$1", "$2", "$3", true="true")
_ARTICLE_ROWS = (
    "DELETE FROM story_title_keys WHERE article_pk = ANY($1::bigint[])",
    "DELETE FROM article_topics WHERE article_pk = ANY($1::bigint[])",
    "DELETE FROM images WHERE article_pk = ANY($1::bigint[])",
    "DELETE FROM related_links WHERE parent_pk = ANY($1::bigint[]) OR child_pk = ANY($1::bigint[])",
)
# A topic that ingest, in another session, is filing an article under is held there (FOR
# KEY SHARE, storage.postgresql.articles) and passed over (SKIP LOCKED), not waited for: its
# article may be committed by then, which this statement's snapshot would not see.
_UNUSED_TOPICS = (
    "DELETE FROM topics WHERE id IN (SELECT id FROM topics WHERE id = ANY($1::bigint[]) "
    "AND NOT EXISTS (SELECT 1 FROM article_topics at WHERE at.topic_id = topics.id) "
    "AND NOT EXISTS (SELECT 1 FROM feeds f WHERE f.topic_id = topics.id) "
    "AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.topic_id = topics.id) "
    "FOR UPDATE SKIP LOCKED)"
)
_PRUNE_TOPICS = (
    f"DELETE FROM topics WHERE id IN ({unused_topics('$1')} FOR UPDATE OF t SKIP LOCKED)"
)


# Where the last step stopped: (day, guild, target kind, target, article), the last key it
# deleted. Deleted rows' index entries stay until VACUUM, so a seek from the index's start
# walks every one deleted since: 4 to 3,110 buffers a step, growing with each (see
# docs/performance.md). A step that starts after the cursor reads only live entries.
_Key = tuple[int, int, str, int, int]


_AUTOVACUUM_SETTINGS = ("autovacuum", "track_counts")


class PgRetentionRepository:
    """Named statements of housekeeping."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db
        self._cursor: _Key | None = None

    async def prune_deliveries(self, cutoff: datetime, *, limit: int) -> int:
        """Delete up to ``limit`` of the oldest rows in a final state created and sent before
        the UTC day of ``cutoff``, all of one day, adding them to the kept counts in the same
        transaction; how many went (0: none is left).

        Steps go on from the last key the previous one deleted. A row can still turn prunable
        behind it (an old pending row cancelled since), and another cutoff can come, so 0 is
        said only after a seek from the index's start has found nothing too: that walk over
        the deleted rows' entries is paid in a run's last step, not in every step (the
        next run goes on from the same key)."""
        day_limit = to_timestamp(cutoff) // SECONDS_A_DAY
        if self._cursor is not None:
            pruned = await self._prune_after(day_limit, self._cursor, limit)
            if pruned:
                return pruned
        return await self._prune_after(day_limit, None, limit)

    async def _prune_after(self, day_limit: int, after: _Key | None, limit: int) -> int:
        """One step from ``after`` (None: the index's start); the cursor moves once the
        step's transaction is over (a step rolled back leaves it where it was)."""
        async with self._db.transaction():
            await self._db.execute(_NO_WAIT_FOR_THE_DISK)
            if after is None:
                day = await self._db.scalar(_FIRST_PRUNABLE_DAY, day_limit)
            else:
                day = await self._db.scalar(_NEXT_PRUNABLE_DAY, day_limit, *after)
            if day is None:
                return 0
            if after is None:
                row = await self._db.fetch_one(_PRUNE_DAY_FROM_START, day, limit)
            else:
                row = await self._db.fetch_one(_PRUNE_DAY_AFTER, day, *after, limit)
        if row is None:  # the day's rows went meanwhile (the day was found in this step)
            return 0
        count, guild, kind, target, article = row
        self._cursor = (int(day), int(guild), str(kind), int(target), int(article))
        return int(count)

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
            # the foreign keys' cascades and the triggers take publications and outbox rows
            # with each article; story keys, topics, images and links have no foreign key to
            # it (migrations 0006 and 0008)
            for statement in _ARTICLE_ROWS:
                await self._db.execute(statement, pks)
            await self._db.execute("DELETE FROM articles WHERE pk = ANY($1::bigint[])", pks)
            await self._db.execute(_UNUSED_TOPICS, [row[0] for row in topics])
        return len(pks)

    async def prune_topics(self, *, limit: int) -> int:
        """Delete up to ``limit`` topics that no article carries and no feed or subscription
        names; how many went."""
        status = await self._db.execute(_PRUNE_TOPICS, limit)
        return int(status.rsplit(" ", 1)[-1])

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
        the store's to give back: none is reported reclaimable; what keeps autovacuum from
        reusing it is said."""
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
            autovacuum_problems=tuple(await self.autovacuum_problems()),
        )

    async def autovacuum_problems(self) -> list[str]:
        """What keeps autovacuum from reclaiming the dead rows pruning leaves: the server's
        ``autovacuum`` or ``track_counts`` off, or autovacuum disabled on a table here."""
        row = await self._db.fetch_one(
            "SELECT current_setting('autovacuum'), current_setting('track_counts')"
        )
        assert row is not None
        settings = zip(_AUTOVACUUM_SETTINGS, row, strict=True)
        problems = [f"{name} is off" for name, value in settings if value != "on"]
        tables = await self._db.fetch_all(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm', 'p') "
            "AND EXISTS (SELECT 1 FROM unnest(c.reloptions) o WHERE lower(o) IN ("
            "'autovacuum_enabled=off', 'autovacuum_enabled=false', 'autovacuum_enabled=0', "
            "'autovacuum_enabled=no', 'autovacuum_enabled=f', 'autovacuum_enabled=n')) "
            "ORDER BY c.relname"
        )
        if tables:
            names = ", ".join(str(table[0]) for table in tables)
            problems.append(f"autovacuum_enabled is off on {names}")
        return problems

    async def reclaim(self, pages: int) -> int:
        """Nothing to do: autovacuum makes dead rows' space reusable (and the database does
        not shrink its files in small steps); no page is given back."""
        return 0
