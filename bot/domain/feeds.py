"""Channel feeds: which topics a guild routes to which channels (/feed add, remove, list)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.domain.errors import UserError
from bot.domain.replans import BarLowering
from bot.domain.subscriptions import Clock, SubscriptionService, check_quality, utc_now
from bot.domain.text import shown
from bot.domain.topic_names import InList, Missing, resolve
from storage.api import StoreApi
from storage.feeds import FeedCapReached, FeedSaved
from storage.models import Feed
from storage.outbox.health import HealthCounts
from storage.topics import topic_fold


def check_mention_role(guild_id: int, role_id: int | None) -> None:
    """Refuse @everyone as a feed's role: Discord pings no one for ``<@&guild id>``."""
    if role_id == guild_id:
        raise UserError(
            "`mention_role` can't be @everyone: Discord does not ping it as a role. "
            "Pick another role, or leave it out."
        )


@dataclass(frozen=True, slots=True)
class FeedAdded:
    """The feed saved, and how many recent articles its lowered bar lets through."""

    saved: FeedSaved
    now_passing: int = 0


class FeedService:
    """Add, remove and list a guild's feeds."""

    def __init__(
        self,
        store: StoreApi,
        topics: SubscriptionService,
        *,
        max_per_guild: int,
        lowering: BarLowering,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._topics = topics
        self._max_per_guild = max_per_guild
        self._lowering = lowering
        self._clock = clock

    async def add(
        self,
        guild_id: int,
        channel_id: int,
        *,
        topic_text: str | None,
        min_quality: int | None,
        mention_role_id: int | None,
        actor_id: int,
    ) -> FeedAdded:
        """Route a topic (or every topic when None) to a channel; re-adding updates it (a
        lowered bar has what now passes planned: ``bot.domain.replans``)."""
        check_mention_role(guild_id, mention_role_id)
        topic_id = None
        if topic_text is not None:
            topic_id = (await self._topics.known_topic(guild_id, topic_text)).id
        if min_quality is not None:
            check_quality(min_quality)
        try:
            saved = await self._store.feeds.save(
                guild_id=guild_id,
                channel_id=channel_id,
                topic_id=topic_id,
                min_quality=min_quality,
                mention_role_id=mention_role_id,
                created_by=actor_id,
                now=self._clock(),
                cap=self._max_per_guild,
            )
        except FeedCapReached as error:
            if error.count <= error.cap:
                raise UserError(
                    f"This server already has {error.cap} feeds, the most allowed. "
                    "Remove one with `/feed remove` first."
                ) from None
            raise UserError(  # the cap was lowered since they were added
                f"This server has {error.count} feeds, and at most {error.cap} are allowed "
                f"now. Remove {error.count - error.cap + 1} with `/feed remove` first."
            ) from None
        await self._store.audit.record(
            guild_id,
            actor_id,
            "feed.add" if saved.created else "feed.update",
            self._clock(),
            detail={
                "channel_id": channel_id,
                "topic": saved.feed.topic_key,
                "min_quality": min_quality,
                "mention_role_id": mention_role_id,
            },
        )
        passing = 0
        if saved.previous is not None:
            passing = await self._lowering.feed_saved(
                guild_id, channel_id, topic_id, saved.previous.min_quality, min_quality
            )
        return FeedAdded(saved, passing)

    async def remove(
        self, guild_id: int, channel_id: int, *, topic_text: str | None, actor_id: int
    ) -> int:
        """Remove the channel's feed for one topic, or all of its feeds when no topic is given."""
        if topic_text is None:
            removed = await self._store.feeds.remove_channel(guild_id, channel_id)
            topic_key: str | None = None
        else:
            feed = await self._channel_feed(guild_id, channel_id, topic_text)
            topic = await self._store.topics.get(feed.topic_name or "")
            removed = await self._store.feeds.remove(guild_id, channel_id, topic.id) if topic else 0
            topic_key = feed.topic_key
        if removed == 0:
            raise UserError(
                "That channel has no such feed. `/feed list` shows this server's feeds."
            )
        await self._store.audit.record(
            guild_id,
            actor_id,
            "feed.remove",
            self._clock(),
            detail={"channel_id": channel_id, "topic": topic_key, "removed": removed},
        )
        return removed

    async def _channel_feed(self, guild_id: int, channel_id: int, topic_text: str) -> Feed:
        """The channel's feed of the topic typed, named as every typed topic is
        (``bot.domain.topic_names``): among that channel's feeds of one topic."""
        routed = [
            f for f in await self.of_guild(guild_id) if f.channel_id == channel_id and f.topic_name
        ]
        missing = Missing(
            f"<#{channel_id}> has no feed for “{shown(topic_text)}”.",
            "`/feed list` shows this server's feeds.",
            "Pick one of the suggestions; `/feed list` shows this server's feeds.",
        )
        return await resolve(topic_text, InList(routed, lambda f: f.topic_name or ""), missing)

    async def of_guild(self, guild_id: int) -> list[Feed]:
        """The guild's feeds."""
        return await self._store.feeds.for_guild(guild_id)

    async def health(self, guild_id: int) -> dict[int, HealthCounts]:
        """Per feed: its deliveries by state."""
        return await self._store.deliveries.feed_health(guild_id)


def feed_topics_matching(feeds: Iterable[Feed], typed: str) -> list[str]:
    """The names of the feeds' topics that hold the typed text, accents or none
    (``topic_fold``): the one of exactly that name first, then one that folds as it does,
    then those starting with it, then the rest, alphabetically within each."""
    exact, folded = " ".join(typed.casefold().split()), topic_fold(typed)
    names = {f.topic_name for f in feeds if f.topic_name}
    return sorted(
        (n for n in names if folded in topic_fold(n)),
        key=lambda n: (
            n.casefold() != exact,
            topic_fold(n) != folded,
            not topic_fold(n).startswith(folded),
            n.casefold(),
            n,
        ),
    )
