"""What sending means on either engine: which rows are due, what each outcome writes to a
row, and how failures count against a feed or member, as SQL with named parameters (``:name``,
which both stores bind) and the parameters they take. How rows are taken and written back
differs by engine (``storage.outbox.sending`` on SQLite, one writer;
``storage.postgresql.outbox.sending``, claims with a lease); what they write is this."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.database import StoreError
from storage.outbox.rows import (
    ANY_PENDING,
    KEY_MATCH,
    PUBLISHED_IN_GUILD,
    WHENEVER,
    Delivery,
    TargetKind,
    pending_by,
)
from storage.sql import like_prefix, named_placeholders, named_values
from storage.timestamps import to_timestamp

# Rows whose time has come.
_DUE = pending_by(":due")
# Instant rows whose time has come, and their order; then the digest rows'.
DUE_INSTANT = "d.state = 'pending' AND d.mode = 'instant' AND d.next_attempt_at <= :due"
# Rows planned together fall due together: then the oldest article first, so that a channel
# (or a member) given several at once reads them in the order the news happened.
DUE_INSTANT_ORDER = "d.next_attempt_at, d.created_at, a.published_at, d.article_pk"
DUE_DIGEST = f"{pending_by(':due', modes=('daily', 'weekly'))} AND d.target_kind = 'dm'"
DUE_DIGEST_ORDER = "d.target_id, d.mode, a.quality DESC, d.created_at"

# What each outcome sets on a row (``d`` is not usable in a SET list).
SENT = "state = 'sent', message_id = :message_id, sent_at = :now, last_error = NULL"
RETRY = "attempts = attempts + 1, next_attempt_at = :at, last_error = :error"
GIVE_UP = "state = :state, attempts = attempts + 1, last_error = :error"
TO_DIGEST = "mode = 'daily', next_attempt_at = :at, note = ltrim(note || ' · ' || :note, ' ·')"
TO_NEXT_DIGEST = "next_attempt_at = :at, note = ltrim(note || ' · ' || :note, ' ·')"

INSTANT_DMS_SINCE = (
    "SELECT count(*) FROM deliveries WHERE target_kind = 'dm' AND target_id = :user "
    "AND state = 'sent' AND sent_at >= :since AND mode = 'instant'"
)
# Articles per ``told_of`` statement: well under either engine's bound-parameter limit.
ARTICLES_PER_STATEMENT = 300
# Past any sent_at: with no story window, only the article itself counts.
_NO_STORY_WINDOW = 2**62


def told_of(articles: int) -> str:
    """Which of articles ``:a0``.. ``:a{articles-1}`` member ``:user`` was already sent by DM,
    or another article of its story sent since ``:story_since``: one alert per story in the
    member's DMs, whichever of their servers it came through (planning applies the rule
    within a server; rows of two servers are planned apart). Read through the member's sent
    DMs (``deliveries_sent_dms``)."""
    return f"""
SELECT a.pk FROM articles a
WHERE a.pk IN ({named_placeholders("a", articles)}) AND EXISTS (
  SELECT 1 FROM deliveries d
  WHERE d.target_kind = 'dm' AND d.target_id = :user AND d.state = 'sent'
    AND d.sent_at IS NOT NULL
    AND (d.article_pk = a.pk
         OR (d.sent_at >= :story_since AND d.article_pk IN (
             SELECT sib.pk FROM articles sib
             WHERE sib.story_id = a.story_id AND sib.pk != a.pk))))"""


def told_of_params(
    user_id: int, article_pks: Sequence[int], story_since: datetime | None
) -> dict[str, int]:
    """The parameters of ``told_of(len(article_pks))``."""
    since = _NO_STORY_WINDOW if story_since is None else to_timestamp(story_since)
    return {"user": user_id, "story_since": since} | named_values("a", article_pks)


# Members per ``recent_digests`` statement: well under either engine's bound-parameter limit.
USERS_PER_STATEMENT = 300


def recent_digests(users: int) -> str:
    """Which servers sent members ``:u0``.. ``:u{users-1}`` a digest DM of which kind since
    ``:since`` (read through the members' sent DMs, ``deliveries_sent_dms``): one row per
    (server, member, kind). A digest run asks it once per slice of members."""
    return (
        "SELECT DISTINCT guild_id, target_id, mode FROM deliveries "
        f"WHERE target_id IN ({named_placeholders('u', users)}) AND sent_at >= :since "
        "AND target_kind = 'dm' AND state = 'sent' AND mode IN ('daily', 'weekly')"
    )


def recent_digests_params(user_ids: Sequence[int], since: datetime) -> dict[str, int]:
    """The parameters of ``recent_digests(len(user_ids))``."""
    return {"since": to_timestamp(since)} | named_values("u", user_ids)


STILL_PENDING = f"SELECT 1 FROM deliveries WHERE {KEY_MATCH} AND state = 'pending'"
DM_CHANNEL = "SELECT channel_id FROM dm_channels WHERE user_id = :user"
FORGET_DM_CHANNEL = "DELETE FROM dm_channels WHERE user_id = :user AND channel_id = :channel"
SAVE_DM_CHANNEL = (
    "INSERT INTO dm_channels (user_id, channel_id) VALUES (:user, :channel) "
    "ON CONFLICT (user_id) DO UPDATE SET channel_id = excluded.channel_id"
)
# One probe at the front of each mode's pending index.
NEXT_DIGEST_DUE = (
    "SELECT min(due) FROM ("
    "SELECT min(next_attempt_at) AS due FROM deliveries "
    "WHERE state = 'pending' AND mode = 'daily' AND target_kind = 'dm' UNION ALL "
    "SELECT min(next_attempt_at) FROM deliveries "
    "WHERE state = 'pending' AND mode = 'weekly' AND target_kind = 'dm') AS dues"
)


class ClaimLost(StoreError):
    """Rows this sender was to write back are no longer its own: their lease ran out and
    another sender claimed them (and will send them, with the same nonce)."""

    def __init__(self, rows: Sequence[Delivery]) -> None:
        self.rows = list(rows)
        listed = ", ".join(row.label for row in self.rows[:3])
        more = f" and {len(self.rows) - 3} more" if len(self.rows) > 3 else ""
        super().__init__(f"no longer this sender's (lease taken over): {listed}{more}")


def fail_pending_for_target(also_set: str = "") -> str:
    """Fail every pending row of target ``:kind`` ``:target`` (also setting ``also_set``, an
    SQL assignment list, if given)."""
    return (
        f"UPDATE deliveries SET state = 'failed', last_error = :error{_list(also_set)} "
        f"WHERE {ANY_PENDING} AND target_kind = :kind AND target_id = :target"
    )


# A due row whose feed, or subscription, was removed or paused (``d``: the row).
_FEED_GONE = (
    "NOT EXISTS (SELECT 1 FROM feeds f WHERE f.id = d.feed_id AND f.disabled_reason IS NULL)"
)
_SUBSCRIPTION_GONE = (
    "NOT EXISTS (SELECT 1 FROM subscriptions s "
    "WHERE s.id = d.subscription_id AND s.disabled_reason IS NULL)"
)


# A due row whose article is now under the bar that applies to it (``d``: the row): a
# moderator raised the server's bar or the feed's, or a member their subscription's, after it
# was planned. Planning's bars (``storage.outbox.planning``): a post needs its feed's bar, else
# the guild's, else ``:bar``; a DM or digest item its subscription's and the guild's.
_FEED_BAR_MISSED = (
    "EXISTS (SELECT 1 FROM feeds f JOIN articles a ON a.pk = d.article_pk "
    "LEFT JOIN guild_settings gs ON gs.guild_id = f.guild_id "
    "WHERE f.id = d.feed_id AND a.quality < coalesce(f.min_quality, gs.min_quality, :bar))"
)
_SUBSCRIPTION_BAR_MISSED = (
    "EXISTS (SELECT 1 FROM subscriptions s JOIN articles a ON a.pk = d.article_pk "
    "WHERE s.id = d.subscription_id AND a.quality < s.min_quality)"
)
_GUILD_BAR_MISSED = (
    "EXISTS (SELECT 1 FROM articles a LEFT JOIN guild_settings gs ON gs.guild_id = d.guild_id "
    "WHERE a.pk = d.article_pk AND a.quality < coalesce(gs.min_quality, :bar))"
)
UNDER_BAR_ERROR = "under the quality bar: raised after it was planned"


def _due_rows(condition: str, also: str, joined: str = "") -> str:
    """An UPDATE's WHERE for the due rows (``deliveries d``, ``joined`` to what ``condition``
    reads) that meet ``condition`` and ``also``."""
    return (
        "WHERE (article_pk, guild_id, target_kind, target_id) IN ("
        f"SELECT d.article_pk, d.guild_id, d.target_kind, d.target_id FROM deliveries d {joined}"
        f"WHERE {_DUE} AND {condition}{_and(also)})"
    )


def cancel_retracted(also: str = "", also_set: str = "") -> str:
    """Cancel due rows whose article is no longer published in their guild (among rows that
    also meet ``also``, an SQL condition on ``d``, if given; also setting ``also_set``)."""
    published = (
        "JOIN articles a ON a.pk = d.article_pk LEFT JOIN guild_publication gp "
        "ON gp.guild_id = d.guild_id AND gp.article_pk = d.article_pk "
    )
    return (
        f"UPDATE deliveries SET state = 'cancelled', last_error = 'retracted'{_list(also_set)} "
        + _due_rows(f"NOT {PUBLISHED_IN_GUILD}", also, published)
    )


# A row whose own feed or subscription is live but whose bar it now misses, and that nothing
# else takes, keeps it: ``cancel_under_bar`` cancels it as such, which a lowered bar's re-plan
# brings back (``storage.outbox.replans``); one whose own is gone is left without, for
# ``cancel_orphaned``.
_KEEP_LIVE_FEED = (
    "(SELECT f.id FROM feeds f WHERE f.id = deliveries.feed_id AND f.disabled_reason IS NULL)"
)
_KEEP_LIVE_SUBSCRIPTION = (
    "(SELECT s.id FROM subscriptions s WHERE s.id = deliveries.subscription_id "
    "AND s.disabled_reason IS NULL)"
)


def repoint_orphaned(also: str = "", also_set: str = "") -> str:
    """Give a due DM row whose subscription was removed or paused the member's other live
    subscription in its guild to one of the article's topics (passing that subscription's
    bar), if they have one (among rows that also meet ``also``; also setting ``also_set``):
    a member who leaves one of two topics an article carries still wants it. A row with none
    keeps its own subscription if it is live (for ``cancel_under_bar``), else is left without
    one, for ``cancel_orphaned``."""
    return (
        "UPDATE deliveries SET subscription_id = coalesce((SELECT min(s.id) FROM subscriptions s "
        "JOIN article_topics at ON at.topic_id = s.topic_id "
        "JOIN articles a ON a.pk = at.article_pk "
        "WHERE at.article_pk = deliveries.article_pk AND s.guild_id = deliveries.guild_id "
        "AND s.user_id = deliveries.target_id AND s.disabled_reason IS NULL "
        f"AND s.min_quality <= a.quality), {_KEEP_LIVE_SUBSCRIPTION}){_list(also_set)} "
        + _due_rows(
            f"d.target_kind = 'dm' AND ({_SUBSCRIPTION_GONE} OR {_SUBSCRIPTION_BAR_MISSED})",
            also,
        )
    )


def repoint_orphaned_posts(also: str = "", also_set: str = "") -> str:
    """Give a due channel row whose feed was removed or paused another live feed of its
    channel that takes the article (every topic, or one of its topics, and a bar it passes:
    the feed's, else the guild's, else ``:bar``), if there is one (among rows that also meet
    ``also``; also setting ``also_set``): a channel that keeps an every-topic feed when its
    topic feed goes still wants the post. A row with none keeps its own feed if it is live
    (for ``cancel_under_bar``), else is left without one, for ``cancel_orphaned``."""
    return (
        "UPDATE deliveries SET feed_id = coalesce((SELECT min(f.id) FROM feeds f "
        "JOIN articles a ON a.pk = deliveries.article_pk "
        "LEFT JOIN guild_settings gs ON gs.guild_id = f.guild_id "
        "WHERE f.guild_id = deliveries.guild_id AND f.channel_id = deliveries.target_id "
        "AND f.disabled_reason IS NULL AND (f.topic_id IS NULL OR f.topic_id IN "
        "(SELECT topic_id FROM article_topics WHERE article_pk = deliveries.article_pk)) "
        f"AND a.quality >= coalesce(f.min_quality, gs.min_quality, :bar)), {_KEEP_LIVE_FEED})"
        f"{_list(also_set)} "
        + _due_rows(f"d.target_kind = 'channel' AND ({_FEED_GONE} OR {_FEED_BAR_MISSED})", also)
    )


def cancel_orphaned(also: str = "", also_set: str = "") -> str:
    """Cancel due rows whose feed or subscription was removed or paused (among rows that also
    meet ``also``, if given; also setting ``also_set``)."""
    gone = f"CASE d.target_kind WHEN 'channel' THEN {_FEED_GONE} ELSE {_SUBSCRIPTION_GONE} END"
    return (
        "UPDATE deliveries SET state = 'cancelled', last_error = 'target removed or paused'"
        f"{_list(also_set)} " + _due_rows(gone, also)
    )


def cancel_under_bar(also: str = "", also_set: str = "") -> str:
    """Cancel due rows whose article is now under the bar that applies to them (after
    ``repoint_*`` gave them another feed or subscription whose bar it passes, if any; among
    rows that also meet ``also``, if given; also setting ``also_set``)."""
    missed = (
        f"CASE d.target_kind WHEN 'channel' THEN {_FEED_BAR_MISSED} "
        f"ELSE {_SUBSCRIPTION_BAR_MISSED} OR {_GUILD_BAR_MISSED} END"
    )
    return (
        f"UPDATE deliveries SET state = 'cancelled', last_error = '{UNDER_BAR_ERROR}'"
        f"{_list(also_set)} " + _due_rows(missed, also)
    )


# A row whose time came longer ago than delivery.max_age_hours (``:late``) waited through a
# downtime, or comes from a backup restored long after it was taken (whose pending rows went
# out after the backup was made): its news is old, and members may have had it already. It is
# skipped rather than sent late, as planning skips a publication older than that.
LATE_ERROR = "too late: due more than delivery.max_age_hours ago"


def skip_late(also: str = "", also_set: str = "") -> str:
    """Skip due rows whose time came before ``:late`` (among rows that also meet ``also``, if
    given; also setting ``also_set``)."""
    return (
        f"UPDATE deliveries SET state = 'skipped', last_error = '{LATE_ERROR}'"
        f"{_list(also_set)} " + _due_rows("d.next_attempt_at < :late", also)
    )


def _and(condition: str) -> str:
    return f" AND {condition}" if condition else ""


def _list(assignments: str) -> str:
    return f", {assignments}" if assignments else ""


def due_params(now: datetime, limit: int) -> dict[str, int]:
    """The parameters of ``DUE_*`` and ``cancel_*``."""
    return {"due": to_timestamp(now), "limit": limit}


def stale_params(now: datetime, default_bar: int, late: datetime | None = None) -> dict[str, int]:
    """The parameters of ``repoint_*``, ``cancel_*`` and ``skip_late`` (``default_bar``: the
    quality bar of a feed and guild that set none; ``late``: rows due before it are too late
    to send, None: none is)."""
    return due_params(now, 0) | {"bar": default_bar, "late": to_timestamp(late) if late else 0}


def fail_pending_params(kind: TargetKind, target_id: int, error: str) -> dict[str, Any]:
    """The parameters of ``fail_pending_for_target``."""
    return {
        "error": f"not attempted: {error}",
        "whenever": WHENEVER,
        "kind": kind,
        "target": target_id,
    }


def failure_counting(delivery: Delivery) -> tuple[str, str, int] | None:
    """The statements counting a permanent failure against the row's feed or subscription,
    then pausing it at ``:threshold`` (with ``:reason``), and the id they take as ``:key``;
    None when the row has neither."""
    table, key = (
        ("feeds", delivery.feed_id)
        if delivery.target_kind == "channel"
        else ("subscriptions", delivery.subscription_id)
    )
    if key is None:
        return None
    # A DM channel belongs to the member, so a refused DM counts against all their
    # subscriptions, in every guild.
    where = (
        "id = :key"
        if table == "feeds"
        else "user_id = (SELECT user_id FROM subscriptions WHERE id = :key)"
    )
    count = f"UPDATE {table} SET failure_count = failure_count + 1 WHERE {where}"
    pause = (
        f"UPDATE {table} SET disabled_reason = :reason "
        f"WHERE {where} AND disabled_reason IS NULL AND failure_count >= :threshold"
    )
    return count, pause, key


def pause_reason(reason: str, now: datetime) -> str:
    """What a paused feed or subscription says about why and since when."""
    return f"{reason} (since {now:%Y-%m-%d %H:%M} UTC)"


def success_reset(
    delivery: Delivery, resume: Sequence[str] = ()
) -> tuple[str, dict[str, Any]] | None:
    """The statement ending the failure streak of the row's feed or member, if it has one; a
    member's subscriptions paused with a reason starting with one of ``resume`` are resumed
    too, in every guild (their DM channel is one, whichever server the DM came through)."""
    if delivery.target_kind == "channel" and delivery.feed_id is not None:
        return (
            "UPDATE feeds SET failure_count = 0 WHERE id = :key AND failure_count > 0",
            {"key": delivery.feed_id},
        )
    if delivery.subscription_id is not None:
        params: dict[str, Any] = {"key": delivery.subscription_id}
        likes = []
        for n, prefix in enumerate(resume):
            params[f"resume{n}"] = like_prefix(prefix)
            likes.append(f"disabled_reason LIKE :resume{n} ESCAPE '\\'")
        paused = f"({' OR '.join(likes)})" if likes else "(1 = 0)"
        return (
            "UPDATE subscriptions SET failure_count = 0, "
            f"disabled_reason = CASE WHEN {paused} THEN NULL ELSE disabled_reason END "
            "WHERE user_id = (SELECT user_id FROM subscriptions WHERE id = :key) "
            f"AND (failure_count > 0 OR {paused})",
            params,
        )
    return None
