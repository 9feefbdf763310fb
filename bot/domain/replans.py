"""A lowered quality bar brings what now passes.

Each publication is planned once, by the bars of that moment. When a moderator lowers their
server's bar or a feed's, or a member their subscription's, the server's publications still
fresh (``delivery.max_age_hours``, the age rule planning uses) that were under the old bar and
pass the new one are planned again for what they missed, by the next planning run (only the
planning job writes plans; a server of 50,000 members must not hold up the command's reply):
posts, DMs and digest items, each target at most once (what it was sent, or waits for, stays
as it is). What a raised bar cancelled and a lowered one lets through again is among them.
Nothing older comes: a channel is not flooded with old news.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from storage.api import StoreApi
from storage.outbox.replans import Passing, ReplanKind

Clock = Callable[[], datetime]


class BarLowering:
    """Counts what a lowered bar lets through and asks the planning job to plan it."""

    def __init__(
        self, store: StoreApi, *, max_age_hours: float, default_bar: int, clock: Clock
    ) -> None:
        self._store = store
        self._max_age = timedelta(hours=max_age_hours)
        self._default_bar = default_bar
        self._clock = clock

    async def _guild_bar(self, guild_id: int) -> int:
        stored = (await self._store.guild_settings.get(guild_id)).min_quality
        return self._default_bar if stored is None else stored

    async def feed_saved(
        self, guild_id: int, channel_id: int, topic_id: int | None, old: int | None, new: int | None
    ) -> int:
        """A feed's own bar went from ``old`` to ``new`` (None: the server's): ``lowered``."""
        bar = await self._guild_bar(guild_id)
        return await self.lowered(
            guild_id,
            "channel",
            channel_id,
            old=bar if old is None else old,
            new=bar if new is None else new,
            topic_id=topic_id,
        )

    async def subscription_saved(
        self, guild_id: int, user_id: int, topic_id: int, old: int, new: int
    ) -> int:
        """A member's bar for a topic went from ``old`` to ``new``; the server's applies too
        (a DM needs both): ``lowered``."""
        bar = await self._guild_bar(guild_id)
        return await self.lowered(
            guild_id, "dm", user_id, old=max(old, bar), new=max(new, bar), topic_id=topic_id
        )

    async def lowered(
        self,
        guild_id: int,
        kind: ReplanKind,
        target_id: int,
        *,
        old: int,
        new: int,
        topic_id: int | None = None,
    ) -> int:
        """The bar of the guild (``kind`` ''), of its channel's feed (of topic ``topic_id``,
        None for every topic) or of its member's subscription (to ``topic_id``) went from
        ``old`` to ``new``, as each applies: how many recent publications now pass it, which
        the next planning run plans for it (0 when the bar was not lowered)."""
        if new >= old:
            return 0
        now = self._clock()
        cutoff = now - self._max_age
        which = Passing(above=new, below=old, topic_id=topic_id)
        if not await self._store.deliveries.passing(guild_id, cutoff, which):
            return 0
        await self._store.deliveries.request_replan(guild_id, kind, target_id, old, now)
        # told of what this target was not sent: not of what went out before a raised bar
        unsent = replace(which, unsent_to=(kind, target_id))
        return len(await self._store.deliveries.passing(guild_id, cutoff, unsent))


def now_passing(count: int, then: str) -> str:
    """The sentence a reply adds when a lowered bar lets ``count`` recent articles through;
    ``then`` says what becomes of them, naming them ``{them}``."""
    if count == 0:
        return ""
    head = "1 recent article now passes" if count == 1 else f"{count} recent articles now pass"
    return f"{head} the bar and {then.format(them='it' if count == 1 else 'them')}."
