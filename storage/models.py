"""Plain data classes that cross the store boundary.

Nothing here knows about Discord or about how files are parsed; the store accepts
``ArticleDraft`` values and hands back ``Article`` values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

DeliveryMode = Literal["instant", "daily", "weekly"]
PublicationState = Literal["published", "retracted"]


@dataclass(frozen=True, slots=True)
class Provider:
    """The outlet an article comes from."""

    name: str = ""
    domain: str = ""


@dataclass(frozen=True, slots=True)
class Image:
    """An image attached to an article."""

    url: str
    width: int | None = None
    height: int | None = None
    is_cached: bool = False


@dataclass(frozen=True, slots=True)
class RelatedDraft:
    """Another outlet's coverage of the story, as listed in an article file."""

    canonical_url: str
    web_url: str
    title: str
    excerpt: str
    published_at: datetime | None  # None: the file gave no usable date
    type: str
    quality: int
    provider: Provider
    images: tuple[Image, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleContent:
    """What an article file says of an article, as both a draft and a stored article hold it."""

    canonical_url: str
    web_url: str
    original_url: str
    title: str
    excerpt: str
    category: str
    type: str
    quality: int
    heat: int
    published: bool
    provider: Provider
    topics: tuple[str, ...]
    images: tuple[Image, ...]
    body: str
    extra: dict[str, Any]
    # Opaque to topicbot: stored verbatim, never displayed or logged.
    secured: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleDraft(ArticleContent):
    """A validated article ready to be written to the store."""

    published_at: datetime
    related: tuple[RelatedDraft, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Article(ArticleContent):
    """An article as stored."""

    id: str
    published_at: datetime | None  # None: unknown (only ever a coverage-only article)
    coverage_only: bool
    ingested_at: datetime
    updated_at: datetime
    source_published_at: datetime | None
    origin_guild_id: int | None = None


@dataclass(frozen=True, slots=True)
class RelatedArticle:
    """One article linked to another by curated coverage, with the link's direction."""

    article: Article
    direction: Literal["listed_by_story", "lists_story"]


@dataclass(frozen=True, slots=True)
class Gauges:
    """What the store holds now, cheap enough to read at every metrics scrape."""

    outbox_by_mode: dict[str, int]
    paused_feeds: int
    paused_subscriptions: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Counts that summarise the store for operators."""

    articles: int
    published: int
    pending: int
    coverage_only: int
    skipped_old: int
    topics: int
    subscriptions: int
    subscriptions_paused: int
    feeds: int
    feeds_paused: int
    deliveries: dict[str, int]
    # servers with a digest setting of their own: "servers" (any), "timezone", "digest_time",
    # "digest_day"
    digest_overrides: dict[str, int]
    # deliveries above count pruned rows too; this is how many of them were pruned
    deliveries_pruned: dict[str, int] = field(default_factory=dict)
    size: StoreSize | None = None
    last_pruning: PruningRun | None = None
    # the servers that removed the bot, their data kept until retention.left_server_days
    servers_left: int = 0
    first_left_at: datetime | None = None
    # the members who left a server (one per server), their subscriptions there kept until
    # retention.left_member_days after Discord said so
    members_left: int = 0
    first_member_left_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LeftServer:
    """A server that removed the bot (kicked, banned, deleted), and when."""

    guild_id: int
    left_at: datetime


@dataclass(frozen=True, slots=True)
class PruningRun:
    """What one housekeeping run removed (so far, while ``finished_at`` is None)."""

    started_at: datetime
    finished_at: datetime | None = None
    deliveries: int = 0
    audit_entries: int = 0
    articles: int = 0
    topics: int = 0
    pages_reclaimed: int = 0
    servers: int = 0  # servers whose data went, retention.left_server_days after they left
    members: int = 0  # members' data in a server they left, retention.left_member_days after


@dataclass(frozen=True, slots=True)
class StoreSize:
    """The database (file): its size, what of it is free pages, and how space comes back."""

    bytes: int
    free_bytes: int
    page_size: int
    incremental_vacuum: bool
    # PostgreSQL: deleted rows' space is made reusable by the server's autovacuum...
    autovacuum: bool = False
    # ...unless this keeps it from running here (``autovacuum is off``, a table opted out).
    autovacuum_problems: tuple[str, ...] = ()


UpsertOutcome = Literal["new", "updated", "unchanged"]


ArticleState = Literal["published", "pending", "retracted"]


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic and how many articles carry it."""

    id: int
    key: str
    name: str
    article_count: int


@dataclass(frozen=True, slots=True)
class Subscription:
    """A member's subscription to a topic in one guild."""

    id: int
    guild_id: int
    user_id: int
    topic_key: str
    topic_name: str
    min_quality: int
    delivery: DeliveryMode
    disabled_reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Feed:
    """A route from a topic (or every topic) to a channel in one guild."""

    id: int
    guild_id: int
    channel_id: int
    topic_key: str | None
    topic_name: str | None
    min_quality: int | None
    mention_role_id: int | None
    created_by: int
    disabled_reason: str | None


# A guild's digest schedule as stored: (timezone, digest_time, digest_day), None = default.
DigestKey = tuple[str | None, str | None, str | None]


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """A guild's own settings; None means the deployment's default."""

    guild_id: int
    moderator_role_id: int | None = None
    min_quality: int | None = None
    timezone: str | None = None
    digest_time: str | None = None  # HH:MM
    digest_day: str | None = None  # monday .. sunday


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One moderator action."""

    guild_id: int
    actor_id: int
    action: str
    article_id: str | None
    detail: dict[str, Any]
    at: datetime
    article_title: str | None = None  # the article's title now (or when pruned: as it was then)
    article_stored: bool = True  # False: retention pruned the article since
    id: int = 0  # the entry's place in the log: a later entry has a greater one


@dataclass(frozen=True, slots=True)
class GuildArticle:
    """An article as one guild sees it."""

    article: Article
    state: ArticleState
