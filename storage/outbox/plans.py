"""What planning means on either engine: the publication and plan values, the rules as SQL
fragments with named parameters (``:name``, which both stores bind), and the parameters a plan
is written with. The statements that fan out differ by engine (``storage.outbox.planning`` on
SQLite, ``storage.postgresql.outbox.planning``); the rules they apply are these."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.models import DigestKey
from storage.outbox.rows import PUBLISHED_IN_GUILD, WHENEVER, pending_by
from storage.timestamps import to_timestamp

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
# A guild's re-plan (``storage.outbox.replans``) of the source's publication has no guild row.
_PUBLICATION_FRESH = (
    f"(CASE WHEN :guild IS NULL OR gp.state IS NULL THEN {_SOURCE_AGE} ELSE {_GUILD_AGE} END "
    ">= :cutoff)"
)
_UNPLANNED_SOURCE = "a.published = 1 AND a.planned_at IS NULL AND a.coverage_only = 0"
_UNPLANNED_GUILD = "gp.state = 'published' AND gp.planned_at IS NULL"

SKIP_SOURCE_BACKLOG = (
    "UPDATE articles AS a SET planned_at = :now, plan_outcome = 'skipped_old' "
    f"WHERE {_UNPLANNED_SOURCE} AND NOT {_SOURCE_FRESH}"
)
SKIP_GUILD_BACKLOG = (
    "UPDATE guild_publication AS gp SET planned_at = :now, "
    f"plan_outcome = 'skipped_old' WHERE {_UNPLANNED_GUILD} AND NOT {_GUILD_FRESH}"
)
UNPLANNED = (
    "SELECT a.pk, NULL, a.quality, a.published_at FROM articles a "
    f"WHERE {_UNPLANNED_SOURCE} AND {_SOURCE_FRESH} "
    "UNION ALL "
    "SELECT gp.article_pk, gp.guild_id, a.quality, a.published_at "
    "FROM guild_publication gp JOIN articles a ON a.pk = gp.article_pk "
    f"WHERE {_UNPLANNED_GUILD} AND {_GUILD_FRESH} "
    # Oldest article first: a backlog (the bot started on a full inbox, or after downtime)
    # is planned, and so posted, in the order the news happened.
    "ORDER BY 4, 1 LIMIT :limit"
)
# Most stories have one article: then no target can have had another, and the per-target
# check (``reaches``) is skipped (it would cost a probe per subscriber).
SHARED_STORY = (
    "SELECT EXISTS (SELECT 1 FROM articles a JOIN articles sib "
    "ON sib.story_id = a.story_id AND sib.pk != a.pk WHERE a.pk = :pk)"
)
MARK_SOURCE_PLANNED = (
    "UPDATE articles AS a SET planned_at = :now, plan_outcome = "
    f"CASE WHEN {_SOURCE_FRESH} THEN 'planned' ELSE 'skipped_old' END "
    "WHERE a.pk = :pk RETURNING plan_outcome"
)
MARK_GUILD_PLANNED = (
    "UPDATE guild_publication AS gp SET planned_at = :now, plan_outcome = "
    f"CASE WHEN {_GUILD_FRESH} THEN 'planned' ELSE 'skipped_old' END "
    "WHERE gp.guild_id = :guild AND gp.article_pk = :pk RETURNING plan_outcome"
)
_NEW_DIGEST_TIME = "CASE mode WHEN 'daily' THEN :daily ELSE :weekly END"
RESCHEDULE_DIGESTS = (
    f"UPDATE deliveries SET next_attempt_at = {_NEW_DIGEST_TIME} "
    f"WHERE {pending_by(':whenever', modes=('daily', 'weekly'), alias='')} "
    f"AND next_attempt_at > :now AND guild_id = :guild "
    f"AND next_attempt_at != {_NEW_DIGEST_TIME}"
)
# A member changed how a subscription delivers: their digest rows in the guild not yet due
# take the most immediate mode of their subscriptions that match the article, as a plan made
# now would, at that mode's next moment (at once for instant). Otherwise an item waiting for
# tomorrow's daily digest still came daily after a switch to weekly, or to instant.
_BEST_MODE = (
    "(SELECT s.delivery FROM subscriptions s JOIN article_topics t ON t.topic_id = s.topic_id "
    "WHERE t.article_pk = deliveries.article_pk AND s.guild_id = deliveries.guild_id "
    "AND s.user_id = deliveries.target_id AND s.disabled_reason IS NULL "
    f"ORDER BY {MODE_RANK} LIMIT 1)"
)
FOLLOW_DELIVERY = (
    f"UPDATE deliveries SET mode = {_BEST_MODE}, next_attempt_at = CASE {_BEST_MODE} "
    "WHEN 'instant' THEN :now WHEN 'daily' THEN :daily ELSE :weekly END "
    f"WHERE {pending_by(':whenever', modes=('daily', 'weekly'), alias='')} "
    "AND next_attempt_at > :now AND guild_id = :guild AND target_kind = 'dm' "
    f"AND target_id = :user AND {_BEST_MODE} != mode"
)
# A publication planned again (a moderator's /publish after their /unpublish, a file that says
# `published: true` again) finds the rows its retraction cancelled: never sent, so nobody was
# told; and the posts a moderator had the bot delete after the retraction: no longer in their
# channel. They go, where it is published again, so that the plan writes them afresh by today's
# feeds, subscriptions and bars; rows that were sent stay, and keep anyone from a second alert.
FORGET_RETRACTED = (
    "DELETE FROM deliveries WHERE article_pk = :pk "
    "AND (state = 'cancelled' AND last_error = 'retracted' OR removed_at IS NOT NULL) "
    "AND (:guild IS NULL OR guild_id = :guild) "
    "AND EXISTS (SELECT 1 FROM articles a LEFT JOIN guild_publication gp "
    "ON gp.guild_id = deliveries.guild_id AND gp.article_pk = a.pk "
    f"WHERE a.pk = deliveries.article_pk AND {PUBLISHED_IN_GUILD})"
)
# What went out of an article in a guild and is still there: posts Discord confirmed the bot
# deleted on a moderator's word are left out; one claimed for deletion, unconfirmed, is still
# up (rows pruned by retention are no longer known).
SENT_FOR_GUILD = (
    "d.article_pk = (SELECT pk FROM articles WHERE id = :article) AND d.guild_id = :guild "
    "AND d.state = 'sent' AND d.removed_at IS NULL"
)
_ARTICLE_POSTS = (
    "article_pk = (SELECT pk FROM articles WHERE id = :article) AND guild_id = :guild "
    "AND target_kind = 'channel' AND state = 'sent' AND message_id IS NOT NULL"
)
# Taking an article's posts down, in three steps so that a post counts as removed only once
# Discord said it is gone. A press claims the posts still up that nobody else is deleting
# (no claim, or one older than :stale: a press that died or hung), in the one statement that
# reads them: of two presses at once, each post goes to one (PostgreSQL re-reads a row
# another transaction changed meanwhile, and skips it; SQLite has one writer). Only while the
# guild's moderators have it retracted: a /publish made since keeps its posts.
_UP = "removed_at IS NULL"
_POST = f"{_ARTICLE_POSTS} AND target_id = :channel AND message_id = :message"
_UNCLAIM = "removal_claimed_at = NULL, removal_claimed_by = NULL"
CLAIM_POSTS = (
    "UPDATE deliveries SET removal_claimed_at = :now, removal_claimed_by = :claimer "
    f"WHERE {_ARTICLE_POSTS} AND {_UP} "
    "AND (removal_claimed_at IS NULL OR removal_claimed_at <= :stale) "
    "AND EXISTS (SELECT 1 FROM guild_publication gp WHERE gp.guild_id = deliveries.guild_id "
    "AND gp.article_pk = deliveries.article_pk AND gp.state = 'retracted') "
    "RETURNING target_id, message_id"
)
# Just before its DELETE: the post is still this press's (its claim not taken over by
# another press after the lease ran out), and its lease starts again.
RENEW_POST_CLAIM = (
    f"UPDATE deliveries SET removal_claimed_at = :now WHERE {_POST} AND {_UP} "
    "AND removal_claimed_by = :claimer RETURNING target_id"
)
# Discord said the post is gone: removed, whoever claimed it.
CONFIRM_POST_REMOVED = (
    f"UPDATE deliveries SET removed_at = :now, {_UNCLAIM} WHERE {_POST} AND {_UP}"
)
# Discord kept the post (no access, a refusal) or was never asked: up, and free to claim.
RELEASE_POST_CLAIM = (
    f"UPDATE deliveries SET {_UNCLAIM} WHERE {_POST} AND removal_claimed_by = :claimer"
)
# Every claim of one run of the bot (its presses' claimers start with :prefix), at its
# shutdown; or, at the start of the only run a store has (SQLite), every other run's.
RELEASE_CLAIMS_OF_RUN = (
    f"UPDATE deliveries SET {_UNCLAIM} "
    "WHERE removal_claimed_by IS NOT NULL AND removal_claimed_by LIKE :prefix"
)
RELEASE_CLAIMS_OF_OTHER_RUNS = (
    f"UPDATE deliveries SET {_UNCLAIM} "
    "WHERE removal_claimed_by IS NOT NULL AND removal_claimed_by NOT LIKE :prefix"
)


def post_params(guild_id: int, article_id: str, post: tuple[int, int]) -> dict[str, Any]:
    """The parameters naming one post (channel id, message id) of the article in the guild."""
    return {"article": article_id, "guild": guild_id, "channel": post[0], "message": post[1]}


CANCEL_FOR_GUILD = (
    "UPDATE deliveries SET state = 'cancelled', last_error = 'retracted' "
    "WHERE article_pk = (SELECT pk FROM articles WHERE id = :article) AND guild_id = :guild "
    "AND state = 'pending'"
)

# Another article of the same story already sent (or due) to this target lately. A story of
# one article finds only itself, so the common case costs one index probe.
_SAME_STORY = """
    SELECT 1 FROM articles sib
    JOIN deliveries d2 ON d2.article_pk = sib.pk AND d2.guild_id = {guild}
         AND d2.target_kind = {kind} AND d2.target_id = {target}
    WHERE sib.story_id = a.story_id AND sib.pk != a.pk
      AND d2.state IN ('pending', 'sent') AND d2.created_at >= :story_since"""


def reaches(guild: str, kind: str, target: str) -> str:
    """SQL: a target (``kind`` and ``target`` expressions) in guild ``guild`` may hear of the
    publication of article ``a``: it is planned for every guild or for that one, the bot was
    not removed from that guild (``guilds_left``), the article is not
    another guild's own article, is published there (``gp`` its guild publication row) and
    not too old, and the target was not given another article of its story lately (and is
    ``:only``, when a re-plan names one)."""
    same_story = _SAME_STORY.format(guild=guild, kind=kind, target=target)
    return f"""(:guild IS NULL OR {guild} = :guild)
  AND (:only IS NULL OR {target} = :only)
  AND {guild} NOT IN (SELECT guild_id FROM guilds_left)
  AND (a.origin_guild_id IS NULL OR a.origin_guild_id = {guild})
  AND {PUBLISHED_IN_GUILD}
  AND {_PUBLICATION_FRESH}
  AND (:shared_story = 0 OR NOT EXISTS ({same_story}))"""


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


def backlog_params(cutoff: datetime, now: datetime) -> dict[str, int]:
    """The parameters of ``SKIP_*_BACKLOG``."""
    return {"cutoff": to_timestamp(cutoff), "now": to_timestamp(now)}


def plan_params(
    publication: Publication,
    *,
    now: datetime,
    cutoff: datetime,
    default_bar: int,
    default_due: tuple[datetime, datetime],
    story_since: datetime,
) -> dict[str, Any]:
    """The parameters of a plan's statements (``:shared_story`` is added once known)."""
    return {
        "pk": publication.article_pk,
        "guild": publication.guild_id,
        "now": to_timestamp(now),
        "cutoff": to_timestamp(cutoff),
        "bar": default_bar,
        "story_since": to_timestamp(story_since),
        "daily": to_timestamp(default_due[0]),
        "weekly": to_timestamp(default_due[1]),
        # a re-plan's one channel or member (``storage.outbox.replans``); NULL: all
        "only": None,
    }


# The guilds' digest schedules have a version, counted up in the transaction of every change
# (with ``RESCHEDULE_DIGESTS``), under the lock ``SCHEDULES_LOCK`` that a plan also takes as its
# last step. A plan computes its members' digest moments from the schedules it read before its
# transaction, and its rows are invisible to a change made meanwhile, which moves only the rows
# it sees: so a plan whose schedules' version is no longer the one it read is rolled back
# (``SchedulesChanged``) and planned again, and a change that comes after it waits for the lock
# and then sees, and moves, its rows.
SCHEDULES_LOCK = "digest schedules"
SCHEDULES_VERSION = "SELECT value FROM meta WHERE key = 'digest_schedules'"
NEXT_SCHEDULES_VERSION = (
    "INSERT INTO meta (key, value) VALUES ('digest_schedules', '1') ON CONFLICT (key) "
    "DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)"
)


class SchedulesChanged(Exception):
    """A guild's digest schedule changed while a plan was being written: the plan was rolled
    back, to be written again with the moments of the new schedules."""


def reschedule_params(
    guild_id: int, now: datetime, daily: datetime, weekly: datetime
) -> dict[str, int]:
    """The parameters of ``RESCHEDULE_DIGESTS``."""
    return {
        "daily": to_timestamp(daily),
        "weekly": to_timestamp(weekly),
        "now": to_timestamp(now),
        "guild": guild_id,
        "whenever": WHENEVER,
    }


def follow_delivery_params(
    guild_id: int, user_id: int, now: datetime, daily: datetime, weekly: datetime
) -> dict[str, int]:
    """The parameters of ``FOLLOW_DELIVERY``."""
    return {**reschedule_params(guild_id, now, daily, weekly), "user": user_id}


def schedule_dues(
    digest_due: Mapping[DigestKey, tuple[datetime, datetime]],
) -> list[tuple[str, str, str, int, int]]:
    """Each digest schedule guilds set, keyed as stored with '' for a default part, with its
    next daily and weekly moments: what a plan looks a member's digest time up in."""
    return [
        (zone or "", at or "", day or "", to_timestamp(daily), to_timestamp(weekly))
        for (zone, at, day), (daily, weekly) in digest_due.items()
    ]


def was_skipped(outcome: Sequence[Sequence[Any]]) -> bool:
    """Whether marking the publication planned found it too old (``MARK_*_PLANNED``)."""
    return [tuple(row) for row in outcome] == [("skipped_old",)]
