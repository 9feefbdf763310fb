"""The ``topicbot`` command line: run, worker, sync-commands, ingest, stats, related, backup,
migrate-store, check-config, invite-url, doctor.

Exit codes: 0 success; 1 some input was rejected (the rest was stored); 2 usage or
configuration error; 3 the store failed (disk full, locked, unreadable); 4 Discord could not
be reached (run, worker, sync-commands, invite-url, doctor); 130 migrate-store interrupted
(SIGINT).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import asyncpg
from tqdm import tqdm

from bot.config import DEFAULT_CONFIG_PATH, ConfigError, Settings, load_settings
from bot.domain.errors import AmbiguousStory, StoryNotFound, UserError
from bot.domain.related import RelatedResult, RelatedService, first_loose
from bot.domain.stories import grouping_rules
from bot.domain.subscriptions import utc_now
from bot.domain.text import readable
from bot.domain.visibility import NO_GUILD
from bot.ingest.report import IngestReport
from bot.ingest.writer import ingest_paths
from bot.observability.logs import configure_logging
from bot.sharding import ShardPlanError, parse_shard_plan
from bot.stores import open_store
from storage import StoreError
from storage.api import StoreApi
from storage.backup import BackupRefused, backup_store
from storage.errors import ConnectionLost
from storage.exclusive import StoreInUse
from storage.models import PruningRun, StoreSize, StoreStats
from storage.postgresql import password_of, server_address, url_from_environment
from storage.postgresql.from_sqlite import CopyMismatch, CopyRefused, TableCheck, copy_sqlite_file
from storage.postgresql.store import PgStore, open_from_environment

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_STORE = 3
EXIT_INTERRUPTED = 130  # as a shell reports a process ended by SIGINT
# ingest shows its progress bar on a terminal once a run has taken this long
BAR_DELAY_S = 1.0

log = logging.getLogger("topicbot")


class UsageError(Exception):
    """A command line that cannot be carried out as typed."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="topicbot", description="Topic alerts for Discord from a curated news store."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="YAML configuration, before the command or after it (default: ./topicbot.yaml)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="store article files and folders")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    _add_config_option(ingest)
    ingest.add_argument("--json", action="store_true", help="print one JSON object")

    stats = commands.add_parser("stats", help="count what the store holds")
    _add_config_option(stats)
    stats.add_argument("--json", action="store_true", help="print one JSON object")

    related = commands.add_parser("related", help="related coverage of a story, or a search")
    target = related.add_mutually_exclusive_group(required=True)
    target.add_argument("--story", metavar="ID_OR_URL", help="a stored story's id or link")
    target.add_argument("--query", metavar="TEXT", help="words to search for")
    related.add_argument("--limit", type=int, default=10, metavar="N", help="at most N results")
    related.add_argument(
        "--guild",
        type=int,
        default=None,
        metavar="ID",
        help="as this server's members see it (default: a server that added and decided nothing)",
    )
    _add_config_option(related)
    related.add_argument("--json", action="store_true", help="print one JSON object")

    check = commands.add_parser("check-config", help="validate the configuration file")
    _add_config_option(check)

    run = commands.add_parser("run", help="connect to Discord and run the bot")
    _add_config_option(run)
    run.add_argument(
        "--shard-ids",
        default=None,
        metavar="IDS",
        help="connect only these shards, comma-separated (such as 0,1); needs --shard-count",
    )
    run.add_argument(
        "--shard-count",
        type=int,
        default=None,
        metavar="N",
        help="how many shards the bot has in all (default: what Discord recommends)",
    )
    run.add_argument(
        "--no-jobs",
        action="store_true",
        help="never run the jobs (inbox, planning, sending, digests, housekeeping) here",
    )

    worker = commands.add_parser(
        "worker", help="run the jobs without a gateway connection (REST only)"
    )
    _add_config_option(worker)

    backup = commands.add_parser("backup", help="copy the store, safely while the bot runs")
    backup.add_argument("path", type=Path, metavar="PATH", help="the file to write")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    _add_config_option(backup)

    _add_migrate_store(commands)

    sync = commands.add_parser("sync-commands", help="push slash command definitions now")
    _add_config_option(sync)
    sync.add_argument("--guild", type=int, default=None, metavar="ID", help="only this server")

    invite = commands.add_parser("invite-url", help="print the URL that adds the bot to a server")
    _add_config_option(invite)
    doctor = commands.add_parser("doctor", help="check the set-up: Discord, feeds, store, inbox")
    _add_config_option(doctor)
    return parser


def _add_migrate_store(commands: Any) -> None:
    migrate = commands.add_parser(
        "migrate-store",
        help="copy the SQLite store into PostgreSQL",
        description=(
            "Copy the SQLite store at storage.path into the empty PostgreSQL database whose "
            "URL is in $storage.url_env, then compare each table's row count and checksum on "
            "both sides. The copy is one transaction: it commits only when every table "
            "matches, so an interrupted or failed run leaves the database as it was and can "
            "simply be run again. The SQLite file is only read."
        ),
    )
    migrate.add_argument(
        "--to-postgresql", action="store_true", required=True, help="the only direction"
    )
    migrate.add_argument(
        "--force",
        action="store_true",
        help="empty the database's topicbot tables first, replacing the store it holds (in "
        "the copy's transaction: kept if the copy fails)",
    )
    _add_config_option(migrate)


def _add_config_option(parser: argparse.ArgumentParser) -> None:
    # -v after the command too (`topicbot ingest inbox -v`), as before it; SUPPRESS keeps the
    # subcommand's default from overriding a -v given before the command
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log more detail"
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,  # keeps a --config given before the command
        metavar="FILE",
        help="YAML configuration (default: ./topicbot.yaml, which may be missing: all defaults)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
        _configure_logging(args, settings)
        return _dispatch(args, settings)
    except (ConfigError, UsageError) as error:
        print(f"topicbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except StoreInUse as error:
        print(f"topicbot: {error}", file=sys.stderr)
        return EXIT_STORE
    except BrokenPipeError:
        return _reader_gone()
    except sqlite3.OperationalError as error:
        print(f"topicbot: {_store_problem(error)}", file=sys.stderr)
        return EXIT_STORE
    except (StoreError, ConnectionLost, sqlite3.Error, asyncpg.PostgresError, OSError) as error:
        print(f"topicbot: the store failed: {error}", file=sys.stderr)
        return EXIT_STORE


def _reader_gone() -> int:
    """The output's reader closed it (``topicbot stats | head -2``): not the store's failure,
    and nothing to say; stdout goes to /dev/null so the exit's flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_OK


def _configure_logging(args: argparse.Namespace, settings: Settings) -> None:
    token = os.environ.get(settings.discord.token_env, "").strip()
    database_password = password_of(os.environ.get(settings.storage.url_env, ""))
    configure_logging(
        settings.logging,
        serving=args.command in ("run", "worker"),
        verbose=args.verbose,
        secrets=[secret for secret in (token, database_password) if secret],
    )


def _store_problem(error: sqlite3.OperationalError) -> str:
    text = str(error)
    if "full" in text:
        return (
            f"the store is full ({text}): free disk space or raise storage.max_size_mb; "
            "what was stored before this is kept, and running again carries on"
        )
    if "locked" in text:
        return f"the store is busy ({text}): is another topicbot writing to it?"
    return f"the store failed: {text}"


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "ingest":
        return asyncio.run(_ingest(args.paths, settings, as_json=args.json))
    if args.command == "stats":
        return asyncio.run(_stats(settings, as_json=args.json))
    if args.command == "related":
        if not 1 <= args.limit <= 100:
            raise UsageError("--limit must be from 1 to 100")
        if args.guild is not None and args.guild <= 0:
            raise UsageError("--guild must be a server id (a positive number)")
        return asyncio.run(_related(args, settings))
    if args.command == "check-config":
        return _check_config(args.config, settings)
    if args.command == "backup":
        return _backup(args.path, settings, force=args.force)
    if args.command == "migrate-store":
        return _migrate_store_now(settings, force=args.force)
    return _discord_command(args, settings)


def _discord_command(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: discord.py and the scheduler are about 27 MB of a process's memory, which
    # ``topicbot ingest`` (bounded to 200 MB) and the other store commands do without.
    import discord

    from bot.doctor import doctor_now, invite_url_now
    from bot.runner import run_bot, run_worker, sync_commands_now

    # No voice here: discord.py's warnings that PyNaCl and davey (voice) are missing, two
    # WARNING lines at every start, say nothing an operator can act on.
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False

    if args.command == "run":
        try:
            shards = parse_shard_plan(args.shard_ids, args.shard_count)
        except ShardPlanError as error:
            raise UsageError(str(error)) from None
        return run_bot(settings, shards=shards, run_jobs=not args.no_jobs)
    if args.command == "worker":
        return run_worker(settings)
    if args.command == "sync-commands":
        return sync_commands_now(settings, args.guild)
    if args.command == "invite-url":
        return invite_url_now(settings)
    if args.command == "doctor":
        return doctor_now(settings)
    raise UsageError(f"unknown command {args.command!r}")


# --- ingest ----------------------------------------------------------------------------------


async def _ingest(paths: Sequence[Path], settings: Settings, *, as_json: bool) -> int:
    missing = [str(p) for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    limits = settings.ingest.parse_limits(utc_now())
    show_bar = not as_json and sys.stderr.isatty()
    async with await _ingest_store(settings) as store:
        with tqdm(unit="file", file=sys.stderr, disable=not show_bar, delay=BAR_DELAY_S) as bar:
            report = await ingest_paths(
                store,
                paths,
                limits=limits,
                batch_size=settings.ingest.batch_size,
                on_total=_set_total(bar),
                progress=bar.update,
            )
    _print_report(report, as_json=as_json, out=sys.stdout)
    return EXIT_REJECTED if report.rejected else EXIT_OK


async def _ingest_store(settings: Settings) -> StoreApi | PgStore:
    """The store ``ingest`` writes to. PostgreSQL is opened here until ``open_store`` serves
    it to the bot too (the PostgreSQL store has every repository ingest needs)."""
    if settings.storage.backend == "postgresql":
        return await open_from_environment(
            settings.storage.url_env,
            pool_size=settings.storage.pool_size,
            grouping=grouping_rules(settings.related),
        )
    return await open_store(settings)


def _set_total(bar: tqdm[Any]) -> Any:
    def set_total(total: int) -> None:
        bar.total = total
        # a refresh shows the bar: not before its delay (a short run shows none)
        if not bar.disable and bar.format_dict["elapsed"] >= BAR_DELAY_S:
            bar.refresh()

    return set_total


def _print_report(report: IngestReport, *, as_json: bool, out: TextIO) -> None:
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False), file=out)
        return
    print(
        f"{report.files} file{'' if report.files == 1 else 's'}: {report.new} new, "
        f"{report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.rejected)} rejected"
        + (f"; {len(report.skipped)} skipped (not article files)" if report.skipped else ""),
        file=out,
    )
    for rejection in report.rejected:
        print(f"rejected {rejection.path}: {rejection.error}", file=out)
    for skip in report.skipped:
        print(f"skipped {skip.path}: {skip.reason}", file=out)
    for path, warnings in report.warnings_by_file().items():
        print(f"warning {path}: {' · '.join(warnings)}", file=out)


# --- stats -----------------------------------------------------------------------------------


async def _stats(settings: Settings, *, as_json: bool) -> int:
    async with await open_store(settings) as store:
        stats = await store.stats()
    next_deletion = _next_deletion(stats.first_left_at, settings.retention.left_server_days)
    next_member = _next_deletion(stats.first_member_left_at, settings.retention.left_member_days)
    if as_json:
        figures = dataclasses.asdict(stats) | {
            "next_server_deletion": next_deletion,
            "next_member_deletion": next_member,
        }
        print(json.dumps(figures, default=_json_value))
        return EXIT_OK
    deliveries = ", ".join(f"{state} {count}" for state, count in stats.deliveries.items())
    pruned = sum(stats.deliveries_pruned.values())
    if pruned:
        deliveries += f" ({pruned} of them pruned, counted still)"
    print(
        f"articles       {stats.articles} (published {stats.published}, "
        f"pending {stats.pending}, coverage-only {stats.coverage_only}, "
        f"too old to post {stats.skipped_old})\n"
        f"topics         {stats.topics}\n"
        f"subscriptions  {stats.subscriptions} ({stats.subscriptions_paused} paused)\n"
        f"feeds          {stats.feeds} ({stats.feeds_paused} paused)\n"
        f"deliveries     {deliveries}\n"
        f"store          {_size(stats.size)}\n"
        f"last pruning   {_pruning(stats.last_pruning)}\n"
        f"left servers   {_left_servers(stats, next_deletion)}\n"
        f"left members   {_left_members(stats, next_member)}\n"
        f"digests        {_overrides(stats.digest_overrides)}"
    )
    return EXIT_OK


def _next_deletion(first_left_at: datetime | None, days: int | None) -> datetime | None:
    """When the data of the server (or member) longest gone is due to go (None: none waits,
    or kept forever)."""
    if days is None or first_left_at is None:
        return None
    return first_left_at + timedelta(days=days)


def _left_servers(stats: StoreStats, next_deletion: datetime | None) -> str:
    """How many servers that removed the bot still have data here, and when the next goes."""
    if not stats.servers_left:
        return "none waiting for their data to be deleted"
    waiting = f"{stats.servers_left} removed the bot, their data kept"
    if next_deletion is None:
        return f"{waiting} (retention.left_server_days: null keeps it forever)"
    return (
        f"{waiting} until retention.left_server_days have passed: the next deleted at the "
        f"first housekeeping run after {next_deletion:%Y-%m-%d %H:%M} UTC"
    )


def _left_members(stats: StoreStats, next_deletion: datetime | None) -> str:
    """How many members who left a server still have subscriptions kept there (one per
    server they left), and when the next go."""
    if not stats.members_left:
        return "none waiting for their subscriptions to be deleted"
    waiting = f"{stats.members_left} left a server, their subscriptions there kept"
    if next_deletion is None:
        return f"{waiting} (retention.left_member_days: null keeps them forever)"
    return (
        f"{waiting} until retention.left_member_days have passed: the next deleted at the "
        f"first housekeeping run after {next_deletion:%Y-%m-%d %H:%M} UTC"
    )


def _json_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"


def _size(size: StoreSize | None) -> str:
    """The file's size, its free pages, and whether they are given back."""
    if size is None:
        return "unknown"
    if size.autovacuum and size.autovacuum_problems:
        problems = "; ".join(size.autovacuum_problems)
        return (
            f"{_megabytes(size.bytes)} (deleted rows' space NOT reused: {problems}; "
            "see topicbot doctor)"
        )
    if size.autovacuum:
        return f"{_megabytes(size.bytes)} (deleted rows' space reused through autovacuum)"
    reclaim = (
        "given back a little at each housekeeping run"
        if size.incremental_vacuum
        else "reused, not given back (no incremental auto-vacuum)"
    )
    return f"{_megabytes(size.bytes)} ({_megabytes(size.free_bytes)} of free pages, {reclaim})"


def _pruning(run: PruningRun | None) -> str:
    """What the last housekeeping run removed, and when."""
    if run is None:
        return "never (the running bot prunes every hour)"
    state = "" if run.finished_at is not None else ", did not finish (the next run carries on)"
    return (
        f"{run.started_at:%Y-%m-%d %H:%M} UTC: {run.deliveries} deliveries, "
        f"{run.audit_entries} audit entries, {run.articles} articles, "
        f"{run.topics} unused topics, {run.servers} left servers' data, "
        f"{run.members} left members' data, "
        f"{run.pages_reclaimed} pages given back{state}"
    )


def _overrides(counts: dict[str, int]) -> str:
    """How many servers set their own digest schedule (the rest follow digests.*)."""
    if not counts["servers"]:
        return "every server follows the configured schedule"
    return (
        f"{counts['servers']} servers set their own (time zone {counts['timezone']}, "
        f"time {counts['digest_time']}, day {counts['digest_day']}); the rest follow the "
        "configured schedule"
    )


# --- related ---------------------------------------------------------------------------------


async def _related(args: argparse.Namespace, settings: Settings) -> int:
    guild_id = NO_GUILD if args.guild is None else args.guild
    # the service's own words for these speak of Discord's autocomplete and /related query:
    if args.story is not None and not args.story.strip():
        raise UsageError("--story needs an article's id or link")
    if args.query is not None and not args.query.strip():
        raise UsageError("--query needs a few words to search for")
    async with await open_store(settings) as store:
        service = RelatedService(store, settings.related)
        try:
            story = None
            if args.story is not None:
                story, results = await service.for_story(guild_id, args.story, limit=args.limit)
            else:
                results = await service.for_query(guild_id, args.query, limit=args.limit)
        except AmbiguousStory as error:
            raise UsageError(
                f"{len(error.titled)} stories are titled “{error.story}”: give one's id "
                f"({', '.join(error.titled)})"
            ) from None
        except StoryNotFound as error:
            raise UsageError(
                f"can't find the story “{error.story}”: give an article's id or link (as "
                "--json lists them), or search with --query"
            ) from None
        except UserError as error:
            raise UsageError(str(error)) from None
    rows = [_related_row(r) for r in results]
    if args.json:
        print(json.dumps({"results": rows}, ensure_ascii=False))
        return EXIT_OK
    if story is not None:
        # the story a link, another spelling of it or a headline named, as its rows show
        date = f"{story.published_at:%Y-%m-%d}" if story.published_at else "date unknown"
        outlet = _one_line(story.provider.name or story.provider.domain)
        print(f"story: {_one_line(story.title)} — {outlet}, {date} (id {story.id})")
    loose = first_loose(results)
    for n, row in enumerate(rows, start=1):
        if n - 1 == loose:
            print("less closely related (they share little with this story):")
        date = row["published"][:10] if row["published"] else "date unknown"
        title, provider, reason = (_one_line(row[k] or "") for k in ("title", "provider", "reason"))
        print(
            f"{n:>2}. {title} — {provider}, {date}, "
            f"quality {row['quality']}\n    {row['url']}\n    {reason}"
        )
    if not rows:
        print("no related coverage found" if story else "nothing matches those words")
    return EXIT_OK


def _one_line(text: str) -> str:
    """Article text for the terminal: as a reader should see it (no markup, no control
    characters such as ESC, which would recolour or rewrite the operator's screen), one line."""
    return " ".join(readable(text).split())


def _related_row(result: RelatedResult) -> dict[str, Any]:
    article = result.article
    return {
        "id": article.id,
        "title": article.title,
        "url": article.web_url,
        "provider": article.provider.name,
        "published": article.published_at.isoformat() if article.published_at else None,
        "quality": article.quality,
        "reason": result.reason,
        "close": result.close,
    }


# --- backup ----------------------------------------------------------------------------------


def _backup(path: Path, settings: Settings, *, force: bool) -> int:
    if settings.storage.backend == "postgresql":
        raise UsageError(
            "backup copies the SQLite store; with storage.backend: postgresql, back up the "
            "database with PostgreSQL's own tools (pg_dump)"
        )
    try:
        result = backup_store(settings.storage.path, path, overwrite=force)
    except BackupRefused as error:
        raise UsageError(str(error)) from None
    print(
        f"backed up {settings.storage.path} to {result.path}: "
        f"{result.size_bytes / 1_000_000:.1f} MB, schema version {result.schema_version}, "
        "quick_check ok"
    )
    return EXIT_OK


# --- migrate-store ---------------------------------------------------------------------------


def _migrate_store_now(settings: Settings, *, force: bool) -> int:
    try:
        return asyncio.run(_migrate_store(settings, force=force))
    except KeyboardInterrupt:
        print(
            "topicbot: migrate-store interrupted; the copy is one transaction, so the "
            "database holds all of it or nothing: run the command again",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


async def _migrate_store(settings: Settings, *, force: bool) -> int:
    url, source = url_from_environment(
        settings.storage.url_env, wanted_by="migrate-store --to-postgresql"
    )
    path = settings.storage.path
    try:
        checks = await copy_sqlite_file(path, url, source=source, force=force, progress=_copying)
    except CopyRefused as error:
        raise UsageError(str(error)) from None
    except CopyMismatch as error:
        _print_checks(error.checks)
        raise
    _print_checks(checks)
    rows = sum(check.postgresql_rows for check in checks)
    print(
        f"copied {rows} rows in {len(checks)} tables from {path} to PostgreSQL at "
        f"{server_address(url, source=source)} ({source}): every count and checksum matches"
    )
    return EXIT_OK


def _copying(step: str) -> None:
    print(step, file=sys.stderr, flush=True)


def _print_checks(checks: Sequence[TableCheck]) -> None:
    width = max(len("table"), *(len(check.table) for check in checks))
    print(
        f"{'table':<{width}}  {'SQLite rows':>11}  {'PostgreSQL rows':>15}  "
        f"{'SQLite checksum':<16}  {'PostgreSQL checksum':<19}  match"
    )
    for check in checks:
        print(
            f"{check.table:<{width}}  {check.sqlite_rows:>11}  {check.postgresql_rows:>15}  "
            f"{check.sqlite_checksum:016x}  {check.postgresql_checksum:016x}     "
            f"{'ok' if check.matches else 'DIFFERS'}"
        )


# --- check-config ----------------------------------------------------------------------------


def _check_config(config: Path | None, settings: Settings) -> int:
    # Without --config the default ./topicbot.yaml is read when it is there: say that it was.
    path = config or DEFAULT_CONFIG_PATH
    source = str(path) if path.exists() else f"defaults (no {path})"
    print(f"configuration OK: {source}")
    if settings.storage.backend == "postgresql":
        print(f"  store: PostgreSQL at ${settings.storage.url_env}")
    else:
        print(f"  store: {settings.storage.path}")
    print(f"  inbox: {settings.ingest.inbox_dir} (every {settings.ingest.interval_seconds:g}s)")
    print(f"  token read from ${settings.discord.token_env}")
    warning = settings.delivery.pacing_warning()
    if warning:
        print(f"  warning: {warning}")
    return EXIT_OK
