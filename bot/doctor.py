"""``topicbot invite-url`` and ``topicbot doctor``: setting up, and checking a set-up.

Both log in over REST only (no gateway). The doctor prints one line per check, ``OK`` or
``FIX`` with what to do, and runs the local checks (store, inbox) even when Discord cannot be
reached."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import sqlite3
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import Any

import aiohttp
import discord

from bot.config import ConfigError, Settings
from bot.permissions import Needed, labels, missing, needed_for
from bot.permissions import channel_permissions as permissions_from
from bot.permissions import invite_url as build_invite_url
from bot.runner import TokenError, build_bot, point_at_discord, read_token
from bot.stores import open_store
from bot.sync import MISSING_ACCESS, sync_target
from bot.wiring import ServiceBot, intents
from storage import Store, StoreError
from storage.api import StoreApi
from storage.database import location_problem
from storage.exclusive import StoreInUse
from storage.models import Feed

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 4
# Discord's Date header has whole seconds; more than this apart is a clock to fix (digest
# moments and the age limit of articles read it).
CLOCK_TOLERANCE_SECONDS = 10.0
CHANNEL_FIX = (
    "give the bot's role those permissions in the channel's settings (Edit Channel → Permissions)"
)


class Unreachable(Exception):
    """Discord did not answer (network down, wrong ``discord.api_base``)."""


# --- invite-url ------------------------------------------------------------------------------


def invite_url_now(settings: Settings) -> int:
    """``topicbot invite-url``: the application id read with the token, then the invite URL."""
    try:
        token = read_token(settings)
    except TokenError as error:
        print(f"topicbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    point_at_discord(settings)
    _quiet_discord()
    return asyncio.run(_print_invite_url(settings, token))


async def _print_invite_url(settings: Settings, token: str) -> int:
    async with discord.Client(intents=intents()) as client:
        try:
            await _login(client, token)
        except discord.LoginFailure:
            print(_refused(settings), file=sys.stderr)
            return EXIT_USAGE
        except Unreachable as error:
            print(f"topicbot: {error}", file=sys.stderr)
            return EXIT_UNREACHABLE
        assert client.application_id is not None  # login read the application
        print(build_invite_url(client.application_id))
    return EXIT_OK


async def _login(client: discord.Client, token: str) -> None:
    try:
        await client.login(token)
    except (OSError, aiohttp.ClientError) as error:
        raise Unreachable(f"cannot reach Discord at {discord.http.Route.BASE}: {error}") from None


def _quiet_discord() -> None:
    # discord.py's warnings (no voice support, ...) say nothing about a REST-only session,
    # and each check says what went wrong in its own line.
    logging.getLogger("discord").setLevel(logging.ERROR)


def _refused(settings: Settings) -> str:
    return f"topicbot: Discord refused the token in ${settings.discord.token_env}"


# --- doctor ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    text: str

    def line(self) -> str:
        """'OK   token: ...' or 'FIX  channel ...: what is wrong — what to do'."""
        return f"{'OK ' if self.ok else 'FIX'}  {self.name}: {self.text}"


class Report:
    """The checks so far, each printed as it is made."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def add(self, check: Check) -> None:
        """Print ``check`` and keep it for the verdict."""
        self.checks.append(check)
        print(check.line(), flush=True)

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(check.ok for check in self.checks)


def doctor_now(settings: Settings) -> int:
    """``topicbot doctor``: 0 when every check passes, 4 when Discord cannot be reached,
    1 otherwise."""
    point_at_discord(settings)
    _quiet_discord()
    return asyncio.run(_doctor(settings))


async def _doctor(settings: Settings) -> int:
    report = Report()
    store, store_check = await _open_checked_store(settings)
    vacuum = None
    if store is not None and settings.storage.backend == "postgresql":
        vacuum = _autovacuum_check(await store.retention.autovacuum_problems())
    reached = True
    try:
        try:
            token = read_token(settings)
        except TokenError as error:
            report.add(Check("token", False, str(error)))
        else:
            reached = await _discord_checks(report, settings, token, store)
    finally:
        if store is not None:
            await store.close()
    report.add(store_check)
    if vacuum is not None:
        report.add(vacuum)
    report.add(_inbox_check(settings.ingest.inbox_dir))
    if not reached:
        return EXIT_UNREACHABLE
    return EXIT_OK if report.ok else EXIT_PROBLEM


async def _discord_checks(
    report: Report, settings: Settings, token: str, store: StoreApi | None
) -> bool:
    """Token, application, commands, feeds and clock; False when Discord cannot be reached."""
    bot = build_bot(settings, store, serving=False) if store is not None else None
    client = bot or discord.Client(intents=intents())
    async with client:
        try:
            await _login(client, token)
        except Unreachable as error:
            report.add(Check("discord", False, f"{error} — check the network and discord.api_base"))
            return False
        except discord.LoginFailure:
            report.add(Check("token", False, _refused(settings).removeprefix("topicbot: ")))
            return True
        except discord.HTTPException as error:
            report.add(Check("token", client.user is not None, _token_text(client)))
            report.add(
                Check("application", False, f"Discord answered {error.status}: {error.text}")
            )
            return True
        report.add(Check("token", True, _token_text(client)))
        report.add(Check("application", True, f"id {client.application_id}"))
        try:
            await _logged_in_checks(report, client, bot)
        except discord.HTTPException as error:
            text = f"Discord answered {error.status} ({error.text}) — try again in a while"
            report.add(Check("discord", False, text))
        except (OSError, aiohttp.ClientError) as error:
            report.add(Check("discord", False, f"the connection failed: {error}"))
            return False
    return True


async def _logged_in_checks(report: Report, client: discord.Client, bot: ServiceBot | None) -> None:
    if bot is not None:
        report.add(await _commands_check(bot, bot.store))
        for check in await _feed_checks(bot, bot.store):
            report.add(check)
    else:
        report.add(Check("commands and feeds", False, "not checked: the store is unusable"))
    report.add(await _clock_check())


def _token_text(client: discord.Client) -> str:
    return f"accepted, logged in as {client.user}" if client.user else "not checked"


async def _commands_check(bot: ServiceBot, store: StoreApi) -> Check:
    guild_id = bot.settings.discord.dev_guild_id
    guild, key, digest = sync_target(bot.tree, guild_id)
    where = f"guild {guild_id}" if guild_id is not None else "every server"
    local = sorted(c.name for c in bot.tree.get_commands(guild=guild))
    try:
        remote = sorted(c.name for c in await bot.tree.fetch_commands(guild=guild))
    except discord.Forbidden as error:
        if guild is None or error.code != MISSING_ACCESS:
            raise
        return Check(
            "commands",
            False,
            f"the bot is not in server {guild_id} (discord.dev_guild_id) — check the id, or "
            "invite the bot there (`topicbot invite-url`)",
        )
    if local == remote and await store.meta.get(key) == digest:
        return Check("commands", True, f"{len(local)} in sync for {where}")
    return Check(
        "commands",
        False,
        f"Discord's commands for {where} differ from this version's — run "
        "`topicbot sync-commands` (`topicbot run` syncs them when it starts)",
    )


async def _feed_checks(bot: discord.Client, store: StoreApi) -> list[Check]:
    feeds = await store.feeds.every()
    if not feeds:
        return [Check("feeds", True, "none yet (add one with /feed add)")]
    checks: list[Check] = []
    for guild_id, of_guild in groupby(feeds, key=lambda f: f.guild_id):
        checks.extend(await _guild_feed_checks(bot, guild_id, list(of_guild)))
    return checks


async def _guild_feed_checks(bot: discord.Client, guild_id: int, feeds: list[Feed]) -> list[Check]:
    assert bot.user is not None
    try:
        guild = await bot.http.get_guild(guild_id)
        member = await bot.http.get_member(guild_id, bot.user.id)
    except (discord.NotFound, discord.Forbidden):
        return [
            Check(
                f"server {guild_id}",
                False,
                f"the bot is not in this server any more, so its {len(feeds)} feed(s) cannot "
                "post — invite it again (`topicbot invite-url`)",
            )
        ]
    by_channel = groupby(feeds, key=lambda f: f.channel_id)
    return [
        await _channel_check(bot, guild, member, channel_id, list(of_channel))
        for channel_id, of_channel in by_channel
    ]


async def _channel_check(
    bot: discord.Client, guild: Any, member: Any, channel_id: int, feeds: list[Feed]
) -> Check:
    assert bot.user is not None
    name = f"channel {channel_id} in {guild['name']}"
    try:
        channel = await bot.http.get_channel(channel_id)
    except discord.NotFound:
        return Check(
            name, False, "not found (deleted?) — route its topics elsewhere with /feed add"
        )
    except discord.Forbidden:
        return Check(name, False, f"the bot is missing View Channel — {CHANNEL_FIX}")
    name = f"channel #{channel.get('name', channel_id)} ({channel_id}) in {guild['name']}"
    granted = permissions_from(guild=guild, channel=channel, member=member, user_id=bot.user.id)
    lacking = missing(granted, _needs(guild, feeds))
    if lacking:
        return Check(name, False, f"the bot is missing {labels(lacking)} — {CHANNEL_FIX}")
    return Check(name, True, f"can post its {len(feeds)} feed(s)")


def _needs(guild: Any, feeds: Iterable[Feed]) -> list[Needed]:
    """What the channel's feeds need together (a role mention only for a role members cannot
    mention; a deleted role mentions nobody)."""
    mentionable = {int(r["id"]): bool(r.get("mentionable")) for r in guild.get("roles", [])}
    needs: dict[str, Needed] = {}
    for feed in feeds:
        role = mentionable.get(feed.mention_role_id) if feed.mention_role_id else None
        for need in needed_for(role_mentionable=role):
            needs.setdefault(need.flag, need)
    return list(needs.values())


async def _clock_check() -> Check:
    """This machine's clock against the Date header of Discord's answer."""
    url = f"{discord.http.Route.BASE}/gateway"
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            header = response.headers.get("Date")
    except (OSError, aiohttp.ClientError) as error:
        return Check("clock", False, f"not checked: {error}")
    if not header:
        return Check("clock", True, "not checked: Discord sent no Date header")
    theirs = email.utils.parsedate_to_datetime(header)
    skew = (datetime.now(UTC) - theirs).total_seconds()
    if abs(skew) <= CLOCK_TOLERANCE_SECONDS:
        return Check("clock", True, f"within {CLOCK_TOLERANCE_SECONDS:g}s of Discord's")
    direction = "ahead of" if skew > 0 else "behind"
    return Check(
        "clock",
        False,
        f"{abs(skew):.0f}s {direction} Discord's — turn on time sync (timedatectl set-ntp true)",
    )


async def _open_checked_store(settings: Settings) -> tuple[StoreApi | None, Check]:
    """The store, opened as ``run`` opens it, and SQLite's quick check of it."""
    if settings.storage.backend == "postgresql":
        return await _open_postgresql_store(settings)
    path = settings.storage.path
    problem = location_problem(path)
    if problem:
        return None, Check("store", False, problem)
    if not path.exists():
        # Not created here: a typo in storage.path must not leave a new, empty store behind.
        # The commands are still compared (with nothing synced yet) on a store in memory.
        text = f"{path} does not exist yet; the bot creates it when it starts"
        return await Store.open(":memory:"), Check("store", True, text)
    try:
        store = await open_store(settings)
    except StoreInUse as error:  # an older bot runs on it: nothing to restore
        return None, Check("store", False, str(error))
    except (StoreError, sqlite3.Error, OSError) as error:
        text = f"{path} cannot be opened ({error}) — restore it from a backup"
        return None, Check("store", False, text)
    verdict = await store.quick_check()
    if verdict == ["ok"]:
        return store, Check("store", True, f"{path} passes SQLite's quick check")
    await store.close()  # what it holds cannot be trusted: the feeds are not read from it
    found = "; ".join(" ".join(problem.split()) for problem in verdict[:3])  # one line
    return None, Check("store", False, f"{path} is damaged ({found}) — restore it from a backup")


async def _open_postgresql_store(settings: Settings) -> tuple[StoreApi | None, Check]:
    """The store on PostgreSQL as ``run`` opens it; never the SQLite file in its place."""
    try:
        store = await open_store(settings)
    except (StoreError, ConfigError) as error:
        return None, Check("store", False, str(error))
    source = f"${settings.storage.url_env}"
    verdict = await store.quick_check()
    if verdict == ["ok"]:
        return store, Check("store", True, f"PostgreSQL at {source} answers and is up to date")
    await store.close()
    return None, Check("store", False, f"PostgreSQL at {source}: {'; '.join(verdict)}")


AUTOVACUUM_FIX = (
    "the dead rows every prune leaves are never reclaimed and the database only grows — "
    "set autovacuum = on and track_counts = on in postgresql.conf (or ALTER SYSTEM SET "
    "autovacuum = on; SELECT pg_reload_conf();) and ALTER TABLE ... RESET "
    "(autovacuum_enabled) on any table named"
)


def _autovacuum_check(problems: list[str]) -> Check:
    """PostgreSQL reclaims pruned rows only by autovacuum (topicbot runs no VACUUM)."""
    if not problems:
        return Check("autovacuum", True, "on: pruned rows' space is reused")
    return Check("autovacuum", False, f"{'; '.join(problems)}: {AUTOVACUUM_FIX}")


def _inbox_check(inbox: Path) -> Check:
    """The inbox takes files (the bot moves them to processed/ and rejected/ there)."""
    if inbox.exists() and not inbox.is_dir():
        return Check("inbox", False, f"{inbox} is a file — point ingest.inbox_dir at a folder")
    if not inbox.exists():
        parent = next((p for p in inbox.parents if p.exists()), Path("/"))
        if not parent.is_dir():
            return Check(
                "inbox",
                False,
                f"{parent} is a file, so {inbox} cannot be created — fix ingest.inbox_dir",
            )
        if os.access(parent, os.W_OK):
            return Check("inbox", True, f"{inbox} will be created when the bot starts")
        return Check("inbox", False, f"{inbox} does not exist and cannot be created — create it")
    try:
        with tempfile.NamedTemporaryFile(dir=inbox, prefix=".topicbot-doctor-"):
            pass
    except OSError as error:
        return Check(
            "inbox",
            False,
            f"{inbox} is not writable ({error.strerror}) — give the bot's user write access",
        )
    return Check("inbox", True, f"{inbox} is writable")
