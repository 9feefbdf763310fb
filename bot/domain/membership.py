"""Whether the members a server's DMs and digests are for are still in it.

Without the (privileged) members intent the bot never hears that a member left a server, and
Discord refuses a DM (50007) only once the member shares no server with the bot at all: a
member who left one server but stays in another would go on getting the first one's alerts.
So before those go out the member is asked of Discord (by the injected ``Ask``, at the edge),
at most once per (server, member) per ``fresh_for``: the answer is kept in the store for every
process, and a command the member used in the server counts as an answer too, for free
(``SubscriptionService.member_seen``). A
member found gone has their subscriptions there paused and what waited for them cancelled; an
answer Discord did not give (an error, a timeout) is "don't know", and the alert goes out as
it would have: losing an alert is worse than one alert too many.

No Discord here: the dispatcher injects how to ask.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable
from datetime import datetime, timedelta

from storage.api import StoreApi
from storage.members import LEFT_REASON
from storage.outbox.sends import pause_reason

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Discord's answer for (guild, user): in the server (True), not (False), or no answer (None).
Ask = Callable[[int, int], Awaitable[bool | None]]
Pair = tuple[int, int]  # (guild_id, user_id)

# How many members are being asked about at once: Discord's rate limits are per server and
# global, and discord.py waits them out, so more at once would only queue there.
ASKING_AT_ONCE = 4
# Shown in /subscriptions (and counted as paused by `topicbot stats`) until the member is back.
RESUME_HINT = "any command you use there resumes them"


class Membership:
    """Decides which members of a server its alerts may still go to."""

    def __init__(
        self,
        store: StoreApi,
        ask: Ask,
        *,
        fresh_for: timedelta,
        clock: Clock,
        at_once: int = ASKING_AT_ONCE,
    ) -> None:
        self._store = store
        self._ask = ask
        self._fresh_for = fresh_for
        self._clock = clock
        self._at_once = at_once

    async def gone(self, pairs: Iterable[Pair]) -> set[Pair]:
        """Of ``pairs``, the members known to have left their server (asked of Discord when the
        store's answer is older than ``fresh_for``, server by server); their subscriptions
        there are paused and what waits for them from it is cancelled."""
        by_guild: dict[int, set[int]] = defaultdict(set)
        for guild_id, user_id in pairs:
            by_guild[guild_id].add(user_id)
        gone: set[Pair] = set()
        for guild_id in sorted(by_guild):
            left = await self._gone_from(guild_id, sorted(by_guild[guild_id]))
            gone.update((guild_id, user_id) for user_id in left)
        return gone

    async def _gone_from(self, guild_id: int, user_ids: list[int]) -> list[int]:
        now = self._clock()
        members = self._store.members
        answers = await members.known(guild_id, user_ids, now - self._fresh_for)
        asked = await self._ask_about(guild_id, [u for u in user_ids if u not in answers])
        if asked:
            await members.record(guild_id, asked, now)
        answers |= asked
        left = [user_id for user_id in user_ids if answers.get(user_id) is False]
        reason = pause_reason(f"{LEFT_REASON}: {RESUME_HINT}", now)
        for user_id in left:
            cancelled = await members.left(guild_id, user_id, reason, now)
            if user_id in asked:
                log.info(
                    "member %d left server %d: its subscriptions paused, %d waiting alerts "
                    "cancelled",
                    user_id,
                    guild_id,
                    cancelled,
                    extra={"guild": guild_id, "user": user_id},
                )
        return left

    async def _ask_about(self, guild_id: int, user_ids: Collection[int]) -> dict[int, bool]:
        """Discord's answers for the guild's ``user_ids`` (those it gave)."""
        gate = asyncio.Semaphore(self._at_once)

        async def ask(user_id: int) -> bool | None:
            async with gate:
                return await self._ask(guild_id, user_id)

        found = await asyncio.gather(*(ask(user_id) for user_id in user_ids))
        return {
            user_id: present
            for user_id, present in zip(user_ids, found, strict=True)
            if present is not None
        }
