"""Two senders on one PostgreSQL outbox against a Discord double that enforces Discord's limits.

    TOPICBOT_TEST_DATABASE_URL=postgresql://... python -m bench.bench_two_senders \
        [--alerts 2000] [--channels 40] [--per-sender-rate 40]

Two dispatchers (a store, a claimer name and a REST-only client each, as two processes have)
drain a backlog of channel alerts together, claiming rows under a lease. The double answers
with real rate-limit headers and 429s past 5 messages per 5 s per channel and 50 requests per
second per bot token. Reported: the achieved rate against the permitted one, the 429s met,
and whether every alert arrived exactly once (goal: >= 90% of the permitted rate, zero 429s).
``--per-sender-rate`` is each sender's own pacing (``delivery.global_requests_per_second``):
the limit is per token, so two senders together must share it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from contextlib import AsyncExitStack
from typing import Any

from bench.bench_send import GLOBAL_LIMIT, PER_CHANNEL_LIMIT, PER_CHANNEL_WINDOW, permitted
from bot.config import DeliverySettings
from tests.bot.harness import FakeClock
from tests.bot.sending.senders import Senders, drain
from tests.discord_double import DiscordDouble
from tests.discord_double.client import patch_for
from tests.postgresql import URL_VARIABLE, new_database
from tests.storage.outbox_data import NOW


async def run(url: str, alerts: int, channels: int, per_sender_rate: float) -> dict[str, Any]:
    async with DiscordDouble() as double, AsyncExitStack() as stack:
        double.enforce_rate_limits(
            per_channel=(PER_CHANNEL_LIMIT, PER_CHANNEL_WINDOW), global_per_second=GLOBAL_LIMIT
        )
        stack.enter_context(patch_for(double))
        senders = Senders(double, url, FakeClock(NOW), stack)
        a, b = await senders.store("a"), await senders.store("b")
        await senders.seed(a, alerts, channels)
        pacing = DeliverySettings(global_requests_per_second=per_sender_rate)
        one = await senders.dispatcher(a, settings=pacing)
        other = await senders.dispatcher(b, settings=pacing)
        started = time.perf_counter()
        first, second = await asyncio.gather(drain(one), drain(other))
        wall = time.perf_counter() - started
        arrived = senders.arrived()
        posted = [m.created_at for m in double.world.messages.values()]
        elapsed = max(posted) - min(posted)  # Discord's view: first to last accepted message
        permitted_rate = permitted(alerts, alerts // channels)
        return {
            "messages": alerts,
            "channels": channels,
            "per_sender_rate": per_sender_rate,
            "sent_by_each": [first.sent, second.sent],
            "seconds": round(elapsed, 2),
            "wall_seconds": round(wall, 2),
            "achieved_per_s": round(alerts / elapsed, 2),
            "permitted_per_s": round(permitted_rate, 2),
            "share_of_permitted": round(alerts / elapsed / permitted_rate, 3),
            "rate_limit_429s": double.rate_limit_hits,
            "exactly_once": set(arrived) == senders.expected and max(arrived.values()) == 1,
            "refused": len(double.errors),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--channels", type=int, default=40)
    parser.add_argument("--per-sender-rate", type=float, default=40)
    args = parser.parse_args()
    server = os.environ.get(URL_VARIABLE) or "postgresql://postgres@127.0.0.1:5432/test"
    with new_database(server) as url:
        result = asyncio.run(run(url, args.alerts, args.channels, args.per_sender_rate))
    print(
        f"{result['messages']} posts by two senders ({result['sent_by_each']}) in "
        f"{result['seconds']} s: {result['achieved_per_s']}/s of a permitted "
        f"{result['permitted_per_s']}/s ({result['share_of_permitted']:.0%}); "
        f"429s: {result['rate_limit_429s']}; exactly once: {result['exactly_once']}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
