"""Browsing what the store holds, as members of a guild see it (``bot.domain.visibility``):
topics by use, the latest published articles."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.guild_settings import GuildSettingsService
from bot.domain.paging import page_window
from bot.domain.subscriptions import SubscriptionService
from storage.api import StoreApi
from storage.models import Article, Topic


@dataclass(frozen=True, slots=True)
class TopicPage:
    """One page of topics."""

    topics: list[Topic]
    number: int
    pages: int
    total: int


@dataclass(frozen=True, slots=True)
class Latest:
    """The newest published articles above a guild's bar."""

    articles: list[Article]
    topic_name: str | None
    quality_bar: int
    # With no article above the bar: whether some are published here under it (counted by
    # `/topics`, found by `/related query:`), so that an empty answer can say why.
    under_bar: bool = False
    # Whether more than ``articles`` are published here above the bar (older ones).
    more: bool = False


class CatalogService:
    """Read-only views for members."""

    def __init__(
        self,
        store: StoreApi,
        subscriptions: SubscriptionService,
        guild_settings: GuildSettingsService,
    ) -> None:
        self._store = store
        self._subscriptions = subscriptions
        self._guild_settings = guild_settings

    async def topics(self, guild_id: int, page: int, *, per_page: int) -> TopicPage:
        """Topics of the articles the guild's members see, most-seen first, one page
        (clamped), each with how many of those articles carry it."""
        total = await self._store.topics.count_seen_in(guild_id)
        window = page_window(total, page, per_page)
        topics = await self._store.topics.seen_in(guild_id, limit=per_page, offset=window.offset)
        return TopicPage(topics, window.number, window.pages, total)

    async def latest(self, guild_id: int, topic_text: str | None, *, limit: int) -> Latest:
        """The newest articles published in the guild and above its quality bar."""
        topic = await self._subscriptions.known_topic(guild_id, topic_text) if topic_text else None
        bar = await self._guild_settings.min_quality(guild_id)
        items = await self._store.publication.listing(
            guild_id,
            "published",
            limit=limit + 1,  # one more than shown: whether older ones exist
            min_quality=bar,
            topic_key=topic.key if topic else None,
        )
        under_bar = False
        if not items and bar > 0:
            under_bar = bool(
                await self._store.publication.listing(
                    guild_id,
                    "published",
                    limit=1,
                    min_quality=0,
                    topic_key=topic.key if topic else None,
                )
            )
        articles = [i.article for i in items]
        return Latest(
            articles[:limit], topic.name if topic else None, bar, under_bar, len(items) > limit
        )
