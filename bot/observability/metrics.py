"""The bot's Prometheus metrics, in a registry of its own (never the process-wide one, so
two bots in one process, as in tests, count apart). Counters are incremented where things
happen; what the store holds (outbox depth, paused targets, size) is read at scrape time."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import SimpleNamespace
from typing import TYPE_CHECKING, Protocol

import aiohttp
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from bot.domain.delivery import PlanSummary
    from bot.ingest.report import IngestReport
    from bot.sending.summary import SendSummary
    from storage.models import Gauges

# Discord usually answers a message in 50-300 ms; a timeout is request_timeout_seconds (15).
SEND_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


class Metrics:
    """Every metric topicbot exposes on ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.files_ingested = Counter(
            "topicbot_files_ingested",
            "Article files the inbox scan stored, by outcome (new, updated, unchanged)",
            ["outcome"],
            registry=r,
        )
        self.files_refused = Counter(
            "topicbot_files_refused", "Files the inbox scan refused (to rejected/)", registry=r
        )
        self.publications_planned = Counter(
            "topicbot_publications_planned", "Publications fanned out to the outbox", registry=r
        )
        self.publications_too_old = Counter(
            "topicbot_publications_too_old",
            "Publications older than delivery.max_age_hours, recorded as skipped",
            registry=r,
        )
        self.deliveries = Counter(
            "topicbot_deliveries",
            "Outbox rows a send moved, by the state they reached "
            "(sent, failed: refused, dead: gave up after retries, to_digest: over the hourly cap)",
            ["state"],
            registry=r,
        )
        self.retries = Counter(
            "topicbot_delivery_retries", "Sends that failed for now and wait to retry", registry=r
        )
        self.messages_sent = Counter(
            "topicbot_messages_sent",
            "Messages Discord accepted, by kind (channel, dm, digest, notice)",
            ["kind"],
            registry=r,
        )
        self.send_seconds = Histogram(
            "topicbot_send_seconds",
            "Time from a message send to Discord's answer, accepted or not",
            buckets=SEND_BUCKETS,
            registry=r,
        )
        self.rate_limited = Counter(
            "topicbot_discord_rate_limited",
            "429 answers from Discord's REST API (including those discord.py waited out)",
            registry=r,
        )
        self.paused_targets = Gauge(
            "topicbot_paused_targets",
            "Feeds and subscriptions paused after refusals, by kind",
            ["kind"],
            registry=r,
        )
        self.job_seconds = Histogram(
            "topicbot_job_run_seconds",
            "Duration of each job run, by job",
            ["job"],
            buckets=JOB_BUCKETS,
            registry=r,
        )
        self.job_failures = Counter(
            "topicbot_job_failures", "Job runs that raised, by job", ["job"], registry=r
        )
        self.gateway_latency = Gauge(
            "topicbot_gateway_latency_seconds",
            "Time between a gateway heartbeat and its acknowledgement (NaN when unknown)",
            registry=r,
        )
        self.outbox_depth = Gauge(
            "topicbot_outbox_depth",
            "Deliveries waiting to be sent, by mode (instant, daily, weekly)",
            ["mode"],
            registry=r,
        )
        self.store_bytes = Gauge(
            "topicbot_store_bytes",
            "Size of the SQLite store, its write-ahead log included",
            registry=r,
        )

    # --- where things happen ---------------------------------------------------------------

    def count_ingest(self, report: IngestReport) -> None:
        """One inbox scan's files."""
        self.files_ingested.labels("new").inc(report.new)
        self.files_ingested.labels("updated").inc(report.updated)
        self.files_ingested.labels("unchanged").inc(report.unchanged)
        self.files_refused.inc(len(report.rejected))

    def count_plan(self, summary: PlanSummary) -> None:
        """One planning run."""
        self.publications_planned.inc(summary.publications)
        self.publications_too_old.inc(summary.skipped_old)

    def count_sends(self, summary: SendSummary) -> None:
        """What one sending or digest run did to the outbox rows."""
        for state, count in (
            ("sent", summary.sent),
            ("failed", summary.failed),
            ("dead", summary.dead),
            ("to_digest", summary.to_digest),
        ):
            self.deliveries.labels(state).inc(count)
        self.retries.inc(summary.retried)

    def http_trace(self, on_rate_limited: RateLimitedHook | None = None) -> aiohttp.TraceConfig:
        """Given to discord.py's HTTP session: counts Discord's 429 answers as they arrive, and
        tells ``on_rate_limited`` (the sending pacer) how long the retry waits and whether the
        limit was the bot's global one."""
        trace = aiohttp.TraceConfig()

        async def on_request_end(
            _session: aiohttp.ClientSession,
            _context: SimpleNamespace,
            params: aiohttp.TraceRequestEndParams,
        ) -> None:
            if params.response.status == 429:
                self.rate_limited.inc()
                if on_rate_limited is not None:
                    headers = params.response.headers
                    on_rate_limited(_retry_after(headers), is_global=_is_global(headers))

        trace.on_request_end.append(on_request_end)
        return trace

    # --- read at scrape time ---------------------------------------------------------------

    def set_store_gauges(self, gauges: Gauges) -> None:
        """What the store holds now."""
        for mode, depth in gauges.outbox_by_mode.items():
            self.outbox_depth.labels(mode).set(depth)
        self.paused_targets.labels("feed").set(gauges.paused_feeds)
        self.paused_targets.labels("subscription").set(gauges.paused_subscriptions)
        self.store_bytes.set(gauges.size_bytes)

    def set_gateway_latency(self, seconds: float) -> None:
        """discord.py's heartbeat latency (infinite or NaN before the first heartbeat)."""
        self.gateway_latency.set(seconds if math.isfinite(seconds) else math.nan)

    def exposition(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


class RateLimitedHook(Protocol):
    """Told of each 429: seconds until its retry, and whether the bot's global limit."""

    def __call__(self, retry_after: float, *, is_global: bool) -> None: ...


def _retry_after(headers: Mapping[str, str]) -> float:
    """Seconds until a 429's retry: the precise header, else the whole-second one."""
    for name in ("X-RateLimit-Reset-After", "Retry-After"):
        try:
            return max(0.0, float(headers[name]))
        except (KeyError, ValueError):
            continue
    return 1.0


def _is_global(headers: Mapping[str, str]) -> bool:
    return headers.get("X-RateLimit-Global", "").lower() == "true" or (
        headers.get("X-RateLimit-Scope") == "global"
    )
