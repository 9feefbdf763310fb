"""The store API as protocols: what the services may call, whichever engine holds the data.

One protocol per repository the store exposes (``store.articles``, ``store.deliveries``...)
and ``StoreApi`` for the store itself. The SQLite store (``storage.store.Store`` and its
repositories) satisfies them, and the PostgreSQL repositories (``storage.postgresql``)
implement the same protocols one by one; mypy checks both in ``storage.conformance``. What
the store raises is in ``storage.errors``. The values passed and
returned are the shared dataclasses (``storage.models``, and for now a few still defined next
to their SQLite repository), never rows or engine types.

Some members speak of SQLite's file (``RetentionApi.size`` and ``reclaim``, ``StoreApi``'s
checks): on PostgreSQL they will report the database's size and leave space to autovacuum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self, TypeGuard

if TYPE_CHECKING:
    from storage.associations import Association, StoryMember
    from storage.feeds import FeedSaved
    from storage.models import (
        Article,
        ArticleDraft,
        ArticleState,
        AuditEntry,
        DeliveryMode,
        DigestKey,
        Feed,
        Gauges,
        GuildArticle,
        GuildSettings,
        LeftServer,
        PruningRun,
        PublicationState,
        RelatedArticle,
        StoreSize,
        StoreStats,
        Subscription,
        Topic,
        UpsertOutcome,
    )
    from storage.outbox.health import HealthCounts
    from storage.outbox.plans import PlanCounts, Publication
    from storage.outbox.replans import Passing, Replan, ReplanKind
    from storage.outbox.rows import Delivery, TargetKind
    from storage.prepare import PreparedFile
    from storage.publication import QueueWay, StateFilter
    from storage.related import CandidateQuery, Search, SearchTerm, StoryCoverage, Weights
    from storage.subscriptions import SubscriptionSaved


class ArticlesApi(Protocol):
    """``store.articles``: storing ingested articles and reading them back."""

    async def upsert_batch(
        self, drafts: Sequence[ArticleDraft], now: datetime, *, origin_guild_id: int | None = None
    ) -> list[UpsertOutcome]: ...

    async def upsert_prepared(
        self,
        files: Sequence[PreparedFile],
        now: datetime,
        *,
        origin_guild_id: int | None = None,
    ) -> list[UpsertOutcome]: ...

    async def get(self, article_id: str) -> Article | None: ...

    async def get_by_url(self, canonical_url: str) -> Article | None: ...

    async def count(self) -> int: ...

    async def related(self, article_id: str) -> list[RelatedArticle]: ...

    async def search(
        self,
        terms: Sequence[str],
        *,
        any_term: bool = False,
        guild_id: int | None = None,
        exclude_ids: Sequence[str] = (),
        limit: int = 10,
    ) -> list[Article]: ...

    async def load(self, pks: Sequence[int]) -> dict[int, Article]: ...


class ArticleStoreApi(Protocol):
    """A store the ingest writer can store articles in (either engine's store)."""

    @property
    def articles(self) -> ArticlesApi: ...


class StoriesApi(Protocol):
    """``store.stories``: which story an article belongs to, and its members."""

    async def story_of(self, article_id: str) -> int | None: ...

    async def members(self, story_id: int, *, guild_id: int | None = None) -> list[Article]: ...


class RelatedApi(Protocol):
    """``store.related``: the related-coverage engine's reads."""

    async def story(
        self, article_id: str, url: str | None, guild_id: int, *, coverage: int
    ) -> StoryCoverage | None: ...

    async def candidates(self, query: CandidateQuery, weights: Weights) -> Search: ...

    async def term_counts(
        self, terms: Sequence[SearchTerm], low_pk: int, high_pk: int, *, cap: int
    ) -> dict[str, int]: ...

    async def load(self, pks: Sequence[int]) -> dict[int, Article]: ...


class AssociationsApi(Protocol):
    """``store.associations``: term associations learned from stories (housekeeping writes
    them, the related engine reads them)."""

    async def story_members(self, *, stories: int, per_story: int) -> list[StoryMember]: ...

    async def replace(self, associations: Sequence[Association]) -> None: ...

    async def associates(self, terms: Sequence[str]) -> list[Association]: ...

    async def all(self) -> list[Association]: ...


class TopicsApi(Protocol):
    """``store.topics``."""

    async def get(self, name: str) -> Topic | None: ...

    async def by_id(self, topic_id: int) -> Topic | None: ...

    async def offered(self, guild_id: int, name: str) -> Topic | None: ...

    async def offered_alike(self, guild_id: int, name: str, *, limit: int = 5) -> list[Topic]: ...

    async def offered_shaped(
        self, guild_id: int, shortest: int, longest: int, ends: tuple[str, str], *, limit: int
    ) -> list[Topic]: ...

    async def suggest(self, guild_id: int, typed: str, *, limit: int = 25) -> list[Topic]: ...

    async def most_used(self, *, limit: int = 25, offset: int = 0) -> list[Topic]: ...

    async def seen_in(self, guild_id: int, *, limit: int, offset: int = 0) -> list[Topic]: ...

    async def count_seen_in(self, guild_id: int) -> int: ...


class PublicationApi(Protocol):
    """``store.publication``: what each guild's moderators decided, and what members see."""

    async def get(self, guild_id: int, article_id: str) -> GuildArticle | None: ...

    async def decide(
        self,
        guild_id: int,
        article_id: str,
        state: PublicationState,
        actor_id: int,
        now: datetime,
        *,
        expected: ArticleState | None = None,
    ) -> bool: ...

    async def pending(
        self, guild_id: int, *, limit: int, offset: int = 0
    ) -> list[GuildArticle]: ...

    async def pending_by_key(
        self, guild_id: int, anchor_id: str, way: QueueWay, *, limit: int
    ) -> list[GuildArticle]: ...

    async def pending_newer(self, guild_id: int, anchor_id: str) -> int: ...

    async def count(self, guild_id: int, state: StateFilter) -> int: ...

    async def listing(
        self,
        guild_id: int,
        state: StateFilter,
        *,
        limit: int,
        offset: int = 0,
        min_quality: int = 0,
        topic_key: str | None = None,
    ) -> list[GuildArticle]: ...

    async def suggest(
        self, guild_id: int, terms: Sequence[str], state: StateFilter, *, limit: int = 25
    ) -> list[GuildArticle]: ...


class SubscriptionsApi(Protocol):
    """``store.subscriptions``: members' topic alerts."""

    async def save(
        self,
        *,
        guild_id: int,
        user_id: int,
        topic_id: int,
        min_quality: int,
        delivery: DeliveryMode,
        now: datetime,
        cap: int,
    ) -> SubscriptionSaved: ...

    async def delete(self, guild_id: int, user_id: int, topic_key: str) -> bool: ...

    async def for_member(self, guild_id: int, user_id: int) -> list[Subscription]: ...

    async def count(self, guild_id: int, user_id: int) -> int: ...


class FeedsApi(Protocol):
    """``store.feeds``: channel routes."""

    async def save(
        self,
        *,
        guild_id: int,
        channel_id: int,
        topic_id: int | None,
        min_quality: int | None,
        mention_role_id: int | None,
        created_by: int,
        now: datetime,
        cap: int,
    ) -> FeedSaved: ...

    async def remove(self, guild_id: int, channel_id: int, topic_id: int | None) -> int: ...

    async def remove_channel(self, guild_id: int, channel_id: int) -> int: ...

    async def drop_mention_role(self, guild_id: int, role_id: int) -> int: ...

    async def mention_roles(
        self, guild_id: int, channel_id: int, article_pk: int, *, default_bar: int
    ) -> list[int]: ...

    async def for_guild(self, guild_id: int) -> list[Feed]: ...

    async def every(self) -> list[Feed]: ...

    async def claim_pause_notice(self, feed_id: int, now: datetime) -> bool: ...

    async def release_pause_notice(self, feed_id: int) -> None: ...

    async def paused_untold(self, limit: int) -> list[Feed]: ...

    async def count(self, guild_id: int) -> int: ...


class GuildSettingsApi(Protocol):
    """``store.guild_settings``."""

    async def get(self, guild_id: int) -> GuildSettings: ...

    async def digest_schedules_in_use(self) -> list[DigestKey]: ...

    async def update(self, guild_id: int, now: datetime, **changes: int | str | None) -> None: ...

    async def left(self, guild_id: int, now: datetime, name: str | None = None) -> int: ...

    async def returned(self, guild_id: int) -> bool: ...

    async def name_when_left(self, guild_id: int) -> str | None: ...

    async def is_gone(self, guild_id: int) -> bool: ...

    async def with_set_up(self) -> list[int]: ...


class LeftServersApi(Protocol):
    """``store.left_servers``: the servers that removed the bot, and deleting their data
    once ``retention.left_server_days`` have passed (``storage.left_servers``)."""

    async def waiting(self) -> list[LeftServer]: ...

    async def due(self, cutoff: datetime, *, limit: int) -> list[LeftServer]: ...

    async def delete_data(
        self, guild_id: int, cutoff: datetime, *, limit: int
    ) -> dict[str, int] | None: ...


class LeftMembersApi(Protocol):
    """``store.left_members``: the members Discord last said left a server, and deleting
    their data there once ``retention.left_member_days`` have passed
    (``storage.left_members``)."""

    async def due(self, cutoff: datetime, *, limit: int) -> list[tuple[int, int]]: ...

    async def delete(
        self, members: Sequence[tuple[int, int]], cutoff: datetime
    ) -> dict[str, int]: ...


class AuditApi(Protocol):
    """``store.audit``: what moderators did."""

    async def record(
        self,
        guild_id: int,
        actor_id: int,
        action: str,
        now: datetime,
        *,
        article_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int: ...

    async def revise(
        self, entry_id: int, detail: dict[str, Any], *, article_id: str | None = None
    ) -> None: ...

    async def recent(
        self, guild_id: int, *, limit: int = 50, offset: int = 0, before: int | None = None
    ) -> list[AuditEntry]: ...

    async def following(self, guild_id: int, after: int, *, limit: int) -> list[AuditEntry]: ...

    async def count_after(self, guild_id: int, after: int) -> int: ...

    async def count(self, guild_id: int) -> int: ...


class MetaApi(Protocol):
    """``store.meta``: small facts the bot keeps about itself."""

    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, value: str) -> None: ...


class MembersApi(Protocol):
    """``store.members``: whether members are still in their servers, and what leaving and
    coming back do to their subscriptions (``storage.members``)."""

    async def known(
        self, guild_id: int, user_ids: Sequence[int], since: datetime
    ) -> dict[int, bool]: ...

    async def record(self, guild_id: int, answers: Mapping[int, bool], now: datetime) -> None: ...

    async def left(self, guild_id: int, user_id: int, reason: str, now: datetime) -> int: ...

    async def seen(self, guild_id: int, user_id: int, now: datetime) -> int: ...


class DeliveriesApi(Protocol):
    """``store.deliveries``: the outbox, from planning to sent (or given up)."""

    async def skip_backlog(self, cutoff: datetime, now: datetime) -> int: ...

    async def unplanned(self, cutoff: datetime, *, limit: int) -> list[Publication]: ...

    async def write_plan(
        self,
        publication: Publication,
        *,
        now: datetime,
        cutoff: datetime,
        default_bar: int,
        default_due: tuple[datetime, datetime],
        digest_due: Mapping[DigestKey, tuple[datetime, datetime]],
        story_since: datetime,
        schedules_version: str | None,
    ) -> PlanCounts: ...

    async def schedules_version(self) -> str | None: ...

    async def reschedule_digests(
        self, guild_id: int, now: datetime, daily: datetime, weekly: datetime
    ) -> int: ...

    async def follow_delivery(
        self, guild_id: int, user_id: int, now: datetime, daily: datetime, weekly: datetime
    ) -> int: ...

    async def cancel_for_guild(self, guild_id: int, article_id: str) -> int: ...

    async def request_replan(
        self, guild_id: int, kind: ReplanKind, target_id: int, below: int, now: datetime
    ) -> None: ...

    async def replans(self, *, limit: int) -> list[Replan]: ...

    async def replan_done(self, replan: Replan) -> None: ...

    async def passing(
        self, guild_id: int, cutoff: datetime, which: Passing
    ) -> list[Publication]: ...

    async def write_replan(
        self,
        publication: Publication,
        replan: Replan,
        *,
        now: datetime,
        cutoff: datetime,
        default_bar: int,
        default_due: tuple[datetime, datetime],
        digest_due: Mapping[DigestKey, tuple[datetime, datetime]],
        story_since: datetime,
        schedules_version: str | None,
    ) -> PlanCounts: ...

    async def sent_for_guild(self, guild_id: int, article_id: str) -> list[Delivery]: ...

    async def claim_posts(
        self, guild_id: int, article_id: str, claimer: str, now: datetime, stale: datetime
    ) -> list[tuple[int, int]]: ...

    async def renew_post_claim(
        self, guild_id: int, article_id: str, post: tuple[int, int], claimer: str, now: datetime
    ) -> bool: ...

    async def confirm_post_removed(
        self, guild_id: int, article_id: str, post: tuple[int, int], now: datetime
    ) -> None: ...

    async def release_post_claims(
        self, guild_id: int, article_id: str, posts: Sequence[tuple[int, int]], claimer: str
    ) -> None: ...

    async def release_removal_claims(self, run: str, *, others: bool = False) -> int: ...

    async def cancel_stale_due(
        self, now: datetime, *, default_bar: int, late: datetime | None = None
    ) -> int: ...

    async def still_pending(self, rows: Sequence[Delivery]) -> list[Delivery]: ...

    async def due(self, now: datetime, *, limit: int) -> list[Delivery]: ...

    async def mark_sent(self, rows: Sequence[Delivery], message_id: int, now: datetime) -> None: ...

    async def retry_later(self, rows: Sequence[Delivery], at: datetime, error: str) -> None: ...

    async def give_up(
        self,
        rows: Sequence[Delivery],
        state: Literal["failed", "dead", "skipped"],
        error: str,
    ) -> None: ...

    async def fail_pending_for_target(
        self, kind: TargetKind, target_id: int, error: str
    ) -> int: ...

    async def record_failure(
        self, delivery: Delivery, reason: str, *, threshold: int, now: datetime
    ) -> bool: ...

    async def record_success(self, delivery: Delivery, *, resume: Sequence[str] = ()) -> None: ...

    async def instant_dms_since(self, user_id: int, since: datetime) -> int: ...

    async def already_told(
        self, user_id: int, article_pk: int, *, story_since: datetime | None = None
    ) -> bool: ...

    async def told_of(
        self, user_id: int, article_pks: Sequence[int], *, story_since: datetime | None = None
    ) -> set[int]: ...

    async def move_to_digest(self, row: Delivery, due: datetime, note: str) -> None: ...

    async def move_to_next_digest(
        self, rows: Sequence[Delivery], due: datetime, note: str
    ) -> None: ...

    async def recent_digests(
        self, user_ids: Sequence[int], since: datetime
    ) -> set[tuple[int, int, str]]: ...

    async def dm_channel(self, user_id: int) -> int | None: ...

    async def save_dm_channel(self, user_id: int, channel_id: int) -> None: ...

    async def forget_dm_channel(self, user_id: int, channel_id: int) -> None: ...

    async def due_digest_rows(self, now: datetime, *, limit: int) -> list[Delivery]: ...

    async def next_digest_due(self) -> datetime | None: ...

    async def feed_health(self, guild_id: int) -> dict[int, HealthCounts]: ...

    async def subscription_health(self, guild_id: int, user_id: int) -> dict[int, HealthCounts]: ...


class ClaimedDeliveriesApi(DeliveriesApi, Protocol):
    """The outbox where several senders share it (PostgreSQL): ``due`` and
    ``due_digest_rows`` claim the rows they return for ``claimer`` until a lease runs out;
    outcomes are written only to rows still claimed by ``claimer`` (``ClaimLost`` for the
    others), ``renew_claims`` says which rows a sender still holds before it sends them, and
    ``take_over_claims`` frees the rows other senders hold (for a new worker-lease holder)."""

    claimer: str

    async def renew_claims(self, rows: Sequence[Delivery], now: datetime) -> list[Delivery]: ...

    async def take_over_claims(self) -> int: ...


class RetentionApi(Protocol):
    """``store.retention``: housekeeping."""

    async def prune_deliveries(self, cutoff: datetime, *, limit: int) -> int: ...

    async def prune_articles(
        self, cutoff: datetime, published_cutoff: datetime | None, *, limit: int
    ) -> int: ...

    async def prune_topics(self, *, limit: int) -> int: ...

    async def prune_audit(self, cutoff: datetime, *, limit: int) -> int: ...

    async def pruned_totals(self) -> dict[str, int]: ...

    async def save_run(self, run: PruningRun) -> None: ...

    async def last_run(self) -> PruningRun | None: ...

    async def size(self) -> StoreSize: ...

    async def reclaim(self, pages: int) -> int: ...

    async def autovacuum_problems(self) -> list[str]: ...


class StoreApi(Protocol):
    """The store: its repositories, transactions spanning them, operators' figures and checks,
    and its lifetime (``async with store:`` closes it)."""

    @property
    def articles(self) -> ArticlesApi: ...

    @property
    def stories(self) -> StoriesApi: ...

    @property
    def related(self) -> RelatedApi: ...

    @property
    def associations(self) -> AssociationsApi: ...

    @property
    def topics(self) -> TopicsApi: ...

    @property
    def publication(self) -> PublicationApi: ...

    @property
    def subscriptions(self) -> SubscriptionsApi: ...

    @property
    def feeds(self) -> FeedsApi: ...

    @property
    def guild_settings(self) -> GuildSettingsApi: ...

    @property
    def audit(self) -> AuditApi: ...

    @property
    def meta(self) -> MetaApi: ...

    @property
    def members(self) -> MembersApi: ...

    @property
    def deliveries(self) -> DeliveriesApi: ...

    @property
    def retention(self) -> RetentionApi: ...

    @property
    def left_servers(self) -> LeftServersApi: ...

    @property
    def left_members(self) -> LeftMembersApi: ...

    def transaction(self) -> AbstractAsyncContextManager[None]: ...

    async def stats(self) -> StoreStats: ...

    async def gauges(self) -> Gauges: ...

    async def ping(self) -> bool: ...

    async def optimize(self) -> None:
        """Refresh the planner's statistics (and, on SQLite, fold the WAL back in)."""

    async def quick_check(self) -> list[str]:
        """The engine's quick verdict on the store: ['ok'] when healthy, else what it found."""

    async def close(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


def shares_the_outbox(deliveries: DeliveriesApi) -> TypeGuard[ClaimedDeliveriesApi]:
    """Whether other senders may share this outbox: its rows are claimed under a lease."""
    return hasattr(deliveries, "renew_claims")
