"""The delivery outbox: planning rows, claiming due ones, and recording what Discord said.

One row per (guild, article, target). Planning writes rows and marks the publication planned
in one transaction; sending marks a row sent only after Discord accepted it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from storage.database import Database
from storage.models import DeliveryMode
from storage.sql import placeholders
from storage.timestamps import from_timestamp, to_timestamp

TargetKind = Literal["channel", "dm"]
MODE_RANK = "CASE s.delivery WHEN 'instant' THEN 0 WHEN 'daily' THEN 1 ELSE 2 END"
_PUBLISHED_IN_GUILD = "(gp.state = 'published' OR (gp.state IS NULL AND a.published = 1))"
_DELIVERY_COLUMNS = (
    "d.id, d.guild_id, d.article_pk, a.id, d.target_kind, d.target_id, d.feed_id, "
    "d.subscription_id, d.mode, d.state, d.reason, d.attempts, d.next_attempt_at, "
    "d.last_error, d.message_id, f.mention_role_id, s.topic_id, t.name"
)
_DELIVERY_FROM = (
    "FROM deliveries d JOIN articles a ON a.pk = d.article_pk "
    "LEFT JOIN feeds f ON f.id = d.feed_id "
    "LEFT JOIN subscriptions s ON s.id = d.subscription_id "
    "LEFT JOIN topics t ON t.id = s.topic_id "
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One planned post or DM."""

    id: int
    guild_id: int
    article_pk: int
    article_id: str
    target_kind: TargetKind
    target_id: int
    feed_id: int | None
    subscription_id: int | None
    mode: DeliveryMode
    state: str
    reason: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    message_id: int | None
    mention_role_id: int | None
    topic_id: int | None
    topic_name: str | None

    @property
    def nonce(self) -> str:
        """Deterministic per row, so a resend after a crash is recognised as the same message."""
        return f"tb{self.id}"


@dataclass(frozen=True, slots=True)
class Publication:
    """A publication waiting to be planned: the source's (guild None) or a guild's."""

    article_pk: int
    guild_id: int | None
    quality: int
    published_at: datetime


@dataclass(frozen=True, slots=True)
class PlanCounts:
    """How many rows a plan wrote."""

    channel_posts: int
    direct_messages: int


@dataclass(frozen=True, slots=True)
class HealthCounts:
    """Deliveries of one feed or subscription by state."""

    pending: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0


def _delivery(row: tuple[Any, ...]) -> Delivery:
    return Delivery(
        id=row[0],
        guild_id=row[1],
        article_pk=row[2],
        article_id=row[3],
        target_kind=row[4],
        target_id=row[5],
        feed_id=row[6],
        subscription_id=row[7],
        mode=row[8],
        state=row[9],
        reason=row[10],
        attempts=row[11],
        next_attempt_at=from_timestamp(row[12]),
        last_error=row[13],
        message_id=row[14],
        mention_role_id=row[15],
        topic_id=row[16],
        topic_name=row[17],
    )


class DeliveryRepository:
    """Named queries over the outbox."""

    def __init__(self, connection: Database) -> None:
        self._db = connection

    async def _rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Any]:
        return await self._db.fetch_all(sql, params)

    # --- planning --------------------------------------------------------------------------

    async def skip_backlog(self, cutoff: datetime, now: datetime) -> int:
        """Mark publications older than ``cutoff`` as planned-and-skipped: never sent."""
        params = {"cutoff": to_timestamp(cutoff), "now": to_timestamp(now)}
        async with self._db.transaction():
            source = await self._db.execute(
                "UPDATE articles SET planned_at = :now, plan_outcome = 'skipped_old' "
                "WHERE published = 1 AND planned_at IS NULL AND coverage_only = 0 "
                "AND published_at < :cutoff",
                params,
            )
            guild = await self._db.execute(
                "UPDATE guild_publication SET planned_at = :now, plan_outcome = 'skipped_old' "
                "WHERE state = 'published' AND planned_at IS NULL AND decided_at < :cutoff",
                params,
            )
        return source + guild

    async def unplanned(self, *, limit: int) -> list[Publication]:
        """Publications (the source's, then moderators') not planned yet, oldest first."""
        rows = await self._rows(
            "SELECT pk, NULL, quality, published_at FROM articles "
            "WHERE published = 1 AND planned_at IS NULL AND coverage_only = 0 "
            "UNION ALL "
            "SELECT gp.article_pk, gp.guild_id, a.quality, a.published_at "
            "FROM guild_publication gp JOIN articles a ON a.pk = gp.article_pk "
            "WHERE gp.state = 'published' AND gp.planned_at IS NULL "
            "LIMIT ?",
            (limit,),
        )
        return [Publication(r[0], r[1], r[2], from_timestamp(r[3])) for r in rows]

    async def digest_guilds(self, publication: Publication) -> list[int]:
        """Guilds where a digest subscriber may get this article (to work out their due times)."""
        rows = await self._rows(
            "SELECT DISTINCT s.guild_id FROM subscriptions s "
            "WHERE s.topic_id IN (SELECT topic_id FROM article_topics WHERE article_pk = :pk) "
            "AND s.delivery != 'instant' AND s.disabled_reason IS NULL "
            "AND (:guild IS NULL OR s.guild_id = :guild)",
            {"pk": publication.article_pk, "guild": publication.guild_id},
        )
        return [r[0] for r in rows]

    async def write_plan(
        self,
        publication: Publication,
        *,
        now: datetime,
        default_bar: int,
        digest_due: Mapping[int, tuple[datetime, datetime]],
        fallback_due: tuple[datetime, datetime],
    ) -> PlanCounts:
        """Write one row per matching channel and per matching member (one alert per member
        however many of their topics match), and mark the publication planned, atomically."""
        params = {
            "pk": publication.article_pk,
            "guild": publication.guild_id,
            "now": to_timestamp(now),
            "bar": default_bar,
            "daily": to_timestamp(fallback_due[0]),
            "weekly": to_timestamp(fallback_due[1]),
        }
        async with self._db.transaction():
            await self._load_digest_dues(digest_due)
            channels = await self._db.execute(_PLAN_CHANNELS, params)
            members = await self._db.execute(_PLAN_MEMBERS, params)
            if publication.guild_id is None:
                await self._db.execute(
                    "UPDATE articles SET planned_at = :now, plan_outcome = 'planned' "
                    "WHERE pk = :pk",
                    params,
                )
            else:
                await self._db.execute(
                    "UPDATE guild_publication SET planned_at = :now, plan_outcome = 'planned' "
                    "WHERE guild_id = :guild AND article_pk = :pk",
                    params,
                )
        return PlanCounts(channels, members)

    async def _load_digest_dues(self, digest_due: Mapping[int, tuple[datetime, datetime]]) -> None:
        await self._db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS plan_dues "
            "(guild_id INTEGER PRIMARY KEY, daily INTEGER NOT NULL, weekly INTEGER NOT NULL)"
        )
        await self._db.execute("DELETE FROM plan_dues")
        await self._db.executemany(
            "INSERT INTO plan_dues (guild_id, daily, weekly) VALUES (?, ?, ?)",
            [(g, to_timestamp(d), to_timestamp(w)) for g, (d, w) in digest_due.items()],
        )

    # --- sending ---------------------------------------------------------------------------

    async def cancel_stale(self) -> int:
        """Cancel pending rows whose article is no longer published in their guild, or whose
        feed or subscription was removed or paused."""
        retracted = await self._db.execute(
            "UPDATE deliveries SET state = 'cancelled', last_error = 'retracted' "
            "WHERE state = 'pending' AND id IN ("
            "SELECT d.id FROM deliveries d JOIN articles a ON a.pk = d.article_pk "
            "LEFT JOIN guild_publication gp "
            "ON gp.guild_id = d.guild_id AND gp.article_pk = d.article_pk "
            f"WHERE d.state = 'pending' AND NOT {_PUBLISHED_IN_GUILD})"
        )
        orphaned = await self._db.execute(
            "UPDATE deliveries SET state = 'cancelled', last_error = 'target removed or paused' "
            "WHERE state = 'pending' AND CASE target_kind "
            "WHEN 'channel' THEN NOT EXISTS (SELECT 1 FROM feeds f "
            "WHERE f.id = deliveries.feed_id AND f.disabled_reason IS NULL) "
            "ELSE NOT EXISTS (SELECT 1 FROM subscriptions s "
            "WHERE s.id = deliveries.subscription_id AND s.disabled_reason IS NULL) END"
        )
        return retracted + orphaned

    async def due(self, now: datetime, *, limit: int) -> list[Delivery]:
        """Instant rows whose time has come, oldest first."""
        rows = await self._rows(
            f"SELECT {_DELIVERY_COLUMNS} {_DELIVERY_FROM} "
            "WHERE d.state = 'pending' AND d.mode = 'instant' AND d.next_attempt_at <= ? "
            "ORDER BY d.next_attempt_at, d.id LIMIT ?",
            (to_timestamp(now), limit),
        )
        return [_delivery(r) for r in rows]

    async def get(self, delivery_id: int) -> Delivery | None:
        """One row."""
        rows = await self._rows(
            f"SELECT {_DELIVERY_COLUMNS} {_DELIVERY_FROM} WHERE d.id = ?", (delivery_id,)
        )
        return _delivery(rows[0]) if rows else None

    async def mark_sent(self, delivery_ids: Sequence[int], message_id: int, now: datetime) -> None:
        """Discord accepted the message: record its id."""
        await self._db.execute(
            f"UPDATE deliveries SET state = 'sent', message_id = ?, sent_at = ?, "
            f"last_error = NULL WHERE id IN ({placeholders(len(delivery_ids))})",
            (message_id, to_timestamp(now), *delivery_ids),
        )

    async def retry_later(self, delivery_id: int, at: datetime, error: str) -> None:
        """A transient failure: count the attempt and try again at ``at``."""
        await self._db.execute(
            "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
            "WHERE id = ?",
            (to_timestamp(at), error, delivery_id),
        )

    async def give_up(self, delivery_id: int, state: Literal["failed", "dead"], error: str) -> None:
        """Stop trying: 'failed' (Discord refused for good) or 'dead' (retries ran out)."""
        await self._db.execute(
            "UPDATE deliveries SET state = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
            (state, error, delivery_id),
        )

    async def fail_pending_for_target(self, kind: TargetKind, target_id: int, error: str) -> int:
        """Fail, without a request, every other pending row for a target Discord refused."""
        return await self._db.execute(
            "UPDATE deliveries SET state = 'failed', last_error = ? "
            "WHERE target_kind = ? AND target_id = ? AND state = 'pending'",
            (f"not attempted: {error}", kind, target_id),
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
            count = await self._db.execute(
                f"UPDATE {table} SET disabled_reason = ? "
                f"WHERE {where} AND disabled_reason IS NULL AND failure_count >= ?",
                (f"{reason} (since {now:%Y-%m-%d %H:%M} UTC)", key, threshold),
            )
        return count > 0

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
        count = await self._db.execute(
            "UPDATE feeds SET notified_at = ? WHERE id = ? AND notified_at IS NULL",
            (to_timestamp(now), feed_id),
        )
        return count > 0

    async def instant_dms_since(self, user_id: int, since: datetime) -> int:
        """Instant DMs sent to the member since ``since`` (for the hourly cap)."""
        rows = await self._rows(
            "SELECT count(*) FROM deliveries WHERE target_kind = 'dm' AND target_id = ? "
            "AND state = 'sent' AND mode = 'instant' AND sent_at >= ?",
            (user_id, to_timestamp(since)),
        )
        return int(rows[0][0])

    async def move_to_digest(self, delivery_id: int, due: datetime, note: str) -> None:
        """Over the hourly cap: send it with the next daily digest instead."""
        await self._db.execute(
            "UPDATE deliveries SET mode = 'daily', next_attempt_at = ?, "
            "reason = reason || ' · ' || ? WHERE id = ?",
            (to_timestamp(due), note, delivery_id),
        )

    async def dm_channel(self, user_id: int) -> int | None:
        """The DM channel id kept for the member, if any."""
        rows = await self._rows("SELECT channel_id FROM dm_channels WHERE user_id = ?", (user_id,))
        return int(rows[0][0]) if rows else None

    async def save_dm_channel(self, user_id: int, channel_id: int) -> None:
        """Keep the member's DM channel id so a DM costs one request, not two."""
        await self._db.execute(
            "INSERT INTO dm_channels (user_id, channel_id) VALUES (?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET channel_id = excluded.channel_id",
            (user_id, channel_id),
        )

    # --- digests ---------------------------------------------------------------------------

    async def due_digests(self, now: datetime) -> list[tuple[int, DeliveryMode]]:
        """Members (and digest kind) with digest rows whose time has come."""
        rows = await self._rows(
            "SELECT DISTINCT target_id, mode FROM deliveries WHERE state = 'pending' "
            "AND target_kind = 'dm' AND mode != 'instant' AND next_attempt_at <= ?",
            (to_timestamp(now),),
        )
        return [(r[0], r[1]) for r in rows]

    async def digest_rows(self, user_id: int, mode: DeliveryMode, now: datetime) -> list[Delivery]:
        """The member's due rows of one digest kind, best quality first."""
        rows = await self._rows(
            f"SELECT {_DELIVERY_COLUMNS} {_DELIVERY_FROM} "
            "WHERE d.state = 'pending' AND d.target_kind = 'dm' AND d.target_id = ? "
            "AND d.mode = ? AND d.next_attempt_at <= ? ORDER BY a.quality DESC, d.id",
            (user_id, mode, to_timestamp(now)),
        )
        return [_delivery(r) for r in rows]

    async def retry_digest_later(
        self, delivery_ids: Sequence[int], at: datetime, error: str
    ) -> None:
        """A digest send failed transiently: try the whole digest again later."""
        await self._db.execute(
            f"UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
            f"WHERE id IN ({placeholders(len(delivery_ids))})",
            (to_timestamp(at), error, *delivery_ids),
        )

    # --- health ----------------------------------------------------------------------------

    async def feed_health(self, guild_id: int) -> dict[int, HealthCounts]:
        """Per feed of the guild: its deliveries by state."""
        return await self._health("feed_id", guild_id, None)

    async def subscription_health(self, guild_id: int, user_id: int) -> dict[int, HealthCounts]:
        """Per subscription of the member in the guild: its deliveries by state."""
        return await self._health("subscription_id", guild_id, user_id)

    async def _health(
        self, column: str, guild_id: int, user_id: int | None
    ) -> dict[int, HealthCounts]:
        rows = await self._rows(
            f"SELECT {column}, state, count(*) FROM deliveries WHERE guild_id = ? "
            f"AND {column} IS NOT NULL AND (? IS NULL OR target_id = ?) "
            f"GROUP BY {column}, state",
            (guild_id, user_id, user_id),
        )
        counts: dict[int, dict[str, int]] = {}
        for key, state, count in rows:
            counts.setdefault(key, {})[state] = count
        return {
            key: HealthCounts(
                pending=by_state.get("pending", 0),
                sent=by_state.get("sent", 0),
                failed=by_state.get("failed", 0),
                dead=by_state.get("dead", 0),
            )
            for key, by_state in counts.items()
        }


# One post per channel, even when a topic feed and an every-topic feed both match.
_PLAN_CHANNELS = f"""
INSERT OR IGNORE INTO deliveries (guild_id, article_pk, target_kind, target_id, feed_id, mode,
                                  state, reason, next_attempt_at, created_at)
SELECT f.guild_id, a.pk, 'channel', f.channel_id, min(f.id), 'instant', 'pending',
       'feed', :now, :now
FROM articles a
JOIN feeds f ON (f.topic_id IS NULL
                 OR f.topic_id IN (SELECT topic_id FROM article_topics WHERE article_pk = a.pk))
LEFT JOIN guild_settings gs ON gs.guild_id = f.guild_id
LEFT JOIN guild_publication gp ON gp.guild_id = f.guild_id AND gp.article_pk = a.pk
WHERE a.pk = :pk
  AND f.disabled_reason IS NULL
  AND (:guild IS NULL OR f.guild_id = :guild)
  AND (a.origin_guild_id IS NULL OR a.origin_guild_id = f.guild_id)
  AND {_PUBLISHED_IN_GUILD}
  AND a.quality >= coalesce(f.min_quality, gs.min_quality, :bar)
GROUP BY f.guild_id, f.channel_id
"""

# One alert per member and guild: the most immediate of their matching subscriptions wins
# (SQLite takes the other bare columns from the row holding the min()).
_PLAN_MEMBERS = f"""
INSERT OR IGNORE INTO deliveries (guild_id, article_pk, target_kind, target_id,
                                  subscription_id, mode, state, reason, next_attempt_at,
                                  created_at)
SELECT guild_id, pk, 'dm', user_id, subscription_id,
       CASE rank WHEN 0 THEN 'instant' WHEN 1 THEN 'daily' ELSE 'weekly' END,
       'pending', reason,
       CASE rank WHEN 0 THEN :now WHEN 1 THEN daily ELSE weekly END, :now
FROM (
    SELECT s.guild_id, a.pk, s.user_id, s.id AS subscription_id, min({MODE_RANK}) AS rank,
           'topic: ' || t.name AS reason,
           coalesce(pd.daily, :daily) AS daily, coalesce(pd.weekly, :weekly) AS weekly
    FROM articles a
    JOIN article_topics at ON at.article_pk = a.pk
    JOIN subscriptions s ON s.topic_id = at.topic_id
    JOIN topics t ON t.id = s.topic_id
    LEFT JOIN guild_settings gs ON gs.guild_id = s.guild_id
    LEFT JOIN guild_publication gp ON gp.guild_id = s.guild_id AND gp.article_pk = a.pk
    LEFT JOIN temp.plan_dues pd ON pd.guild_id = s.guild_id
    WHERE a.pk = :pk
      AND s.disabled_reason IS NULL
      AND (:guild IS NULL OR s.guild_id = :guild)
      AND (a.origin_guild_id IS NULL OR a.origin_guild_id = s.guild_id)
      AND {_PUBLISHED_IN_GUILD}
      AND a.quality >= max(s.min_quality, coalesce(gs.min_quality, :bar))
    GROUP BY s.guild_id, s.user_id
)
"""
