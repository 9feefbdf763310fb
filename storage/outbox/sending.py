"""Sending from the outbox on SQLite: taking rows whose time has come (one writer: no claims),
recording what Discord said, and counting failures against the feed or member until it is
paused. The statements are the shared ones of ``storage.outbox.sends``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from storage.database import Database, Params
from storage.outbox import plans, sends
from storage.outbox.removals import PostRemovalQueries
from storage.outbox.rows import DELIVERY, DELIVERY_FROM, KEY_MATCH, Delivery, TargetKind
from storage.sql import chunks
from storage.timestamps import from_timestamp, to_timestamp


class SendingQueries(PostRemovalQueries):
    """Due rows, what became of each, and the members' DM channels and caps."""

    _db: Database

    async def _deliveries(self, where: str, params: Params) -> list[Delivery]:
        rows = await self._db.fetch_all(
            f"SELECT {DELIVERY.select} {DELIVERY_FROM} WHERE {where}", params
        )
        return [DELIVERY.from_row(row) for row in rows]

    async def sent_for_guild(self, guild_id: int, article_id: str) -> list[Delivery]:
        """What of the article went out in the guild (the posts, with their message ids)."""
        return await self._deliveries(
            plans.SENT_FOR_GUILD, {"article": article_id, "guild": guild_id}
        )

    async def _removal_rows(self, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await self._db.fetch_all(sql, params)]

    async def _removal_write(self, sql: str, params: Mapping[str, Any]) -> int:
        return await self._db.execute(sql, params)

    async def still_pending(self, rows: Sequence[Delivery]) -> list[Delivery]:
        """The rows (of ``rows``) still pending: a moderator's retraction, or a removed feed or
        subscription, may have cancelled one since it was read."""
        return [
            row
            for row in rows
            if await self._db.fetch_one(sends.STILL_PENDING, row.key_params) is not None
        ]

    async def _update_rows(
        self, assignments: str, rows: Sequence[Delivery], values: dict[str, Any]
    ) -> None:
        await self._db.executemany(
            f"UPDATE deliveries SET {assignments} WHERE {KEY_MATCH}",
            [values | row.key_params for row in rows],
        )

    async def cancel_stale_due(
        self, now: datetime, *, default_bar: int, late: datetime | None = None
    ) -> int:
        """Among rows whose time has come, skip those due before ``late`` (too late to send),
        and cancel those whose article is no longer published in their guild, or whose feed
        or subscription was removed or paused, or whose article is now under the bar that
        applies (raised since it was planned; a row first takes the member's other
        subscription to one of the article's topics, or another feed of its channel that
        takes the article, if any; ``default_bar``: see ``sends.stale_params``)."""
        due = sends.stale_params(now, default_bar, late)
        skipped = await self._db.execute(sends.skip_late(), due)
        retracted = await self._db.execute(sends.cancel_retracted(), due)
        async with self._db.transaction():
            await self._db.execute(sends.repoint_orphaned(), due)
            await self._db.execute(sends.repoint_orphaned_posts(), due)
            orphaned = await self._db.execute(sends.cancel_orphaned(), due)
            under_bar = await self._db.execute(sends.cancel_under_bar(), due)
        return skipped + retracted + orphaned + under_bar

    async def due(self, now: datetime, *, limit: int) -> list[Delivery]:
        """Instant rows whose time has come, oldest first."""
        return await self._deliveries(
            f"{sends.DUE_INSTANT} ORDER BY {sends.DUE_INSTANT_ORDER} LIMIT :limit",
            sends.due_params(now, limit),
        )

    async def mark_sent(self, rows: Sequence[Delivery], message_id: int, now: datetime) -> None:
        """Discord accepted the message: record its id."""
        await self._update_rows(
            sends.SENT, rows, {"message_id": message_id, "now": to_timestamp(now)}
        )

    async def retry_later(self, rows: Sequence[Delivery], at: datetime, error: str) -> None:
        """A transient failure: count the attempt and try again at ``at``."""
        await self._update_rows(sends.RETRY, rows, {"at": to_timestamp(at), "error": error})

    async def give_up(
        self,
        rows: Sequence[Delivery],
        state: Literal["failed", "dead", "skipped"],
        error: str,
    ) -> None:
        """Stop trying: 'failed' (Discord refused for good), 'dead' (retries ran out) or
        'skipped' (no longer needed)."""
        await self._update_rows(sends.GIVE_UP, rows, {"state": state, "error": error})

    async def fail_pending_for_target(self, kind: TargetKind, target_id: int, error: str) -> int:
        """Fail, without a request, every other pending row for a target Discord refused."""
        return await self._db.execute(
            sends.fail_pending_for_target(), sends.fail_pending_params(kind, target_id, error)
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
            await self._db.execute(count, {"key": key})
            paused = await self._db.execute(
                pause,
                {"key": key, "reason": sends.pause_reason(reason, now), "threshold": threshold},
            )
        return paused > 0

    async def record_success(self, delivery: Delivery, *, resume: Sequence[str] = ()) -> None:
        """A send worked: the target's failure streak is over, and a member's subscriptions
        paused for a reason starting with one of ``resume`` go on (in every guild)."""
        reset = sends.success_reset(delivery, resume)
        if reset is not None:
            await self._db.execute(*reset)

    async def instant_dms_since(self, user_id: int, since: datetime) -> int:
        """Instant DMs sent to the member since ``since`` (for the hourly cap)."""
        count = await self._db.scalar(
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
            rows = await self._db.fetch_all(
                sends.told_of(len(part)), sends.told_of_params(user_id, part, story_since)
            )
            found |= {int(row[0]) for row in rows}
        return found

    async def move_to_digest(self, row: Delivery, due: datetime, note: str) -> None:
        """Over the hourly cap: send it with the next daily digest instead."""
        await self._update_rows(sends.TO_DIGEST, [row], {"at": to_timestamp(due), "note": note})

    async def move_to_next_digest(self, rows: Sequence[Delivery], due: datetime, note: str) -> None:
        """Digest rows that wait for the next digest of their kind (at ``due``) instead."""
        await self._update_rows(sends.TO_NEXT_DIGEST, rows, {"at": to_timestamp(due), "note": note})

    async def recent_digests(
        self, user_ids: Sequence[int], since: datetime
    ) -> set[tuple[int, int, str]]:
        """(server, member, kind) of the digest DMs sent to ``user_ids`` since ``since``."""
        found: set[tuple[int, int, str]] = set()
        for part in chunks(sorted(set(user_ids)), sends.USERS_PER_STATEMENT):
            rows = await self._db.fetch_all(
                sends.recent_digests(len(part)), sends.recent_digests_params(part, since)
            )
            found |= {(int(row[0]), int(row[1]), str(row[2])) for row in rows}
        return found

    async def dm_channel(self, user_id: int) -> int | None:
        """The DM channel id kept for the member, if any."""
        found = await self._db.scalar(sends.DM_CHANNEL, {"user": user_id})
        return int(found) if found is not None else None

    async def save_dm_channel(self, user_id: int, channel_id: int) -> None:
        """Keep the member's DM channel id so a DM costs one request, not two."""
        await self._db.execute(sends.SAVE_DM_CHANNEL, {"user": user_id, "channel": channel_id})

    async def forget_dm_channel(self, user_id: int, channel_id: int) -> None:
        """Drop the member's kept DM channel id (Discord no longer knows it): the next DM opens
        one afresh. A newer id kept meanwhile stays."""
        await self._db.execute(sends.FORGET_DM_CHANNEL, {"user": user_id, "channel": channel_id})

    # --- digests ---------------------------------------------------------------------------

    async def due_digest_rows(self, now: datetime, *, limit: int) -> list[Delivery]:
        """Digest rows whose time has come, grouped by member (then kind), best first."""
        return await self._deliveries(
            f"{sends.DUE_DIGEST} ORDER BY {sends.DUE_DIGEST_ORDER} LIMIT :limit",
            sends.due_params(now, limit),
        )

    async def next_digest_due(self) -> datetime | None:
        """When the earliest waiting digest row is due (None when none waits)."""
        found = await self._db.scalar(sends.NEXT_DIGEST_DUE)
        return None if found is None else from_timestamp(int(found))
