"""Opening, configuring and migrating the SQLite database."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


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


async def open_connection(path: Path | str, *, read_only: bool = False) -> aiosqlite.Connection:
    """Open a connection with topicbot's PRAGMAs; the caller closes it."""
    if read_only:
        absolute = os.path.abspath(path)  # noqa: ASYNC240 - reads only the working directory
        uri = f"{Path(absolute).as_uri()}?mode=ro"
        connection = await aiosqlite.connect(uri, uri=True, isolation_level=None)
    else:
        connection = await aiosqlite.connect(path, isolation_level=None)
    try:
        await connection.execute("PRAGMA busy_timeout = 10000")
        await connection.execute("PRAGMA foreign_keys = ON")
        if not read_only:
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        await connection.close()
        raise
    return connection


async def schema_version(connection: aiosqlite.Connection) -> int:
    """Return the schema version recorded in the database file."""
    async with connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(connection: aiosqlite.Connection) -> int:
    """Apply every migration newer than the file's version; return the final version."""
    current = await schema_version(connection)
    scripts = migration_scripts()
    latest = scripts[-1][0] if scripts else 0
    if current > latest:
        raise StoreError(
            f"the database is at schema version {current}, newer than this topicbot "
            f"understands ({latest}); upgrade topicbot"
        )
    for version, sql in scripts:
        if version <= current:
            continue
        log.info("applying schema migration %04d", version)
        try:
            await connection.executescript(
                f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
            )
        except Exception:
            if connection.in_transaction:
                await connection.rollback()
            raise
    return max(current, latest)


@asynccontextmanager
async def transaction(connection: aiosqlite.Connection) -> AsyncIterator[None]:
    """Run the block in one write transaction, rolled back if it raises."""
    await connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        await connection.rollback()
        raise
    await connection.commit()
