"""Planning the outbox: each publication (the source's, or a moderator's in one guild) becomes
one row per matching channel and member, written with the publication marked planned in one
transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from storage.database import Database
from storage.models import DigestKey
from storage.outbox import plans, replans
from storage.outbox.plans import PlanCounts, Publication
from storage.outbox.replans import Passing, Replan, ReplanKind
from storage.timestamps import from_timestamp, to_timestamp


class PlanningQueries:
    """Planning publications into the outbox, and moving or cancelling what waits there."""

    _db: Database

    async def skip_backlog(self, cutoff: datetime, now: datetime) -> int:
        """Record publications older than ``cutoff`` as planned-and-skipped: never sent."""
        params = plans.backlog_params(cutoff, now)
        async with self._db.transaction():
            source = await self._db.execute(plans.SKIP_SOURCE_BACKLOG, params)
            guild = await self._db.execute(plans.SKIP_GUILD_BACKLOG, params)
        return source + guild

    async def unplanned(self, cutoff: datetime, *, limit: int) -> list[Publication]:
        """Publications (the source's, then moderators') not planned yet and not older than
        ``cutoff``; older ones are left to ``skip_backlog``."""
        rows = await self._db.fetch_all(
            plans.UNPLANNED, {"cutoff": to_timestamp(cutoff), "limit": limit}
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
        schedules_version: str | None,
    ) -> PlanCounts:
        """Write one row per matching channel and per matching member (one alert per member
        however many of their topics match), and mark the publication planned, atomically.
        A publication older than ``cutoff`` by now (re-dated by an ingest since it was
        selected) gets no rows and is marked skipped instead.

        ``digest_due`` gives the next daily and weekly digest moments for each digest schedule
        guilds set (as stored, None where they kept a default); guilds that set none get
        ``default_due``. A target already given (or due) another article of the same story
        since ``story_since`` is left out: one alert per story. ``digest_due`` was read from
        the schedules of version ``schedules_version`` (``schedules_version()``): if a guild's
        schedule changed since, the plan is rolled back with ``SchedulesChanged``."""
        params = plans.plan_params(
            publication,
            now=now,
            cutoff=cutoff,
            default_bar=default_bar,
            default_due=default_due,
            story_since=story_since,
        )
        params["shared_story"] = await self._db.scalar(plans.SHARED_STORY, params)
        async with self._db.transaction():
            await self._db.execute(plans.FORGET_RETRACTED, params)
            await self._load_digest_dues(digest_due)
            # Members first: see _PLAN_MEMBERS on the order of the rows.
            members = await self._db.execute(_PLAN_MEMBERS, params)
            channels = await self._db.execute(_PLAN_CHANNELS, params)
            mark = (
                plans.MARK_SOURCE_PLANNED
                if publication.guild_id is None
                else plans.MARK_GUILD_PLANNED
            )
            outcome = await self._db.fetch_all(mark, params)
            await self._check_schedules(schedules_version)
        return PlanCounts(channels, members, skipped_old=plans.was_skipped(outcome))

    async def request_replan(
        self, guild_id: int, kind: ReplanKind, target_id: int, below: int, now: datetime
    ) -> None:
        """A bar was lowered from ``below``: the next planning run re-plans (``replans``)."""
        await self._db.execute(
            replans.REQUEST, replans.request_params(guild_id, kind, target_id, below, now)
        )

    async def replans(self, *, limit: int) -> list[Replan]:
        """The lowered bars' requests waiting for a planning run, oldest first."""
        rows = await self._db.fetch_all(replans.REQUESTS, {"limit": limit})
        return [replans.replan_of(tuple(row)) for row in rows]

    async def replan_done(self, replan: Replan) -> None:
        """The request was served (one made again meanwhile stays)."""
        await self._db.execute(replans.DONE, replan.params)

    async def passing(self, guild_id: int, cutoff: datetime, which: Passing) -> list[Publication]:
        """The guild's publications since ``cutoff`` that ``which`` lists (oldest first)."""
        rows = await self._db.fetch_all(replans.PASSING, which.params(guild_id, cutoff))
        return [Publication(r[0], guild_id, r[1], from_timestamp(r[2])) for r in rows]

    async def write_replan(
        self,
        publication: Publication,
        replan: Replan,
        *,
        now: datetime,
        cutoff: datetime,
        default_bar: int,
        default_due: tuple[datetime, datetime],
        digest_due: Mapping[DigestKey, tuple[datetime, datetime]],
        story_since: datetime,
        schedules_version: str | None,
    ) -> PlanCounts:
        """Plan the guild's publication again for the replan's targets that have no row of it
        (see ``storage.outbox.replans``), by ``write_plan``'s rules, atomically."""
        params = plans.plan_params(
            publication,
            now=now,
            cutoff=cutoff,
            default_bar=default_bar,
            default_due=default_due,
            story_since=story_since,
        )
        params |= {"only": replan.only, "kind": replan.kind}
        params["shared_story"] = await self._db.scalar(plans.SHARED_STORY, params)
        members = channels = 0
        async with self._db.transaction():
            await self._db.execute(replans.FORGET_UNDER_BAR, params)
            await self._load_digest_dues(digest_due)
            if replan.kind in ("", "dm"):
                members = await self._db.execute(_PLAN_MEMBERS, params)
            if replan.kind in ("", "channel"):
                channels = await self._db.execute(_PLAN_CHANNELS, params)
            await self._check_schedules(schedules_version)
        return PlanCounts(channels, members)

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
            plans.schedule_dues(digest_due),
        )

    async def schedules_version(self) -> str | None:
        """The version of the guilds' digest schedules (``plans.SCHEDULES_VERSION``)."""
        value = await self._db.scalar(plans.SCHEDULES_VERSION)
        return None if value is None else str(value)

    async def _check_schedules(self, version: str | None) -> None:
        await self._db.hold_lock(plans.SCHEDULES_LOCK)
        if await self.schedules_version() != version:
            raise plans.SchedulesChanged()

    async def reschedule_digests(
        self, guild_id: int, now: datetime, daily: datetime, weekly: datetime
    ) -> int:
        """The guild's digest schedule changed: its daily and weekly rows not yet due move to
        ``daily`` and ``weekly`` (rows already due go out as they are); how many moved. Called
        in the transaction that changes the schedule, which counts the schedules' version up
        (see ``plans.SCHEDULES_LOCK``)."""
        await self._db.hold_lock(plans.SCHEDULES_LOCK)
        await self._db.execute(plans.NEXT_SCHEDULES_VERSION)
        return await self._db.execute(
            plans.RESCHEDULE_DIGESTS, plans.reschedule_params(guild_id, now, daily, weekly)
        )

    async def follow_delivery(
        self, guild_id: int, user_id: int, now: datetime, daily: datetime, weekly: datetime
    ) -> int:
        """The member changed a subscription's delivery: their digest rows in the guild not
        yet due follow it (``plans.FOLLOW_DELIVERY``); how many moved."""
        return await self._db.execute(
            plans.FOLLOW_DELIVERY,
            plans.follow_delivery_params(guild_id, user_id, now, daily, weekly),
        )

    async def cancel_for_guild(self, guild_id: int, article_id: str) -> int:
        """A moderator retracted the article in their guild: cancel what waits there."""
        return await self._db.execute(
            plans.CANCEL_FOR_GUILD, {"article": article_id, "guild": guild_id}
        )


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
  AND {plans.reaches(guild="f.guild_id", kind="'channel'", target="f.channel_id")}
GROUP BY f.guild_id, f.channel_id
"""

# One alert per member and guild: rows come sorted by member with the most immediate of their
# matching subscriptions first, and INSERT OR IGNORE keeps that first one. The sort also hands
# the rows over in key order, so they are appended to the outbox and its indexes instead of
# scattered through them (a GROUP BY would sort too, and cost a third more). Digest times are
# looked up by the guild's own schedule (time zone, time, day); guilds that set none, or have
# no settings row, use the defaults passed in. Appended, that is, when they are written before
# the channel posts: after them, each server's members land between its posts and the next
# server's, in the middle of the key (a plan took a fifth more CPU time that way).
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
  AND {plans.reaches(guild="s.guild_id", kind="'dm'", target="s.user_id")}
ORDER BY s.guild_id, s.user_id, {plans.MODE_RANK}
"""
