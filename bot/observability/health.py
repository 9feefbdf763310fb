"""What /healthz reports: the gateway connected, the store answering, no job overdue."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.scheduler import JobScheduler
    from storage.api import StoreApi

log = logging.getLogger(__name__)

# Longer than any single write transaction the bot holds (an ingest batch: a second or two).
STORE_TIMEOUT_SECONDS = 5.0


class Gateway(Protocol):
    """The connection to Discord, as a discord.py client shows it."""

    @property
    def latency(self) -> float:
        """Seconds between a heartbeat and its acknowledgement."""
        ...

    def is_ready(self) -> bool:
        """READY was received."""
        ...

    def is_closed(self) -> bool:
        """The client was closed."""
        ...

    @property
    def uses_gateway(self) -> bool:
        """False for a process that only sends, over REST (``topicbot worker``)."""
        ...


@dataclass(frozen=True, slots=True)
class Health:
    """The verdict: healthy when nothing is wrong."""

    problems: list[str]

    @property
    def healthy(self) -> bool:
        """Nothing is wrong."""
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        """The body of /healthz."""
        return {"status": "ok" if self.healthy else "unhealthy", "problems": self.problems}


async def check_health(client: Gateway, store: StoreApi, jobs: JobScheduler | None) -> Health:
    """Every check, each problem as one sentence."""
    problems = []
    if client.uses_gateway and not gateway_connected(client):
        problems.append("gateway: not connected to Discord")
    store_answer = await store_problem(store)
    if store_answer:
        problems.append(store_answer)
    if jobs is not None:
        problems.extend(jobs.overdue())
    return Health(problems)


def gateway_connected(bot: Gateway) -> bool:
    """Ready (READY received) and the websocket open now: every shard's, for a sharded
    client."""
    if not bot.is_ready() or bot.is_closed():
        return False
    shards = getattr(bot, "shards", None)
    if shards is not None:
        return bool(shards) and not any(shard.is_closed() for shard in shards.values())
    websocket = getattr(bot, "ws", None)
    return websocket is not None and bool(websocket.open)


async def store_problem(store: StoreApi) -> str:
    """'' when the store answers a query in time."""
    try:
        answered = await asyncio.wait_for(store.ping(), STORE_TIMEOUT_SECONDS)
    except TimeoutError:
        return f"store: no answer within {STORE_TIMEOUT_SECONDS:g}s"
    except Exception as error:
        log.warning("the store did not answer the health check: %s", error)
        return f"store: {type(error).__name__}: {error}"
    return "" if answered else "store: unexpected answer"
