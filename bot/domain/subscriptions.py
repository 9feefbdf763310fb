"""Members' topic subscriptions: the rules behind /subscribe, /unsubscribe, /subscriptions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import get_args

from bot.config import DigestSettings
from bot.domain.digests import guild_schedule
from bot.domain.errors import UserError
from bot.domain.replans import BarLowering
from bot.domain.text import shown
from bot.domain.topic_names import (
    InList,
    Missing,
    near_names,
    near_shape,
    resolve,
)
from storage.api import StoreApi
from storage.models import DeliveryMode, Subscription, Topic
from storage.outbox.health import HealthCounts
from storage.subscriptions import SubscriptionCapReached, SubscriptionSaved
from storage.topics import topic_fold, topic_key

log = logging.getLogger(__name__)

# Topics of a typed name's length and ends read to find its close spellings: the most used
# (a store with more of them keeps the busiest in reach).
NEAR_CANDIDATES = 2000

Clock = Callable[[], datetime]
DELIVERY_MODES: dict[str, DeliveryMode] = {mode: mode for mode in get_args(DeliveryMode)}


def utc_now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


def check_quality(value: object, option: str = "min_quality") -> int:
    """A quality bar must be a whole number from 0 to 100."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        given = shown(str(value), 20)
        raise UserError(f"`{option}` must be a whole number from 0 to 100 (you gave {given}).")
    return value


@dataclass(frozen=True, slots=True)
class Subscribed:
    """The subscription saved, and how many recent articles its lowered bar lets through."""

    saved: SubscriptionSaved
    now_passing: int = 0
    moved: int = 0  # waiting digest items that follow the new delivery (``_follow_delivery``)


class SubscriptionService:
    """Subscribe, unsubscribe and list, one guild at a time."""

    def __init__(
        self,
        store: StoreApi,
        *,
        max_per_member: int,
        digests: DigestSettings | None = None,
        lowering: BarLowering,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._lowering = lowering
        self._max_per_member = max_per_member
        self._digests = digests or DigestSettings()
        self._clock = clock

    @property
    def max_per_member(self) -> int:
        """How many topics one member may follow in one server."""
        return self._max_per_member

    async def subscribe(
        self,
        guild_id: int,
        user_id: int,
        topic_text: str,
        *,
        min_quality: int = 0,
        delivery: str = "instant",
    ) -> Subscribed:
        """Follow a known topic, or change the settings of a subscription the member has (a
        lowered bar has what now passes planned: ``bot.domain.replans``)."""
        topic = await self.known_topic(guild_id, topic_text)
        check_quality(min_quality)
        mode = DELIVERY_MODES.get(delivery)
        if mode is None:
            raise UserError("`delivery` must be one of: instant, daily, weekly.")
        try:
            saved = await self._store.subscriptions.save(
                guild_id=guild_id,
                user_id=user_id,
                topic_id=topic.id,
                min_quality=min_quality,
                delivery=mode,
                now=self._clock(),
                cap=self._max_per_member,
            )
        except SubscriptionCapReached as error:
            if error.count <= error.cap:
                raise UserError(
                    f"You already follow {error.cap} topics here, the most allowed. "
                    "Use `/unsubscribe` to make room."
                ) from None
            raise UserError(  # the cap was lowered since they subscribed
                f"You follow {error.count} topics here, and at most {error.cap} are allowed "
                f"now. Use `/unsubscribe` on {error.count - error.cap + 1} of them to make room."
            ) from None
        moved = 0
        # A new subscription too: after /unsubscribe and /subscribe again, what still waits
        # for the old one (cancelled only when due, and taken by the new one then) follows the
        # delivery chosen now, as a change of delivery does.
        previous = saved.previous
        if previous is None or previous.delivery != mode:
            moved = await self._follow_delivery(guild_id, user_id)
        passing = 0
        if previous is not None:
            passing = await self._lowering.subscription_saved(
                guild_id, user_id, topic.id, previous.min_quality, min_quality
            )
        # subscribing here shows they are in the server: their first alert need not ask
        await self._store.members.seen(guild_id, user_id, self._clock())
        return Subscribed(saved, passing, moved)

    async def _follow_delivery(self, guild_id: int, user_id: int) -> int:
        """What waits for the member's digests here follows their new delivery mode."""
        now = self._clock()
        schedule = guild_schedule(await self._store.guild_settings.get(guild_id), self._digests)
        daily, weekly = schedule.next_moments(now)
        return await self._store.deliveries.follow_delivery(guild_id, user_id, now, daily, weekly)

    async def unsubscribe(self, guild_id: int, user_id: int, topic_text: str) -> str:
        """Stop following a topic; returns the topic's name."""
        key = topic_key(topic_text)
        if not key:
            raise UserError(
                "Type one of your topics, then pick it from the suggestions. "
                "`/subscriptions` lists the topics you follow."
            )
        own = InList(await self.of_member(guild_id, user_id), lambda s: s.topic_name)
        missing = Missing(
            f"You are not subscribed to “{shown(topic_text)}” here.",
            "`/subscriptions` lists the topics you follow.",
            "`/subscriptions` lists the topics you follow.",
        )
        chosen = await resolve(topic_text, own, missing)
        await self._store.subscriptions.delete(guild_id, user_id, chosen.topic_key)
        return chosen.topic_name

    async def unsubscribe_topic_id(self, guild_id: int, user_id: int, topic_id: int) -> str:
        """Stop following a topic named by its id (the DM's unsubscribe button): that topic
        only, never one spelt close to it."""
        topic = await self._store.topics.by_id(topic_id)
        if topic is None:
            raise UserError("That topic no longer exists.")
        own = await self.of_member(guild_id, user_id)
        if not any(s.topic_key == topic.key for s in own):
            raise UserError(
                f"You no longer follow {shown(topic.name)} in the server this alert came from."
            )
        await self._store.subscriptions.delete(guild_id, user_id, topic.key)
        return topic.name

    async def of_member(self, guild_id: int, user_id: int) -> list[Subscription]:
        """The member's subscriptions in the guild."""
        return await self._store.subscriptions.for_member(guild_id, user_id)

    async def member_seen(self, guild_id: int, user_id: int) -> int:
        """The member used a command in the guild, so is in it now (``bot.domain.membership``
        need not ask Discord): their subscriptions paused because they had left it resume,
        with what is published from now on. How many resumed."""
        resumed = await self._store.members.seen(guild_id, user_id, self._clock())
        if resumed:
            log.info(
                "member %d is back in server %d: %d subscriptions resumed",
                user_id,
                guild_id,
                resumed,
                extra={"guild": guild_id, "user": user_id},
            )
        return resumed

    async def health(self, guild_id: int, user_id: int) -> dict[int, HealthCounts]:
        """Per subscription of the member here: its alerts by state."""
        return await self._store.deliveries.subscription_health(guild_id, user_id)

    async def known_topic(self, guild_id: int, topic_text: str) -> Topic:
        """The stored topic with this name that the guild may name (not another guild's own);
        else the one whose name folds alike (typed without accents: 'quebec' for Québec);
        else a UserError saying how to find one, or listing the names that fold alike."""
        if not topic_key(topic_text):
            raise UserError("Type a topic name, then pick one of the suggestions.")
        missing = Missing(
            f"There is no topic called “{shown(topic_text)}”.",
            "Start typing and pick one of the suggestions, or see them all with `/topics`.",
        )
        return await resolve(topic_text, GuildTopics(self._store, guild_id), missing)

    async def suggest_topics(self, guild_id: int, typed: str, *, limit: int = 25) -> list[Topic]:
        """Topics for autocomplete in the guild: prefix matches first, then substrings,
        most-seen there first; never another guild's own. When none holds what is typed,
        those spelt closest to it ('Climate' for 'climte')."""
        found = await self._store.topics.suggest(guild_id, typed, limit=limit)
        if found or not topic_key(typed):
            return found
        return (await GuildTopics(self._store, guild_id).near_topics(typed))[:limit]

    async def suggest_own(
        self, guild_id: int, user_id: int, typed: str, *, limit: int = 25
    ) -> list[Subscription]:
        """The member's own subscriptions whose topic contains the typed text, accents or
        none (``topic_fold``)."""
        folded = topic_fold(typed)
        own = [(topic_fold(s.topic_name), s) for s in await self.of_member(guild_id, user_id)]
        starting = [s for fold, s in own if fold.startswith(folded)]
        containing = [s for fold, s in own if folded in fold and s not in starting]
        return (starting + containing)[:limit]


@dataclass(frozen=True, slots=True)
class GuildTopics:
    """The topics a guild may name (not another guild's own), as ``resolve`` looks them up."""

    store: StoreApi
    guild_id: int

    async def exact(self, typed: str) -> Topic | None:
        return await self.store.topics.offered(self.guild_id, typed)

    async def alike(self, typed: str) -> list[Topic]:
        return await self.store.topics.offered_alike(self.guild_id, typed)

    async def near(self, typed: str) -> list[str]:
        return [t.name for t in await self.near_topics(typed)]

    async def near_topics(self, typed: str) -> list[Topic]:
        """The topics spelt closest to ``typed`` (``near_names``), most-used first."""
        shape = near_shape(typed)
        if shape is None:
            return []
        topics = await self.store.topics.offered_shaped(
            self.guild_id,
            shape.shortest,
            shape.longest,
            (shape.first, shape.last),
            limit=NEAR_CANDIDATES,
        )
        by_name = {t.name: t for t in topics}
        return [by_name[name] for name in near_names(typed, by_name)]

    def name_of(self, item: Topic) -> str:
        return item.name
