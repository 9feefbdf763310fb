"""Running the bot: token from the environment, store opened here and injected, clean
shutdown on SIGINT/SIGTERM (advanced_startup.py's shape)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot.app import TopicBot
from bot.config import Settings
from bot.coordination import coordination_for
from bot.sharding import ShardPlan
from bot.stores import open_store
from bot.sync import SyncRefused, sync_commands
from storage.api import StoreApi
from storage.exclusive import sole_process

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_UNREACHABLE = 4
SHARDING_REQUIRED = 4011  # the gateway's close code: a session would hold too many servers
GUILDS_PER_SHARD = 2500


class TokenError(Exception):
    """No usable bot token."""


def read_token(settings: Settings) -> str:
    """The bot token from the configured environment variable, never from a file."""
    name = settings.discord.token_env
    token = os.environ.get(name, "").strip()
    if not token:
        raise TokenError(f"set the {name} environment variable to the bot's token")
    return token


def point_at_discord(settings: Settings) -> None:
    """Send REST and the gateway where the configuration says (a proxy or a compatible
    server); empty settings leave Discord itself."""
    if settings.discord.api_base:
        discord.http.Route.BASE = settings.discord.api_base
    if settings.discord.gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord.gateway_url)


Session = Callable[[TopicBot, str], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What ``topicbot run``'s flags choose: the shards, and whether the jobs run here."""

    shards: ShardPlan = field(default_factory=ShardPlan)
    run_jobs: bool = True
    uses_gateway: bool = True


REST_ONLY = RunOptions(run_jobs=False)  # sync-commands, doctor: no gateway, no jobs


WORKER = RunOptions(uses_gateway=False)  # topicbot worker: the jobs, over REST only


def build_bot(
    settings: Settings, store: StoreApi, *, serving: bool, run: RunOptions = REST_ONLY
) -> TopicBot:
    """topicbot over an open store; the start-up sync only when ``serving``, the jobs only
    when ``serving`` and ``run`` wants them (and this process holds the worker lease)."""
    coordination = coordination_for(settings)
    return TopicBot(
        settings=settings,
        store=store,
        run_jobs=serving and run.run_jobs,
        sync_on_start=serving,
        shards=run.shards,
        worker_lease=coordination.lease,
        identify_slots=coordination.identify_slots,
        uses_gateway=run.uses_gateway,
        # ``_session`` holds a SQLite store's lock for a serving process
        alone_on_store=serving and settings.storage.backend == "sqlite",
    )


def run_bot(settings: Settings, *, shards: ShardPlan | None = None, run_jobs: bool = True) -> int:
    """``topicbot run``: 0 after a clean shutdown, 2 when the token is missing or refused."""
    options = RunOptions(shards or ShardPlan(), run_jobs)
    return _with_bot(settings, _serve, run=options)


def run_worker(settings: Settings) -> int:
    """``topicbot worker``: the jobs (while this process holds the worker lease), logged in
    over REST only, without a gateway connection; 0 after SIGINT/SIGTERM."""
    return _with_bot(settings, _work, run=WORKER)


def sync_commands_now(settings: Settings, guild_id: int | None) -> int:
    """``topicbot sync-commands``: log in over REST only and sync, whatever the stored hash."""
    target = guild_id if guild_id is not None else settings.discord.dev_guild_id

    async def sync(bot: TopicBot, token: str) -> int:
        await bot.login(token)
        await sync_commands(bot.tree, bot.store.meta, guild_id=target, force=True)
        where = f"guild {target}" if target is not None else "every server (global)"
        print(f"synced slash commands to {where}")
        return EXIT_OK

    return _with_bot(settings, sync, serving=False, run=REST_ONLY)


def _with_bot(
    settings: Settings, session: Session, *, run: RunOptions, serving: bool = True
) -> int:
    """Read the token, point discord.py where configured, open the store, build the bot and
    run ``session`` with it; close everything afterwards."""
    try:
        token = read_token(settings)
    except TokenError as error:
        print(f"topicbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    point_at_discord(settings)
    return asyncio.run(_session(settings, token, session, serving, run))


async def _session(
    settings: Settings, token: str, session: Session, serving: bool, run: RunOptions
) -> int:
    with contextlib.ExitStack() as sole:
        if serving and settings.storage.backend == "sqlite":
            sole.enter_context(sole_process(settings.storage.path))
        return await _on_store(settings, token, session, serving, run)


async def _on_store(
    settings: Settings, token: str, session: Session, serving: bool, run: RunOptions
) -> int:
    created = settings.storage.backend == "sqlite" and not settings.storage.path.exists()
    store = await open_store(settings)
    try:
        if serving:
            await _say_which_store(settings, store, created=created)
        async with build_bot(settings, store, serving=serving, run=run) as bot:
            try:
                return await session(bot, token)
            except discord.LoginFailure:
                said = f"Discord refused the token in ${settings.discord.token_env}"
                code = EXIT_USAGE
            except discord.ConnectionClosed as error:
                if error.code != SHARDING_REQUIRED:
                    raise
                said, code = sharding_required(bot), EXIT_USAGE
            except SyncRefused as error:
                said, code = str(error), EXIT_USAGE
            except (OSError, aiohttp.ClientError, discord.GatewayNotFound) as error:
                # Not the store's fault (the CLI would say so): the network or Discord is down.
                said = f"cannot reach Discord at {discord.http.Route.BASE}: {error}"
                code = EXIT_UNREACHABLE
    finally:
        await store.close()
    # Said once the bot, its jobs and the store have stopped: the last line an operator reads.
    print(f"topicbot: {said}", file=sys.stderr)
    return code


async def _say_which_store(settings: Settings, store: StoreApi, *, created: bool) -> None:
    """One line naming the store a bot serves: a mistyped ``storage.path`` otherwise starts
    quietly on a new, empty store, and members find their topics gone."""
    if settings.storage.backend == "postgresql":
        where = f"the PostgreSQL database in ${settings.storage.url_env}"
    else:
        where = f"SQLite file {settings.storage.path.resolve()}"
    if created:
        log.info("store: %s was not there; created a new, empty one", where)
        return
    articles = await store.articles.count()
    log.info("store: %s, %s article%s", where, f"{articles:,}", "" if articles == 1 else "s")


def sharding_required(bot: TopicBot) -> str:
    """Why the gateway closed with 4011, and what to do, in one line."""
    count = bot.shard_count or 1
    return (
        "Discord closed the gateway with 4011 (sharding required): a shard serves at most "
        f"{GUILDS_PER_SHARD:,} servers, and this bot is in more than {count} "
        f"shard{'s' if count > 1 else ''} may serve; raise --shard-count (or leave it out "
        "for the count Discord recommends)"
    )


async def _serve(bot: TopicBot, token: str) -> int:
    _stop_on_signals(bot)
    await bot.start(token)
    log.info("stopped cleanly")
    return EXIT_OK


async def _work(bot: TopicBot, token: str) -> int:
    stopped = _stop_on_signals(bot)
    await bot.login(token)  # and setup_hook: the jobs compete for the worker lease
    log.info("worker logged in as %s over REST (no gateway connection)", bot.user)
    await stopped.wait()
    log.info("stopped cleanly")
    return EXIT_OK


def _stop_on_signals(bot: TopicBot) -> asyncio.Event:
    """Close the bot on SIGINT/SIGTERM; the event is set once it is closed."""
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()

    async def stop() -> None:
        await bot.close()
        stopped.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(stop()))
    return stopped
