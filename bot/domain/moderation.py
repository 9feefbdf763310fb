"""Moderators' work: publish, retract, reject from the queue, add articles by hand.

Decisions apply to the moderator's own guild only and are written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.articles.article_file import ArticleFileError, draft_from_fields
from bot.articles.urls import InvalidUrlError, canonical_url
from bot.domain.errors import UserError
from bot.domain.paging import page_window
from bot.domain.subscriptions import Clock, check_quality, utc_now
from bot.domain.text import has_visible, query_terms, shown
from storage.api import StoreApi
from storage.models import Article, AuditEntry, GuildArticle, PublicationState
from storage.publication import StateFilter

MAX_TOPICS_PER_ARTICLE = 10


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing."""

    items: list[GuildArticle]
    number: int  # from 1
    pages: int
    total: int


@dataclass(frozen=True, slots=True)
class Retraction:
    """An article retracted in a guild: what waited and was cancelled, what had gone out."""

    item: GuildArticle
    cancelled: int  # waiting posts, alerts and digest items
    posts: list[tuple[int, int]]  # (channel id, message id) of each post made
    messages: int  # direct messages (alerts and digests) sent

    @property
    def article(self) -> Article:
        return self.item.article


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of a guild's audit log, newest first."""

    entries: list[AuditEntry]
    number: int  # from 1
    pages: int
    total: int


def no_longer_waiting(item: GuildArticle) -> UserError:
    """A queue button pressed on an article someone (or its file) decided meanwhile."""
    return UserError(
        f"“{shown(item.article.title)}” was no longer waiting: "
        f"{'it was turned down' if item.state == 'retracted' else 'it is published'} here. "
        "Nothing changed."
    )


def split_topics(text: str) -> list[str]:
    """Topics typed as a comma-separated list, blanks (and names that show nothing) dropped."""
    return [part.strip() for part in text.split(",") if has_visible(part)]


class ModerationService:
    """Publication decisions and the review queue for one guild at a time."""

    def __init__(self, store: StoreApi, *, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    async def is_moderator(
        self, guild_id: int, *, can_manage_guild: bool, role_ids: set[int]
    ) -> bool:
        """Manage Server, or the guild's moderator role, makes a moderator."""
        if can_manage_guild:
            return True
        settings = await self._store.guild_settings.get(guild_id)
        return settings.moderator_role_id is not None and settings.moderator_role_id in role_ids

    async def article(self, guild_id: int, article_id: str) -> GuildArticle:
        """The article as the guild sees it, or a UserError saying how to find one."""
        if not article_id.strip():
            raise UserError(
                "Start typing an article's title and pick one of the suggestions, or use `/queue`."
            )
        found = await self._store.publication.get(guild_id, article_id)
        if found is None and await self._coverage_only(article_id):
            raise UserError(
                f"`{shown(article_id, 20)}` is another outlet's coverage, listed in a story's "
                "file: it shows with that story, and is not published or retracted on its own."
            )
        if found is None:
            raise UserError(
                f"No article with id `{shown(article_id, 20)}` here. Start typing a title and "
                "pick one of the suggestions, or use `/queue`."
            )
        return found

    async def _coverage_only(self, article_id: str) -> bool:
        article = await self._store.articles.get(article_id)
        return article is not None and article.coverage_only

    async def publish(
        self, guild_id: int, actor_id: int, article_id: str, *, queued: bool = False
    ) -> GuildArticle:
        """Publish the article in this guild (with ``queued``, only while it waits there)."""
        decided, _ = await self._decide(
            guild_id, actor_id, article_id, "published", "publish", queued
        )
        return decided

    async def unpublish(self, guild_id: int, actor_id: int, article_id: str) -> Retraction:
        """Retract the article in this guild: what waits is cancelled; what went out is
        told (it stays)."""
        decided, cancelled = await self._decide(
            guild_id, actor_id, article_id, "retracted", "unpublish"
        )
        sent = await self._store.deliveries.sent_for_guild(guild_id, decided.article.id)
        posts = [
            (row.target_id, row.message_id)
            for row in sent
            if row.target_kind == "channel" and row.message_id is not None
        ]
        messages = sum(1 for row in sent if row.target_kind == "dm")
        return Retraction(decided, cancelled, posts, messages)

    async def reject(self, guild_id: int, actor_id: int, article_id: str) -> GuildArticle:
        """Turn down a queued article in this guild, only while it waits there."""
        decided, _ = await self._decide(guild_id, actor_id, article_id, "retracted", "reject", True)
        return decided

    async def _decide(
        self,
        guild_id: int,
        actor_id: int,
        article_id: str,
        state: PublicationState,
        action: str,
        queued: bool = False,
    ) -> tuple[GuildArticle, int]:
        """The decision, with how many waiting deliveries a retraction cancelled."""
        current = await self.article(guild_id, article_id)
        if queued and current.state != "pending":
            raise no_longer_waiting(current)
        if current.state == state:
            word = "published" if state == "published" else "not published"
            raise UserError(f"“{shown(current.article.title)}” is already {word} here.")
        cancelled = 0
        async with self._store.transaction():
            # recorded only if no one decided it since it was read: two moderators pressing
            # at once, or one publishing while another retracts, make one decision each
            recorded = await self._store.publication.decide(
                guild_id,
                current.article.id,
                state,
                actor_id,
                self._clock(),
                expected=current.state,
            )
            if recorded and state == "retracted":
                cancelled = await self._store.deliveries.cancel_for_guild(
                    guild_id, current.article.id
                )
            if recorded:
                await self._store.audit.record(
                    guild_id,
                    actor_id,
                    action,
                    self._clock(),
                    article_id=current.article.id,
                    detail={"from": current.state, "to": state},
                )
        if not recorded:
            now = await self.article(guild_id, current.article.id)
            if queued:
                raise no_longer_waiting(now)
            word = "published" if now.state == "published" else "not published"
            raise UserError(
                f"“{shown(now.article.title)}” was just decided by someone else: it is {word} "
                "here now. Nothing changed."
            )
        return GuildArticle(current.article, state), cancelled

    async def queue(self, guild_id: int, page: int, *, page_size: int) -> Page:
        """Pending articles, newest first, one page (clamped to the pages there are)."""
        total = await self._store.publication.count(guild_id, "pending")
        window = page_window(total, page, page_size)
        items = await self._store.publication.pending(
            guild_id, limit=page_size, offset=window.offset
        )
        return Page(items, window.number, window.pages, total)

    async def audit(self, guild_id: int, page: int, *, page_size: int) -> AuditPage:
        """The guild's audit log, newest first, one page (clamped to the pages there are)."""
        total = await self._store.audit.count(guild_id)
        window = page_window(total, page, page_size)
        entries = await self._store.audit.recent(guild_id, limit=page_size, offset=window.offset)
        return AuditPage(entries, window.number, window.pages, total)

    async def suggest(
        self, guild_id: int, typed: str, state: StateFilter, *, limit: int = 25
    ) -> list[GuildArticle]:
        """Articles for autocomplete by title words, limited to those in ``state`` here."""
        return await self._store.publication.suggest(
            guild_id, query_terms(typed), state, limit=limit
        )

    async def add_article(
        self,
        guild_id: int,
        actor_id: int,
        *,
        url: str,
        title: str,
        topics: str,
        excerpt: str = "",
        quality: int = 50,
        publish: bool = False,
    ) -> GuildArticle:
        """Add an article for this guild only; publish it here at once if asked."""
        check_quality(quality, "quality")
        if not has_visible(title):
            raise UserError("`title`: type the article's headline.")
        topic_names = split_topics(topics)
        if not topic_names:
            raise UserError("`topics`: give at least one topic, such as `Privacy, AI`.")
        if len(topic_names) > MAX_TOPICS_PER_ARTICLE:
            raise UserError(f"Give at most {MAX_TOPICS_PER_ARTICLE} topics, separated by commas.")
        try:
            canonical = canonical_url(url)
        except InvalidUrlError as error:
            raise UserError(f"`url`: {error}. Paste a full https:// link.") from None
        existing = await self._store.articles.get_by_url(canonical)
        if (
            existing is not None
            and await self._store.publication.get(guild_id, existing.id) is None
        ):
            # another server's own: its id and title are that server's
            raise UserError("Another server added that link for itself, so it can't be added here.")
        if existing is not None:
            raise UserError(
                f"That link is already stored as `{existing.id}`. Use `/publish` to publish it."
            )
        now = self._clock()
        fields = {
            "title": title,
            "webUrl": url,
            "excerpt": excerpt,
            "topics": topic_names,
            "quality": quality,
            "publishedDateTime": now,
        }
        try:
            draft = draft_from_fields(fields, source="/article add")
        except ArticleFileError as error:
            raise UserError(f"`{error.field}`: {error.problem}") from None
        await self._store.articles.upsert_batch([draft], now, origin_guild_id=guild_id)
        stored = await self.article_by_url(guild_id, canonical)
        await self._store.audit.record(
            guild_id, actor_id, "article.add", now, article_id=stored.article.id
        )
        if publish:
            return await self.publish(guild_id, actor_id, stored.article.id)
        return stored

    async def article_by_url(self, guild_id: int, canonical: str) -> GuildArticle:
        """The guild's view of the article stored under this canonical URL."""
        article = await self._store.articles.get_by_url(canonical)
        if article is None:
            raise UserError("That article is not stored.")
        return await self.article(guild_id, article.id)
