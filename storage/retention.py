"""Retention: pruning old outbox rows (their counts kept) and audit entries, the record of
the last pruning run, and giving freed pages back to the file system.

Each call here is one short transaction; the caller (housekeeping) loops, yielding between
calls, so commands and sending never wait behind a long delete.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from storage.database import Database, StoreError
from storage.models import PruningRun, StoreSize
from storage.timestamps import to_timestamp

# Where the last pruning run is kept in ``meta`` (on both engines, as ``run_to_json`` writes it).
LAST_RUN_KEY = "retention.last_run"


# Prunable rows go a UTC day at a time and, within the day, a target at a time (see migration
# 0014): a target's rows of a day lie together in every index, so a batch dirties a page per
# target rather than one per row. A row's day is that of the later of its creation and its
# sending (the DM cap reads sent_at: a row created long ago and sent late, a digest after
# downtime, stays as long as a row sent then). Only whole days before the cutoff's day go: a
# row lives up to a day past the cutoff, never less. Any state but 'pending' is final.
def done_day(greatest: str = "max") -> str:
    """SQL for an outbox row's UTC day, by the engine's name for "the larger of two"."""
    return f"{greatest}(created_at, coalesce(sent_at, 0)) / 86400"


# What the kept counts need of a pruned row (its source: the feed or subscription), and the
# order rows of a day go in (the index's).
PRUNED_COLUMNS = (
    "article_pk, guild_id, target_kind, target_id, "
    "CASE target_kind WHEN 'channel' THEN feed_id ELSE subscription_id END AS source_id, state"
)
PRUNE_ORDER = "guild_id, target_kind, target_id, article_pk"
_DONE_DAY = done_day()
_PRUNABLE_WHERE = f"state != 'pending' AND {_DONE_DAY}"
FIRST_PRUNABLE_DAY = (
    f"SELECT {_DONE_DAY} FROM deliveries INDEXED BY deliveries_done_by_day "
    f"WHERE {_PRUNABLE_WHERE} < :day ORDER BY {_DONE_DAY} LIMIT 1"
)
# The first :limit prunable rows of :this_day, in the index's order.
PRUNABLE = (
    f"SELECT {PRUNED_COLUMNS} FROM deliveries INDEXED BY deliveries_done_by_day "
    f"WHERE {_PRUNABLE_WHERE} = :this_day ORDER BY {PRUNE_ORDER} LIMIT :limit"
)
# The same rows, deleted as one range of the index up to the last of them: one statement walks
# the range (a statement per row, found by its key, cost eight times as much).
_DELETE_PRUNABLE = (
    "DELETE FROM deliveries INDEXED BY deliveries_done_by_day "
    f"WHERE {_PRUNABLE_WHERE} = :this_day "
    "AND (guild_id, target_kind, target_id, article_pk) <= (:guild, :kind, :target, :article)"
)
SECONDS_A_DAY = 86_400


# Articles that may go: old (both their date and their last ingest, so coverage of unknown
# date and a late file live their time too), with no outbox row left (their rows go first, by
# the deliveries rule, counted; so a published one never takes counts with it), listed by no
# article
# (a kept one; one that goes first frees its entries for a later batch), and either never
# published anywhere (coverage-only, or a full article neither the source nor a moderator
# published) or published but past the published cutoff (NULL: published ones are kept).
# The parameters are SQL placeholders: each engine spells its own.
def articles_to_prune(cutoff: str, published_cutoff: str, limit: str, *, true: str = "1") -> str:
    """SELECT the pks of up to ``limit`` articles that may go, oldest first."""
    return f"""
SELECT a.pk FROM articles a
WHERE a.published_at < {cutoff} AND a.updated_at < {cutoff}
  AND NOT EXISTS (SELECT 1 FROM related_links rl WHERE rl.child_pk = a.pk)
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.article_pk = a.pk)
  AND CASE WHEN a.coverage_only = 0 AND (a.published = 1 OR EXISTS (
               SELECT 1 FROM guild_publication gp WHERE gp.article_pk = a.pk
               AND (gp.state = 'published' OR gp.planned_at IS NOT NULL)))
           THEN a.published_at < {published_cutoff} AND a.updated_at < {published_cutoff}
           ELSE {true} END
ORDER BY a.published_at LIMIT {limit}"""


_ARTICLES_TO_PRUNE = articles_to_prune(":cutoff", ":published_cutoff", ":limit")


# Topics that nothing holds any more: no article carries them (their articles were pruned, or
# their files were tagged again without them) and no feed or subscription names them. Left,
# they would be offered by /subscribe, /latest and /feed add for ever, each with no article.
def unused_topics(limit: str) -> str:
    """SELECT the ids of up to ``limit`` topics that nothing holds."""
    return f"""
SELECT t.id FROM topics t
WHERE NOT EXISTS (SELECT 1 FROM article_topics at WHERE at.topic_id = t.id)
  AND NOT EXISTS (SELECT 1 FROM feeds f WHERE f.topic_id = t.id)
  AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.topic_id = t.id)
ORDER BY t.id LIMIT {limit}"""


def run_to_json(run: PruningRun) -> str:
    """A pruning run as stored in ``meta``."""
    data = asdict(run) | {
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }
    return json.dumps(data)


def run_from_json(value: str) -> PruningRun:
    """The pruning run ``run_to_json`` stored."""
    data = json.loads(value)
    finished = data["finished_at"]
    return PruningRun(
        started_at=datetime.fromisoformat(data["started_at"]),
        finished_at=datetime.fromisoformat(finished) if finished else None,
        deliveries=int(data["deliveries"]),
        audit_entries=int(data["audit_entries"]),
        articles=int(data["articles"]),
        topics=int(data.get("topics", 0)),  # a run recorded before topics were pruned
        pages_reclaimed=int(data["pages_reclaimed"]),
        servers=int(data.get("servers", 0)),  # a run recorded before servers' data went
        members=int(data.get("members", 0)),  # a run recorded before members' data went
    )


class RetentionRepository:
    """Named statements of housekeeping."""

    def __init__(self, connection: Database) -> None:
        self._db = connection

    async def prune_deliveries(self, cutoff: datetime, *, limit: int) -> int:
        """Delete up to ``limit`` of the oldest rows in a final state created and sent before
        the UTC day of ``cutoff``, all of one day, adding them to the kept counts in the same
        transaction; how many went (0: none is left)."""
        params: dict[str, object] = {"day": to_timestamp(cutoff) // SECONDS_A_DAY}
        async with self._db.transaction():
            day = await self._db.scalar(FIRST_PRUNABLE_DAY, params)
            if day is None:
                return 0
            params |= {"this_day": day, "limit": limit}
            await self._db.execute(
                "CREATE TEMP TABLE IF NOT EXISTS prune_batch (article_pk INTEGER, "
                "guild_id INTEGER, target_kind TEXT, target_id INTEGER, source_id INTEGER, "
                "state TEXT)"
            )
            await self._db.execute("DELETE FROM temp.prune_batch")
            taken = await self._db.execute(f"INSERT INTO temp.prune_batch {PRUNABLE}", params)
            await self._db.execute(
                "INSERT INTO delivery_counts (guild_id, target_kind, target_id, source_id, "
                "state, total) SELECT guild_id, target_kind, target_id, source_id, state, "
                "count(*) FROM temp.prune_batch WHERE source_id IS NOT NULL "
                "GROUP BY guild_id, target_kind, target_id, source_id, state "
                "ON CONFLICT DO UPDATE SET total = total + excluded.total"
            )
            await self._db.execute(
                "INSERT INTO delivery_pruned (state, total) SELECT state, count(*) "
                "FROM temp.prune_batch GROUP BY state "
                "ON CONFLICT DO UPDATE SET total = total + excluded.total"
            )
            last = await self._db.fetch_one(
                "SELECT guild_id, target_kind, target_id, article_pk FROM temp.prune_batch "
                "ORDER BY guild_id DESC, target_kind DESC, target_id DESC, article_pk DESC "
                "LIMIT 1"
            )
            if last is None:  # the day had a prunable row a moment ago, in this transaction
                raise StoreError("pruning found a day to prune but no row in it")
            guild, kind, target, article = last
            params |= {"guild": guild, "kind": kind, "target": target, "article": article}
            deleted = await self._db.execute(_DELETE_PRUNABLE, params)
            if deleted != taken:  # counted rows and deleted rows must be the same rows
                raise StoreError(f"pruning counted {taken} outbox rows but deleted {deleted}")
        return taken

    async def prune_articles(
        self, cutoff: datetime, published_cutoff: datetime | None, *, limit: int
    ) -> int:
        """Delete up to ``limit`` old articles that were never published (or, with
        ``published_cutoff``, published before it) and that nothing kept lists, with their
        topics, images, links, story keys and index entries; topics left with no article,
        feed or subscription go too. How many articles went."""
        published = None if published_cutoff is None else to_timestamp(published_cutoff)
        params = {"cutoff": to_timestamp(cutoff), "published_cutoff": published, "limit": limit}
        async with self._db.transaction():
            await self._db.execute(
                "CREATE TEMP TABLE IF NOT EXISTS prune_articles (pk INTEGER PRIMARY KEY)"
            )
            await self._db.execute(
                "CREATE TEMP TABLE IF NOT EXISTS prune_topics (id INTEGER PRIMARY KEY)"
            )
            await self._db.execute("DELETE FROM temp.prune_articles")
            await self._db.execute("DELETE FROM temp.prune_topics")
            taken = await self._db.execute(
                f"INSERT INTO temp.prune_articles {_ARTICLES_TO_PRUNE}", params
            )
            if taken <= 0:
                return 0
            await self._db.execute(
                "INSERT OR IGNORE INTO temp.prune_topics SELECT topic_id FROM article_topics "
                "WHERE article_pk IN (SELECT pk FROM temp.prune_articles)"
            )
            # the foreign keys' cascades and the triggers take topics, images, links, story
            # keys, publications and both full-text indexes' entries with each article
            await self._db.execute(
                "DELETE FROM articles WHERE pk IN (SELECT pk FROM temp.prune_articles)"
            )
            await self._db.execute(
                "DELETE FROM topics WHERE id IN (SELECT id FROM temp.prune_topics) "
                "AND NOT EXISTS (SELECT 1 FROM article_topics at WHERE at.topic_id = topics.id) "
                "AND NOT EXISTS (SELECT 1 FROM feeds f WHERE f.topic_id = topics.id) "
                "AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.topic_id = topics.id)"
            )
        return taken

    async def prune_topics(self, *, limit: int) -> int:
        """Delete up to ``limit`` topics that no article carries and no feed or subscription
        names; how many went."""
        return await self._db.execute(
            f"DELETE FROM topics WHERE id IN ({unused_topics(':limit')})", {"limit": limit}
        )

    async def prune_audit(self, cutoff: datetime, *, limit: int) -> int:
        """Delete up to ``limit`` of the oldest audit entries written before ``cutoff``."""
        return await self._db.execute(
            "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? "
            "ORDER BY id LIMIT ?)",
            (to_timestamp(cutoff), limit),
        )

    async def pruned_totals(self) -> dict[str, int]:
        """Rows pruned so far over the store's life, by state."""
        rows = await self._db.fetch_all("SELECT state, total FROM delivery_pruned")
        return {str(state): int(total) for state, total in rows}

    async def save_run(self, run: PruningRun) -> None:
        """Record the current (or last) pruning run."""
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (LAST_RUN_KEY, run_to_json(run)),
        )

    async def last_run(self) -> PruningRun | None:
        """The last pruning run recorded (finished or not)."""
        value = await self._db.scalar("SELECT value FROM meta WHERE key = ?", (LAST_RUN_KEY,))
        return None if value is None else run_from_json(str(value))

    async def size(self) -> StoreSize:
        """The file's pages: in all, free (reclaimable), and their size."""
        pages = int(await self._db.scalar("PRAGMA page_count") or 0)
        free = int(await self._db.scalar("PRAGMA freelist_count") or 0)
        page_size = int(await self._db.scalar("PRAGMA page_size") or 0)
        mode = int(await self._db.scalar("PRAGMA auto_vacuum") or 0)
        return StoreSize(
            bytes=pages * page_size,
            free_bytes=free * page_size,
            page_size=page_size,
            incremental_vacuum=mode == 2,
        )

    async def autovacuum_problems(self) -> list[str]:
        """None: SQLite has no autovacuum; housekeeping gives free pages back itself."""
        return []

    async def reclaim(self, pages: int) -> int:
        """Give up to ``pages`` free pages back to the file system (one short transaction);
        how many were given back."""
        before = int(await self._db.scalar("PRAGMA freelist_count") or 0)
        if before == 0:
            return 0
        await self._db.execute_script(f"PRAGMA incremental_vacuum({int(pages)})")
        after = int(await self._db.scalar("PRAGMA freelist_count") or 0)
        return max(before - after, 0)
