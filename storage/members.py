"""Whether members are still in the servers they subscribed in, as Discord last said (the bot
has no members intent, so it asks, and remembers the answer here for every process), and what
leaving and coming back do to their subscriptions and waiting alerts. Both engines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from storage.outbox.rows import ANY_PENDING, WHENEVER
from storage.sql import Statements, chunks
from storage.timestamps import to_timestamp

# Why a member's subscriptions in a server were paused (``disabled_reason`` starts so), and
# why what waited for them there was cancelled.
LEFT_REASON = "you left the server"
LEFT_ERROR = "the member left the server"
# A member's presence noted by a command is noted again by a later one only after this: the
# answer is wanted fresh within delivery.member_check_hours (a day by default), not to the second.
SEEN_AGAIN_AFTER = timedelta(hours=1)
# Rows per multi-row statement: well under either engine's bound-parameter limit.
_ROWS_PER_STATEMENT = 300


class MemberRepository:
    """The last answer about each (server, member), and pausing or resuming on it."""

    def __init__(self, db: Statements) -> None:
        self._db = db

    async def known(
        self, guild_id: int, user_ids: Sequence[int], since: datetime
    ) -> dict[int, bool]:
        """Of ``user_ids``, those whose membership of the guild was learned at ``since`` or
        later: present (True) or gone (False)."""
        answers: dict[int, bool] = {}
        for part in chunks(sorted(set(user_ids)), _ROWS_PER_STATEMENT):
            names = {f"u{i}": user for i, user in enumerate(part)}
            rows = await self._db.fetch_all(
                "SELECT user_id, present FROM member_checks WHERE guild_id = :guild "
                f"AND checked_at >= :since AND user_id IN ({', '.join(':' + n for n in names)})",
                {"guild": guild_id, "since": to_timestamp(since), **names},
            )
            answers.update({int(row[0]): bool(row[1]) for row in rows})
        return answers

    async def record(self, guild_id: int, answers: Mapping[int, bool], now: datetime) -> None:
        """Remember what Discord answered for the guild's members at ``now``."""
        items = sorted(answers.items())
        for part in chunks(items, _ROWS_PER_STATEMENT):
            params: dict[str, int] = {"guild": guild_id, "now": to_timestamp(now)}
            values = []
            for i, (user_id, present) in enumerate(part):
                params[f"u{i}"], params[f"p{i}"] = user_id, int(present)
                values.append(f"(:guild, :u{i}, :p{i}, :now)")
            await self._db.execute(
                "INSERT INTO member_checks (guild_id, user_id, present, checked_at) "
                f"VALUES {', '.join(values)} ON CONFLICT (guild_id, user_id) DO UPDATE SET "
                "present = excluded.present, checked_at = excluded.checked_at",
                params,
            )

    async def left(self, guild_id: int, user_id: int, reason: str, now: datetime) -> int:
        """The member is no longer in the guild: their live subscriptions there are paused
        with ``reason`` (one paused for another reason keeps it), and what waits for them from
        it (DMs and digests) is cancelled; how many rows that was. Other guilds' are
        untouched."""
        key = {"guild": guild_id, "user": user_id}
        async with self._db.transaction():
            await self._db.execute(
                "UPDATE subscriptions SET disabled_reason = :reason, updated_at = :now "
                "WHERE guild_id = :guild AND user_id = :user AND disabled_reason IS NULL",
                {**key, "reason": reason, "now": to_timestamp(now)},
            )
            return await self._db.execute(
                "UPDATE deliveries SET state = 'cancelled', last_error = :why "
                "WHERE guild_id = :guild AND target_kind = 'dm' AND target_id = :user "
                f"AND {ANY_PENDING}",
                {**key, "why": LEFT_ERROR, "whenever": WHENEVER},
            )

    async def _worth_writing(self, key: dict[str, int], now: datetime) -> bool:
        """Whether a command by the member changes anything: they follow something in the
        guild, and either some of it is paused because they had left, or their presence was
        last noted before ``SEEN_AGAIN_AFTER``. Read first, because this runs before every
        command: most commands then take no write lock (on SQLite, the one a long ingest
        batch holds), and most members are not written for at every command."""
        row = await self._db.fetch_one(
            "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE guild_id = :guild "
            "AND user_id = :user), EXISTS (SELECT 1 FROM subscriptions WHERE guild_id = :guild "
            "AND user_id = :user AND disabled_reason LIKE :left), EXISTS (SELECT 1 FROM "
            "member_checks WHERE guild_id = :guild AND user_id = :user AND present = 1 "
            "AND checked_at >= :recent)",
            {
                **key,
                "left": f"{LEFT_REASON}%",
                "recent": to_timestamp(now - SEEN_AGAIN_AFTER),
            },
        )
        follows, paused, noted = (bool(value) for value in row) if row else (False,) * 3
        return follows and (paused or not noted)

    async def seen(self, guild_id: int, user_id: int, now: datetime) -> int:
        """The member used a command in the guild, so is in it now: remembered as present
        (when they follow something there), and the subscriptions paused because they had
        left resume; how many resumed."""
        key = {"guild": guild_id, "user": user_id, "now": to_timestamp(now)}
        if not await self._worth_writing(key, now):
            return 0
        async with self._db.transaction():
            await self._db.execute(
                "INSERT INTO member_checks (guild_id, user_id, present, checked_at) "
                "SELECT :guild, :user, 1, :now WHERE EXISTS (SELECT 1 FROM subscriptions "
                "WHERE guild_id = :guild AND user_id = :user) "
                "ON CONFLICT (guild_id, user_id) DO UPDATE SET present = 1, "
                "checked_at = excluded.checked_at",
                key,
            )
            return await self._db.execute(
                "UPDATE subscriptions SET disabled_reason = NULL, failure_count = 0, "
                "updated_at = :now WHERE guild_id = :guild AND user_id = :user "
                "AND disabled_reason LIKE :left",
                {**key, "left": f"{LEFT_REASON}%"},
            )
