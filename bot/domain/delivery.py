"""Delivery rules: planning fan-out, digest times, retry policy and what Discord's answers mean.

Nothing here talks to Discord; the sender asks these functions what to do.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.config import DeliverySettings, DigestSettings
from bot.domain.digests import guild_schedule, schedule_of
from storage.api import StoreApi
from storage.outbox.plans import PlanCounts, Publication, SchedulesChanged
from storage.outbox.replans import Passing, Replan

Clock = Callable[[], datetime]

# Discord's JSON error codes that mean "this target will not work" (never retry these: Discord
# bans bots that make 10,000 invalid requests in 10 minutes).
CANNOT_DM = 50007
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
UNKNOWN_CHANNEL = 10003
UNKNOWN_USER = 10013
_TARGET_CODES = {CANNOT_DM, MISSING_ACCESS, MISSING_PERMISSIONS, UNKNOWN_USER}
_GONE_CODES = {UNKNOWN_CHANNEL}
# A plan rolled back because a digest schedule changed under it is written again at once, so
# often (then at the next planning run).
PLAN_ATTEMPTS = 3

FailureKind = Literal["retry", "target", "target_gone", "message"]


@dataclass(frozen=True, slots=True)
class Failure:
    """What a failed send means for the delivery and its target."""

    kind: FailureKind
    description: str
    code: int | None = None
    retry_after: float = 0.0


def classify_failure(status: int | None, code: int | None, text: str = "") -> Failure:
    """Sort Discord's answer: retry later, the target is refused (or gone), or this one
    message is bad. ``status`` None means no answer (timeout or connection error)."""
    detail = str(status or "no answer")
    if code:
        detail += f" (code {code})"
    if text:
        detail += f": {text[:200]}"
    if status is None or status == 429 or status >= 500:
        return Failure("retry", detail, code)
    if code in _GONE_CODES:
        return Failure("target_gone", detail, code)
    if code in _TARGET_CODES or status in (401, 403, 404):
        return Failure("target", detail, code)
    return Failure("message", detail, code)


# How the pauses of a member's subscriptions for refused DMs begin (``pause_reason``). Their DM
# channel is one for every server, so a refusal met on one server's alert pauses them in all;
# a DM that goes through again (the member allowed DMs and used /subscribe in one server)
# disproves it for all, and resumes them everywhere.
DM_PAUSES = ("Discord refused my DMs", "DMs keep failing")


def stale_dm_channel(failure: Failure, target_kind: str) -> Failure | None:
    """A DM refused as "Unknown Channel": the member's kept DM channel id is stale (one for
    every server, so this is no refusal by the member nor by any server); the DM is tried
    again on a channel opened afresh, as a retry. None for any other failure."""
    if target_kind != "dm" or failure.code != UNKNOWN_CHANNEL:
        return None
    return Failure("retry", f"{failure.description} (a new DM channel is opened)", failure.code)


def pause_reason(failure: Failure, target_kind: str) -> str:
    """Why a feed or subscription was paused, for /feed list and /subscriptions."""
    if failure.code == CANNOT_DM:
        return f"{DM_PAUSES[0]}: allow DMs from this server, then /subscribe again"
    if failure.code == UNKNOWN_CHANNEL:
        return "the channel no longer exists: /feed add another one"
    if target_kind == "channel":
        return "I can't post there: check my permissions, then /feed add again"
    return f"{DM_PAUSES[1]} ({failure.description})"


def retry_delay(
    attempt: int,
    *,
    base_seconds: float,
    cap_seconds: float,
    draw: Callable[[float, float], float] = random.uniform,
) -> float:
    """Exponential backoff with equal jitter: the ceiling is base * 2**attempt (at most the
    cap), and the delay is drawn between half the ceiling and all of it. The floor keeps a
    retry from coming at once; the jitter spreads retries that failed together."""
    ceiling = min(cap_seconds, base_seconds * (2**attempt))
    return draw(ceiling / 2, ceiling)


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """What one planning run did."""

    publications: int = 0
    channel_posts: int = 0
    direct_messages: int = 0
    skipped_old: int = 0

    def __str__(self) -> str:
        return (
            f"{self.publications} publications planned: {self.channel_posts} channel posts, "
            f"{self.direct_messages} DMs; {self.skipped_old} too old to post"
        )


class DeliveryPlanner:
    """Turns publications into outbox rows (fan-out), skipping the backlog."""

    def __init__(
        self,
        store: StoreApi,
        delivery: DeliverySettings,
        digests: DigestSettings,
        *,
        clock: Clock,
        story_window: timedelta = timedelta(hours=72),
        batch: int = 200,
    ) -> None:
        self._store = store
        self._delivery = delivery
        self._digests = digests
        self._story_window = story_window
        self._clock = clock
        self._batch = batch

    async def digest_times(self, guild_id: int | None, now: datetime) -> tuple[datetime, datetime]:
        """The guild's next daily and weekly digest moments (its own schedule, else the
        deployment's)."""
        if guild_id is None:
            return schedule_of(self._digests).next_moments(now)
        stored = await self._store.guild_settings.get(guild_id)
        return guild_schedule(stored, self._digests).next_moments(now)

    async def plan(self) -> PlanSummary:
        """Plan every unplanned publication: skip the old ones, fan out the rest. The age rule
        is checked again by the statements that select and write each plan (see
        ``storage.outbox.planning``), so what an ingest commits meanwhile cannot slip through."""
        now = self._clock()
        cutoff = now - timedelta(hours=self._delivery.max_age_hours)
        skipped = await self._store.deliveries.skip_backlog(cutoff, now)
        channel_posts = direct_messages = planned = 0
        for publication in await self._store.deliveries.unplanned(cutoff, limit=self._batch):
            # Each plan's digest moments from the clock as it is written: a run that began
            # before a digest minute and wrote on past it gave its later rows that minute, gone
            # out meanwhile, and members a second digest a second later.
            counts = await self._plan_one(publication, self._clock(), cutoff)
            if counts.skipped_old:
                skipped += 1
                continue
            channel_posts += counts.channel_posts
            direct_messages += counts.direct_messages
            planned += 1
        replanned = await self.replan(cutoff)
        return PlanSummary(
            planned,
            channel_posts + replanned.channel_posts,
            direct_messages + replanned.direct_messages,
            skipped,
        )

    async def replan(self, cutoff: datetime) -> PlanCounts:
        """Serve the lowered bars' requests (``bot.domain.replans``): plan the guild's fresh
        publications under the old bar again, for what each target missed. After the run's
        own plans, so that a publication not planned yet is planned whole first."""
        channel_posts = direct_messages = 0
        for replan in await self._store.deliveries.replans(limit=self._batch):
            passing = await self._store.deliveries.passing(
                replan.guild_id, cutoff, Passing(above=0, below=replan.below)
            )
            for publication in passing:
                counts = await self._plan_one(publication, self._clock(), cutoff, replan)
                channel_posts += counts.channel_posts
                direct_messages += counts.direct_messages
            await self._store.deliveries.replan_done(replan)
        return PlanCounts(channel_posts, direct_messages)

    async def _plan_one(
        self,
        publication: Publication,
        now: datetime,
        cutoff: datetime,
        replan: Replan | None = None,
    ) -> PlanCounts:
        for attempt in range(1, PLAN_ATTEMPTS + 1):
            try:
                return await self._write_plan(publication, now, cutoff, replan)
            except SchedulesChanged:  # a moderator changed a digest schedule meanwhile
                if attempt == PLAN_ATTEMPTS:
                    raise  # planned again at the next run
        raise AssertionError("unreachable")

    async def _write_plan(
        self, publication: Publication, now: datetime, cutoff: datetime, replan: Replan | None
    ) -> PlanCounts:
        deliveries = self._store.deliveries
        version = await deliveries.schedules_version()  # before the schedules it names
        in_use = await self._store.guild_settings.digest_schedules_in_use()
        default_due = schedule_of(self._digests).next_moments(now)
        digest_due = {key: schedule_of(self._digests, *key).next_moments(now) for key in in_use}
        story_since = now - self._story_window
        bar = self._delivery.default_min_quality
        if replan is not None:
            return await deliveries.write_replan(
                publication,
                replan,
                now=now,
                cutoff=cutoff,
                default_bar=bar,
                default_due=default_due,
                digest_due=digest_due,
                story_since=story_since,
                schedules_version=version,
            )
        return await deliveries.write_plan(
            publication,
            now=now,
            cutoff=cutoff,
            default_bar=bar,
            default_due=default_due,
            digest_due=digest_due,
            story_since=story_since,
            schedules_version=version,
        )
