"""Retention: what housekeeping may delete, and the loop that deletes it in small steps.

Rules (README "Retention"): a delivery row in a final state goes once it is older than
``retention.deliveries_days`` (a whole UTC day at a time), but never while the rules still
read it: the one-alert-per-story window (``related.story_window_hours``) and the hourly DM cap
look back over the rows, so the cutoff is never nearer than either. Pending rows are never
deleted. Each step is one short transaction sized to hold the writer a few milliseconds
(``STEP_SECONDS``: steps grow while quick and shrink after a slow one) and the loop pauses
between steps, longer after a slow step (``pace``), so commands and sending never wait long
behind it; a run cut short (a crash, a shutdown) loses nothing, and the next run carries on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.config import RetentionSettings
from bot.domain.subscriptions import Clock, utc_now
from storage.models import LeftServer, PruningRun

if TYPE_CHECKING:
    from storage.api import StoreApi

log = logging.getLogger(__name__)

# The DM cap counts the instant DMs sent to a member in the last hour.
DM_CAP_WINDOW = timedelta(hours=1)
# Between two steps: long enough for waiting commands and sends to take the connection.
PAUSE_SECONDS = 0.02
# The longest pause after a slow step: pruning still moves (16 rows a second at worst, against
# the 2 million rows a day of 100,000 subscribers, is too slow only if every step is slow).
LONGEST_PAUSE = 1.0
# How long one step (one transaction) should hold the writer: a command or a send that comes
# meanwhile waits at most about this long.
STEP_SECONDS = 0.005
# The smallest step: below this, a transaction's fixed cost (the commit) outweighs its work.
SMALLEST_STEP = 16

# Articles per transaction: a tenth of retention.batch_rows.
ARTICLES_PER_ROW = 10
# Servers (and members) read per query when looking for those whose data is due to go.
SERVERS_PER_READ = 100
MEMBERS_PER_READ = 100
# A member's data in a server is a few dozen rows at most (their subscriptions there, capped
# by commands.max_subscriptions_per_member): a step takes this many fewer members than rows.
ROWS_PER_MEMBER = 32

Step = Callable[[int], Awaitable[int]]
Timer = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
# Whether a member is in a server, as Discord says now: None when it gave no answer.
AskMember = Callable[[int, int], Awaitable[bool | None]]


@dataclasses.dataclass(frozen=True, slots=True)
class Pace:
    """The next step's size and the pause before it."""

    size: int
    pause: float


def pace(size: int, took: float, *, most: int, step_seconds: float, pause_seconds: float) -> Pace:
    """After a step of ``size`` that took ``took`` seconds (its delete and commit, waiting
    for the connection included): the next step doubles while under half the budget
    ``step_seconds`` and is scaled down to the budget after overrunning it, between
    SMALLEST_STEP and ``most``; the pause keeps pruning's share of the time at what it is
    when steps keep their budget (``step_seconds`` in ``step_seconds + pause_seconds``), up
    to LONGEST_PAUSE. A step is slow when the disk is busy (its commit waits to write, the
    old pages it reads are no longer cached): then pruning backs off, in size and in pace,
    and commands reading meanwhile find the disk quieter."""
    smallest = min(SMALLEST_STEP, most)
    if took > step_seconds:
        size = max(smallest, int(size * step_seconds / took))
    elif took < step_seconds / 2:
        size = min(size * 2, most)
    pause = pause_seconds
    if step_seconds > 0 and took > step_seconds:
        pause = max(pause, min(took * pause_seconds / step_seconds, LONGEST_PAUSE))
    return Pace(size=size, pause=pause)


def deliveries_cutoff(now: datetime, days: int | None, story_window: timedelta) -> datetime | None:
    """Rows in a final state created before this may go (None: keep them all); they go a
    whole UTC day at a time, once the cutoff has passed the day's end."""
    if days is None:
        return None
    return now - max(timedelta(days=days), story_window, DM_CAP_WINDOW)


def days_cutoff(now: datetime, days: int | None) -> datetime | None:
    """``days`` before ``now`` (None: keep forever)."""
    return None if days is None else now - timedelta(days=days)


def describe(run: PruningRun) -> str:
    """One line for the log; "" when the run removed and reclaimed nothing."""
    if not (
        run.deliveries
        or run.audit_entries
        or run.articles
        or run.topics
        or run.pages_reclaimed
        or run.servers
        or run.members
    ):
        return ""
    servers = f", the data of {run.servers} servers that removed the bot" if run.servers else ""
    members = f", the data of {run.members} members in servers they left" if run.members else ""
    return (
        f"pruned {run.deliveries} deliveries, {run.audit_entries} audit entries, "
        f"{run.articles} articles, {run.topics} unused topics{servers}{members}; "
        f"reclaimed {run.pages_reclaimed} pages"
    )


# The log line's order: what an operator recognises first; feeds and subscriptions always.
_SERVER_ROWS = (
    "feeds",
    "subscriptions",
    "publication decisions",
    "audit entries",
    "deliveries",
    "delivery counts",
    "DM channel ids",
    "member checks",
    "articles of its own",
)


def server_deleted(server: LeftServer, deleted: dict[str, int]) -> str:
    """The log line of one server whose data went."""
    shown = [
        f"{deleted.get(name, 0)} {name}"
        for name in _SERVER_ROWS
        if deleted.get(name) or name in ("feeds", "subscriptions")
    ]
    if deleted.get("settings"):
        shown.append("its settings")
    rows = ", ".join(shown)
    return (
        f"deleted the data of server {server.guild_id}, which removed the bot on "
        f"{server.left_at:%Y-%m-%d}: {rows}"
    )


def members_deleted(deleted: dict[str, int]) -> str:
    """The log line of a run's members whose data went from servers they left (no user ids:
    the line is kept longer than the data)."""
    return (
        f"deleted the data of {deleted.get('members', 0)} members in servers they left: "
        f"{deleted.get('subscriptions', 0)} subscriptions, "
        f"{deleted.get('DM channel ids', 0)} DM channel ids, "
        f"{deleted.get('waiting alerts', 0)} waiting alerts"
    )


class Housekeeper:
    """Prunes what the retention settings let go, then gives freed pages back."""

    def __init__(
        self,
        store: StoreApi,
        settings: RetentionSettings,
        *,
        story_window: timedelta,
        clock: Clock = utc_now,
        pause_seconds: float = PAUSE_SECONDS,
        step_seconds: float = STEP_SECONDS,
        timer: Timer = time.perf_counter,
        sleep: Sleep = asyncio.sleep,
        ask_member: AskMember | None = None,
    ) -> None:
        self._store = store
        self._ask_member = ask_member
        self._settings = settings
        self._story_window = story_window
        self._clock = clock
        self._pause = pause_seconds
        self._step_seconds = step_seconds
        self._timer = timer
        self._sleep = sleep

    async def run(self) -> PruningRun:
        """One housekeeping pass; the run is recorded after every step."""
        now = self._clock()
        run = PruningRun(started_at=now)
        await self._store.retention.save_run(run)
        run = await self._prune_deliveries(run, now)
        run = await self._delete_left_servers(run, now)
        run = await self._delete_left_members(run, now)
        run = await self._prune_articles(run, now)
        run = await self._repeat(
            run,
            "topics",
            lambda rows: self._store.retention.prune_topics(limit=rows),
            most=self._settings.batch_rows,
        )
        run = await self._prune_audit(run, now)
        run = await self._repeat(
            run, "pages_reclaimed", self._store.retention.reclaim, most=self._settings.reclaim_pages
        )
        run = dataclasses.replace(run, finished_at=self._clock())
        await self._store.retention.save_run(run)
        return run

    async def _prune_deliveries(self, run: PruningRun, now: datetime) -> PruningRun:
        cutoff = deliveries_cutoff(now, self._settings.deliveries_days, self._story_window)
        if cutoff is None:
            return run
        retention = self._store.retention
        return await self._repeat(
            run,
            "deliveries",
            lambda rows: retention.prune_deliveries(cutoff, limit=rows),
            most=self._settings.batch_rows,
            full=1,  # until none is left: a step takes rows of one day only
        )

    async def _delete_left_servers(self, run: PruningRun, now: datetime) -> PruningRun:
        """Delete the data of every server that removed the bot more than
        ``retention.left_server_days`` ago, one server after another."""
        cutoff = days_cutoff(now, self._settings.left_server_days)
        if cutoff is None:
            return run
        while servers := await self._store.left_servers.due(cutoff, limit=SERVERS_PER_READ):
            for server in servers:
                if await self._delete_server(server, cutoff):
                    run = dataclasses.replace(run, servers=run.servers + 1)
                    await self._store.retention.save_run(run)
        return run

    async def _delete_server(self, server: LeftServer, cutoff: datetime) -> bool:
        """Delete one server's data in steps sized like pruning's; whether it went (not
        when the bot was invited back meanwhile)."""
        deleted: dict[str, int] = {}
        most = self._settings.batch_rows
        size = min(SMALLEST_STEP, most)
        while True:
            started = self._timer()
            step = await self._store.left_servers.delete_data(server.guild_id, cutoff, limit=size)
            took = self._timer() - started
            if step is None:
                return False
            for name, count in step.items():
                deleted[name] = deleted.get(name, 0) + count
            if step.get("servers"):
                log.info(server_deleted(server, deleted), extra={"guild": server.guild_id})
                return True
            step_pace = pace(
                size, took, most=most, step_seconds=self._step_seconds, pause_seconds=self._pause
            )
            size = step_pace.size
            await self._sleep(step_pace.pause)

    async def _delete_left_members(self, run: PruningRun, now: datetime) -> PruningRun:
        """Delete what members left behind in a server Discord said they left more than
        ``retention.left_member_days`` ago, a few members per step; each is asked of Discord
        once more first, and one found back there is resumed instead."""
        cutoff = days_cutoff(now, self._settings.left_member_days)
        if cutoff is None:
            return run
        deleted: dict[str, int] = {}
        most = max(self._settings.batch_rows // ROWS_PER_MEMBER, 1)
        size = min(SMALLEST_STEP, most)
        # each read's members leave the due ones: resumed (present) or deleted
        while due := await self._store.left_members.due(cutoff, limit=MEMBERS_PER_READ):
            gone = await self._still_gone(due)
            while gone:
                batch, gone = gone[:size], gone[size:]
                started = self._timer()
                went = await self._store.left_members.delete(batch, cutoff)
                took = self._timer() - started
                for name, count in went.items():
                    deleted[name] = deleted.get(name, 0) + count
                if went.get("members"):
                    run = dataclasses.replace(run, members=run.members + went["members"])
                    await self._store.retention.save_run(run)
                size = await self._paced(size, took, most)
        if deleted:
            log.info(members_deleted(deleted))
        return run

    async def _paced(self, size: int, took: float, most: int) -> int:
        """Pause after a step as ``pace`` says; the next step's size."""
        step_pace = pace(
            size, took, most=most, step_seconds=self._step_seconds, pause_seconds=self._pause
        )
        await self._sleep(step_pace.pause)
        return step_pace.size

    async def _still_gone(self, due: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Of the (server, member) pairs due, those Discord does not now say are back (gone,
        or no answer: the last one said gone); those back are noted present and resumed, as
        a command of theirs there would."""
        if self._ask_member is None:
            return due
        gone: list[tuple[int, int]] = []
        back = 0
        for guild_id, user_id in due:
            if await self._ask_member(guild_id, user_id) is not True:
                gone.append((guild_id, user_id))
                continue
            await self._store.members.record(guild_id, {user_id: True}, self._clock())
            await self._store.members.seen(guild_id, user_id, self._clock())
            back += 1
        if back:
            log.info("%d members found back in a server they had left: kept and resumed", back)
        return gone

    async def _prune_articles(self, run: PruningRun, now: datetime) -> PruningRun:
        cutoff = days_cutoff(now, self._settings.articles_days)
        if cutoff is None:
            return run
        published = days_cutoff(now, self._settings.published_articles_days)
        # an article takes its topics, images, links and index entries with it
        few = max(self._settings.batch_rows // ARTICLES_PER_ROW, 1)
        return await self._repeat(
            run,
            "articles",
            lambda size: self._store.retention.prune_articles(cutoff, published, limit=size),
            most=few,
            full=1,  # until none is left: each batch frees the entries it listed
        )

    async def _prune_audit(self, run: PruningRun, now: datetime) -> PruningRun:
        cutoff = days_cutoff(now, self._settings.audit_days)
        if cutoff is None:
            return run
        return await self._repeat(
            run,
            "audit_entries",
            lambda rows: self._store.retention.prune_audit(cutoff, limit=rows),
            most=self._settings.batch_rows,
        )

    async def _repeat(
        self, run: PruningRun, field: str, step: Step, *, most: int, full: int | None = None
    ) -> PruningRun:
        """Run ``step`` (asked for up to a size) until it does less than asked (or than
        ``full``), adding what it did to ``field`` and recording the run after each step."""
        size = min(SMALLEST_STEP, most)
        while True:
            started = self._timer()
            done = await step(size)
            took = self._timer() - started
            if done > 0:
                run = dataclasses.replace(run, **{field: getattr(run, field) + done})
                await self._store.retention.save_run(run)
            if done < (size if full is None else full):
                return run
            step_pace = pace(
                size,
                took,
                most=most,
                step_seconds=self._step_seconds,
                pause_seconds=self._pause,
            )
            size = step_pace.size
            await self._sleep(step_pace.pause)
