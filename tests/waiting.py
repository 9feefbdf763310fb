"""Waiting, in a test, for something the bot or a server does by itself.

A limit here is patience, not a measure of speed (benchmarks measure speed): a condition that
holds in milliseconds on a quiet machine can take seconds while eight test processes share two
cores, so the default is long; a test that passes waits no longer for it. Discord's own
deadlines (an interaction answered within 3 s) are the double's, not these.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

PATIENCE_S = 30.0


async def eventually(
    condition: Callable[[], object | Awaitable[object]],
    what: str = "the condition",
    timeout_s: float = PATIENCE_S,
    *,
    poll_s: float = 0.02,
    detail: Callable[[], str] | None = None,
) -> float:
    """Poll ``condition`` (awaited if it returns an awaitable) until it is true; the seconds it
    took. Past ``timeout_s``, an AssertionError naming ``what`` (and ``detail()``, if given)."""
    started = time.monotonic()
    while True:
        outcome = condition()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            more = f"\n{detail()}" if detail is not None else ""
            raise AssertionError(f"not within {timeout_s:g} s: {what}{more}")
        await asyncio.sleep(poll_s)
