"""Planning the outbox on PostgreSQL: each publication becomes one row per matching channel
and member in set-based ``INSERT ... SELECT`` statements, written with the publication marked
planned in one transaction. The rules are the shared ones of ``storage.outbox.plans``; only
the fan-out statements are this engine's."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from storage.models import DigestKey
from storage.outbox import plans, replans
from storage.outbox.plans import PlanCounts, Publication
from storage.outbox.removals import PostRemovalQueries
from storage.outbox.replans import Passing, Replan, ReplanKind
from storage.outbox.rows import Delivery
from storage.postgresql.outbox.rows import OutboxQueries
from storage.timestamps import from_timestamp, to_timestamp

# :guild is NULL for the source's publications: its type cannot come from the value.
_PLAN_TYPES = {"guild": "bigint", "only": "bigint"}


class PgPlanningQueries(OutboxQueries, PostRemovalQueries):
    """Planning publications into the outbox, and moving or cancelling what waits there."""

    async def skip_backlog(self, cutoff: datetime, now: datetime) -> int:
        """Record publications older than ``cutoff`` as planned-and-skipped: never sent."""
        params = plans.backlog_params(cutoff, now)
        async with self._db.transaction():
            source = await self._execute(plans.SKIP_SOURCE_BACKLOG, params)
            guild = await self._execute(plans.SKIP_GUILD_BACKLOG, params)
        return source + guild

    async def unplanned(self, cutoff: datetime, *, limit: int) -> list[Publication]:
        """Publications (the source's, then moderators') not planned yet and not older than
        ``cutoff``; older ones are left to ``skip_backlog``."""
        rows = await self._fetch(plans.UNPLANNED, {"cutoff": to_timestamp(cutoff), "limit": limit})
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
        however many of their topics match), and mark the publication planned, atomically;
        see ``storage.api.DeliveriesApi`` and the SQLite twin for the rules."""
        params = plans.plan_params(
            publication,
            now=now,
            cutoff=cutoff,
            default_bar=default_bar,
            default_due=default_due,
            story_since=story_since,
        )
        params["shared_story"] = int(await self._scalar(plans.SHARED_STORY, params))
        params.update(_due_arrays(digest_due))
        mark = (
            plans.MARK_SOURCE_PLANNED if publication.guild_id is None else plans.MARK_GUILD_PLANNED
        )
        async with self._db.transaction():
            await self._db.execute(_SORT_MEMORY)
            await self._execute(plans.FORGET_RETRACTED, params, _PLAN_TYPES)
            keep = _KEEP_EXISTING if await self._scalar(_ALREADY_PLANNED, params) else ""
            # Members first: see _plan_members on the order of the rows.
            members = await self._plan_members(params, keep)
            channels = await self._execute(_PLAN_CHANNELS + keep, params, _PLAN_TYPES)
            outcome = await self._fetch(mark, params, _PLAN_TYPES)
            # Last, so that a schedule's change waits for the lock only while this commits.
            await self._check_schedules(schedules_version)
        return PlanCounts(channels, members, skipped_old=plans.was_skipped(outcome))

    async def request_replan(
        self, guild_id: int, kind: ReplanKind, target_id: int, below: int, now: datetime
    ) -> None:
        """A bar was lowered from ``below``: the next planning run re-plans (``replans``)."""
        await self._execute(
            replans.REQUEST, replans.request_params(guild_id, kind, target_id, below, now)
        )

    async def replans(self, *, limit: int) -> list[Replan]:
        """The lowered bars' requests waiting for a planning run, oldest first."""
        rows = await self._fetch(replans.REQUESTS, {"limit": limit})
        return [replans.replan_of(tuple(row)) for row in rows]

    async def replan_done(self, replan: Replan) -> None:
        """The request was served (one made again meanwhile stays)."""
        await self._execute(replans.DONE, replan.params)

    async def passing(self, guild_id: int, cutoff: datetime, which: Passing) -> list[Publication]:
        """The guild's publications since ``cutoff`` that ``which`` lists (oldest first)."""
        rows = await self._fetch(
            replans.PASSING,
            which.params(guild_id, cutoff),
            replans.PASSING_TYPES,
        )
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
        params["shared_story"] = int(await self._scalar(plans.SHARED_STORY, params))
        params.update(_due_arrays(digest_due))
        members = channels = 0
        async with self._db.transaction():
            await self._db.execute(_SORT_MEMORY)
            await self._execute(replans.FORGET_UNDER_BAR, params, _PLAN_TYPES)
            if replan.kind in ("", "dm"):
                members = await self._plan_members(params, _KEEP_EXISTING)
            if replan.kind in ("", "channel"):
                channels = await self._execute(_PLAN_CHANNELS + _KEEP_EXISTING, params, _PLAN_TYPES)
            await self._check_schedules(schedules_version)
        return PlanCounts(channels, members)

    async def _plan_members(self, params: dict[str, Any], keep: str) -> int:
        topics = await self._fetch(_ARTICLE_TOPICS, params)
        if not topics:
            return 0
        return await self._execute(
            _plan_members(len(topics)) + keep,
            params | _topic_params(topics),
            _PLAN_TYPES | _DUE_TYPES,
        )

    async def schedules_version(self) -> str | None:
        """The version of the guilds' digest schedules (``plans.SCHEDULES_VERSION``)."""
        value = await self._scalar(plans.SCHEDULES_VERSION, {})
        return None if value is None else str(value)

    async def _check_schedules(self, version: str | None) -> None:
        await self._db.named.hold_lock(plans.SCHEDULES_LOCK)
        if await self.schedules_version() != version:
            raise plans.SchedulesChanged()

    async def reschedule_digests(
        self, guild_id: int, now: datetime, daily: datetime, weekly: datetime
    ) -> int:
        """The guild's digest schedule changed: its daily and weekly rows not yet due move to
        ``daily`` and ``weekly`` (rows already due go out as they are); how many moved. Part
        of the transaction that changes the schedule, which counts the schedules' version up
        (see ``plans.SCHEDULES_LOCK``): a plan under way either waits or is written again."""
        async with self._db.transaction():
            await self._db.named.hold_lock(plans.SCHEDULES_LOCK)
            await self._execute(plans.NEXT_SCHEDULES_VERSION, {})
            return await self._execute(
                plans.RESCHEDULE_DIGESTS, plans.reschedule_params(guild_id, now, daily, weekly)
            )

    async def follow_delivery(
        self, guild_id: int, user_id: int, now: datetime, daily: datetime, weekly: datetime
    ) -> int:
        """The member changed a subscription's delivery: their digest rows in the guild not
        yet due follow it (``plans.FOLLOW_DELIVERY``); how many moved."""
        return await self._execute(
            plans.FOLLOW_DELIVERY,
            plans.follow_delivery_params(guild_id, user_id, now, daily, weekly),
        )

    async def cancel_for_guild(self, guild_id: int, article_id: str) -> int:
        """A moderator retracted the article in their guild: cancel what waits there."""
        return await self._execute(
            plans.CANCEL_FOR_GUILD, {"article": article_id, "guild": guild_id}
        )

    async def sent_for_guild(self, guild_id: int, article_id: str) -> list[Delivery]:
        """What of the article went out in the guild (the posts, with their message ids)."""
        return await self._deliveries(
            plans.SENT_FOR_GUILD, {"article": article_id, "guild": guild_id}
        )

    async def _removal_rows(self, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return await self._fetch(sql, params)

    async def _removal_write(self, sql: str, params: Mapping[str, Any]) -> int:
        return await self._execute(sql, params)


# The digest schedules guilds set, as arrays of one column each (``plans.schedule_dues``).
_DUE_COLUMNS = ("zones", "ats", "days", "dailies", "weeklies")


def _due_arrays(
    digest_due: Mapping[DigestKey, tuple[datetime, datetime]],
) -> dict[str, list[Any]]:
    rows = plans.schedule_dues(digest_due)
    return {name: [row[n] for row in rows] for n, name in enumerate(_DUE_COLUMNS)}


_DUE_TYPES = {
    "zones": "text[]",
    "ats": "text[]",
    "days": "text[]",
    "dailies": "bigint[]",
    "weeklies": "bigint[]",
}

# One post per channel, even when a topic feed and an every-topic feed both match.
_PLAN_CHANNELS = f"""
WITH decisions AS MATERIALIZED (
    SELECT guild_id, state, decided_at FROM guild_publication WHERE article_pk = :pk
)
INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, feed_id, mode, state,
                        note, next_attempt_at, created_at)
SELECT f.guild_id, a.pk, 'channel', f.channel_id, min(f.id), 'instant', 'pending', '',
       :now, :now
FROM articles a
JOIN feeds f ON (f.topic_id IS NULL
                 OR f.topic_id IN (SELECT topic_id FROM article_topics WHERE article_pk = a.pk))
LEFT JOIN guild_settings gs ON gs.guild_id = f.guild_id
LEFT JOIN decisions gp ON gp.guild_id = f.guild_id
WHERE a.pk = :pk
  AND f.disabled_reason IS NULL
  AND a.quality >= coalesce(f.min_quality, gs.min_quality, :bar)
  AND {plans.reaches(guild="f.guild_id", kind="'channel'", target="f.channel_id")}
GROUP BY f.guild_id, f.channel_id, a.pk
"""

# One alert per member and guild, from the most immediate of their subscriptions that passes
# its own quality bar. Each of the article's topics' subscribers are read from the covering
# index in (server, member, mode rank) order (migration 0009) and the topics' scans merged, so
# the rows come in the order DISTINCT ON keeps the first of, with no sort (sorting 100,000
# rows was two thirds of the select). PostgreSQL merges the scans only when each is a
# subquery with that ORDER BY of its own, so the statement is written for the number of
# topics, which are parameters. What else decides whether a member hears of it is the same
# for all their rows in a server (the server's bar, its decision, the story already heard
# of), so it is checked once per member, after the choice. What depends on the guild alone
# (its quality bar, its digest moments by its own schedule: time zone, time, day; the
# defaults passed in where it set none) and the guilds' decisions on this article are looked
# up once, before the rows, not once per row.
# The rows are written in (server, member) order, the primary key's order after the article:
# written before the channel posts, each lands at the right end of the key, where PostgreSQL
# appends without searching the tree from its root and splits a full page into a full one and
# an empty one. Written after them, each would land between two servers' channel posts, in
# the middle of the key: a search from the root per row and pages split in halves (a
# 100,000-row plan touched 590,000 buffers and wrote 33.6 MB of WAL that way, 360,000-435,000
# and 30.2 MB this way); written in no order, the same (584,000 buffers, 33.6 MB).
# Hence the final ORDER BY. The merged scans give that order and merge joins with the guilds'
# terms and decisions keep it, and then nothing is sorted; but PostgreSQL estimates the
# members at a handful of rows (it cannot know how many the choice keeps), so where guilds'
# settings are many it may hash the members to join them instead, which scatters them: only
# then are they sorted, as every plan's were before.
_MEMBERS_HEAD = """
WITH dues (zone, at, day, daily, weekly) AS (
    SELECT * FROM unnest(:zones, :ats, :days, :dailies, :weeklies)
),
terms AS MATERIALIZED (
    SELECT gs.guild_id, gs.min_quality, dues.daily, dues.weekly
    FROM guild_settings gs LEFT JOIN dues ON dues.zone = coalesce(gs.timezone, '')
        AND dues.at = coalesce(gs.digest_time, '') AND dues.day = coalesce(gs.digest_day, '')
),
decisions AS MATERIALIZED (
    SELECT guild_id, state, decided_at FROM guild_publication WHERE article_pk = :pk
),
chosen AS (
    SELECT DISTINCT ON (guild_id, user_id) guild_id, user_id, id, delivery
    FROM ({topics}) s
    ORDER BY guild_id, user_id, rank
)
"""

_TOPICS_SUBSCRIBERS = f"""(
        SELECT s.guild_id, s.user_id, s.id, s.delivery, {plans.MODE_RANK} AS rank
        FROM subscriptions s
        WHERE s.topic_id = :topic{{n}} AND s.disabled_reason IS NULL
          AND s.min_quality <= (SELECT quality FROM articles WHERE pk = :pk)
          AND (:guild IS NULL OR s.guild_id = :guild)
        ORDER BY s.guild_id, s.user_id, {plans.MODE_RANK}
    )"""

_MEMBERS_INSERT = f"""
INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, subscription_id, mode,
                        state, note, next_attempt_at, created_at)
SELECT s.guild_id, a.pk, 'dm', s.user_id, s.id, s.delivery, 'pending', '',
       CASE s.delivery
           WHEN 'instant' THEN :now
           WHEN 'daily' THEN coalesce(gt.daily, :daily)
           ELSE coalesce(gt.weekly, :weekly)
       END,
       :now
FROM chosen s
JOIN articles a ON a.pk = :pk
LEFT JOIN terms gt ON gt.guild_id = s.guild_id
LEFT JOIN decisions gp ON gp.guild_id = s.guild_id
WHERE a.quality >= coalesce(gt.min_quality, :bar)
  AND {plans.reaches(guild="s.guild_id", kind="'dm'", target="s.user_id")}
ORDER BY s.guild_id, s.user_id
"""


@functools.cache
def _plan_members(topics: int) -> str:
    """The members' statement for an article of ``topics`` topics, bound as ``:topic0``..."""
    scans = " UNION ALL ".join(_TOPICS_SUBSCRIBERS.format(n=n) for n in range(topics))
    return _MEMBERS_HEAD.format(topics=scans) + _MEMBERS_INSERT


def _topic_params(topics: list[tuple[Any, ...]]) -> dict[str, int]:
    return {f"topic{n}": int(row[0]) for n, row in enumerate(topics)}


_ARTICLE_TOPICS = "SELECT topic_id FROM article_topics WHERE article_pk = :pk ORDER BY topic_id"

# Rows of the article already in the outbox (planned for a moderator's publication before
# the source's, or the other way round) are kept: then, and only then, the inserts skip the
# targets they cover. ON CONFLICT makes each row's insert speculative (a probe of the primary
# key before, a confirmation after), a third of a 100,000-row plan's time: a plan with
# nothing to collide with goes without it. Only the worker plans (issue #15), so no rows of
# the article can appear meanwhile; should another planner race it anyway, the duplicate key
# rolls this plan back whole and it is planned again on the next run.
_ALREADY_PLANNED = "SELECT EXISTS (SELECT 1 FROM deliveries WHERE article_pk = :pk)"
_KEEP_EXISTING = " ON CONFLICT DO NOTHING"
# Should the members' rows need sorting after all (see _MEMBERS_INSERT), 100,000 of them are
# ~13 MB: in memory, not on disk.
_SORT_MEMORY = "SET LOCAL work_mem = '32MB'"
