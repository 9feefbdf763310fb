"""Planning the outbox: each publication (the source's, or a moderator's in one guild) becomes
one row per matching channel and member, written with the publication marked planned in one
transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from storage.database import Database
from storage.models import DigestKey
from storage.outbox.rows import PUBLISHED_IN_GUILD, WHENEVER, pending_by
from storage.timestamps import from_timestamp, to_timestamp

MODE_RANK = "CASE s.delivery WHEN 'instant' THEN 0 WHEN 'daily' THEN 1 ELSE 2 END"
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


class PlanningQueries:
    """Planning publications into the outbox, and moving or cancelling what waits there."""

    _db: Database

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
  AND {PUBLISHED_IN_GUILD}
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
