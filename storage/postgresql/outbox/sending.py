"""Sending from the outbox on PostgreSQL, where several senders may share it (issue #15).

A sender claims the rows it takes: ``due`` and ``due_digest_rows`` lock them with
``FOR UPDATE SKIP LOCKED`` (two senders never wait for, nor get, the same row) and stamp them
with the sender's id (``claimed_by``) and a lease (``lease_until``). A row under a live lease
is no other sender's; once the lease has run out (its sender died, or stalled) another may
claim it, and sends it with the same nonce (derived from the row), which Discord
de-duplicates. Writing an outcome back (``mark_sent``, ``retry_later``, ``give_up``,
``move_to_digest``) releases the claim, and only for rows still claimed by this sender: rows
another sender took over are left to it and reported with ``ClaimLost``. ``renew_claims``
extends the lease of the rows a sender still holds before it sends them. The statements
are the shared ones of ``storage.outbox.sends``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from storage.outbox import sends
from storage.outbox.rows import DELIVERY, DELIVERY_JOINS, Delivery, DeliveryKey, TargetKind
from storage.outbox.sends import ClaimLost
from storage.postgresql.outbox.rows import OutboxQueries, deliveries
from storage.sql import chunks
from storage.timestamps import from_timestamp, to_timestamp

# Free to claim: nobody's, or its lease has run out.
_CLAIMABLE = "(d.claimed_by IS NULL OR d.lease_until <= :due)"
# Another sender's rows under a live lease are theirs to finish (or cancel).
_NOT_OTHERS = "(d.claimed_by IS NULL OR d.claimed_by = :claimer OR d.lease_until <= :due)"
_RELEASE = "claimed_by = NULL, lease_until = NULL"
# The rows named by the key arrays :pks, :guilds, :kinds, :targets.
_KEYS = "unnest(:pks, :guilds, :kinds, :targets) AS k(article_pk, guild_id, target_kind, target_id)"
_KEY_TYPES = {"pks": "bigint[]", "guilds": "bigint[]", "kinds": "text[]", "targets": "bigint[]"}
_MATCH = (
    "(d.article_pk, d.guild_id, d.target_kind, d.target_id) = "
    "(k.article_pk, k.guild_id, k.target_kind, k.target_id)"
)
_RETURN_KEY = "RETURNING d.article_pk, d.guild_id, d.target_kind, d.target_id"


def _claim(where: str, order: str) -> str:
    """Claim up to :limit rows meeting ``where`` (in ``order``) for :claimer until
    :lease_until, and read them back in that order."""
    return (
        "WITH picked AS (SELECT d.article_pk, d.guild_id, d.target_kind, d.target_id "
        f"FROM deliveries d JOIN articles a ON a.pk = d.article_pk "
        f"WHERE {where} AND {_CLAIMABLE} ORDER BY {order} LIMIT :limit "
        "FOR UPDATE OF d SKIP LOCKED), "
        "claimed AS (UPDATE deliveries d SET claimed_by = :claimer, lease_until = :lease_until "
        f"FROM picked k WHERE {_MATCH} RETURNING d.*) "
        f"SELECT {DELIVERY.select} FROM claimed d {DELIVERY_JOINS}ORDER BY {order}"
    )


_CLAIM_INSTANT = _claim(sends.DUE_INSTANT, sends.DUE_INSTANT_ORDER)
_CLAIM_DIGEST = _claim(sends.DUE_DIGEST, sends.DUE_DIGEST_ORDER)


def _keys(rows: Sequence[Delivery]) -> dict[str, list[Any]]:
    return {
        "pks": [row.article_pk for row in rows],
        "guilds": [row.guild_id for row in rows],
        "kinds": [row.target_kind for row in rows],
        "targets": [row.target_id for row in rows],
    }


class PgSendingQueries(OutboxQueries):
    """Due rows claimed under a lease, what became of each, and the members' DM channels
    and caps."""

    claimer: str
    lease: timedelta

    async def cancel_stale_due(
        self, now: datetime, *, default_bar: int, late: datetime | None = None
    ) -> int:
        """Among rows whose time has come (and that no other sender holds), skip those due
        before ``late`` (too late to send), and cancel those whose article is no longer
        published in their guild, or whose feed or subscription was removed or paused, or whose
        article is now under the bar that applies (raised since it was planned; a row first
        takes the member's other subscription to one of the article's topics, or another feed
        of its channel that takes the article, if any; ``default_bar``: see
        ``sends.stale_params``)."""
        params = sends.stale_params(now, default_bar, late) | {"claimer": self.claimer}
        skipped = await self._execute(sends.skip_late(_NOT_OTHERS, _RELEASE), params)
        retracted = await self._execute(sends.cancel_retracted(_NOT_OTHERS, _RELEASE), params)
        async with self._db.transaction():
            await self._execute(sends.repoint_orphaned(_NOT_OTHERS), params)
            await self._execute(sends.repoint_orphaned_posts(_NOT_OTHERS), params)
            orphaned = await self._execute(sends.cancel_orphaned(_NOT_OTHERS, _RELEASE), params)
            under_bar = await self._execute(sends.cancel_under_bar(_NOT_OTHERS, _RELEASE), params)
        return skipped + retracted + orphaned + under_bar

    async def due(self, now: datetime, *, limit: int) -> list[Delivery]:
        """Instant rows whose time has come, oldest first, claimed for this sender."""
        return await self._claimed(_CLAIM_INSTANT, now, limit)

    async def due_digest_rows(self, now: datetime, *, limit: int) -> list[Delivery]:
        """Digest rows whose time has come, grouped by member (then kind), best first,
        claimed for this sender."""
        return await self._claimed(_CLAIM_DIGEST, now, limit)

    async def _claimed(self, sql: str, now: datetime, limit: int) -> list[Delivery]:
        params = sends.due_params(now, limit) | {
            "claimer": self.claimer,
            "lease_until": to_timestamp(now + self.lease),
        }
        return deliveries(await self._fetch(sql, params))

    async def still_pending(self, rows: Sequence[Delivery]) -> list[Delivery]:
        """The rows (of ``rows``) still pending, whoever holds them (``renew_claims`` is what
        a sender asks of its own)."""
        return [
            row
            for row in rows
            if await self._scalar(sends.STILL_PENDING, row.key_params) is not None
        ]

    async def renew_claims(self, rows: Sequence[Delivery], now: datetime) -> list[Delivery]:
        """The rows (of ``rows``) this sender still holds, their lease extended from ``now``;
        the others were taken over by another sender, which sends them: this one must not."""
        held = await self._held_keys(
            f"UPDATE deliveries d SET lease_until = :lease_until FROM {_KEYS} "
            f"WHERE {_MATCH} AND d.claimed_by = :claimer AND d.state = 'pending' {_RETURN_KEY}",
            rows,
            {"lease_until": to_timestamp(now + self.lease)},
        )
        return [row for row in rows if row.key in held]

    async def take_over_claims(self) -> int:
        """Release every row another sender holds, whatever its lease, so that this sender
        may claim them now; how many. Called by the holder of the worker lease as it takes
        over: senders run only under that lease, so the others' claims are a dead (or stale)
        holder's. A stale holder renews its claim before each send and finds the row gone;
        a post it had under way is sent again with the same nonce, which Discord
        de-duplicates, as after a lease that ran out."""
        return await self._execute(
            f"UPDATE deliveries SET {_RELEASE} "
            "WHERE claimed_by IS NOT NULL AND claimed_by <> :claimer",
            {"claimer": self.claimer},
        )

    async def _write_back(
        self, assignments: str, rows: Sequence[Delivery], values: dict[str, Any]
    ) -> None:
        """Write an outcome to the rows this sender holds, releasing them; raise ``ClaimLost``
        for those it no longer holds (left as they are)."""
        held = await self._held_keys(
            f"UPDATE deliveries d SET {assignments}, {_RELEASE} FROM {_KEYS} "
            f"WHERE {_MATCH} AND d.claimed_by = :claimer {_RETURN_KEY}",
            rows,
            values,
        )
        lost = [row for row in rows if row.key not in held]
        if lost:
            raise ClaimLost(lost)

    async def _held_keys(
        self, sql: str, rows: Sequence[Delivery], values: dict[str, Any]
    ) -> set[DeliveryKey]:
        params = values | _keys(rows) | {"claimer": self.claimer}
        found = await self._fetch(sql, params, _KEY_TYPES)
        return {(row[0], row[1], row[2], row[3]) for row in found}

    async def mark_sent(self, rows: Sequence[Delivery], message_id: int, now: datetime) -> None:
        """Discord accepted the message: record its id (``ClaimLost`` for rows another
        sender took over)."""
        await self._write_back(
            sends.SENT, rows, {"message_id": message_id, "now": to_timestamp(now)}
        )

    async def retry_later(self, rows: Sequence[Delivery], at: datetime, error: str) -> None:
        """A transient failure: count the attempt and let any sender try again at ``at``."""
        await self._write_back(sends.RETRY, rows, {"at": to_timestamp(at), "error": error})

    async def give_up(
        self,
        rows: Sequence[Delivery],
        state: Literal["failed", "dead", "skipped"],
        error: str,
    ) -> None:
        """Stop trying: 'failed' (Discord refused for good), 'dead' (retries ran out) or
        'skipped' (no longer needed)."""
        await self._write_back(sends.GIVE_UP, rows, {"state": state, "error": error})

    async def move_to_digest(self, row: Delivery, due: datetime, note: str) -> None:
        """Over the hourly cap: send it with the next daily digest instead."""
        await self._write_back(sends.TO_DIGEST, [row], {"at": to_timestamp(due), "note": note})

    async def move_to_next_digest(self, rows: Sequence[Delivery], due: datetime, note: str) -> None:
        """Digest rows that wait for the next digest of their kind (at ``due``) instead."""
        await self._write_back(sends.TO_NEXT_DIGEST, rows, {"at": to_timestamp(due), "note": note})

    async def recent_digests(
        self, user_ids: Sequence[int], since: datetime
    ) -> set[tuple[int, int, str]]:
        """(server, member, kind) of the digest DMs sent to ``user_ids`` since ``since``."""
        found: set[tuple[int, int, str]] = set()
        for part in chunks(sorted(set(user_ids)), sends.USERS_PER_STATEMENT):
            rows = await self._fetch(
                sends.recent_digests(len(part)), sends.recent_digests_params(part, since)
            )
            found |= {(int(row[0]), int(row[1]), str(row[2])) for row in rows}
        return found

    async def fail_pending_for_target(self, kind: TargetKind, target_id: int, error: str) -> int:
        """Fail, without a request, every other pending row for a target Discord refused."""
        return await self._execute(
            sends.fail_pending_for_target(_RELEASE),
            sends.fail_pending_params(kind, target_id, error),
        )

    async def record_failure(
        self, delivery: Delivery, reason: str, *, threshold: int, now: datetime
    ) -> bool:
        """Count a permanent failure against the feed or subscription; pause it at the
        threshold. True when this failure paused it."""
        counting = sends.failure_counting(delivery)
        if counting is None:
            return False
        count, pause, key = counting
        async with self._db.transaction():
            await self._execute(count, {"key": key})
            paused = await self._execute(
                pause,
                {"key": key, "reason": sends.pause_reason(reason, now), "threshold": threshold},
            )
        return paused > 0

    async def record_success(self, delivery: Delivery, *, resume: Sequence[str] = ()) -> None:
        """A send worked: the target's failure streak is over, and a member's subscriptions
        paused for a reason starting with one of ``resume`` go on (in every guild)."""
        reset = sends.success_reset(delivery, resume)
        if reset is not None:
            await self._execute(*reset)

    async def instant_dms_since(self, user_id: int, since: datetime) -> int:
        """Instant DMs sent to the member since ``since`` (for the hourly cap)."""
        count = await self._scalar(
            sends.INSTANT_DMS_SINCE, {"user": user_id, "since": to_timestamp(since)}
        )
        return int(count or 0)

    async def already_told(
        self, user_id: int, article_pk: int, *, story_since: datetime | None = None
    ) -> bool:
        """Whether the member already got this article by DM (through another guild); with
        ``story_since``, or another article of its story sent since then."""
        return article_pk in await self.told_of(user_id, [article_pk], story_since=story_since)

    async def told_of(
        self, user_id: int, article_pks: Sequence[int], *, story_since: datetime | None = None
    ) -> set[int]:
        """Those of ``article_pks`` the member already got by DM, as ``already_told`` says of
        each, in one statement per ``ARTICLES_PER_STATEMENT``."""
        found: set[int] = set()
        for part in chunks(sorted(set(article_pks)), sends.ARTICLES_PER_STATEMENT):
            rows = await self._fetch(
                sends.told_of(len(part)), sends.told_of_params(user_id, part, story_since)
            )
            found |= {int(row[0]) for row in rows}
        return found

    async def dm_channel(self, user_id: int) -> int | None:
        """The DM channel id kept for the member, if any."""
        found = await self._scalar(sends.DM_CHANNEL, {"user": user_id})
        return int(found) if found is not None else None

    async def save_dm_channel(self, user_id: int, channel_id: int) -> None:
        """Keep the member's DM channel id so a DM costs one request, not two."""
        await self._execute(sends.SAVE_DM_CHANNEL, {"user": user_id, "channel": channel_id})

    async def forget_dm_channel(self, user_id: int, channel_id: int) -> None:
        """Drop the member's kept DM channel id (Discord no longer knows it): the next DM opens
        one afresh. A newer id kept meanwhile stays."""
        await self._execute(sends.FORGET_DM_CHANNEL, {"user": user_id, "channel": channel_id})

    async def next_digest_due(self) -> datetime | None:
        """When the earliest waiting digest row is due (None when none waits)."""
        found = await self._scalar(sends.NEXT_DIGEST_DUE, {})
        return None if found is None else from_timestamp(int(found))
