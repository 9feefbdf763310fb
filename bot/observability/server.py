"""The HTTP endpoints for operators (``observability.listen``): GET /healthz and /metrics."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.config import ConfigError
from bot.observability.health import STORE_TIMEOUT_SECONDS, Gateway, check_health
from bot.observability.metrics import Metrics

if TYPE_CHECKING:
    from bot.scheduler import JobScheduler
    from storage.api import StoreApi

log = logging.getLogger(__name__)


class ObservabilityServer:
    """Serves /healthz and /metrics for one bot; started in setup_hook, stopped on close."""

    def __init__(
        self,
        listen: str,
        *,
        client: Gateway,
        store: StoreApi,
        metrics: Metrics,
        jobs: JobScheduler | None,
    ) -> None:
        self._client = client
        self._store = store
        self._counters = metrics
        self._jobs = jobs
        self._listen = listen
        host, _, port = listen.rpartition(":")
        self._host = host.strip("[]")  # [::1]:9108
        self._port = int(port)
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The port listened on (the one chosen by the system for port 0)."""
        if self._runner is None or not self._runner.addresses:
            raise RuntimeError("not listening")
        return int(self._runner.addresses[0][1])

    async def start(self) -> None:
        """Listen; a taken address is a configuration error naming the key."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except OSError as error:
            await runner.cleanup()
            raise ConfigError(
                f"observability.listen: cannot listen on {self._listen} ({error.strerror})"
            ) from None
        self._runner = runner
        log.info("serving /healthz and /metrics on %s:%d", self._host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _request: web.Request) -> web.Response:
        health = await check_health(self._client, self._store, self._jobs)
        return web.json_response(health.to_json(), status=200 if health.healthy else 503)

    async def _metrics(self, _request: web.Request) -> web.Response:
        metrics = self._counters
        metrics.set_gateway_latency(self._client.latency)
        try:
            gauges = await asyncio.wait_for(self._store.gauges(), STORE_TIMEOUT_SECONDS)
        except Exception as error:  # the counters are still worth serving
            log.warning("metrics: could not read the store's gauges: %s", error)
        else:
            metrics.set_store_gauges(gauges)
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
