"""The outbox row: one planned post or DM per (guild, target, article), and the predicates of
its pending queue that planning, sending and health share."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from storage.columns import Column, Columns
from storage.models import DeliveryMode
from storage.timestamps import from_timestamp

TargetKind = Literal["channel", "dm"]
DeliveryKey = tuple[int, int, str, int]  # article_pk, guild_id, target_kind, target_id
# Never NULL, so that its negation holds for an article its file retracted where the guild
# decided nothing (gp.state NULL): ``NOT (NULL OR false)`` is NULL, and left such rows pending.
PUBLISHED_IN_GUILD = (
    "(CASE WHEN gp.state IS NULL THEN a.published = 1 ELSE gp.state = 'published' END)"
)
KEY_MATCH = (
    "article_pk = :article_pk AND guild_id = :guild_id AND target_kind = :target_kind "
    "AND target_id = :target_id"
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


# Every pending row (of an unaliased outbox).
ANY_PENDING = pending_by(":whenever", alias="")


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
    def key_params(self) -> dict[str, int | str]:
        """The key as the named parameters of ``KEY_MATCH``."""
        return {
            "article_pk": self.article_pk,
            "guild_id": self.guild_id,
            "target_kind": self.target_kind,
            "target_id": self.target_id,
        }

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


DELIVERY = Columns(
    Delivery,
    Column("guild_id", "d.guild_id"),
    Column("article_pk", "d.article_pk"),
    Column("article_id", "a.id"),
    Column("target_kind", "d.target_kind"),
    Column("target_id", "d.target_id"),
    Column("feed_id", "d.feed_id"),
    Column("subscription_id", "d.subscription_id"),
    Column("mode", "d.mode"),
    Column("state", "d.state"),
    Column("note", "d.note"),
    Column("attempts", "d.attempts"),
    Column("next_attempt_at", "d.next_attempt_at", from_timestamp),
    Column("last_error", "d.last_error"),
    Column("message_id", "d.message_id"),
    Column("mention_role_id", "f.mention_role_id"),
    Column("topic_id", "s.topic_id"),
    Column("topic_name", "t.name"),
)
# What ``DELIVERY`` reads beside the outbox row ``d``, and all it reads from.
DELIVERY_JOINS = (
    "JOIN articles a ON a.pk = d.article_pk "
    "LEFT JOIN feeds f ON f.id = d.feed_id "
    "LEFT JOIN subscriptions s ON s.id = d.subscription_id "
    "LEFT JOIN topics t ON t.id = s.topic_id "
)
DELIVERY_FROM = f"FROM deliveries d {DELIVERY_JOINS}"
