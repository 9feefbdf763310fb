"""Point the real discord.py client at a Discord double and run it there."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TypeVar

import discord
import yarl
from discord.gateway import DiscordWebSocket

from .server import DiscordDouble

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.contextmanager
def patch_discord(api_base: str, gateway_url: str) -> Iterator[None]:
    """Temporarily point discord.py's REST base and default gateway elsewhere.

    ``Route.BASE`` is read whenever a Route is built (webhooks and interaction callbacks
    included), so the patch must stay active for as long as the client runs.
    """
    old_base = discord.http.Route.BASE
    old_gateway = DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


def patch_for(double: DiscordDouble) -> contextlib.AbstractContextManager[None]:
    """:func:`patch_discord` with the double's URLs."""
    return patch_discord(double.api_base, double.gateway_url)


async def _wait_ready(client: discord.Client, runner: asyncio.Task[None], timeout_s: float) -> None:
    ready = asyncio.ensure_future(client.wait_until_ready())
    done, _ = await asyncio.wait(
        {ready, runner}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
    )
    if ready not in done:
        ready.cancel()
        if runner in done:
            runner.result()  # re-raise why the client died
            raise RuntimeError("discord client stopped before it became ready")
        raise TimeoutError(f"discord client not ready within {timeout_s}s")


@contextlib.asynccontextmanager
async def running_bot(
    double: DiscordDouble, client: ClientT, *, ready_timeout: float = 10.0
) -> AsyncIterator[ClientT]:
    """Log ``client`` in against ``double``, wait for on_ready, and close it afterwards.

    Construct the client with a short ``guild_ready_timeout`` (e.g. 0.1) or on_ready waits
    two seconds after the last GUILD_CREATE.
    """
    with patch_for(double):
        await client.login(double.token)
        runner = asyncio.create_task(client.connect(reconnect=True), name="discord-client")
        try:
            await _wait_ready(client, runner, ready_timeout)
            yield client
        finally:
            await client.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(runner, 5.0)
