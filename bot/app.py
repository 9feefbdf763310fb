"""The bot: wires the store and services into discord.py, loads the cogs, runs the jobs."""

from __future__ import annotations

import asyncio
import logging
import pkgutil
import re
from typing import Any

import discord
from discord.ext import commands

from bot import cogs
from bot.config import Settings
from bot.domain.delivery import DeliveryPlanner
from bot.domain.retention import Housekeeper
from bot.domain.stories import story_window
from bot.domain.subscriptions import Clock, utc_now
from bot.errors import TopicTree, send_private
from bot.jobs import (
    HOUSEKEEPING_SECONDS,
    digest_job,
    housekeeping_job,
    inbox_job,
    planning_job,
    sending_job,
)
from bot.leadership import JobLeadership, while_held
from bot.observability.metrics import Metrics
from bot.observability.server import ObservabilityServer
from bot.scheduler import JobScheduler, ScheduledJob
from bot.sending.dispatcher import Dispatcher, pacer_for
from bot.sending.pacing import Throttle
from bot.sending.sender import DiscordSender
from bot.sharding import IdentifyPacer, IdentifySlots, ShardPlan
from bot.sync import sync_commands
from bot.ui.alerts import UnsubscribeButton
from bot.ui.stale import readable, stale_reply
from bot.wiring import ServiceBot, Services, build_services, intents
from storage.api import StoreApi, shares_the_outbox
from storage.lease import SoleProcessLease, WorkerLease

log = logging.getLogger(__name__)


def extensions() -> list[str]:
    """Every module of ``bot.cogs``: a new cog is loaded by being there."""
    return [f"{cogs.__name__}.{module.name}" for module in pkgutil.iter_modules(cogs.__path__)]


class TopicBot(ServiceBot):
    """topicbot on Discord. Resources are opened by the caller and injected."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: StoreApi,
        services: Services | None = None,
        run_jobs: bool = True,
        sync_on_start: bool = True,
        clock: Clock = utc_now,
        metrics: Metrics | None = None,
        shards: ShardPlan | None = None,
        identify_slots: IdentifySlots | None = None,
        worker_lease: WorkerLease | None = None,
        uses_gateway: bool = True,
        alone_on_store: bool = False,
        **options: Any,
    ) -> None:
        metrics = metrics or Metrics()
        pacer = pacer_for(settings.delivery)
        # counts Discord's 429s, and tells the pacer of the retries it did not let go
        options.setdefault("http_trace", metrics.http_trace(on_rate_limited=pacer.rate_limited))
        self.shard_plan = shards or ShardPlan()
        options.update(self.shard_plan.options)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            help_command=None,
            tree_cls=TopicTree,
            allowed_mentions=discord.AllowedMentions.none(),
            # A longer wait is handed back to the outbox, which retries later, rather than
            # holding a sender for minutes.
            max_ratelimit_timeout=30.0,
            **options,
        )
        self.settings = settings
        self.store = store
        self.clock = clock
        # False for ``topicbot worker``: logged in over REST only, it sends without a gateway
        self.uses_gateway = uses_gateway
        # True when no other process can use the store while this one runs (a SQLite store's
        # lock, storage.exclusive): what an earlier run left unfinished is this one's to undo.
        self.alone_on_store = alone_on_store
        self.metrics = metrics
        self.services = services or build_services(store, settings, clock)
        self.button_templates: list[re.Pattern[str]] = []
        self.planner = DeliveryPlanner(
            store,
            settings.delivery,
            settings.digests,
            clock=clock,
            story_window=story_window(settings.related),
        )
        self.dispatcher = Dispatcher(
            store,
            settings.delivery,
            DiscordSender(self),
            clock=clock,
            metrics=metrics,
            digest_times=self.planner.digest_times,
            pacer=pacer,
            story_window=story_window(settings.related),
        )
        # On SQLite this process is the store's only one (storage.exclusive): always the holder.
        self.worker_lease = worker_lease or SoleProcessLease()
        self.housekeeper = Housekeeper(
            store,
            settings.retention,
            story_window=story_window(settings.related),
            clock=clock,
            ask_member=self.dispatcher.ask_member,
        )
        self.autocomplete_throttle = Throttle(settings.commands.autocomplete_per_10s, 10.0)
        self.jobs = (
            JobScheduler(
                self.scheduled_jobs(),
                clock=clock,
                gateway_ready=self.is_ready if uses_gateway else lambda: True,
                metrics=metrics,
            )
            if run_jobs
            else None
        )
        self.leadership = (
            JobLeadership(
                self.worker_lease,
                self.jobs,
                on_taken=self._take_over_outbox,
                # alone on its store (SQLite), no other process sent a moment ago
                settle_at_start=shares_the_outbox(store.deliveries),
            )
            if self.jobs is not None
            else None
        )
        listen = settings.observability.listen
        self.observability = (
            ObservabilityServer(listen, client=self, store=store, metrics=metrics, jobs=self.jobs)
            if listen
            else None
        )
        self._sync_on_start = sync_on_start
        self._max_concurrency: int | None = None
        # set once the first close() has done all of its work
        self._closed_fully: asyncio.Event | None = None
        self.identify_pacer = IdentifyPacer(self._fetch_max_concurrency, identify_slots)

    async def _take_over_outbox(self) -> None:
        """As this process takes the worker lease: the rows another process held (a holder
        killed mid-dispatch) return to the outbox now rather than when their claims run out."""
        deliveries = self.store.deliveries
        if shares_the_outbox(deliveries):
            freed = await deliveries.take_over_claims()
            if freed:
                log.info("worker lease: %d rows another process held were taken over", freed)

    def scheduled_jobs(self) -> list[ScheduledJob]:
        """The background jobs, with fixed ids. Digests are woken at the moment their
        earliest row is due; the check interval is only the longest the job sleeps."""
        ingest, delivery = self.settings.ingest, self.settings.delivery
        return [
            ScheduledJob(
                "scan_inbox",
                inbox_job(self.store, ingest, self.metrics, clock=self.clock),
                ingest.interval_seconds,
            ),
            ScheduledJob(
                "plan_deliveries",
                planning_job(self.planner, self.metrics),
                delivery.plan_interval_seconds,
            ),
            ScheduledJob(
                "send_deliveries",
                while_held(self.worker_lease, sending_job(self.dispatcher, self.worker_lease.held)),
                delivery.send_interval_seconds,
                needs_gateway=True,  # views (the Unsubscribe button) need the connection
                # another process's /settings may have moved a digest sooner
                rereads=shares_the_outbox(self.store.deliveries),
            ),
            ScheduledJob(
                "send_digests",
                while_held(self.worker_lease, digest_job(self.dispatcher)),
                self.settings.digests.check_interval_seconds,
                next_wanted=self.store.deliveries.next_digest_due,
                needs_gateway=True,
            ),
            ScheduledJob(
                "housekeeping",
                housekeeping_job(self.store, self.housekeeper),
                HOUSEKEEPING_SECONDS,
            ),
        ]

    async def setup_hook(self) -> None:
        """Serve /healthz and /metrics (when configured), load the cogs, sync commands when
        their definitions changed, start the jobs."""
        if self.observability is not None:
            await self.observability.start()
        for extension in extensions():
            await self.load_extension(extension)
        self.add_dynamic_items(UnsubscribeButton)
        if self._sync_on_start:
            await sync_commands(
                self.tree, self.store.meta, guild_id=self.settings.discord.dev_guild_id
            )
        if self.leadership is not None:
            await self.leadership.start()
        if self.alone_on_store:
            # The posts an earlier run was deleting when it ended are up for all it knows:
            # offered again now rather than when their claims run out.
            await self._release_removal_claims(others=True)

    async def close(self) -> None:
        """Stop the jobs (giving the worker lease up) and the endpoints, disconnect, then free
        the posts this run's presses were deleting and got no answer for. A second call (the
        bot's context, once a signal's close ended its run) waits for the first to finish."""
        if self._closed_fully is not None:
            await self._closed_fully.wait()
            return
        self._closed_fully = asyncio.Event()
        try:
            await self._close_once()
        finally:
            self._closed_fully.set()

    async def __aexit__(self, *exc_info: object) -> None:
        # discord.py's own waits for its half of close() only (the disconnect), and the runner
        # closes the store right after: the whole of ours, the posts freed, must be done first.
        await self.close()

    async def _close_once(self) -> None:
        if self.leadership is not None:
            await self.leadership.stop()
        await self.identify_pacer.close()
        if self.observability is not None:
            await self.observability.stop()
        closing = not self.is_closed()  # never connected and closed: nothing was claimed
        await super().close()
        if not closing:
            return
        try:
            await self._release_removal_claims()
        except Exception as error:  # the store failed or closed: the claims run out by themselves
            log.warning("could not offer again the posts this run was deleting: %s", error)

    async def _release_removal_claims(self, *, others: bool = False) -> None:
        freed = await self.services.moderation.release_claims(others=others)
        if freed:
            whose = "an earlier run" if others else "this run"
            what = "1 post" if freed == 1 else f"{freed} posts"
            verb = "is" if freed == 1 else "are"
            log.info("%s %s was deleting %s offered to delete again", what, whose, verb)

    async def launch_shards(self) -> None:
        """Learn the shard count (and the identify concurrency) from Discord when none was
        given, then connect through the configured gateway: discord.py would otherwise
        connect to the URL ``GET /gateway/bot`` names, past a configured gateway."""
        if self.shard_count is None and not self.is_closed():
            count, _, limits = await self.http.get_bot_gateway()
            self.shard_count = count
            self._max_concurrency = limits["max_concurrency"]
        await super().launch_shards()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Wait for this shard's identify turn (see ``bot.sharding.IdentifyPacer``)."""
        await self.identify_pacer.wait_turn(shard_id)

    async def _fetch_max_concurrency(self) -> int:
        if self._max_concurrency is None:
            limits = await self.fetch_session_start_limits()
            self._max_concurrency = limits.max_concurrency
        return self._max_concurrency

    def add_dynamic_items(self, *items: type[discord.ui.DynamicItem[Any]]) -> None:
        """Register buttons that work after a restart, keeping their templates so that a
        press no template reads can be answered (``on_interaction``)."""
        super().add_dynamic_items(*items)
        self.button_templates.extend(item.__discord_ui_compiled_template__ for item in items)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Answer privately a button press none of this version's buttons reads (a message
        of an older or newer version, a crafted id), which would otherwise go unanswered."""
        if interaction.type is not discord.InteractionType.component:
            return
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if not readable(custom_id, self.button_templates):
            await send_private(interaction, stale_reply(custom_id))

    async def on_ready(self) -> None:
        """Say who we are once connected; run the jobs that were waiting for the gateway."""
        log.info(
            "connected as %s to %d guilds (%s)",
            self.user,
            len(self.guilds),
            self.shard_plan.describe(self.shard_count),
        )
        if self.jobs is not None:
            self.jobs.gateway_is_ready()
