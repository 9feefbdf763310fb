"""Re-planning after a quality bar is lowered, on either engine (the statements; the engines
run them in ``storage.outbox.planning`` and ``storage.postgresql.outbox.planning``).

Each publication is planned once, by the bars of that moment. When a moderator lowers their
server's bar or a feed's, or a member their subscription's, the command records a request
(``replans``, migration 0022 on SQLite, 0016 on PostgreSQL) and the next planning run plans
the guild's publications still fresh by the age rule (``plans``) and under the lowered bar
again, for that guild (and that channel or member): the plan's own statements, which insert
only the targets that have no row of the article yet (so nothing sent, or waiting, goes
twice; a DM already sent through another server is skipped when it is due, as always), after
forgetting the rows a raised bar cancelled (``sends.UNDER_BAR_ERROR``), never sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from storage.outbox.sends import UNDER_BAR_ERROR
from storage.timestamps import to_timestamp

ReplanKind = Literal["", "channel", "dm"]  # '': the whole guild (its bar)

REQUEST = (
    "INSERT INTO replans (guild_id, target_kind, target_id, below, requested_at) "
    "VALUES (:guild, :kind, :target, :below, :now) "
    "ON CONFLICT (guild_id, target_kind, target_id) DO UPDATE SET "
    "below = CASE WHEN excluded.below > replans.below THEN excluded.below "
    "ELSE replans.below END, requested_at = excluded.requested_at"
)
REQUESTS = (
    "SELECT guild_id, target_kind, target_id, below, requested_at FROM replans "
    "ORDER BY requested_at, guild_id, target_kind, target_id LIMIT :limit"
)
# A request made again while it was being served stays, for the next run.
DONE = (
    "DELETE FROM replans WHERE guild_id = :guild AND target_kind = :kind "
    "AND target_id = :target AND requested_at = :requested_at"
)

# The guild's publications fresh by the age rule, of quality in [:above, :below) (and of
# topic :topic, when given): the source's not decided on there, and its moderators'. Planned
# or not: one not planned yet is planned for every target by the next run anyway. With
# :unsent 1, only those the target (kind :kind, id :target; '': any of the guild's) was sent
# no post or alert of: what a moderator is told will now go out (one waiting for a digest
# may be cancelled by a raised bar when due, so it counts).
_MATCHES = (
    "a.coverage_only = 0 AND (a.origin_guild_id IS NULL OR a.origin_guild_id = :guild) "
    "AND a.quality >= :above AND a.quality < :below AND (:topic IS NULL OR EXISTS ("
    "SELECT 1 FROM article_topics t WHERE t.article_pk = a.pk AND t.topic_id = :topic)) "
    "AND (:unsent = 0 OR NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.article_pk = a.pk "
    "AND d.guild_id = :guild AND d.state = 'sent' "
    "AND (:kind = '' OR d.target_kind = :kind AND d.target_id = :target)))"
)
PASSING = (
    "SELECT a.pk, a.quality, a.published_at FROM articles a "
    "WHERE a.published = 1 AND a.published_at >= :cutoff AND NOT EXISTS ("
    "SELECT 1 FROM guild_publication gp WHERE gp.guild_id = :guild AND gp.article_pk = a.pk) "
    f"AND {_MATCHES} "
    "UNION ALL "
    "SELECT a.pk, a.quality, a.published_at FROM guild_publication gp "
    "JOIN articles a ON a.pk = gp.article_pk "
    "WHERE gp.guild_id = :guild AND gp.state = 'published' AND gp.decided_at >= :cutoff "
    f"AND {_MATCHES} "
    # oldest first, as planning does: a channel reads them in the order the news happened
    "ORDER BY 3, 1"
)
PASSING_TYPES = {"topic": "bigint"}

# Rows of the article a raised bar cancelled for the target(s) re-planned: never sent.
FORGET_UNDER_BAR = (
    "DELETE FROM deliveries WHERE article_pk = :pk AND guild_id = :guild "
    f"AND state = 'cancelled' AND last_error = '{UNDER_BAR_ERROR}' "
    "AND (:kind = '' OR target_kind = :kind) AND (:only IS NULL OR target_id = :only)"
)


@dataclass(frozen=True, slots=True)
class Replan:
    """A lowered bar's request: the guild, the channel or member (kind '' and 0: all of the
    guild's), the bar that was lowered (as it applied), and when it was made."""

    guild_id: int
    kind: ReplanKind
    target_id: int
    below: int
    requested_at: int

    @property
    def only(self) -> int | None:
        """The one channel or member re-planned; None: all of the guild's."""
        return self.target_id if self.kind else None

    @property
    def params(self) -> dict[str, Any]:
        """The parameters of ``DONE``."""
        return {
            "guild": self.guild_id,
            "kind": self.kind,
            "target": self.target_id,
            "requested_at": self.requested_at,
        }


def request_params(
    guild_id: int, kind: ReplanKind, target_id: int, below: int, now: datetime
) -> dict[str, Any]:
    """The parameters of ``REQUEST``."""
    return {
        "guild": guild_id,
        "kind": kind,
        "target": target_id,
        "below": below,
        "now": to_timestamp(now),
    }


@dataclass(frozen=True, slots=True)
class Passing:
    """Which of a guild's fresh publications ``PASSING`` lists: quality in [above, below),
    of topic ``topic_id`` if given; with ``unsent_to`` (kind and id, '' and 0 for any of the
    guild's), only those that target was sent no post or alert of."""

    above: int
    below: int
    topic_id: int | None = None
    unsent_to: tuple[ReplanKind, int] | None = None

    def params(self, guild_id: int, cutoff: datetime) -> dict[str, Any]:
        """The parameters of ``PASSING``."""
        kind, target = self.unsent_to or ("", 0)
        return {
            "guild": guild_id,
            "cutoff": to_timestamp(cutoff),
            "above": self.above,
            "below": self.below,
            "topic": self.topic_id,
            "unsent": int(self.unsent_to is not None),
            "kind": kind,
            "target": target,
        }


def replan_of(row: tuple[Any, ...]) -> Replan:
    """A row of ``REQUESTS``."""
    return Replan(int(row[0]), row[1], int(row[2]), int(row[3]), int(row[4]))
