"""Sending from the outbox: claiming rows whose time has come, recording what Discord said,
and counting failures against the feed or member until it is paused."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from storage.database import Database, Params
from storage.outbox.rows import (
    ANY_PENDING,
    DELIVERY,
    DELIVERY_FROM,
    KEY_MATCH,
    PUBLISHED_IN_GUILD,
    WHENEVER,
    Delivery,
    TargetKind,
    pending_by,
)
from storage.timestamps import from_timestamp, to_timestamp

# Rows whose time has come.
_DUE = pending_by(":due")


class SendingQueries:
    """Due rows, what became of each, and the members' DM channels and caps."""

    _db: Database

    async def _deliveries(self, where: str, params: Params) -> list[Delivery]:
        rows = await self._db.fetch_all(
            f"SELECT {DELIVERY.select} {DELIVERY_FROM} WHERE {where}", params
        )
        return [DELIVERY.from_row(row) for row in rows]

    async def cancel_stale_due(self, now: datetime) -> int:
        """Among rows whose time has come, cancel those whose article is no longer published
        in their guild, or whose feed or subscription was removed or paused."""
        due = {"due": to_timestamp(now)}
        retracted = await self._db.execute(
            "UPDATE deliveries SET state = 'cancelled', last_error = 'retracted' "
            "WHERE (article_pk, guild_id, target_kind, target_id) IN ("
            "SELECT d.article_pk, d.guild_id, d.target_kind, d.target_id FROM deliveries d "
            "JOIN articles a ON a.pk = d.article_pk LEFT JOIN guild_publication gp "
            "ON gp.guild_id = d.guild_id AND gp.article_pk = d.article_pk "
            f"WHERE {_DUE} AND NOT {PUBLISHED_IN_GUILD})",
            due,
        )
        orphaned = await self._db.execute(
            "UPDATE deliveries SET state = 'cancelled', last_error = 'target removed or paused' "
            "WHERE (article_pk, guild_id, target_kind, target_id) IN ("
            "SELECT d.article_pk, d.guild_id, d.target_kind, d.target_id FROM deliveries d "
            f"WHERE {_DUE} AND CASE d.target_kind "
            "WHEN 'channel' THEN NOT EXISTS (SELECT 1 FROM feeds f "
            "WHERE f.id = d.feed_id AND f.disabled_reason IS NULL) "
            "ELSE NOT EXISTS (SELECT 1 FROM subscriptions s "
            "WHERE s.id = d.subscription_id AND s.disabled_reason IS NULL) END)",
            due,
        )
        return retracted + orphaned

    async def due(self, now: datetime, *, limit: int) -> list[Delivery]:
        """Instant rows whose time has come, oldest first."""
        return await self._deliveries(
            "d.state = 'pending' AND d.mode = 'instant' AND d.next_attempt_at <= ? "
            "ORDER BY d.next_attempt_at, d.created_at LIMIT ?",
            (to_timestamp(now), limit),
        )

    async def mark_sent(self, rows: Sequence[Delivery], message_id: int, now: datetime) -> None:
        """Discord accepted the message: record its id."""
        await self._db.executemany(
            "UPDATE deliveries SET state = 'sent', message_id = ?, sent_at = ?, "
            f"last_error = NULL WHERE {KEY_MATCH}",
            [(message_id, to_timestamp(now), *row.key) for row in rows],
        )

    async def retry_later(self, rows: Sequence[Delivery], at: datetime, error: str) -> None:
        """A transient failure: count the attempt and try again at ``at``."""
        await self._db.executemany(
            "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
            f"WHERE {KEY_MATCH}",
            [(to_timestamp(at), error, *row.key) for row in rows],
        )

    async def give_up(
        self,
        rows: Sequence[Delivery],
        state: Literal["failed", "dead", "skipped"],
        error: str,
    ) -> None:
        """Stop trying: 'failed' (Discord refused for good), 'dead' (retries ran out) or
        'skipped' (no longer needed)."""
        await self._db.executemany(
            f"UPDATE deliveries SET state = ?, attempts = attempts + 1, last_error = ? "
            f"WHERE {KEY_MATCH}",
            [(state, error, *row.key) for row in rows],
        )

    async def fail_pending_for_target(self, kind: TargetKind, target_id: int, error: str) -> int:
        """Fail, without a request, every other pending row for a target Discord refused."""
        return await self._db.execute(
            "UPDATE deliveries SET state = 'failed', last_error = :error "
            f"WHERE {ANY_PENDING} AND target_kind = :kind AND target_id = :target",
            {
                "error": f"not attempted: {error}",
                "whenever": WHENEVER,
                "kind": kind,
                "target": target_id,
            },
        )

    async def record_failure(
        self, delivery: Delivery, reason: str, *, threshold: int, now: datetime
    ) -> bool:
        """Count a permanent failure against the feed or subscription; pause it at the
        threshold. True when this failure paused it."""
        table, key = (
            ("feeds", delivery.feed_id)
            if delivery.target_kind == "channel"
            else ("subscriptions", delivery.subscription_id)
        )
        if key is None:
            return False
        # A DM channel belongs to the member, so a refused DM counts against all their
        # subscriptions, in every guild.
        where = (
            "id = ?"
            if table == "feeds"
            else "user_id = (SELECT user_id FROM subscriptions WHERE id = ?)"
        )
        async with self._db.transaction():
            await self._db.execute(
                f"UPDATE {table} SET failure_count = failure_count + 1 WHERE {where}", (key,)
            )
            paused = await self._db.execute(
                f"UPDATE {table} SET disabled_reason = ? "
                f"WHERE {where} AND disabled_reason IS NULL AND failure_count >= ?",
                (f"{reason} (since {now:%Y-%m-%d %H:%M} UTC)", key, threshold),
            )
        return paused > 0

    async def record_success(self, delivery: Delivery) -> None:
        """A send worked: the target's failure streak is over."""
        if delivery.target_kind == "channel" and delivery.feed_id is not None:
            await self._db.execute(
                "UPDATE feeds SET failure_count = 0 WHERE id = ? AND failure_count > 0",
                (delivery.feed_id,),
            )
        elif delivery.subscription_id is not None:
            await self._db.execute(
                "UPDATE subscriptions SET failure_count = 0 "
                "WHERE user_id = (SELECT user_id FROM subscriptions WHERE id = ?) "
                "AND failure_count > 0",
                (delivery.subscription_id,),
            )

    async def mark_feed_notified(self, feed_id: int, now: datetime) -> bool:
        """Note that moderators were told the feed is paused; False if they already were."""
        changed = await self._db.execute(
            "UPDATE feeds SET notified_at = ? WHERE id = ? AND notified_at IS NULL",
            (to_timestamp(now), feed_id),
        )
        return changed > 0

    async def instant_dms_since(self, user_id: int, since: datetime) -> int:
        """Instant DMs sent to the member since ``since`` (for the hourly cap)."""
        count = await self._db.scalar(
            "SELECT count(*) FROM deliveries WHERE target_kind = 'dm' AND target_id = ? "
            "AND state = 'sent' AND sent_at >= ? AND mode = 'instant'",
            (user_id, to_timestamp(since)),
        )
        return int(count or 0)

    async def already_told(self, user_id: int, article_pk: int) -> bool:
        """Whether the member already got this article by DM (through another guild)."""
        found = await self._db.scalar(
            "SELECT 1 FROM deliveries WHERE target_kind = 'dm' AND target_id = ? "
            "AND state = 'sent' AND sent_at IS NOT NULL AND article_pk = ? LIMIT 1",
            (user_id, article_pk),
        )
        return found is not None

    async def move_to_digest(self, row: Delivery, due: datetime, note: str) -> None:
        """Over the hourly cap: send it with the next daily digest instead."""
        await self._db.execute(
            "UPDATE deliveries SET mode = 'daily', next_attempt_at = ?, "
            f"note = ltrim(note || ' · ' || ?, ' ·') WHERE {KEY_MATCH}",
            (to_timestamp(due), note, *row.key),
        )

    async def dm_channel(self, user_id: int) -> int | None:
        """The DM channel id kept for the member, if any."""
        found = await self._db.scalar(
            "SELECT channel_id FROM dm_channels WHERE user_id = ?", (user_id,)
        )
        return int(found) if found is not None else None

    async def save_dm_channel(self, user_id: int, channel_id: int) -> None:
        """Keep the member's DM channel id so a DM costs one request, not two."""
        await self._db.execute(
            "INSERT INTO dm_channels (user_id, channel_id) VALUES (?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET channel_id = excluded.channel_id",
            (user_id, channel_id),
        )

    # --- digests ---------------------------------------------------------------------------

    async def due_digest_rows(self, now: datetime, *, limit: int) -> list[Delivery]:
        """Digest rows whose time has come, grouped by member (then kind), best first."""
        return await self._deliveries(
            f"{pending_by(':now', modes=('daily', 'weekly'))} AND d.target_kind = 'dm' "
            "ORDER BY d.target_id, d.mode, a.quality DESC, d.created_at LIMIT :limit",
            {"now": to_timestamp(now), "limit": limit},
        )

    async def next_digest_due(self) -> datetime | None:
        """When the earliest waiting digest row is due (None when none waits)."""
        # One probe at the front of each mode's pending index.
        found = await self._db.scalar(
            "SELECT min(due) FROM ("
            "SELECT min(next_attempt_at) AS due FROM deliveries "
            "WHERE state = 'pending' AND mode = 'daily' AND target_kind = 'dm' UNION ALL "
            "SELECT min(next_attempt_at) FROM deliveries "
            "WHERE state = 'pending' AND mode = 'weekly' AND target_kind = 'dm')"
        )
        return None if found is None else from_timestamp(int(found))
