"""The delivery outbox: planning rows, claiming due ones, and recording what Discord said.

One row per (guild, target, article). Planning writes rows and marks the publication planned
in one transaction; sending marks a row sent only after Discord accepted it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from storage.database import Database, Params
from storage.models import DeliveryMode, DigestKey
from storage.timestamps import from_timestamp, to_timestamp

TargetKind = Literal["channel", "dm"]
DeliveryKey = tuple[int, int, str, int]  # article_pk, guild_id, target_kind, target_id
MODE_RANK = "CASE s.delivery WHEN 'instant' THEN 0 WHEN 'daily' THEN 1 ELSE 2 END"
_PUBLISHED_IN_GUILD = "(gp.state = 'published' OR (gp.state IS NULL AND a.published = 1))"
# The age rule. A source publication is as old as its article's date, a moderator's as their
# decision; one older than :cutoff is never planned. The statements that select and write a
# plan each check it themselves: a check made by an earlier statement would let through what an
# ingest committed in between (an old article with `published: true`, say).
_SOURCE_AGE = "a.published_at"
_GUILD_AGE = "gp.decided_at"
_SOURCE_FRESH = f"{_SOURCE_AGE} >= :cutoff"
_GUILD_FRESH = f"{_GUILD_AGE} >= :cutoff"
# In a plan's statements, :guild is the guild of a moderator's publication (NULL: the source's).
_PUBLICATION_FRESH = (
    f"(CASE WHEN :guild IS NULL THEN {_SOURCE_AGE} ELSE {_GUILD_AGE} END >= :cutoff)"
)
_UNPLANNED_SOURCE = "a.published = 1 AND a.planned_at IS NULL AND a.coverage_only = 0"
_UNPLANNED_GUILD = "gp.state = 'published' AND gp.planned_at IS NULL"
_KEY_MATCH = "article_pk = ? AND guild_id = ? AND target_kind = ? AND target_id = ?"
_DELIVERY_COLUMNS = (
    "d.guild_id, d.article_pk, a.id, d.target_kind, d.target_id, d.feed_id, "
    "d.subscription_id, d.mode, d.state, d.note, d.attempts, d.next_attempt_at, "
    "d.last_error, d.message_id, f.mention_role_id, s.topic_id, t.name"
)
_DELIVERY_FROM = (
    "FROM deliveries d JOIN articles a ON a.pk = d.article_pk "
    "LEFT JOIN feeds f ON f.id = d.feed_id "
    "LEFT JOIN subscriptions s ON s.id = d.subscription_id "
    "LEFT JOIN topics t ON t.id = s.topic_id "
)
MODES = ("instant", "daily", "weekly")
# Far beyond any timestamp: "pending, whatever its time".
WHENEVER = 2**62


def pending_by(until: str, *, modes: Sequence[str] = MODES, alias: str = "d") -> str:
    """Pending rows of ``modes`` due by ``until`` (an SQL parameter).

    The pending queue is one partial index per mode (migration 0005). Naming each mode with a
    time bound lets SQLite read the three indexes and join their rows, instead of scanning the
    outbox; pass ``WHENEVER`` for every pending row.
    """
    column = f"{alias}." if alias else ""
    branches = [
        f"({column}state = 'pending' AND {column}mode = '{mode}' "
        f"AND {column}next_attempt_at <= {until})"
        for mode in modes
    ]
    return f"({' OR '.join(branches)})"


# Rows whose time has come; every pending row (of an unaliased outbox).
_DUE = pending_by(":due")
_ANY_PENDING = pending_by(":whenever", alias="")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One planned post or DM."""

    guild_id: int
    article_pk: int
    article_id: str
    target_kind: TargetKind
    target_id: int
    feed_id: int | None
    subscription_id: int | None
    mode: DeliveryMode
    state: str
    note: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    message_id: int | None
    mention_role_id: int | None
    topic_id: int | None
    topic_name: str | None

    @property
    def key(self) -> DeliveryKey:
        """What makes the row unique."""
        return (self.article_pk, self.guild_id, self.target_kind, self.target_id)

    @property
    def label(self) -> str:
        """A short name for logs."""
        return f"{self.target_kind} {self.target_id} <- article {self.article_id}"

    @property
    def nonce(self) -> str:
        """Deterministic per row, so a resend after a crash is recognised as the same message."""
        return nonce_for("tb", self.key)


def nonce_for(prefix: str, *parts: object) -> str:
    """A message nonce derived from ``parts`` (Discord allows 25 characters)."""
    digest = hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()
    return f"{prefix}{int(digest[:15], 16)}"[:25]


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
    skipped_old: bool = False


@dataclass(frozen=True, slots=True)
class HealthCounts:
    """Deliveries of one feed or subscription by state."""

    pending: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0


def _delivery(row: tuple[Any, ...]) -> Delivery:
    return Delivery(
        guild_id=row[0],
        article_pk=row[1],
        article_id=row[2],
        target_kind=row[3],
        target_id=row[4],
        feed_id=row[5],
        subscription_id=row[6],
        mode=row[7],
        state=row[8],
        note=row[9],
        attempts=row[10],
        next_attempt_at=from_timestamp(row[11]),
        last_error=row[12],
        message_id=row[13],
        mention_role_id=row[14],
        topic_id=row[15],
        topic_name=row[16],
    )


class DeliveryRepository:
    """Named queries over the outbox."""

    def __init__(self, connection: Database) -> None:
        self._db = connection

    async def _deliveries(self, where: str, params: Params) -> list[Delivery]:
        rows = await self._db.fetch_all(
            f"SELECT {_DELIVERY_COLUMNS} {_DELIVERY_FROM} WHERE {where}", params
        )
        return [_delivery(row) for row in rows]

    # --- planning --------------------------------------------------------------------------

    async def skip_backlog(self, cutoff: datetime, now: datetime) -> int:
        """Record publications older than ``cutoff`` as planned-and-skipped: never sent."""
        params = {"cutoff": to_timestamp(cutoff), "now": to_timestamp(now)}
        async with self._db.transaction():
            source = await self._db.execute(
                "UPDATE articles AS a SET planned_at = :now, plan_outcome = 'skipped_old' "
                f"WHERE {_UNPLANNED_SOURCE} AND NOT {_SOURCE_FRESH}",
                params,
            )
            guild = await self._db.execute(
                "UPDATE guild_publication AS gp SET planned_at = :now, "
                f"plan_outcome = 'skipped_old' WHERE {_UNPLANNED_GUILD} AND NOT {_GUILD_FRESH}",
                params,
            )
        return source + guild

    async def unplanned(self, cutoff: datetime, *, limit: int) -> list[Publication]:
        """Publications (the source's, then moderators') not planned yet and not older than
        ``cutoff``; older ones are left to ``skip_backlog``."""
        rows = await self._db.fetch_all(
            "SELECT a.pk, NULL, a.quality, a.published_at FROM articles a "
            f"WHERE {_UNPLANNED_SOURCE} AND {_SOURCE_FRESH} "
            "UNION ALL "
            "SELECT gp.article_pk, gp.guild_id, a.quality, a.published_at "
            "FROM guild_publication gp JOIN articles a ON a.pk = gp.article_pk "
            f"WHERE {_UNPLANNED_GUILD} AND {_GUILD_FRESH} "
            "LIMIT :limit",
            {"cutoff": to_timestamp(cutoff), "limit": limit},
        )
        return [Publication(r[0], r[1], r[2], from_timestamp(r[3])) for r in rows]

    async def write_plan(
        self,
        publication: Publication,
        *,
        now: datetime,
        cutoff: datetime,
        default_bar: int,
        default_due: tuple[datetime, datetime],
        digest_due: Mapping[DigestKey, tuple[datetime, datetime]],
        story_since: datetime,
    ) -> PlanCounts:
        """Write one row per matching channel and per matching member (one alert per member
        however many of their topics match), and mark the publication planned, atomically.
        A publication older than ``cutoff`` by now (re-dated by an ingest since it was
        selected) gets no rows and is marked skipped instead.

        ``digest_due`` gives the next daily and weekly digest moments for each digest schedule
        guilds set (as stored, None where they kept a default); guilds that set none get
        ``default_due``. A target already given (or due) another article of the same story
        since ``story_since`` is left out: one alert per story."""
        params = {
            "pk": publication.article_pk,
            "guild": publication.guild_id,
            "now": to_timestamp(now),
            "cutoff": to_timestamp(cutoff),
            "bar": default_bar,
            "story_since": to_timestamp(story_since),
            "daily": to_timestamp(default_due[0]),
            "weekly": to_timestamp(default_due[1]),
        }
        # Most stories have one article: then no target can have had another, and the
        # per-target check below is skipped (it would cost a probe per subscriber).
        params["shared_story"] = await self._db.scalar(
            "SELECT EXISTS (SELECT 1 FROM articles a JOIN articles sib "
            "ON sib.story_id = a.story_id AND sib.pk != a.pk WHERE a.pk = :pk)",
            params,
        )
        async with self._db.transaction():
            await self._load_digest_dues(digest_due)
            channels = await self._db.execute(_PLAN_CHANNELS, params)
            members = await self._db.execute(_PLAN_MEMBERS, params)
            if publication.guild_id is None:
                outcome = await self._db.fetch_all(
                    "UPDATE articles AS a SET planned_at = :now, plan_outcome = "
                    f"CASE WHEN {_SOURCE_FRESH} THEN 'planned' ELSE 'skipped_old' END "
                    "WHERE a.pk = :pk RETURNING plan_outcome",
                    params,
                )
            else:
                outcome = await self._db.fetch_all(
                    "UPDATE guild_publication AS gp SET planned_at = :now, plan_outcome = "
                    f"CASE WHEN {_GUILD_FRESH} THEN 'planned' ELSE 'skipped_old' END "
                    "WHERE gp.guild_id = :guild AND gp.article_pk = :pk RETURNING plan_outcome",
                    params,
                )
        return PlanCounts(channels, members, skipped_old=outcome == [("skipped_old",)])

    async def _load_digest_dues(
        self, digest_due: Mapping[DigestKey, tuple[datetime, datetime]]
    ) -> None:
        # keyed by the stored schedule, '' for a default, so each row's lookup is one probe
        await self._db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS plan_schedule_dues (zone TEXT NOT NULL, "
            "at TEXT NOT NULL, day TEXT NOT NULL, daily INTEGER NOT NULL, "
            "weekly INTEGER NOT NULL, PRIMARY KEY (zone, at, day))"
        )
        await self._db.execute("DELETE FROM plan_schedule_dues")
        await self._db.executemany(
            "INSERT INTO plan_schedule_dues (zone, at, day, daily, weekly) VALUES (?, ?, ?, ?, ?)",
            [
                (*(part or "" for part in key), to_timestamp(daily), to_timestamp(weekly))
                for key, (daily, weekly) in digest_due.items()
            ],
        )

    async def reschedule_digests(
        self, guild_id: int, now: datetime, daily: datetime, weekly: datetime
    ) -> int:
        """The guild's digest schedule changed: its daily and weekly rows not yet due move to
        ``daily`` and ``weekly`` (rows already due go out as they are); how many moved."""
        new_time = "CASE mode WHEN 'daily' THEN :daily ELSE :weekly END"
        return await self._db.execute(
            f"UPDATE deliveries SET next_attempt_at = {new_time} "
            f"WHERE {pending_by(':whenever', modes=('daily', 'weekly'), alias='')} "
            f"AND next_attempt_at > :now AND guild_id = :guild "
            f"AND next_attempt_at != {new_time}",
            {
                "daily": to_timestamp(daily),
                "weekly": to_timestamp(weekly),
                "now": to_timestamp(now),
                "guild": guild_id,
                "whenever": WHENEVER,
            },
        )

    async def cancel_for_guild(self, guild_id: int, article_id: str) -> int:
        """A moderator retracted the article in their guild: cancel what waits there."""
        return await self._db.execute(
            "UPDATE deliveries SET state = 'cancelled', last_error = 'retracted' "
            "WHERE article_pk = (SELECT pk FROM articles WHERE id = ?) AND guild_id = ? "
            "AND state = 'pending'",
            (article_id, guild_id),
        )

    # --- sending ---------------------------------------------------------------------------

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
            f"WHERE {_DUE} AND NOT {_PUBLISHED_IN_GUILD})",
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
            f"last_error = NULL WHERE {_KEY_MATCH}",
            [(message_id, to_timestamp(now), *row.key) for row in rows],
        )

    async def retry_later(self, rows: Sequence[Delivery], at: datetime, error: str) -> None:
        """A transient failure: count the attempt and try again at ``at``."""
        await self._db.executemany(
            "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
            f"WHERE {_KEY_MATCH}",
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
            f"WHERE {_KEY_MATCH}",
            [(state, error, *row.key) for row in rows],
        )

    async def fail_pending_for_target(self, kind: TargetKind, target_id: int, error: str) -> int:
        """Fail, without a request, every other pending row for a target Discord refused."""
        return await self._db.execute(
            "UPDATE deliveries SET state = 'failed', last_error = :error "
            f"WHERE {_ANY_PENDING} AND target_kind = :kind AND target_id = :target",
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
            f"note = ltrim(note || ' · ' || ?, ' ·') WHERE {_KEY_MATCH}",
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

    # --- health ----------------------------------------------------------------------------

    async def feed_health(self, guild_id: int) -> dict[int, HealthCounts]:
        """Per feed of the guild: its deliveries by state."""
        return await self._health("feed_id", "channel", guild_id, None)

    async def subscription_health(self, guild_id: int, user_id: int) -> dict[int, HealthCounts]:
        """Per subscription of the member in the guild: its alerts by state."""
        return await self._health("subscription_id", "dm", guild_id, user_id)

    async def _health(
        self, column: str, kind: TargetKind, guild_id: int, target_id: int | None
    ) -> dict[int, HealthCounts]:
        # attempted rows through the history index, waiting ones through the pending queue,
        # and what pruned rows counted for
        # the target as a term of its own when given: inside an OR, SQLite would not seek on it
        # and would read every row of the guild (1.2 million for a member of a large server)
        where = "guild_id = :guild AND target_kind = :kind" + (
            "" if target_id is None else " AND target_id = :target"
        )
        sql = (
            f"SELECT {column}, state, count(*) FROM deliveries WHERE {where} "
            f"AND state != 'pending' GROUP BY {column}, state UNION ALL "
            f"SELECT {column}, state, count(*) FROM deliveries WHERE {where} "
            f"AND {_ANY_PENDING} GROUP BY {column} UNION ALL "
            f"SELECT source_id, state, total FROM delivery_counts WHERE {where}"
        )
        params = {"guild": guild_id, "kind": kind, "target": target_id, "whenever": WHENEVER}
        counts: dict[int, dict[str, int]] = {}
        for key, state, count in await self._db.fetch_all(sql, params):
            if key is not None:
                by_state = counts.setdefault(key, {})
                by_state[state] = by_state.get(state, 0) + count
        return {
            key: HealthCounts(
                pending=by_state.get("pending", 0),
                sent=by_state.get("sent", 0),
                failed=by_state.get("failed", 0),
                dead=by_state.get("dead", 0),
            )
            for key, by_state in counts.items()
        }


# Another article of the same story already sent (or due) to this target lately. A story of
# one article finds only itself, so the common case costs one index probe.
_SAME_STORY = """
    SELECT 1 FROM articles sib
    JOIN deliveries d2 ON d2.article_pk = sib.pk AND d2.guild_id = {guild}
         AND d2.target_kind = {kind} AND d2.target_id = {target}
    WHERE sib.story_id = a.story_id AND sib.pk != a.pk
      AND d2.state IN ('pending', 'sent') AND d2.created_at >= :story_since"""

# A target in guild {guild} may hear of the publication: it is planned for every guild or for
# that one, is not another guild's own article, is published there and not too old, and the
# target was not given another article of its story lately.
_REACHES = f"""(:guild IS NULL OR {{guild}} = :guild)
  AND (a.origin_guild_id IS NULL OR a.origin_guild_id = {{guild}})
  AND {_PUBLISHED_IN_GUILD}
  AND {_PUBLICATION_FRESH}
  AND (:shared_story = 0 OR NOT EXISTS ({_SAME_STORY}))"""

# One post per channel, even when a topic feed and an every-topic feed both match.
_PLAN_CHANNELS = f"""
INSERT OR IGNORE INTO deliveries (guild_id, article_pk, target_kind, target_id, feed_id, mode,
                                  state, note, next_attempt_at, created_at)
SELECT f.guild_id, a.pk, 'channel', f.channel_id, min(f.id), 'instant', 'pending', '',
       :now, :now
FROM articles a
JOIN feeds f ON (f.topic_id IS NULL
                 OR f.topic_id IN (SELECT topic_id FROM article_topics WHERE article_pk = a.pk))
LEFT JOIN guild_settings gs ON gs.guild_id = f.guild_id
LEFT JOIN guild_publication gp ON gp.guild_id = f.guild_id AND gp.article_pk = a.pk
WHERE a.pk = :pk
  AND f.disabled_reason IS NULL
  AND a.quality >= coalesce(f.min_quality, gs.min_quality, :bar)
  AND {_REACHES.format(guild="f.guild_id", kind="'channel'", target="f.channel_id")}
GROUP BY f.guild_id, f.channel_id
"""

# One alert per member and guild: rows come sorted by member with the most immediate of their
# matching subscriptions first, and INSERT OR IGNORE keeps that first one. The sort also hands
# the rows over in key order, so they are appended to the outbox and its indexes instead of
# scattered through them (a GROUP BY would sort too, and cost a third more). Digest times are
# looked up by the guild's own schedule (time zone, time, day); guilds that set none, or have
# no settings row, use the defaults passed in.
_PLAN_MEMBERS = f"""
INSERT OR IGNORE INTO deliveries (guild_id, article_pk, target_kind, target_id,
                                  subscription_id, mode, state, note, next_attempt_at,
                                  created_at)
SELECT s.guild_id, a.pk, 'dm', s.user_id, s.id, s.delivery, 'pending', '',
       CASE s.delivery
           WHEN 'instant' THEN :now
           WHEN 'daily' THEN coalesce((SELECT daily FROM temp.plan_schedule_dues
               WHERE zone = coalesce(gs.timezone, '') AND at = coalesce(gs.digest_time, '')
                 AND day = coalesce(gs.digest_day, '')), :daily)
           ELSE coalesce((SELECT weekly FROM temp.plan_schedule_dues
               WHERE zone = coalesce(gs.timezone, '') AND at = coalesce(gs.digest_time, '')
                 AND day = coalesce(gs.digest_day, '')), :weekly)
       END,
       :now
FROM articles a
JOIN article_topics at ON at.article_pk = a.pk
JOIN subscriptions s INDEXED BY subscriptions_fanout ON s.topic_id = at.topic_id
LEFT JOIN guild_settings gs ON gs.guild_id = s.guild_id
LEFT JOIN guild_publication gp ON gp.guild_id = s.guild_id AND gp.article_pk = a.pk
WHERE a.pk = :pk
  AND s.disabled_reason IS NULL
  AND a.quality >= max(s.min_quality, coalesce(gs.min_quality, :bar))
  AND {_REACHES.format(guild="s.guild_id", kind="'dm'", target="s.user_id")}
ORDER BY s.guild_id, s.user_id, {MODE_RANK}
"""
