"""Copying a SQLite store into an empty PostgreSQL database (``topicbot migrate-store``).

The whole copy is one PostgreSQL transaction: the target is emptied (when asked), every table
is copied with COPY in chunks, identity sequences are moved past the copied ids, derived data
is rebuilt, and each table's row count and checksum are compared with the SQLite side's before
anything commits. A run that is killed, loses its connection or finds a difference leaves the
target as it was, so running it again is always the way on. The SQLite file is opened
read-only, in one read transaction: one consistent snapshot, and its bytes never change.

The tables come from both schemas rather than from a list written here: every SQLite table is
copied, column by column, into the PostgreSQL table of the same name, unless ``NOT_COPIED``
says why not; a table on either side that neither copies nor explains stops the run before it
writes anything.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from storage.database import StoreError, latest_schema_version
from storage.postgresql.articles import index_overflow
from storage.postgresql.connection import Connection
from storage.postgresql.schema import open_migrated_pool

# SQLite tables that have no copy, and why. FTS5 keeps its index in shadow tables named after
# the virtual table; PostgreSQL's stand-ins are generated tsvector columns of ``articles``.
_FTS5_SHADOWS = ("", "_config", "_data", "_docsize", "_idx", "_content")
NOT_COPIED: dict[str, str] = {
    f"{fts}{shadow}": f"FTS5 index; PostgreSQL generates articles.{column}"
    for fts, column in (("articles_fts", "search"), ("titles_fts", "title_words"))
    for shadow in _FTS5_SHADOWS
}
# PostgreSQL tables with no SQLite twin, and what fills them instead.
POSTGRESQL_ONLY: dict[str, str] = {
    "schema_migrations": "PostgreSQL's own schema version",
    # BM25 statistics nothing reads or maintains (a later migration drops them).
    "term_documents": "unused",
    "search_totals": "unused",
    # the related engine's and title autocomplete's postings (migration 0007), written by
    # triggers on articles as their rows are copied
    "search_words": "filled from articles by triggers",
    "suggest_words": "filled from articles by triggers",
}
# Rows per COPY; bounded so that a store of any size copies in bounded memory.
CHUNK_ROWS = 5_000
# pg_advisory_xact_lock's key, so that two runs at once cannot both find the target empty: the
# first eight bytes of sha256("topicbot migrate-store"), top bit cleared to fit a bigint.
COPY_LOCK = 0x3624_042C_9992_1043
_INTEGER_TYPES = frozenset({"bigint", "integer", "smallint"})

# Told of each step as it starts, in words for an operator ("copying articles (9 rows)").
Progress = Callable[[str], None]


def _quiet(step: str) -> None:
    pass


class CopyRefused(StoreError):
    """The copy cannot start as asked (a non-empty target, an unknown table...); nothing was
    written."""


@dataclass(frozen=True, slots=True)
class TableCopy:
    """One table to copy: its name and the SQLite columns, with their PostgreSQL types."""

    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TableCheck:
    """A table's row count and checksum on each engine."""

    table: str
    sqlite_rows: int
    sqlite_checksum: int
    postgresql_rows: int
    postgresql_checksum: int

    @property
    def matches(self) -> bool:
        return (self.sqlite_rows, self.sqlite_checksum) == (
            self.postgresql_rows,
            self.postgresql_checksum,
        )


class CopyMismatch(StoreError):
    """The copy differs from the SQLite store; it was rolled back."""

    def __init__(self, checks: Sequence[TableCheck]) -> None:
        differing = ", ".join(check.table for check in checks if not check.matches)
        super().__init__(
            f"the copy differs from the SQLite store in {differing}; nothing was committed"
        )
        self.checks = list(checks)


# --- the SQLite side -------------------------------------------------------------------------


def open_sqlite_read_only(path: Path) -> sqlite3.Connection:
    """The store at ``path``, read-only, in a read transaction (one snapshot of every table),
    or a ``CopyRefused`` saying why it cannot be copied."""
    if not path.is_file():
        raise CopyRefused(f"no SQLite store at {path} (storage.path): nothing to copy")
    uri = f"{path.resolve().as_uri()}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, isolation_level=None)
    try:
        connection.execute("PRAGMA busy_timeout = 10000")
        connection.execute("BEGIN")
        _check_sqlite_version(connection, path)
    except sqlite3.DatabaseError as error:
        connection.close()
        raise StoreError(f"{path} (storage.path) is not a readable SQLite store: {error}") from None
    except BaseException:
        connection.close()
        raise
    return connection


def _check_sqlite_version(connection: sqlite3.Connection, path: Path) -> None:
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    latest = latest_schema_version()
    if version < latest:
        raise CopyRefused(
            f"the SQLite store {path} is at schema version {version}, this topicbot's is "
            f"{latest}: open it once with this version (topicbot stats) to bring it up to date"
        )
    if version > latest:
        raise CopyRefused(
            f"the SQLite store {path} is at schema version {version}, newer than this "
            f"topicbot understands ({latest}); upgrade topicbot"
        )


def sqlite_tables(connection: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    """Every table of the SQLite store with its columns in order."""
    names = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
            "ESCAPE '\\'"
        )
    ]
    return {
        name: tuple(row[1] for row in connection.execute(f'PRAGMA table_info("{name}")'))
        for name in names
    }


# --- the PostgreSQL side ---------------------------------------------------------------------


async def postgresql_tables(connection: Connection) -> dict[str, dict[str, str]]:
    """Every table of the PostgreSQL schema: column name to type."""
    rows = await connection.fetch(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
        "JOIN information_schema.tables t USING (table_schema, table_name) "
        "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
    )
    tables: dict[str, dict[str, str]] = {}
    for row in rows:
        tables.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]
    return tables


async def _foreign_keys(connection: Connection) -> list[tuple[str, str]]:
    """(table, table it references) for every foreign key of the schema."""
    rows = await connection.fetch(
        "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent "
        "FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
    )
    return [(row["child"], row["parent"]) for row in rows]


async def plan_copy(sqlite: sqlite3.Connection, connection: Connection) -> list[TableCopy]:
    """The tables to copy, each after the tables it references; a ``CopyRefused`` when a
    table or column on either side has no place on the other."""
    on_sqlite = sqlite_tables(sqlite)
    on_postgresql = await postgresql_tables(connection)
    problems = [
        f"SQLite table {name} has no PostgreSQL table"
        for name in on_sqlite
        if name not in NOT_COPIED and name not in on_postgresql
    ]
    problems += [
        f"PostgreSQL table {name} has no SQLite table"
        for name in on_postgresql
        if name not in on_sqlite and name not in POSTGRESQL_ONLY
    ]
    problems += [
        f"column {name}.{column} has no PostgreSQL column"
        for name, columns in on_sqlite.items()
        if name in on_postgresql
        for column in columns
        if column not in on_postgresql[name]
    ]
    if problems:
        raise CopyRefused("the two schemas do not match: " + "; ".join(problems))
    copied = [name for name in on_sqlite if name not in NOT_COPIED]
    ordered = _referenced_first(copied, await _foreign_keys(connection))
    return [
        TableCopy(
            name,
            on_sqlite[name],
            tuple(on_postgresql[name][column] for column in on_sqlite[name]),
        )
        for name in ordered
    ]


def _referenced_first(tables: Sequence[str], references: Sequence[tuple[str, str]]) -> list[str]:
    """``tables`` sorted by name, then moved so that each comes after those it references."""
    ordered: list[str] = []
    visiting: set[str] = set()

    def place(table: str) -> None:
        if table in ordered or table in visiting:
            return  # placed, or a cycle (a table referencing itself)
        visiting.add(table)
        for child, parent in references:
            if child == table and parent in tables:
                place(parent)
        ordered.append(table)

    for table in sorted(tables):
        place(table)
    return ordered


# --- rows and checksums ----------------------------------------------------------------------


def row_checksum(values: Sequence[Any]) -> int:
    """A 64-bit hash of a row's canonical text, the same for the same values read from either
    engine: a number is its decimal form whichever type the driver gave (1 and 1.0 alike),
    text is itself, and the type is marked so that 1 and '1' differ."""
    text = "\x1f".join([_CANONICAL.get(type(value), _canonical)(value) for value in values])
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest)


def _canonical(value: Any) -> str:
    if isinstance(value, bool | int):
        return f"n{int(value)}"
    if isinstance(value, float):
        return f"n{int(value)}" if value.is_integer() else f"n{value!r}"
    if isinstance(value, bytes):
        return f"b{value.hex()}"
    return f"s{value}"


# The common types without the isinstance chain: a checksum is taken of every row twice.
_CANONICAL: dict[type, Callable[[Any], str]] = {
    int: "n{}".format,
    str: "s{}".format,
    type(None): lambda _: "\x1e",
}


def add_checksums(total: int, row: int) -> int:
    """Sum of row checksums modulo 2**64: the same whatever order the rows are read in."""
    return (total + row) & 0xFFFF_FFFF_FFFF_FFFF


def _postgresql_row(table: TableCopy, row: Sequence[Any]) -> tuple[Any, ...]:
    """``row`` as the PostgreSQL columns take it, or a ``CopyRefused`` naming the table,
    column and row (never the value: it may be a secured one)."""
    return tuple(
        _postgresql_value(table, column, kind, value, row)
        for column, kind, value in zip(table.columns, table.types, row, strict=True)
    )


def _postgresql_value(
    table: TableCopy, column: str, kind: str, value: Any, row: Sequence[Any]
) -> Any:
    if value is None:
        return None
    if kind in _INTEGER_TYPES and isinstance(value, int):
        return value
    if kind == "double precision" and isinstance(value, int | float):
        return float(value)
    if kind == "text" and isinstance(value, str) and "\x00" not in value:
        return value
    problem = (
        "a NUL character" if isinstance(value, str) and "\x00" in value else type(value).__name__
    )
    raise CopyRefused(
        f"{table.name}.{column} in the row whose {table.columns[0]} is {row[0]!r} holds "
        f"{problem}, which a PostgreSQL {kind} column cannot take; nothing was copied"
    )


# --- the copy --------------------------------------------------------------------------------


async def copy_store(
    sqlite: sqlite3.Connection,
    connection: Connection,
    *,
    force: bool = False,
    progress: Progress = _quiet,
) -> list[TableCheck]:
    """Copy every table of ``sqlite`` into the migrated, empty database of ``connection`` (or
    empty it first with ``force``), in one transaction that commits only when every table's
    count and checksum match; return the checks. ``progress`` is told of each step."""
    tables = await plan_copy(sqlite, connection)
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", COPY_LOCK)
        await _make_room(connection, tables, force=force)
        sums = [await _copy_table(sqlite, connection, table, progress) for table in tables]
        progress("moving the id sequences and counting each topic's articles")
        await _move_sequences(connection, tables)
        await rebuild_derived(connection)
        progress("comparing row counts and checksums")
        checks = [
            TableCheck(table.name, rows, checksum, *await postgresql_checksum(connection, table))
            for table, (rows, checksum) in zip(tables, sums, strict=True)
        ]
        if not all(check.matches for check in checks):
            raise CopyMismatch(checks)
    return checks


async def _make_room(connection: Connection, tables: Sequence[TableCopy], *, force: bool) -> None:
    names = [table.name for table in tables]
    occupied = [
        name for name in names if await connection.fetchval(f'SELECT EXISTS (SELECT FROM "{name}")')
    ]
    if not occupied:
        return
    if not force:
        raise CopyRefused(
            "the PostgreSQL database already holds a store (rows in "
            f"{', '.join(occupied)}): migrate-store copies into an empty database; "
            "--force empties it first"
        )
    listed = ", ".join(f'"{name}"' for name in names)
    await connection.execute(f"TRUNCATE {listed} RESTART IDENTITY")


async def _copy_table(
    sqlite: sqlite3.Connection,
    connection: Connection,
    table: TableCopy,
    progress: Progress,
) -> tuple[int, int]:
    """Copy one table in chunks; its SQLite row count and checksum."""
    (total,) = sqlite.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()
    progress(f"copying {table.name} ({total} rows)")
    rows = checksum = 0
    for chunk in _chunks(sqlite, table):
        for row in chunk:
            checksum = add_checksums(checksum, row_checksum(row))
        records = [_postgresql_row(table, row) for row in chunk]
        try:
            await connection.copy_records_to_table(
                table.name, records=records, columns=table.columns
            )
        except asyncpg.ProgramLimitExceededError as error:
            raise _too_large_to_index(error, table, chunk) from None
        rows += len(chunk)
    return rows, checksum


def _too_large_to_index(
    error: asyncpg.ProgramLimitExceededError, table: TableCopy, chunk: Sequence[Sequence[Any]]
) -> Exception:
    """An article SQLite holds whose words PostgreSQL's full-text index of one article cannot
    (SQLite's FTS5 has no such limit): named by its id (the one of its chunk with the longest
    excerpt), never by its text; any other limit as it came."""
    overflow = index_overflow(error)
    if overflow is None or table.name != "articles":
        return error
    needed, most = overflow
    excerpt, identifier = table.columns.index("excerpt"), table.columns.index("id")
    longest = max(chunk, key=lambda row: len(row[excerpt] or ""))
    return StoreError(
        f"article {longest[identifier]} holds more distinct words than PostgreSQL's full-text "
        f"index of one article can ({needed:,} bytes, at most {most:,}): shorten its excerpt "
        f"({len(longest[excerpt]):,} characters) in its file, ingest that again on SQLite and "
        "run migrate-store again; nothing was committed"
    )


def _chunks(sqlite: sqlite3.Connection, table: TableCopy) -> Iterator[list[tuple[Any, ...]]]:
    listed = ", ".join(f'"{column}"' for column in table.columns)
    cursor = sqlite.execute(f'SELECT {listed} FROM "{table.name}"')
    while chunk := cursor.fetchmany(CHUNK_ROWS):
        yield chunk


async def postgresql_checksum(connection: Connection, table: TableCopy) -> tuple[int, int]:
    """The table's row count and checksum on PostgreSQL, over the copied columns; inside a
    transaction (a cursor needs one)."""
    listed = ", ".join(f'"{column}"' for column in table.columns)
    rows = checksum = 0
    async for record in connection.cursor(
        f'SELECT {listed} FROM "{table.name}"', prefetch=CHUNK_ROWS
    ):
        checksum = add_checksums(checksum, row_checksum(tuple(record)))
        rows += 1
    return rows, checksum


async def _move_sequences(connection: Connection, tables: Sequence[TableCopy]) -> None:
    """Each identity column's next value past the largest copied id (1 for an empty table)."""
    identities = await connection.fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES' "
        "AND table_name = any($1::text[])",
        [table.name for table in tables],
    )
    for row in identities:
        table, column = row["table_name"], row["column_name"]
        await connection.execute(
            f"SELECT setval(pg_get_serial_sequence($1, $2), "
            f'coalesce((SELECT max("{column}") FROM "{table}"), 0) + 1, false)',
            table,
            column,
        )


async def rebuild_derived(connection: Connection) -> None:
    """What PostgreSQL keeps about the copied rows, computed afresh: each topic's article
    count (its triggers counted the copied links on top of the copied counts)."""
    await connection.execute(
        "UPDATE topics t SET article_count = (SELECT count(*) FROM article_topics l "
        "JOIN articles a ON a.pk = l.article_pk WHERE l.topic_id = t.id "
        "AND article_counted(a.origin_guild_id, a.coverage_only, a.published))"
    )


async def copy_sqlite_file(
    path: Path,
    url: str,
    *,
    source: str,
    force: bool = False,
    progress: Progress = _quiet,
) -> list[TableCheck]:
    """``copy_store`` from the SQLite file at ``path`` to the database at ``url`` (brought up
    to the current schema first); ``source`` names where the URL came from in errors."""
    sqlite = open_sqlite_read_only(path)
    try:
        pool = await open_migrated_pool(url, size=1, source=source)
        try:
            async with pool.acquire() as connection:
                checks = await copy_store(sqlite, connection, force=force, progress=progress)
                progress("gathering the planner's statistics")
                # and marking the copied pages all-visible, so that the search postings'
                # index-only scans read no table pages from the first search on
                await connection.execute("VACUUM (ANALYZE)")
        except BaseException:
            # Interrupted (Ctrl-C cancels the task) or failed: drop the connection rather
            # than wait for a graceful rollback, which can hang behind a lock the copy was
            # waiting for; the server rolls the open transaction back when it goes.
            pool.terminate()
            raise
        await pool.close()
        return checks
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
        raise StoreError(
            f"PostgreSQL ({source}) failed during the copy: {error}; nothing was committed, "
            "run the command again"
        ) from None
    finally:
        sqlite.close()
