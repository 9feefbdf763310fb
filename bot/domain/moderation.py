"""Moderators' work: publish, retract, reject from the queue, add articles by hand.

Decisions apply to the moderator's own guild only and are written to the audit log.
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NoReturn

from bot.articles.article_file import ArticleFileError, draft_from_fields
from bot.articles.urls import InvalidUrlError, canonical_url
from bot.domain.errors import UserError
from bot.domain.paging import page_window
from bot.domain.subscriptions import Clock, GuildTopics, check_quality, utc_now
from bot.domain.text import (
    clip,
    has_visible,
    headline,
    query_terms,
    shown,
    shown_in_code,
    shown_title,
)
from bot.domain.topic_names import did_you_mean, either
from storage.api import StoreApi
from storage.models import Article, AuditEntry, GuildArticle, PublicationState
from storage.publication import QueueWay, StateFilter
from storage.topics import topic_key

MAX_TOPICS_PER_ARTICLE = 10
TITLE_CHOICES = 5  # titles a typed title is matched against, and at most named back


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of the review queue: its items, where the first is among all waiting (from
    1), how many wait, and whether newer or older items remain."""

    items: list[GuildArticle]
    first: int
    total: int
    newer: bool
    older: bool


@dataclass(frozen=True, slots=True)
class Retraction:
    """An article retracted in a guild: what waited and was cancelled, what had gone out.
    ``already``: it was retracted before (by this or another moderator), and posts of it are
    still up."""

    item: GuildArticle
    cancelled: int  # waiting posts, alerts and digest items
    posts: list[tuple[int, int]]  # (channel id, message id) of each post still up
    messages: int  # direct messages (alerts and digests) sent
    already: bool = False

    @property
    def article(self) -> Article:
        return self.item.article


# What became of one post the bot was asked to delete: deleted now; deleted already (by hand),
# or gone with its channel; or still up: the bot cannot see the channel, or Discord refused.
PostOutcome = Literal["deleted", "gone", "channel_gone", "no_access", "failed"]
TAKEN_DOWN: frozenset[PostOutcome] = frozenset({"deleted", "gone", "channel_gone"})
GONE_ALREADY: frozenset[PostOutcome] = frozenset({"gone", "channel_gone"})


@dataclass(frozen=True, slots=True)
class PostRemoval:
    """One post's deletion: where it was, and what became of it (``detail``: what Discord
    answered, for a failure)."""

    channel_id: int
    message_id: int
    outcome: PostOutcome
    detail: str = ""


class PostsBeingDeleted(UserError):
    """A press found the posts still up claimed by another press, which may yet delete them:
    ``still_up`` of them, to press for again once its claim runs out."""

    def __init__(self, message: str, still_up: int) -> None:
        super().__init__(message)
        self.still_up = still_up


# Deletes one post (channel id, message id) on Discord and says what became of it. It must
# answer well within REMOVAL_LEASE (the bot's gives Discord DELETE_TIMEOUT_SECONDS).
DeletePost = Callable[[int, int], Awaitable[PostRemoval]]

# How long a press's claim on a post it is deleting keeps other presses off it. A claim older
# than this is a press that died (the process killed) or hangs: the post is offered again and
# the next press retries it. Renewed before each post's DELETE, so a long run keeps its posts.
REMOVAL_LEASE = timedelta(minutes=3)


@dataclass(frozen=True, slots=True)
class Removal:
    """The posts of a retracted article the bot was asked to take down in a guild."""

    item: GuildArticle
    results: list[PostRemoval]

    @property
    def article(self) -> Article:
        return self.item.article

    @property
    def deleted(self) -> int:
        return _deleted(self.results)

    @property
    def gone(self) -> int:
        """Posts found deleted already (by hand, or with their channel)."""
        return _gone(self.results)

    @property
    def still_up(self) -> int:
        return sum(1 for result in self.results if result.outcome not in TAKEN_DOWN)


def _deleted(results: list[PostRemoval]) -> int:
    return sum(1 for result in results if result.outcome == "deleted")


def _gone(results: list[PostRemoval]) -> int:
    return sum(1 for result in results if result.outcome in GONE_ALREADY)


@dataclass(slots=True)
class RemovalAudit:
    """The audit log entry of one press of "Delete N posts": written with the first post
    Discord confirmed gone, its counts revised with each next one, so that a press cut short
    (the process killed) leaves in the log what it did."""

    store: StoreApi
    guild_id: int
    actor_id: int
    article_id: str
    at: datetime
    entry: int | None = None

    async def count(self, results: list[PostRemoval]) -> None:
        """Say in the entry how many posts went now, and how many were gone already."""
        detail = {"removed": _deleted(results), "gone": _gone(results)}
        if self.entry is None:
            self.entry = await self.store.audit.record(
                self.guild_id,
                self.actor_id,
                "posts.remove",
                self.at,
                article_id=self.article_id,
                detail=detail,
            )
        else:
            await self.store.audit.revise(self.entry, detail, article_id=self.article_id)


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of a guild's audit log, newest first: its entries, the place of the first
    among all (from 1), how many there are, and whether newer or older entries remain."""

    entries: list[AuditEntry]
    first: int
    total: int
    newer: bool
    older: bool


def no_longer_waiting(item: GuildArticle) -> UserError:
    """A queue button pressed on an article someone (or its file) decided meanwhile."""
    return UserError(
        f"“{shown_title(item.article.title)}” was no longer waiting: "
        f"{'it was turned down' if item.state == 'retracted' else 'it is published'} here. "
        "Nothing changed."
    )


def fold_title(title: str) -> str:
    """A title as compared with one typed: its words, in any case."""
    return " ".join(query_terms(headline(title), max_terms=1000))


def titles_of(items: list[GuildArticle]) -> str:
    """'“A” (`id`), “B” (`id`) or “C” (`id`)': articles offered back to a moderator."""
    listed = [f"“{shown_title(item.article.title, 100)}” (`{item.article.id}`)" for item in items]
    return listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} or {listed[-1]}"


async def refuse_a_twin(topics: GuildTopics, name: str) -> None:
    """A UserError when a new topic ``name`` is spelt close to topics the guild knows."""
    near = await topics.near(name)
    if near:
        raise UserError(
            f"`topics`: there is no topic called “{shown(name)}” here. {did_you_mean(near)} "
            "Type it as it is written, or set `new_topic` to True to start a topic of that "
            "name. Nothing was added."
        )


def split_topics(text: str) -> list[str]:
    """Topics typed as a comma-separated list, blanks (and names that show nothing) dropped."""
    return [part.strip() for part in text.split(",") if has_visible(part)]


class ModerationService:
    """Publication decisions and the review queue for one guild at a time."""

    def __init__(self, store: StoreApi, *, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock
        # Names this run of the bot in the claims its presses make (hex: no LIKE wildcard),
        # so that its shutdown, or the next run on a store only one process opens, frees them.
        self.run = secrets.token_hex(8)
        self._presses = itertools.count(1)

    async def release_claims(self, *, others: bool = False) -> int:
        """Free the claims of this run's presses on posts they were deleting (at shutdown: a
        DELETE still unanswered will not be confirmed), or with ``others`` those of every
        other run (at the start of the only process a store has: they all ended); how many."""
        return await self._store.deliveries.release_removal_claims(self.run, others=others)

    async def is_moderator(
        self, guild_id: int, *, can_manage_guild: bool, role_ids: set[int]
    ) -> bool:
        """Manage Server, or the guild's moderator role, makes a moderator."""
        if can_manage_guild:
            return True
        settings = await self._store.guild_settings.get(guild_id)
        return settings.moderator_role_id is not None and settings.moderator_role_id in role_ids

    async def article(
        self, guild_id: int, article_id: str, among: StateFilter = "any"
    ) -> GuildArticle:
        """The article as the guild sees it, by id or by a title typed out (preferring those
        ``among``), or a UserError saying how to find one."""
        if not article_id.strip():
            raise UserError(
                "Start typing an article's title and pick one of the suggestions, or use `/queue`."
            )
        found = await self._store.publication.get(guild_id, article_id)
        if found is None and await self._coverage_only(article_id):
            raise UserError(
                f"`{shown_in_code(article_id, 20)}` is another outlet's coverage, listed in a "
                "story's file: it shows with that story, and is not published or retracted on its "
                "own."
            )
        if found is None:
            found = await self._by_title(guild_id, article_id, among)
        if found is None:
            raise UserError(
                f"No article with id `{shown_in_code(article_id, 20)}` here. Start typing a title "
                "and pick one of the suggestions, or use `/queue`."
            )
        return found

    async def _by_title(self, guild_id: int, typed: str, among: StateFilter) -> GuildArticle | None:
        """The article whose title was typed in full (sent without picking a suggestion), first
        among those ``among`` (what the command acts on), then among all; titles holding the
        words typed are a UserError naming them, none one naming the titles sharing most words
        with what was typed. None when nothing shares a word."""
        terms = query_terms(typed)
        if not terms:
            return None
        publication = self._store.publication
        for state in (among, "any"):
            matches = await publication.suggest(guild_id, terms, state, limit=TITLE_CHOICES)
            exact = [m for m in matches if fold_title(m.article.title) == fold_title(typed)]
            if len(exact) == 1:
                return exact[0]
            # Some of a title's words are not enough to publish or retract it: a slip would
            # alert every follower, or take an article down, so the moderator confirms.
            if matches:
                raise UserError(
                    f"“{shown(clip(typed, 80))}” could be {titles_of(matches)}. Pick it from the "
                    "suggestions, type its title in full, or give its id. Nothing changed."
                )
        closest = await self._closest_titles(guild_id, terms, among)
        if not closest:
            return None
        raise UserError(
            f"No article called “{shown(clip(typed, 80))}” here. Closest titles: "
            f"{titles_of(closest)}. Pick one from the suggestions, or give its id."
        )

    async def _closest_titles(
        self, guild_id: int, terms: list[str], among: StateFilter
    ) -> list[GuildArticle]:
        """The titles holding most of the words typed, one word at a time."""
        shares: dict[str, int] = {}
        found: dict[str, GuildArticle] = {}
        for term in terms:
            for match in await self._store.publication.suggest(
                guild_id, [term], among, limit=TITLE_CHOICES
            ):
                shares[match.article.id] = shares.get(match.article.id, 0) + 1
                found.setdefault(match.article.id, match)
        ranked = sorted(found, key=lambda key: -shares[key])  # stable: search order on ties
        return [found[key] for key in ranked[:3]]

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
        """Retract the article in this guild: what waits is cancelled; what went out is told
        (the posts can be deleted with ``remove_posts``; DMs stay). Retracted already, it is
        told only while posts of it are still up (``already``)."""
        current = await self.article(guild_id, article_id, "retractable")
        if current.state == "retracted":
            posts, _ = await self._sent(guild_id, current.article.id)
            if posts:
                return Retraction(current, 0, posts, 0, already=True)
        decided, cancelled = await self._decide(
            guild_id, actor_id, current.article.id, "retracted", "unpublish"
        )
        posts, messages = await self._sent(guild_id, decided.article.id)
        return Retraction(decided, cancelled, posts, messages)

    async def _sent(self, guild_id: int, article_id: str) -> tuple[list[tuple[int, int]], int]:
        """The article's posts in the guild still up, and how many DMs of it went out."""
        sent = await self._store.deliveries.sent_for_guild(guild_id, article_id)
        posts = [
            (row.target_id, row.message_id)
            for row in sent
            if row.target_kind == "channel" and row.message_id is not None
        ]
        return posts, sum(1 for row in sent if row.target_kind == "dm")

    async def remove_posts(
        self, guild_id: int, actor_id: int, article_id: str, delete: DeletePost
    ) -> Removal:
        """Delete, with ``delete``, the posts of an article retracted in this guild that are
        still up there (read from the store for this guild only); each post is deleted by
        one press however many moderators press at once. A post counts as removed only once
        Discord said it is gone; one that stays (no access, a refusal, no answer), or whose
        press died before Discord answered, can be pressed for again. Written to the audit
        log when any post went."""
        found = await self._store.publication.get(guild_id, article_id)
        if found is None:
            raise UserError("No such article here. Nothing was deleted.")
        title = shown_title(found.article.title)
        if found.state != "retracted":
            why = "is published here" if found.state == "published" else "was not retracted here"
            raise UserError(f"“{title}” {why}, so its posts stay. Nothing was deleted.")
        now = self._clock()
        claimer = f"{self.run}:{next(self._presses)}"
        posts = await self._store.deliveries.claim_posts(
            guild_id, found.article.id, claimer, now, now - REMOVAL_LEASE
        )
        if not posts:
            await self._none_to_claim(guild_id, found.article.id, title)
        results: list[PostRemoval] = []
        audit = RemovalAudit(self._store, guild_id, actor_id, found.article.id, now)
        await self._delete_each(guild_id, found.article.id, posts, delete, claimer, results, audit)
        return Removal(found, results)

    async def _none_to_claim(self, guild_id: int, article_id: str, title: str) -> NoReturn:
        """Say why a press found no post to delete: none is up, or another press is deleting
        those still up (until Discord confirms, or its claim runs out)."""
        up, _ = await self._sent(guild_id, article_id)
        if not up:
            raise UserError(
                f"No post of “{title}” is left to delete here: they were deleted already."
            )
        raise PostsBeingDeleted(
            f"The posts of “{title}” still up are being deleted by another press. If they are "
            "still up in a few minutes, press again.",
            len(up),
        )

    async def _delete_each(
        self,
        guild_id: int,
        article_id: str,
        posts: list[tuple[int, int]],
        delete: DeletePost,
        claimer: str,
        results: list[PostRemoval],
        audit: RemovalAudit,
    ) -> None:
        """Delete each claimed post still this press's, appending what became of it to
        ``results``: confirmed removed (and counted in the audit log with it) once Discord
        said it is gone, else released."""
        deliveries = self._store.deliveries
        left = list(posts)
        try:
            for post in posts:
                if await deliveries.renew_post_claim(
                    guild_id, article_id, post, claimer, self._clock()
                ):
                    result = await delete(*post)
                    results.append(result)
                    if result.outcome in TAKEN_DOWN:
                        async with self._store.transaction():
                            await deliveries.confirm_post_removed(
                                guild_id, article_id, post, self._clock()
                            )
                            await audit.count(results)
                    else:
                        await deliveries.release_post_claims(guild_id, article_id, [post], claimer)
                # else: its claim ran out and another press took it over
                left.remove(post)
        except BaseException:
            # Not asked, or no answer: up again. Should the store fail too, the claims run
            # out by themselves (REMOVAL_LEASE), or go with this run (``release_claims``).
            with contextlib.suppress(Exception):
                await deliveries.release_post_claims(guild_id, article_id, left, claimer)
            raise

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
        among: StateFilter = "unpublished" if state == "published" else "retractable"
        current = await self.article(guild_id, article_id, among)
        if queued and current.state != "pending":
            raise no_longer_waiting(current)
        if current.state == state:
            word = "published" if state == "published" else "not published"
            raise UserError(f"“{shown_title(current.article.title)}” is already {word} here.")
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
                f"“{shown_title(now.article.title)}” was just decided by someone else: it is "
                f"{word} here now. Nothing changed."
            )
        return GuildArticle(current.article, state), cancelled

    async def queue(
        self,
        guild_id: int,
        *,
        page_size: int,
        page: int = 1,
        anchor: tuple[QueueWay, str] | None = None,
    ) -> QueuePage:
        """Pending articles, newest first, one page: placed by ``anchor``, a way and an
        article (``at`` it, its page again after a decision; just ``older`` than it, Next;
        just ``newer``, Previous), so that items decided or arriving while a moderator pages
        neither repeat nor skip one; else page ``page`` (clamped), the newest by default. A
        page whose neighbours all went meanwhile is the newest."""
        publication = self._store.publication
        total = await publication.count(guild_id, "pending")
        if anchor is not None:
            way, article_id = anchor
            items = await publication.pending_by_key(guild_id, article_id, way, limit=page_size)
        else:
            window = page_window(total, page, page_size)
            items = await publication.pending(guild_id, limit=page_size, offset=window.offset)
        if not items:
            items = await publication.pending(guild_id, limit=page_size)
        if not items:
            return QueuePage([], 1, total, False, False)
        newer = await publication.pending_newer(guild_id, items[0].article.id)
        older = await publication.pending_by_key(guild_id, items[-1].article.id, "older", limit=1)
        return QueuePage(items, newer + 1, total, newer > 0, bool(older))

    async def audit(
        self,
        guild_id: int,
        *,
        page_size: int,
        page: int = 1,
        older_than: int | None = None,
        newer_than: int | None = None,
    ) -> AuditPage:
        """The guild's audit log, newest first, one page: the entries just older than entry
        ``older_than`` (Next), or just newer than entry ``newer_than`` (Previous), so that
        entries written while a moderator pages neither repeat nor skip one; else page
        ``page`` (clamped), the newest by default. A page whose neighbours went meanwhile
        (pruned) is the newest."""
        log = self._store.audit
        total = await log.count(guild_id)
        if newer_than is not None:
            entries = await log.following(guild_id, newer_than, limit=page_size)
        elif older_than is not None:
            entries = await log.recent(guild_id, limit=page_size, before=older_than)
        else:
            window = page_window(total, page, page_size)
            entries = await log.recent(guild_id, limit=page_size, offset=window.offset)
        if not entries:
            entries = await log.recent(guild_id, limit=page_size)
        newer = await log.count_after(guild_id, entries[0].id) if entries else 0
        older = bool(entries) and bool(await log.recent(guild_id, limit=1, before=entries[-1].id))
        return AuditPage(entries, newer + 1, total, newer > 0, older)

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
        new_topic: bool = False,
    ) -> GuildArticle:
        """Add an article for this guild only; publish it here at once if asked. A topic
        spelt close to one the guild knows (``climte`` for Climate) is refused, asking which
        was meant, unless ``new_topic`` says a new topic is wanted."""
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
        topic_names = await self._known_topic_names(guild_id, topic_names, new_topic)
        existing = await self._store.articles.get_by_url(canonical)
        if existing is not None and existing.coverage_only:
            raise UserError(
                f"That link is another outlet's coverage (`{existing.id}`), listed in a story's "
                "file: it shows with that story, and can't be added or published on its own."
            )
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

    async def _known_topic_names(
        self, guild_id: int, names: list[str], new_topic: bool
    ) -> list[str]:
        """Each typed topic as the topic the guild already knows by that name, else by the
        name folded alike ('quebec' for Québec), so that the article reaches the feeds and
        members following it rather than starting a twin topic; a new name as typed, unless
        it is spelt close to known ones and ``new_topic`` is not given (a UserError naming
        them); a name several topics fold as is a UserError asking which."""
        resolved: dict[str, str] = {}
        topics = GuildTopics(self._store, guild_id)
        for name in names:
            if await topics.exact(name) is None:
                alike = await topics.alike(name)
                if len(alike) > 1:
                    raise UserError(
                        f"`topics`: “{shown(name)}” could be "
                        f"{either(t.name for t in alike)}. Type the one you mean as it is written."
                    )
                if not alike and not new_topic:
                    await refuse_a_twin(topics, name)
                name = alike[0].name if alike else name
            resolved.setdefault(topic_key(name), name)
        return list(resolved.values())

    async def article_by_url(self, guild_id: int, canonical: str) -> GuildArticle:
        """The guild's view of the article stored under this canonical URL."""
        article = await self._store.articles.get_by_url(canonical)
        if article is None:
            raise UserError("That article is not stored.")
        return await self.article(guild_id, article.id)
