"""Opening, configuring and migrating the SQLite database."""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)
# aiosqlite logs every call with its arguments at DEBUG level, statement parameters included.
# Articles' opaque ``secured`` values must never reach a log, whatever level is set for the rest.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# A migration that must run outside a transaction (VACUUM) starts with this line; it must be
# safe to run again, as a crash before its version is recorded runs it again.
OUTSIDE_A_TRANSACTION = "-- topicbot: outside a transaction"


class StoreError(Exception):
    """A problem with the store that an operator has to act on."""


def migration_scripts() -> list[tuple[int, str]]:
    """Return the packaged migrations as (version, SQL) in order."""
    folder = resources.files("storage") / "migrations"
    found: list[tuple[int, str]] = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise StoreError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


def latest_schema_version() -> int:
    """The version the packaged migrations bring a store to (read from their names only)."""
    folder = resources.files("storage") / "migrations"
    versions = [
        int(match.group(1))
        for entry in folder.iterdir()
        if (match := _MIGRATION_NAME.match(entry.name))
    ]
    return max(versions, default=0)


# SQLite's page cache per connection, unless the caller says otherwise (``storage.cache_mb``).
# A long ingest fills it, so it is a fixed part of the writing process's memory: with 64 MiB a
# run of 100,000 files peaked at about 225 MB in that process, with 24 under the 200 MB goal
# (README, "How ingest runs, and how fast").
DEFAULT_CACHE_MB = 24


async def open_connection(
    path: Path | str, *, read_only: bool = False, cache_mb: int = DEFAULT_CACHE_MB
) -> aiosqlite.Connection:
    """Open a connection with topicbot's PRAGMAs and a page cache of at most ``cache_mb``
    MiB; the caller closes it."""
    if read_only:
        absolute = os.path.abspath(path)  # noqa: ASYNC240 - reads only the working directory
        uri = f"{Path(absolute).as_uri()}?mode=ro"
        connection = await aiosqlite.connect(uri, uri=True, isolation_level=None)
    else:
        connection = await aiosqlite.connect(path, isolation_level=None)
    try:
        await connection.execute("PRAGMA busy_timeout = 10000")
        await connection.execute("PRAGMA foreign_keys = ON")
        # planning and ingest touch many pages per transaction
        await connection.execute(f"PRAGMA cache_size = -{int(cache_mb) * 1024}")
        # staging tables and sorts stay in memory; they are small and short-lived
        await connection.execute("PRAGMA temp_store = MEMORY")
        if not read_only:
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        await connection.close()
        raise
    return connection


async def cap_size(connection: aiosqlite.Connection, max_size_mb: int) -> None:
    """Limit the file to ``max_size_mb`` (never below what it already holds)."""
    async with connection.execute("PRAGMA page_size") as cursor:
        row = await cursor.fetchone()
    page_size = int(row[0]) if row else 4096
    pages = max(1, max_size_mb * 1024 * 1024 // page_size)
    await connection.execute(f"PRAGMA max_page_count = {int(pages)}")


async def schema_version(connection: aiosqlite.Connection) -> int:
    """Return the schema version recorded in the database file."""
    async with connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(connection: aiosqlite.Connection, *, up_to: int | None = None) -> int:
    """Apply every migration newer than the file's version (none past ``up_to``, when given:
    upgrade tests build older stores so); return the final version."""
    current = await schema_version(connection)
    scripts = migration_scripts()
    latest = scripts[-1][0] if scripts else 0
    if current > latest:
        raise StoreError(
            f"the database is at schema version {current}, newer than this topicbot "
            f"understands ({latest}); upgrade topicbot"
        )
    target = latest if up_to is None else min(up_to, latest)
    for version, sql in scripts:
        if not current < version <= target:
            continue
        log.info("applying schema migration %04d", version)
        script = (
            f"{sql}\nPRAGMA user_version = {version};"
            if sql.startswith(OUTSIDE_A_TRANSACTION)
            else f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
        )
        try:
            await connection.executescript(script)
        except Exception:
            if connection.in_transaction:
                await connection.rollback()
            raise
    return max(current, target)


Params = Sequence[Any] | Mapping[str, Any]
Row = tuple[Any, ...]


class Database:
    """One aiosqlite connection shared by every coroutine of the process, made safe to share.

    The bot's jobs and commands run concurrently on one event loop. Without a guard, one
    coroutine's statements would land inside another's open transaction (and be committed or
    rolled back with it). Every call therefore holds a lock; a transaction holds it from BEGIN
    to COMMIT, and statements issued inside it by the same task pass straight through.
    """

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None and self._owner is task:
            yield
            return
        async with self._lock:
            self._owner = task
            try:
                yield
            finally:
                self._owner = None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query."""
        async with self._guard():
            # one hand-off to the worker thread (execute and fetch together), not one to
            # execute, one per 64 rows and one to close the cursor
            try:
                rows = await self.connection.execute_fetchall(sql, params)
            except UnicodeEncodeError:
                rows = await self.connection.execute_fetchall(sql, _representable(params))
        return [tuple(row) for row in rows]

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or None."""
        async with self._guard():
            try:
                cursor = await self.connection.execute(sql, params)
            except UnicodeEncodeError:
                cursor = await self.connection.execute(sql, _representable(params))
            async with cursor:
                row = await cursor.fetchone()
        return tuple(row) if row is not None else None

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        row = await self.fetch_one(sql, params)
        return row[0] if row else None

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return how many rows it changed."""
        async with self._guard():
            cursor = await self.connection.execute(sql, params)
            count = cursor.rowcount
            await cursor.close()
        return count

    async def execute_script(self, sql: str) -> None:
        """Run statements to their end through sqlite3_exec, without parameters. Needed where a
        statement works one step at a time: Python's ``execute`` takes only the first step of
        ``PRAGMA incremental_vacuum``, which frees one page."""
        async with self._guard():
            await self.connection.executescript(sql)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for each parameter set."""
        async with self._guard():
            await self.connection.executemany(sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Run the block in one write transaction, rolled back if it raises."""
        async with self._guard():
            await self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                await self.connection.rollback()
                raise
            await self.connection.commit()

    async def hold_lock(self, key: str, /) -> None:
        """Nothing to do: a transaction here begins IMMEDIATE, so it holds the file's one write
        lock already, for every key (``storage.sql.Statements.hold_lock``)."""

    async def close(self) -> None:
        """Close the connection (after any call in progress)."""
        async with self._guard():
            await self.connection.close()


def _representable(params: Params) -> Params:
    """``params`` with lone surrogates (text SQLite cannot hold, which a crafted interaction
    can carry) replaced by U+FFFD, so a search for them finds nothing instead of failing."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value

    if isinstance(params, Mapping):
        return {key: clean(value) for key, value in params.items()}
    return [clean(value) for value in params]


def location_problem(path: Path) -> str | None:
    """Why a store file cannot be at ``path``, in words (SQLite says only "unable to open
    database file", naming nothing), or None."""
    if path.is_dir():
        return f"{path} is a folder, not a store file: name a file (storage.path)"
    ancestor = next((folder for folder in path.parents if folder.exists()), None)
    if ancestor is not None and not ancestor.is_dir():
        return f"{ancestor} is a file, not a folder: the store {path} cannot be created under it"
    return None


def make_room_for(path: Path) -> None:
    """Create the store's folder, or raise ``StoreError`` saying why it cannot be."""
    problem = location_problem(path)
    if problem:
        raise StoreError(problem)
    path.parent.mkdir(parents=True, exist_ok=True)
