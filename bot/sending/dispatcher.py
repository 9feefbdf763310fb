"""Sending the outbox to Discord: channel posts, instant DMs and digests.

A row is marked sent only after Discord accepted the message, and every send carries a nonce
derived from the row (discord.py sends it with ``enforce_nonce``), so a crash between the
send and the commit does not post twice. Sends are paced under Discord's limits.

Where several senders share the outbox (PostgreSQL), the rows a run takes are claimed under a
lease: before each send the dispatcher renews its claim on the row and leaves a row another
sender took over to that sender (which sends it with the same nonce); a write-back refused
for such a row (``ClaimLost``) is a takeover, logged and counted as one, not a failure.

The dispatcher is given what it uses (the store, the delivery settings, a clock, the metrics,
the digest schedule and a ``Sender``), not the bot: it reads no guild cache, so it sends as
well from a client logged in over REST only.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import aiohttp
import discord

from bot.config import DeliverySettings
from bot.domain.delivery import (
    DM_PAUSES,
    Failure,
    classify_failure,
    pause_reason,
    retry_delay,
    stale_dm_channel,
)
from bot.domain.membership import Membership
from bot.observability.logs import delivery_ids, log_failure
from bot.observability.metrics import Metrics
from bot.sending.pacing import Pacer
from bot.sending.sender import Outgoing, Sender
from bot.sending.summary import SendSummary
from bot.ui.alerts import UnsubscribeButton, alert_embed, digest_message, paused_feed_notice
from storage.api import StoreApi, shares_the_outbox
from storage.models import Article, Feed
from storage.outbox.rows import Delivery, DeliveryKey, nonce_for
from storage.outbox.sends import ClaimLost
from storage.related import MAX_COVERAGE

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# A guild's (or, for None, the deployment's) next daily and weekly digest moments after now.
DigestTimes = Callable[[int | None, datetime], Awaitable[tuple[datetime, datetime]]]
# Digests are checked for members who left (and sent) this many members at a time: the
# checks of a slice are asked together, and the first digests need not wait for them all.
DIGEST_MEMBERS_PER_CHECK = 50
# A member who got a digest of a kind from a server this recently gets no second one: its
# items wait for the next digest of that kind. A publication whose write straddles the digest
# minute commits rows due at that minute just after the digest went out, and the next digest
# run (at once, or after a run of thousands of digests, minutes later) would send them alone.
# An hour covers that run (10,000 digests take about 7 minutes at the paced rate) and is far
# shorter than a digest's period; only a moderator moving the digest time by less than an
# hour just after a digest meets it, and that server's members then get one digest that day.
DIGEST_REPEAT_GUARD = timedelta(hours=1)
# How often the sending job looks for paused feeds whose moderator was not told (the DM at
# the pause got no answer from Discord, or the process stopped in between).
PAUSE_NOTICE_SWEEP = timedelta(minutes=15)
PAUSE_NOTICES_PER_SWEEP = 50


def pacer_for(settings: DeliverySettings) -> Pacer:
    """A pacer at the settings' limits (one per bot: every send it makes goes through it)."""
    return Pacer(
        per_channel=settings.channel_messages_per_5s,
        global_per_second=settings.global_requests_per_second,
    )


class SendFailed(Exception):
    """Discord did not accept a message; ``failure`` says what that means."""

    def __init__(self, failure: Failure) -> None:
        self.failure = failure
        super().__init__(failure.description)


class Dispatcher:
    """Sends due deliveries; one instance per bot."""

    def __init__(
        self,
        store: StoreApi,
        settings: DeliverySettings,
        sender: Sender,
        *,
        clock: Clock,
        metrics: Metrics,
        digest_times: DigestTimes,
        pacer: Pacer | None = None,
        story_window: timedelta = timedelta(hours=72),
    ) -> None:
        self._store = store
        self._story_window = story_window
        self._settings = settings
        self._sender = sender
        self._clock = clock
        self._metrics = metrics
        self._digest_times = digest_times
        self._pacer = pacer or pacer_for(settings)
        if warning := settings.pacing_warning():
            log.warning("%s", warning)
        self._dm_lock = asyncio.Lock()
        self._membership = Membership(
            store,
            self.ask_member,
            fresh_for=timedelta(hours=settings.member_check_hours),
            clock=clock,
        )
        self._coverage: dict[tuple[int, int], asyncio.Future[list[Article]]] = {}
        self._guild_names: dict[int, str] = {}
        self._next_notice_sweep: datetime | None = None  # None: at the first sending run

    # --- instant posts and DMs -------------------------------------------------------------

    async def send_due(
        self,
        *,
        batch: int = 500,
        concurrency: int = 64,
        more: Callable[[], Awaitable[bool]] | None = None,
    ) -> SendSummary:
        """Send what is due: one worker per target, each target's rows in order. Rows are
        claimed ``batch`` at a time; with ``more`` (the worker lease check), while a claim
        comes back full the next is claimed as soon as fewer than half a batch wait, if
        ``more()`` still says so: the workers never wait for a whole batch to end (its
        slowest channel) nor for the next claim, so a backlog goes out at the paced rate."""
        summary = SendSummary()
        self._coverage.clear()
        self._guild_names.clear()  # read once a run: a renamed server shows its new name
        run = _SendRun(
            self._store,
            self._clock,
            self._send_row,
            self._pacer.channel_open,
            summary=summary,
            batch=batch,
            more=more,
            cancel_stale=self.cancel_stale_due,
        )
        try:
            await run.run(concurrency)
            await self.tell_paused_feeds()
        finally:
            self._metrics.count_sends(summary)
        return summary

    async def _send_row(
        self, delivery: Delivery, articles: dict[int, Article], summary: SendSummary
    ) -> bool:
        """Send one claimed row; True when its target refused for good."""
        article = articles.get(delivery.article_pk)
        if article is None:
            return False
        try:
            return await self._send_one(delivery, article, summary)
        except ClaimLost as lost:
            self._taken_over(lost.rows, summary)
        except Exception as error:  # one bad row must not stop the others
            log_failure(log, error, "delivery %s could not be sent", delivery.label,
                        extra=delivery_ids(delivery))  # fmt: skip
        return False

    async def _send_one(self, delivery: Delivery, article: Article, summary: SendSummary) -> bool:
        """Send one row; True when the target refused for good."""
        if not await self._held([delivery], summary):
            return False
        if delivery.target_kind == "dm":
            if await self._membership.gone([(delivery.guild_id, delivery.target_id)]):
                summary.left += 1  # cancelled with the member's other rows from that server
                return False
            if await self._told_of_story(delivery):
                await self._store.deliveries.give_up(
                    [delivery], "skipped", "already sent through another server"
                )
                return False
            if await self._over_hourly_cap(delivery):
                summary.to_digest += 1
                return False
        try:
            message_id = await self._post(delivery, article, summary)
        except SendFailed as error:
            return await self._handle_failure(delivery, error.failure, summary)
        if message_id is None:
            return False  # retracted, or taken over, while it waited for its turn
        await self._store.deliveries.mark_sent([delivery], message_id, self._clock())
        await self._store.deliveries.record_success(delivery, resume=DM_PAUSES)
        summary.sent += 1
        return False

    async def _held(self, rows: list[Delivery], summary: SendSummary) -> list[Delivery]:
        """The rows (of ``rows``) this sender still holds, their lease renewed; where no other
        sender shares the outbox (SQLite), those still pending (a moderator's /unpublish
        cancels rows already read into the queues)."""
        deliveries = self._store.deliveries
        if shares_the_outbox(deliveries):
            held = await deliveries.renew_claims(rows, self._clock())
        else:
            held = await deliveries.still_pending(rows)
        kept = {row.key for row in held}
        self._taken_over([row for row in rows if row.key not in kept], summary)
        return held

    def _taken_over(self, rows: list[Delivery], summary: SendSummary) -> None:
        """Rows whose lease ran out and that another sender claimed: they are its to send
        (with the same nonce), so this one leaves them; not a failed delivery. Rows cancelled
        while this sender held them (a moderator's /unpublish) are left the same way."""
        for row in rows:
            log.info(
                "delivery %s is no longer this sender's (another sender took it over, or it "
                "was cancelled meanwhile): left as it is",
                row.label,
                extra=delivery_ids(row),
            )
        summary.taken_over += len(rows)

    async def _told_of_story(self, delivery: Delivery) -> bool:
        """Whether the member was already sent this article, or another outlet's copy of its
        story within the story window, by DM: through another of their servers (each server
        plans its own rows), an alert or a digest alike. One alert per story in their DMs."""
        return await self._store.deliveries.already_told(
            delivery.target_id, delivery.article_pk, story_since=self._story_since()
        )

    def _story_since(self) -> datetime:
        """Since when another outlet's copy of a story counts as the story already sent."""
        return self._clock() - self._story_window

    async def _over_hourly_cap(self, delivery: Delivery) -> bool:
        now = self._clock()
        sent = await self._store.deliveries.instant_dms_since(
            delivery.target_id, now - timedelta(hours=1)
        )
        if sent < self._settings.dm_cap_per_hour:
            return False
        daily, _ = await self._digest_times(delivery.guild_id, now)
        await self._store.deliveries.move_to_digest(
            delivery, daily, f"over {self._settings.dm_cap_per_hour} alerts an hour"
        )
        return True

    async def _also_covered(self, delivery: Delivery, article: Article) -> list[Article]:
        """Other outlets' coverage known so far that the guild's members see: the story's own
        coverage as ``/related`` lists it (once per article and guild in a run: 100k DMs, or
        the workers of every channel asking at once, share one lookup)."""
        key = (delivery.article_pk, delivery.guild_id)
        lookup = self._coverage.get(key)
        if lookup is None:
            lookup = asyncio.ensure_future(self._coverage_of(article, delivery.guild_id))
            self._coverage[key] = lookup
        try:
            return await asyncio.shield(lookup)  # one worker cancelled cancels no other's
        except Exception:
            if self._coverage.get(key) is lookup:
                del self._coverage[key]  # a failed lookup is tried again by the next row
            raise

    async def _coverage_of(self, article: Article, guild_id: int) -> list[Article]:
        found = await self._store.related.story(article.id, None, guild_id, coverage=MAX_COVERAGE)
        return [link.article for link in found.coverage] if found else []

    async def _mention_roles(self, delivery: Delivery) -> list[int]:
        """The row's feed's role, then those of the channel's other feeds taking the article:
        the channel gets one post, which pings each role a feed there asked for."""
        others = await self._store.feeds.mention_roles(
            delivery.guild_id,
            delivery.target_id,
            delivery.article_pk,
            default_bar=self._settings.default_min_quality,
        )
        own = [delivery.mention_role_id] if delivery.mention_role_id else []
        return list(dict.fromkeys(own + others))

    async def _post(self, delivery: Delivery, article: Article, summary: SendSummary) -> int | None:
        """Post the row's alert; None when, its turn come, the row is no longer this sender's
        to send (``_held``)."""
        related = await self._also_covered(delivery, article)
        where = await self._guild_name(delivery.guild_id) if delivery.target_kind == "dm" else None
        embed = alert_embed(article, related, delivery, where)
        if delivery.target_kind == "channel":
            channel_id = delivery.target_id
            roles = await self._mention_roles(delivery)
            content = " ".join(f"<@&{role}>" for role in roles) or None
            mentions = (
                discord.AllowedMentions(
                    roles=[discord.Object(role) for role in roles], everyone=False, users=False
                )
                if roles
                else discord.AllowedMentions.none()
            )
            view = None
        else:
            channel_id = await self._dm_channel(delivery.target_id)
            content, mentions = None, discord.AllowedMentions.none()
            view = discord.ui.View(timeout=None)
            if delivery.topic_id is not None:
                view.add_item(UnsubscribeButton(delivery.guild_id, delivery.topic_id))
        message = Outgoing(delivery.nonce, mentions, content=content, embeds=[embed], view=view)
        await self._pacer.wait(channel_id)
        # Asked again at the last moment: a row waits for its DM channel and its turn in the
        # pacing (seconds, with many rows under way), and a moderator's /unpublish (answered by
        # any process) cancels it meanwhile, or another sender takes it over.
        if not await self._held([delivery], summary):
            return None
        return await self._request(channel_id, message, kind=delivery.target_kind)

    async def _send(self, channel_id: int, message: Outgoing, *, kind: str) -> int:
        """Send, paced; the message's id. Raises ``SendFailed``."""
        await self._pacer.wait(channel_id)
        return await self._request(channel_id, message, kind=kind)

    async def _request(self, channel_id: int, message: Outgoing, *, kind: str) -> int:
        """Send now (the pacing let it go); the message's id. Raises ``SendFailed``."""
        metrics = self._metrics
        try:
            with metrics.send_seconds.time():
                message_id = await asyncio.wait_for(
                    self._sender.post(channel_id, message), self._settings.request_timeout_seconds
                )
            metrics.messages_sent.labels(kind).inc()
            return message_id
        except discord.RateLimited as error:
            waited = f"rate limited for {error.retry_after:.0f}s"
            raise SendFailed(Failure("retry", waited, retry_after=error.retry_after)) from None
        except discord.HTTPException as error:
            raise SendFailed(classify_failure(error.status, error.code, error.text)) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            raise SendFailed(classify_failure(None, None, type(error).__name__)) from None

    async def _dm_channel(self, user_id: int) -> int:
        """The member's DM channel: kept in the store, created once."""
        known = await self._store.deliveries.dm_channel(user_id)
        if known is not None:
            return known
        async with self._dm_lock:
            await self._pacer.wait(None)
            try:
                channel_id = await asyncio.wait_for(
                    self._sender.open_dm(user_id), self._settings.request_timeout_seconds
                )
            except discord.HTTPException as error:
                raise SendFailed(classify_failure(error.status, error.code, error.text)) from None
            except (TimeoutError, aiohttp.ClientError, OSError) as error:
                raise SendFailed(classify_failure(None, None, type(error).__name__)) from None
            await self._store.deliveries.save_dm_channel(user_id, channel_id)
            return channel_id

    async def _handle_failure(
        self, delivery: Delivery, failure: Failure, summary: SendSummary
    ) -> bool:
        deliveries = self._store.deliveries
        failure = await self._forget_stale_dm_channel(delivery, failure)
        if failure.kind == "retry":
            if delivery.attempts + 1 >= self._settings.max_attempts:
                await deliveries.give_up([delivery], "dead", failure.description)
                summary.dead += 1
                log.warning(
                    "delivery %s gave up after retries: %s",
                    delivery.label,
                    failure.description,
                    extra=delivery_ids(delivery),
                )
            else:
                delay = max(
                    failure.retry_after,
                    retry_delay(
                        delivery.attempts,
                        base_seconds=self._settings.retry_base_seconds,
                        cap_seconds=self._settings.retry_cap_seconds,
                    ),
                )
                await deliveries.retry_later(
                    [delivery], self._clock() + timedelta(seconds=delay), failure.description
                )
                summary.retried += 1
            return False
        await deliveries.give_up([delivery], "failed", failure.description)
        summary.failed += 1
        if failure.kind == "message":
            log.error(
                "Discord refused delivery %s: %s",
                delivery.label,
                failure.description,
                extra=delivery_ids(delivery),
            )
            return False
        summary.failed += await deliveries.fail_pending_for_target(
            delivery.target_kind, delivery.target_id, failure.description
        )
        threshold = 1 if failure.kind == "target_gone" else self._settings.disable_after_failures
        reason = pause_reason(failure, delivery.target_kind)
        paused = await deliveries.record_failure(
            delivery, reason, threshold=threshold, now=self._clock()
        )
        log.warning(
            "%s %d refused: %s",
            delivery.target_kind,
            delivery.target_id,
            failure.description,
            extra=delivery_ids(delivery),
        )
        if paused:
            summary.paused.append(f"{delivery.target_kind} {delivery.target_id}")
            if delivery.target_kind == "channel" and delivery.feed_id is not None:
                await self._tell_moderators(delivery)
        return True

    async def _tell_moderators(self, delivery: Delivery) -> None:
        """The delivery's feed was just paused: DM the moderator who set it up."""
        assert delivery.feed_id is not None
        feeds = await self._store.feeds.for_guild(delivery.guild_id)
        feed = next((f for f in feeds if f.id == delivery.feed_id), None)
        if feed is not None:
            await self._tell_paused(feed)

    async def tell_paused_feeds(self) -> int:
        """Every ``PAUSE_NOTICE_SWEEP``: tell the moderators of paused feeds who were not
        told; how many were."""
        now = self._clock()
        if self._next_notice_sweep is not None and now < self._next_notice_sweep:
            return 0
        self._next_notice_sweep = now + PAUSE_NOTICE_SWEEP
        told = 0
        try:
            for feed in await self._store.feeds.paused_untold(PAUSE_NOTICES_PER_SWEEP):
                told += await self._tell_paused(feed)
        except Exception as error:
            # the run's sends are done and recorded; a notice waits for the next sweep
            log_failure(log, error, "could not tell moderators of paused feeds")
        return told

    async def _tell_paused(self, feed: Feed) -> bool:
        """Once per pause, whichever process gets there first: DM the moderator who set the
        feed up. Without an answer from Discord, the notice is left for the next sweep; a
        member who refuses DMs is not asked again."""
        if not await self._store.feeds.claim_pause_notice(feed.id, self._clock()):
            return False
        name = await self._guild_name(feed.guild_id)
        notice = paused_feed_notice(feed, name, feed.disabled_reason or "")
        # one nonce per pause (its reason names its moment): a retry of this notice is not
        # posted twice, the notice of a later pause is posted
        nonce = nonce_for("tbp", feed.id, feed.disabled_reason)
        message = Outgoing(nonce, discord.AllowedMentions.none(), content=notice)
        try:
            channel_id = await self._dm_channel(feed.created_by)
            await self._send(channel_id, message, kind="notice")
        except SendFailed as error:
            again = error.failure.kind == "retry"
            if again:
                await self._store.feeds.release_pause_notice(feed.id)
            log.warning(
                "could not tell moderator %d about feed %d: %s%s",
                feed.created_by,
                feed.id,
                error,
                "; tried again later" if again else "",
                extra={"guild": feed.guild_id, "user": feed.created_by},
            )
            return False
        return True

    # --- digests -----------------------------------------------------------------------------

    async def cancel_stale_due(self) -> int:
        """Cancel the due rows nobody wants any more (``cancel_stale_due`` of the store),
        with the quality bar of feeds and guilds that set none, and skip those whose time came
        longer ago than ``delivery.max_age_hours``: after a long downtime, or on a backup
        restored long after it was taken, they are old news that may have gone out already."""
        bar = self._settings.default_min_quality
        now = self._clock()
        late = now - timedelta(hours=self._settings.max_age_hours)
        return await self._store.deliveries.cancel_stale_due(now, default_bar=bar, late=late)

    async def send_digests(self, *, batch: int = 20_000) -> SendSummary:
        """One DM per member and digest kind with the top items by quality; none if empty."""
        summary = SendSummary()
        try:
            await self._send_due_digests(summary, batch)
        finally:
            self._metrics.count_sends(summary)
        return summary

    async def _send_due_digests(self, summary: SendSummary, batch: int) -> None:
        self._guild_names.clear()  # read once a run: a renamed server shows its new name
        # The digest job is woken at the digest minute, before the sending job's next claim
        # (which cancels what is stale): what a member unsubscribed from, or a file retracted,
        # must not go out in the digest meanwhile.
        await self.cancel_stale_due()
        rows = await self._store.deliveries.due_digest_rows(self._clock(), limit=batch)
        groups: dict[tuple[int, str], list[Delivery]] = defaultdict(list)
        for row in rows:
            groups[(row.target_id, row.mode)].append(row)
        if len(rows) == batch and len(groups) > 1:
            groups.pop(next(reversed(groups)))  # may be cut short: sent whole next time
        members = list(groups.items())
        for start in range(0, len(members), DIGEST_MEMBERS_PER_CHECK):
            part = members[start : start + DIGEST_MEMBERS_PER_CHECK]
            gone = await self._membership.gone(
                (row.guild_id, user_id) for (user_id, _), member_rows in part for row in member_rows
            )
            recent = await self._store.deliveries.recent_digests(
                [user_id for (user_id, _), _ in part], self._clock() - DIGEST_REPEAT_GUARD
            )
            for (user_id, mode), member_rows in part:
                kept = [row for row in member_rows if (row.guild_id, user_id) not in gone]
                summary.left += len(member_rows) - len(kept)
                try:
                    kept = await self._not_repeated(kept, recent, summary)
                    if kept:
                        await self._send_digest(user_id, mode, kept, summary)
                except ClaimLost as lost:
                    self._taken_over(lost.rows, summary)

    async def _not_repeated(
        self, rows: list[Delivery], recent: set[tuple[int, int, str]], summary: SendSummary
    ) -> list[Delivery]:
        """The rows whose server sent their member no digest of their kind lately
        (``DIGEST_REPEAT_GUARD``); the others are moved to that server's next one."""
        repeats: dict[int, list[Delivery]] = defaultdict(list)
        for row in rows:
            if (row.guild_id, row.target_id, row.mode) in recent:
                repeats[row.guild_id].append(row)
        now = self._clock()
        for guild_id, moved in repeats.items():
            daily, weekly = await self._digest_times(guild_id, now)
            mode = moved[0].mode
            note = f"a {mode} digest had just gone out: the next one"
            await self._store.deliveries.move_to_next_digest(
                moved, daily if mode == "daily" else weekly, note
            )
            summary.deferred += len(moved)
        return [row for row in rows if row.guild_id not in repeats]

    async def _send_digest(
        self, user_id: int, mode: str, rows: list[Delivery], summary: SendSummary
    ) -> None:
        rows = await self._held(rows, summary)
        told_pks = await self._store.deliveries.told_of(
            user_id, [row.article_pk for row in rows], story_since=self._story_since()
        )
        told = [row for row in rows if row.article_pk in told_pks]
        if told:
            await self._store.deliveries.give_up(
                told, "skipped", "already sent through another server"
            )
            skipped = {row.key for row in told}
            rows = [row for row in rows if row.key not in skipped]
        if not rows:
            return
        articles = await self._store.articles.load([r.article_pk for r in rows])
        names = {
            guild_id: await self._guild_name(guild_id) for guild_id in {r.guild_id for r in rows}
        }
        await self._send_digest_messages(user_id, mode, rows, articles, names, summary)

    async def _send_digest_messages(
        self,
        user_id: int,
        mode: str,
        rows: list[Delivery],
        articles: dict[int, Article],
        names: dict[int, str],
        summary: SendSummary,
    ) -> None:
        """The digest in as many messages as its items take, up to ``digest_messages`` (the
        last counting what did not fit: those rows are skipped, never sent later), each
        marked sent once Discord took it; a message Discord does not take leaves it and the
        rest to ``_digest_failed`` (a continuation retried comes with the next digest: the
        repeat guard)."""
        most = self._settings.digest_messages
        shown = sent_messages = 0
        while rows:
            if shown:  # the rows still to send: their leases renewed, cancelled ones left out
                rows = await self._held(rows, summary)
                if not rows:
                    return
            last = sent_messages + 1 >= most
            part = digest_message(
                mode,
                rows,
                articles,
                names,
                limit=self._settings.digest_items,
                start=shown,
                last=last,
            )
            if not part.rows:  # cannot happen (a message always holds an item): never loop
                raise AssertionError("a digest message that holds no item")
            nonce = nonce_for("tbd", mode, sorted(r.key for r in part.rows))
            message = Outgoing(nonce, discord.AllowedMentions.none(), embeds=part.embeds)
            try:
                channel_id = await self._dm_channel(user_id)
                message_id = await self._send(channel_id, message, kind="digest")
            except SendFailed as error:
                await self._digest_failed(rows, error.failure, summary)
                return
            try:
                await self._store.deliveries.mark_sent(part.rows, message_id, self._clock())
            except ClaimLost as lost:  # the rest were written: sent by this sender
                summary.sent += len(part.rows) - len(lost.rows)
                raise
            if not shown:
                await self._store.deliveries.record_success(part.rows[0], resume=DM_PAUSES)
            summary.sent += len(part.rows)
            shown += part.articles
            sent_messages += 1
            taken = {row.key for row in part.rows}
            rows = [row for row in rows if row.key not in taken]
            if last and rows:
                await self._store.deliveries.give_up(
                    rows, "skipped", f"past the digest's {most} messages (counted in the last)"
                )
                summary.left_out += len(rows)
                return

    async def _digest_failed(
        self, rows: list[Delivery], failure: Failure, summary: SendSummary
    ) -> None:
        deliveries = self._store.deliveries
        failure = await self._forget_stale_dm_channel(rows[0], failure)
        if failure.kind == "retry":
            if rows[0].attempts + 1 < self._settings.max_attempts:
                delay = max(
                    failure.retry_after,
                    retry_delay(
                        rows[0].attempts,
                        base_seconds=self._settings.retry_base_seconds,
                        cap_seconds=self._settings.retry_cap_seconds,
                    ),
                )
                at = self._clock() + timedelta(seconds=delay)
                await deliveries.retry_later(rows, at, failure.description)
                summary.retried += len(rows)
            else:
                await deliveries.give_up(rows, "dead", failure.description)
                summary.dead += len(rows)
            return
        if failure.kind == "message":
            await deliveries.give_up(rows, "failed", failure.description)
            summary.failed += len(rows)
            log.error(
                "Discord refused a digest for %d: %s",
                rows[0].target_id,
                failure.description,
                extra={"user": rows[0].target_id},
            )
            return
        # the member refused DMs: this fails all their pending rows and counts the refusal
        await self._handle_failure(rows[0], failure, summary)

    async def _forget_stale_dm_channel(self, delivery: Delivery, failure: Failure) -> Failure:
        """For a DM Discord answered "Unknown Channel": forget the member's kept channel (which
        every server's DMs share), so that the retry opens one, rather than pausing them
        everywhere; any other failure as it is."""
        retry = stale_dm_channel(failure, delivery.target_kind)
        if retry is None:
            return failure
        kept = await self._store.deliveries.dm_channel(delivery.target_id)
        if kept is not None:
            await self._store.deliveries.forget_dm_channel(delivery.target_id, kept)
        return retry

    async def ask_member(self, guild_id: int, user_id: int) -> bool | None:
        """Discord's answer to whether the member is in the server, paced with the sends (it
        counts against the bot's global limit); None when it gave none in time. Housekeeping
        asks it too, of a member whose data is due to go for having left."""
        await self._pacer.wait(None)
        try:
            return await asyncio.wait_for(
                self._sender.member_of(guild_id, user_id), self._settings.request_timeout_seconds
            )
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            log.warning(
                "could not ask whether member %d is in server %d (%s)",
                user_id,
                guild_id,
                type(error).__name__,
                extra={"guild": guild_id, "user": user_id},
            )
            return None

    async def _guild_name(self, guild_id: int) -> str:
        """The server's name, asked of Discord once a run; "server <id>" when it cannot be
        read (the bot was removed, Discord is slow): the message goes out anyway."""
        if guild_id not in self._guild_names:
            await self._pacer.wait(None)
            try:
                name = await asyncio.wait_for(
                    self._sender.guild_name(guild_id), self._settings.request_timeout_seconds
                )
            except (TimeoutError, aiohttp.ClientError, OSError):
                name = None
            self._guild_names[guild_id] = name or f"server {guild_id}"
        return self._guild_names[guild_id]


# Sends one claimed row (given the run's articles and summary); True when its target refused.
SendRow = Callable[[Delivery, dict[int, Article], SendSummary], Awaitable[bool]]


class _SendRun:
    """One run of ``Dispatcher.send_due``: claims feed per-target queues, one worker per
    target drains its queue in order, and the next claim is made while the workers send.
    That needs claims: on SQLite, where ``due`` reads the pending rows again until they are
    written back, the next batch is read once every row of the last is done with.

    At most ``concurrency`` rows are being sent at once; a channel's worker waits for room in
    its channel's window before it takes a place among them, so that channels waiting out
    their window leave the places to the others (with a place held through the wait, 64
    channels out of 100 sent their whole backlog before the other 36 began, which then sent
    alone, at one post a second each, under half the global pace)."""

    def __init__(
        self,
        store: StoreApi,
        clock: Clock,
        send_row: SendRow,
        channel_open: Callable[[int], Awaitable[None]],
        *,
        summary: SendSummary,
        batch: int,
        more: Callable[[], Awaitable[bool]] | None,
        cancel_stale: Callable[[], Awaitable[int]],
    ) -> None:
        self._store = store
        self._cancel_stale = cancel_stale
        self._clock = clock
        self._send_row = send_row
        self._channel_open = channel_open
        self._summary = summary
        self._batch = batch
        self._more = more
        self._queues: dict[tuple[str, int], deque[Delivery]] = {}
        self._refused: set[tuple[str, int]] = set()
        self._articles: dict[int, Article] = {}
        self._overlap = shares_the_outbox(store.deliveries)
        self._waiting = 0  # rows claimed that no worker has taken yet
        self._known: set[DeliveryKey] = set()  # rows waiting or being sent
        self._low = asyncio.Event()  # set when fewer than half a batch wait
        self._progress = asyncio.Event()  # set when a row is done with (since the last claim)
        self._workers: set[asyncio.Task[None]] = set()

    async def run(self, concurrency: int) -> None:
        gate = asyncio.Semaphore(concurrency)
        try:
            await self._feed(gate)
        except asyncio.CancelledError:
            for worker in self._workers:
                worker.cancel()
            raise
        finally:
            results = await asyncio.gather(*self._workers, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                raise result

    async def _feed(self, gate: asyncio.Semaphore) -> None:
        full = await self._claim(gate)
        while full and self._more is not None:
            await self._low.wait()
            await self._progress.wait()  # a row of the last claim done: did any come to anything?
            if not self._summary.anything or not await self._more():
                return  # nothing could be done with them (wait a turn), or the lease is gone
            full = await self._claim(gate)

    async def _claim(self, gate: asyncio.Semaphore) -> bool:
        """Claim the next rows into the queues (a worker for each new target); whether the
        claim came back full."""
        store, clock = self._store, self._clock
        await self._cancel_stale()
        due = await store.deliveries.due(clock(), limit=self._batch)
        self._summary.full = len(due) >= self._batch
        wanted = [d.article_pk for d in due if d.article_pk not in self._articles]
        self._articles |= await store.articles.load(wanted)
        self._low.clear()
        self._progress.clear()
        waiting = self._waiting
        for delivery in due:
            target = (delivery.target_kind, delivery.target_id)
            if target in self._refused:
                continue  # failed with the rest of its target's rows, without a request
            if delivery.key in self._known:
                continue  # still waiting here past its lease, and claimed again by this sender
            self._known.add(delivery.key)
            self._waiting += 1
            queue = self._queues.get(target)
            if queue is not None:
                queue.append(delivery)  # its worker, still running, sends it in turn
                continue
            self._queues[target] = deque([delivery])
            worker = asyncio.create_task(self._work(target, gate))
            self._workers.add(worker)
        if self._waiting == waiting:
            self._progress.set()  # nothing queued: nothing to wait for
        self._note_waiting()
        return self._summary.full

    async def _work(self, target: tuple[str, int], gate: asyncio.Semaphore) -> None:
        queue = self._queues[target]  # only this worker takes rows from it
        kind, target_id = target
        while queue:
            if kind == "channel":
                await self._channel_open(target_id)
            async with gate:
                await self._send_next(target, queue)
        del self._queues[target]  # a later claim starts a new worker for it
        self._note_waiting()

    async def _send_next(self, target: tuple[str, int], queue: deque[Delivery]) -> None:
        delivery = queue.popleft()
        self._waiting -= 1
        self._note_waiting()
        refused = await self._send_row(delivery, self._articles, self._summary)
        self._known.discard(delivery.key)
        self._progress.set()
        if refused:
            self._refused.add(target)  # its other rows were failed without a request
            self._waiting -= len(queue)
            self._known.difference_update(row.key for row in queue)
            queue.clear()

    def _note_waiting(self) -> None:
        low = self._waiting < max(1, self._batch // 2) if self._overlap else not self._known
        if low:
            self._low.set()
