"""Parse workers: article files read, validated and prepared (``storage.prepare``) off the
event loop - in worker processes for large runs, in a thread for small ones - so the one
process writing to SQLite does little else."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.articles.article_file import ArticleFileError, ParseLimits, read_article_file
from bot.ingest.discovery import Signature, file_signature
from storage.prepare import PlainFile, PreparedFile, from_plain, prepare, to_plain


@dataclass(frozen=True, slots=True)
class ParsedFile:
    path: Path
    prepared: PreparedFile | None  # what the store writes, worked out by the parse worker
    error: str | None
    signature: Signature | None  # as the file was read, to spot a file still changing
    warnings: tuple[str, ...] = ()  # what was skipped or degraded in it (``parse_article``)


CHANGED_WHILE_READ = "file: changed while it was read; it will be read again once settled"


def _parse_one(path: Path, limits: ParseLimits) -> ParsedFile:
    signature = file_signature(path)
    warnings: list[str] = []
    try:
        prepared = prepare(read_article_file(path, limits, warnings=warnings))
    except ArticleFileError as error:
        return ParsedFile(path, None, error.reason, signature)
    if file_signature(path) != signature:
        # Half old, half new: store nothing. The inbox leaves it for a later scan, since its
        # signature no longer matches the one taken before reading.
        return ParsedFile(path, None, CHANGED_WHILE_READ, signature)
    return ParsedFile(path, prepared, None, signature, tuple(warnings))


# What a parse worker sends back per file: ParsedFile's fields but the path (the writer has
# it) as plain values (see storage.prepare.to_plain), a third of the pickling work of the
# objects themselves.
PlainParsed = tuple[PlainFile | None, str | None, Signature | None, tuple[str, ...]]


def _parse_chunk(paths: Sequence[Path], limits: ParseLimits) -> list[PlainParsed]:
    return [_to_plain(_parse_one(path, limits)) for path in paths]


def _to_plain(item: ParsedFile) -> PlainParsed:
    prepared = to_plain(item.prepared) if item.prepared is not None else None
    return (prepared, item.error, item.signature, item.warnings)


def from_plain_parsed(paths: Sequence[Path], chunk: Sequence[PlainParsed]) -> list[ParsedFile]:
    """The parsed files of ``paths``; each keeps the caller's path object, so a run holds one
    per file however many lists name it."""
    return [
        ParsedFile(path, from_plain(prepared) if prepared is not None else None, error, sig, notes)
        for path, (prepared, error, sig, notes) in zip(paths, chunk, strict=True)
    ]


# Files parse in chunks of this size (each a task for a worker), so parsing keeps pace with
# the writer whatever the batch (transaction) size; several chunks make one batch.
PARSE_CHUNK = 500
WORKER_NICENESS = 10

Parse = Callable[[Sequence[Path], ParseLimits], "asyncio.Future[list[PlainParsed]]"]


def _yield_to_the_writer() -> None:
    # The one process writing to SQLite paces the whole ingest; parse workers (one per core)
    # run at a lower priority so they take the CPU it leaves, not a share of it.
    with contextlib.suppress(OSError, AttributeError):
        os.nice(WORKER_NICENESS)


def parser_processes() -> int:
    """Worker processes for parsing: one per core (niced, so the writer keeps its own)."""
    return os.cpu_count() or 2


@asynccontextmanager
async def parser(in_processes: bool) -> AsyncIterator[Parse]:
    """Something that parses a chunk of files off the event loop, as a future."""
    loop = asyncio.get_running_loop()
    if not in_processes:

        def in_thread(
            chunk: Sequence[Path], limits: ParseLimits
        ) -> asyncio.Future[list[PlainParsed]]:
            return asyncio.ensure_future(asyncio.to_thread(_parse_chunk, chunk, limits))

        yield in_thread
        return
    # spawn, not fork: this process runs threads (aiosqlite's) that fork would copy mid-state
    pool = ProcessPoolExecutor(
        parser_processes(),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_yield_to_the_writer,
    )
    try:

        def in_process(
            chunk: Sequence[Path], limits: ParseLimits
        ) -> asyncio.Future[list[PlainParsed]]:
            return loop.run_in_executor(pool, _parse_chunk, chunk, limits)

        yield in_process
    finally:
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
