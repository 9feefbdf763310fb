"""Ingest: article files -> validated drafts -> the store, in batched transactions.

Reading, parsing and preparing the rows (``storage.prepare``) of a batch run off the event
loop - in worker processes for large runs, in a thread for small ones - while the store writes
the previous batch, so the one process writing to SQLite does little else.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import sqlite3
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bot.domain.article_file import (
    ARTICLE_SUFFIXES,
    DEFAULT_LIMITS,
    ArticleFileError,
    ParseLimits,
    read_article_file,
)
from storage import Store
from storage.prepare import PlainFile, PreparedFile, from_plain, prepare, to_plain

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]
_TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", "~")


@dataclass(frozen=True, slots=True)
class Rejection:
    """A file that was not stored, and why."""

    path: str
    error: str


@dataclass(frozen=True, slots=True)
class FileWarning:
    """Something a stored file held that was skipped or degraded (an image, a related
    entry), and why."""

    path: str
    warning: str


@dataclass(slots=True)
class IngestReport:
    """What one ingest run did, counted per file."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    stored_paths: list[Path] = field(default_factory=list)
    warnings: list[FileWarning] = field(default_factory=list)  # of stored files only

    @property
    def files(self) -> int:
        """How many files the run looked at."""
        return self.new + self.updated + self.unchanged + len(self.rejected)

    def to_json(self) -> dict[str, Any]:
        """The shape ``topicbot ingest --json`` prints."""
        return {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [{"path": r.path, "error": r.error} for r in self.rejected],
            "warnings": [{"path": w.path, "warning": w.warning} for w in self.warnings],
        }

    def count(self, outcome: str, path: Path, warnings: Sequence[str] = ()) -> None:
        """Record one stored file's outcome, and what it held that was skipped or degraded."""
        setattr(self, outcome, getattr(self, outcome) + 1)
        self.stored_paths.append(path)
        self.warnings.extend(FileWarning(str(path), warning) for warning in warnings)

    def warnings_by_file(self) -> dict[str, list[str]]:
        """The warnings, by file, in order."""
        by_file: dict[str, list[str]] = {}
        for warning in self.warnings:
            by_file.setdefault(warning.path, []).append(warning.warning)
        return by_file


Signature = tuple[int, int]  # a file's size and modification time


@dataclass(frozen=True, slots=True)
class ParsedFile:
    path: Path
    prepared: PreparedFile | None  # what the store writes, worked out by the parse worker
    error: str | None
    signature: Signature | None  # as the file was read, to spot a file still changing
    warnings: tuple[str, ...] = ()  # what was skipped or degraded in it (``parse_article``)


def file_signature(path: Path) -> Signature | None:
    """Size and modification time, or None when the file is gone."""
    try:
        status = path.lstat()
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns


def is_article_path(path: Path) -> bool:
    """Whether the file name has one of the article suffixes."""
    return path.suffix.lower() in ARTICLE_SUFFIXES


def collect_article_files(paths: Iterable[Path]) -> tuple[list[Path], list[Rejection]]:
    """Expand folders (recursively, hidden entries skipped) into article files, in order.

    A file named explicitly with the wrong suffix is rejected rather than ignored.
    """
    files: list[Path] = []
    rejected: list[Rejection] = []
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            files.extend(p for p in _walk(path) if is_article_path(p))
        elif is_article_path(path):
            files.append(path)
        else:
            rejected.append(Rejection(str(path), _unsupported_suffix(path)))
    return files, rejected


def _unsupported_suffix(path: Path) -> str:
    shown = path.suffix or "no suffix"
    return f"file: not an article file ({shown}); topicbot reads .md, .markdown and .txt"


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:], links = _split_linked_dirs(root, dirs)
        for name in sorted([*names, *links]):
            if not name.startswith("."):
                yield Path(root, name)


def _split_linked_dirs(root: str, dirs: list[str]) -> tuple[list[str], list[str]]:
    """Folders to descend into (not hidden, not links) and links to folders, which are not
    followed but are reported like any other file rather than skipped in silence."""
    real = sorted(d for d in dirs if not d.startswith(".") and not os.path.islink(Path(root, d)))
    links = [d for d in dirs if os.path.islink(Path(root, d))]
    return real, links


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


# What a parse worker sends back per file: ParsedFile's fields as plain values (see
# storage.prepare.to_plain), a third of the pickling work of the objects themselves.
_PlainParsed = tuple[str, PlainFile | None, str | None, Signature | None, tuple[str, ...]]


def _parse_chunk(paths: Sequence[Path], limits: ParseLimits) -> list[_PlainParsed]:
    return [_to_plain(_parse_one(path, limits)) for path in paths]


def _to_plain(item: ParsedFile) -> _PlainParsed:
    prepared = to_plain(item.prepared) if item.prepared is not None else None
    return (str(item.path), prepared, item.error, item.signature, item.warnings)


def _from_plain(chunk: Sequence[_PlainParsed]) -> list[ParsedFile]:
    return [
        ParsedFile(
            Path(path), from_plain(prepared) if prepared is not None else None, error, sig, notes
        )
        for path, prepared, error, sig, notes in chunk
    ]


def _chunks(items: Sequence[Path], size: int) -> Iterator[Sequence[Path]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _split_on_repeated_urls(parsed: Sequence[ParsedFile]) -> list[list[ParsedFile]]:
    """Break a chunk wherever a URL repeats, so a later file updates an earlier one."""
    groups: list[list[ParsedFile]] = [[]]
    seen: set[str] = set()
    for item in parsed:
        if item.prepared is None:
            continue
        url = item.prepared.article.url
        if url in seen:
            groups.append([])
            seen.clear()
        seen.add(url)
        groups[-1].append(item)
    return [group for group in groups if group]


# Files parse in chunks of this size (each a task for a worker), so parsing keeps pace with
# the writer whatever the batch (transaction) size; several chunks make one batch.
PARSE_CHUNK = 500
WORKER_NICENESS = 10
# Chunks parsed ahead beyond the batch being filled: the workers keep parsing the next batch
# while the writer stores this one.
PARSE_SPARE_CHUNKS = 2
# Files stored per transaction, unless the caller says otherwise (``ingest.batch_size``).
DEFAULT_BATCH_SIZE = 2000
# Below this many files a worker process costs more to start than it saves.
PROCESS_POOL_MIN_FILES = 2000

Parse = Callable[[Sequence[Path], ParseLimits], "asyncio.Future[list[_PlainParsed]]"]


def _yield_to_the_writer() -> None:
    # The one process writing to SQLite paces the whole ingest; parse workers (one per core)
    # run at a lower priority so they take the CPU it leaves, not a share of it.
    with contextlib.suppress(OSError, AttributeError):
        os.nice(WORKER_NICENESS)


def parser_processes() -> int:
    """Worker processes for parsing: one per core (niced, so the writer keeps its own)."""
    return os.cpu_count() or 2


@asynccontextmanager
async def _parser(files: int) -> AsyncIterator[Parse]:
    """Something that parses a chunk of files off the event loop, as a future."""
    loop = asyncio.get_running_loop()
    if files < PROCESS_POOL_MIN_FILES:

        def in_thread(
            chunk: Sequence[Path], limits: ParseLimits
        ) -> asyncio.Future[list[_PlainParsed]]:
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
        ) -> asyncio.Future[list[_PlainParsed]]:
            return loop.run_in_executor(pool, _parse_chunk, chunk, limits)

        yield in_process
    finally:
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


class _CollectorPause:
    """Keeps CPython's cyclic garbage collector off while any ingest run lasts.

    A run allocates millions of short-lived, acyclic objects (records, rows, parameters) that
    reference counting frees at once. The collector counts allocations, not garbage, so it
    kept walking everything alive - a full pass over up to a million objects every few
    batches, a fifth of the writer's time - and found nothing to free. Cycles made elsewhere
    in the meantime are collected once the last run ends."""

    def __init__(self) -> None:
        self._runs = 0
        self._resume = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if self._runs == 0:
            self._resume = gc.isenabled()
            gc.disable()
        self._runs += 1
        try:
            yield
        finally:
            self._runs -= 1
            if self._runs == 0 and self._resume:
                gc.enable()


_collector_paused = _CollectorPause()


class Ingester:
    """Stores article files; the CLI and the inbox scan both go through it."""

    def __init__(
        self,
        store: Store,
        *,
        limits: ParseLimits = DEFAULT_LIMITS,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self._store = store
        self._limits = limits
        self._batch_size = batch_size

    async def ingest(
        self, files: Sequence[Path], progress: ProgressCallback | None = None
    ) -> tuple[IngestReport, dict[Path, Signature | None]]:
        """Parse and store the files; return the report and each file's signature as read.

        Parsing runs ahead of storing: in worker processes for large runs (YAML and
        validation are CPU work that would otherwise share one core with the store), in a
        thread for small ones (a process costs more to start than a few files take)."""
        report = IngestReport()
        signatures: dict[Path, Signature | None] = {}
        with _collector_paused():
            async with (
                _parser(len(files)) as parse,
                contextlib.aclosing(self._parsed_ahead(files, parse)) as batches,
            ):
                async for parsed in batches:
                    signatures.update((item.path, item.signature) for item in parsed)
                    await self._store_chunk(parsed, report, progress)
        return report, signatures

    async def _parsed_ahead(
        self, files: Sequence[Path], parse: Parse
    ) -> AsyncGenerator[list[ParsedFile], None]:
        """The files parsed, a batch at a time, with the next chunks parsing meanwhile."""
        chunks = list(_chunks(files, min(self._batch_size, PARSE_CHUNK)))
        ahead: deque[asyncio.Future[list[_PlainParsed]]] = deque()
        pending: list[ParsedFile] = []
        try:
            for chunk in chunks[: self._parse_ahead()]:
                ahead.append(parse(chunk, self._limits))
            queued = len(ahead)
            while ahead:
                parsed = _from_plain(await ahead.popleft())
                if queued < len(chunks):
                    ahead.append(parse(chunks[queued], self._limits))
                    queued += 1
                pending.extend(parsed)
                if len(pending) >= self._batch_size or not ahead:
                    yield pending
                    pending = []
        finally:
            for future in ahead:
                future.cancel()

    def _parse_ahead(self) -> int:
        return -(-self._batch_size // PARSE_CHUNK) + PARSE_SPARE_CHUNKS

    async def _store_chunk(
        self,
        parsed: Sequence[ParsedFile],
        report: IngestReport,
        progress: ProgressCallback | None,
    ) -> None:
        for item in parsed:
            if item.error is not None:
                report.rejected.append(Rejection(str(item.path), item.error))
        for group in _split_on_repeated_urls(parsed):
            await self._store_group(group, report)
        if progress is not None:
            progress(len(parsed))

    async def _store_group(self, group: list[ParsedFile], report: IngestReport) -> None:
        files = [item.prepared for item in group if item.prepared is not None]
        now = datetime.now(UTC)
        try:
            outcomes = await self._store.articles.upsert_prepared(files, now)
        except sqlite3.IntegrityError:
            # One bad row spoils the batch: store file by file to find it.
            for item in group:
                await self._store_single(item, report)
            return
        for item, outcome in zip(group, outcomes, strict=True):
            report.count(outcome, item.path, item.warnings)

    async def _store_single(self, item: ParsedFile, report: IngestReport) -> None:
        assert item.prepared is not None
        try:
            (outcome,) = await self._store.articles.upsert_prepared(
                [item.prepared], datetime.now(UTC)
            )
        except sqlite3.IntegrityError as error:
            report.rejected.append(
                Rejection(str(item.path), f"store: could not be stored ({error})")
            )
            return
        report.count(outcome, item.path, item.warnings)


async def ingest_paths(
    store: Store,
    paths: Sequence[Path],
    *,
    limits: ParseLimits = DEFAULT_LIMITS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_total: Callable[[int], None] | None = None,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Ingest files and folders (recursively) into the store. Nothing on disk is moved.

    ``on_total`` hears how many files were found; ``progress`` hears each batch's size.
    """
    files, rejected = collect_article_files(paths)
    if on_total is not None:
        on_total(len(files))
    report, _ = await Ingester(store, limits=limits, batch_size=batch_size).ingest(files, progress)
    report.rejected[:0] = rejected
    return report


# --- the inbox -------------------------------------------------------------------------------


PROCESSED_DIR = "processed"
REJECTED_DIR = "rejected"


def _is_temporary(name: str) -> bool:
    return name.startswith(".") or name.endswith(_TEMPORARY_SUFFIXES)


def inbox_candidates(inbox: Path, *, settle_seconds: float, now: float) -> list[Path]:
    """Files waiting in the inbox that have not changed for ``settle_seconds``."""
    candidates: list[Path] = []
    for root, dirs, names in os.walk(inbox, followlinks=False):
        at_top = Path(root) == inbox
        real, links = _split_linked_dirs(root, dirs)
        dirs[:] = [d for d in real if not (at_top and d in (PROCESSED_DIR, REJECTED_DIR))]
        for name in sorted([*names, *links]):
            path = Path(root, name)
            if _is_temporary(name):
                continue
            signature = file_signature(path)
            if signature is not None and now - signature[1] / 1e9 >= settle_seconds:
                candidates.append(path)
    return candidates


def _free_destination(destination: Path, *, note_suffix: str | None = None) -> Path:
    """The destination, or a numbered variant of it when the name (or, with ``note_suffix``,
    the name of the note beside it) is taken."""
    candidate = destination
    number = 1
    while _taken(candidate) or (
        note_suffix is not None and _taken(candidate.with_name(candidate.name + note_suffix))
    ):
        candidate = destination.with_name(f"{destination.stem}.{number}{destination.suffix}")
        number += 1
    return candidate


def _taken(path: Path) -> bool:
    return os.path.lexists(path)


def _move_aside(path: Path, inbox: Path, folder: str, *, note_suffix: str | None = None) -> Path:
    target = inbox / folder / path.relative_to(inbox)
    target.parent.mkdir(parents=True, exist_ok=True)
    destination = _free_destination(target, note_suffix=note_suffix)
    path.rename(destination)
    return destination


async def scan_inbox(
    store: Store,
    inbox: Path,
    *,
    limits: ParseLimits = DEFAULT_LIMITS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    settle_seconds: float = 2.0,
) -> IngestReport:
    """Ingest what waits in the inbox; move stored files to processed/, refused ones to
    rejected/ beside a ``<name>.error.txt``. A file that changed while it was read stays put
    and is taken on a later scan. Nothing is deleted."""
    waiting = await asyncio.to_thread(_list_inbox, inbox, settle_seconds)
    articles = [p for p in waiting if is_article_path(p)]
    report, signatures = await Ingester(store, limits=limits, batch_size=batch_size).ingest(
        articles
    )
    for path in waiting:
        if not is_article_path(path):
            report.rejected.append(Rejection(str(path), _unsupported_suffix(path)))
    signatures.update((p, file_signature(p)) for p in waiting if not is_article_path(p))
    await asyncio.to_thread(_move_finished, inbox, report, signatures)
    for name, warnings in report.warnings_by_file().items():
        log.warning("stored %s with warnings: %s", name, " · ".join(warnings))
    return report


def _list_inbox(inbox: Path, settle_seconds: float) -> list[Path]:
    inbox.mkdir(parents=True, exist_ok=True)
    return inbox_candidates(inbox, settle_seconds=settle_seconds, now=time.time())


def _move_finished(
    inbox: Path, report: IngestReport, signatures: dict[Path, Signature | None]
) -> None:
    """Move files that did not change since they were read; the rest wait for the next scan.
    A file that is gone is left alone, and a move that fails is logged and retried on the
    next scan: one file never stops the others from being set aside."""
    for path in report.stored_paths:
        if _unchanged(path, signatures):
            _try(path, partial(_move_aside, path, inbox, PROCESSED_DIR))
    for rejection in report.rejected:
        path = Path(rejection.path)
        if _unchanged(path, signatures):
            _try(path, partial(_set_aside_rejected, path, inbox, rejection.error))


def _unchanged(path: Path, signatures: dict[Path, Signature | None]) -> bool:
    current = file_signature(path)
    return current is not None and current == signatures.get(path)


def _try(path: Path, move: Callable[[], object]) -> None:
    try:
        move()
    except OSError as error:
        log.warning("could not move %s aside (%s); it stays for the next scan", path, error)


_NOTE_SUFFIX = ".error.txt"


def _set_aside_rejected(path: Path, inbox: Path, reason: str) -> None:
    destination = _move_aside(path, inbox, REJECTED_DIR, note_suffix=_NOTE_SUFFIX)
    note = destination.with_name(destination.name + _NOTE_SUFFIX)
    with note.open("x", encoding="utf-8") as handle:  # never over a file already there
        handle.write(f"{path}: {reason}\n")
    log.warning("rejected %s: %s", path, reason)
