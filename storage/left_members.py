"""Deleting what members who left a server left behind there (``retention.left_member_days``):
a member Discord last said is no longer in a server (``member_checks.present = 0``, written
when a check before a DM or digest answered Unknown Member, migration 0026's index) before the
cutoff loses their subscriptions there (with their kept counts, by trigger), their waiting
alerts from it, its re-plan note, that answer, and their DM channel id when they follow
nothing anywhere else. One repository for both engines: the statements read alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.outbox.rows import ANY_PENDING, WHENEVER
from storage.sql import Statements
from storage.timestamps import to_timestamp

SUBSCRIPTIONS = "subscriptions"
DM_CHANNELS = "DM channel ids"
WAITING = "waiting alerts"
MEMBERS = "members"

# What goes with each member, after their answer (which the first statement deletes).
_MEMBER_ROWS: tuple[tuple[str, str], ...] = (
    (
        WAITING,
        "DELETE FROM deliveries WHERE guild_id = :guild AND target_kind = 'dm' "
        f"AND target_id = :user AND {ANY_PENDING}",
    ),
    (
        "re-plans",
        "DELETE FROM replans WHERE guild_id = :guild AND target_kind = 'dm' AND target_id = :user",
    ),
    (SUBSCRIPTIONS, "DELETE FROM subscriptions WHERE guild_id = :guild AND user_id = :user"),
    # a member's, not a server's: it goes only with the last server where they follow something
    (
        DM_CHANNELS,
        "DELETE FROM dm_channels WHERE user_id = :user "
        "AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = :user)",
    ),
)


class LeftMembersRepository:
    """The members who left a server, and deleting their data there once it is due."""

    def __init__(self, db: Statements) -> None:
        self._db = db

    async def due(self, cutoff: datetime, *, limit: int) -> list[tuple[int, int]]:
        """Up to ``limit`` (server, member) pairs Discord said are gone before ``cutoff``,
        longest gone first."""
        rows = await self._db.fetch_all(
            "SELECT guild_id, user_id FROM member_checks WHERE present = 0 "
            "AND checked_at < :cutoff ORDER BY checked_at, guild_id, user_id LIMIT :limit",
            {"cutoff": to_timestamp(cutoff), "limit": limit},
        )
        return [(int(row[0]), int(row[1])) for row in rows]

    async def delete(self, members: Sequence[tuple[int, int]], cutoff: datetime) -> dict[str, int]:
        """One step (one transaction): the data of these (server, member) pairs, each only
        while Discord's last answer still says gone before ``cutoff``; how many rows of each
        kind went (``"members"``: how many members)."""
        deleted: dict[str, int] = {}
        async with self._db.transaction():
            for guild_id, user_id in members:
                key = {"guild": guild_id, "user": user_id, "cutoff": to_timestamp(cutoff)}
                for name, count in (await self._delete_member(key)).items():
                    deleted[name] = deleted.get(name, 0) + count
        return deleted

    async def _delete_member(self, key: dict[str, int]) -> dict[str, int]:
        # The answer first, and only while it still says gone: a command they used in the
        # server meanwhile (which writes present = 1; on PostgreSQL it waits for this row)
        # keeps everything.
        gone = await self._db.execute(
            "DELETE FROM member_checks WHERE guild_id = :guild AND user_id = :user "
            "AND present = 0 AND checked_at < :cutoff",
            key,
        )
        if not gone:
            return {}
        deleted = {MEMBERS: 1}
        for name, statement in _MEMBER_ROWS:
            params = {"guild": key["guild"], "user": key["user"], "whenever": WHENEVER}
            used = {k: v for k, v in params.items() if f":{k}" in statement}
            count = await self._db.execute(statement, used)
            if count:
                deleted[name] = count
        return deleted
