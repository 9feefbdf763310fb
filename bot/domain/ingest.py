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
from itertools import chain, islice
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

    def count(
        self,
        outcome: str,
        path: Path,
        warnings: Sequence[str] = (),
        *,
        keep_path: bool = True,
    ) -> None:
        """Record one stored file's outcome, what it held that was skipped or degraded, and
        its path when asked to keep it (the inbox moves them)."""
        setattr(self, outcome, getattr(self, outcome) + 1)
        if keep_path:
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
    return _is_article_name(path.name)


def _is_article_name(name: str) -> bool:
    # Path.suffix's rule, without a Path
    dot = name.rfind(".")
    return 0 < dot < len(name) - 1 and name[dot:].lower() in ARTICLE_SUFFIXES


def iter_article_files(paths: Iterable[Path]) -> Iterator[Path | Rejection]:
    """Folders expanded (recursively, hidden entries skipped) into article files, in order,
    as they are walked. A file named explicitly with the wrong suffix comes as its rejection
    rather than being ignored."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            yield from (p for p in _walk(path) if is_article_path(p))
        elif is_article_path(path):
            yield path
        else:
            yield Rejection(str(path), _unsupported_suffix(path))


def collect_article_files(paths: Iterable[Path]) -> tuple[list[Path], list[Rejection]]:
    """``iter_article_files`` as lists: the article files, and the rejected ones."""
    files: list[Path] = []
    rejected: list[Rejection] = []
    for found in iter_article_files(paths):
        if isinstance(found, Rejection):
            rejected.append(found)
        else:
            files.append(found)
    return files, rejected


def count_article_files(paths: Iterable[Path]) -> int:
    """How many article files ``iter_article_files`` finds, without making a path for each."""
    count = 0
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            for root, dirs, names in os.walk(path, followlinks=False):
                dirs[:], links = _split_linked_dirs(root, dirs)
                count += sum(
                    1 for n in (*names, *links) if not n.startswith(".") and _is_article_name(n)
                )
        elif is_article_path(path):
            count += 1
    return count


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


# What a parse worker sends back per file: ParsedFile's fields but the path (the writer has
# it) as plain values (see storage.prepare.to_plain), a third of the pickling work of the
# objects themselves.
_PlainParsed = tuple[PlainFile | None, str | None, Signature | None, tuple[str, ...]]


def _parse_chunk(paths: Sequence[Path], limits: ParseLimits) -> list[_PlainParsed]:
    return [_to_plain(_parse_one(path, limits)) for path in paths]


def _to_plain(item: ParsedFile) -> _PlainParsed:
    prepared = to_plain(item.prepared) if item.prepared is not None else None
    return (prepared, item.error, item.signature, item.warnings)


def _from_plain(paths: Sequence[Path], chunk: Sequence[_PlainParsed]) -> list[ParsedFile]:
    """The parsed files of ``paths``; each keeps the caller's path object, so a run holds one
    per file however many lists name it."""
    return [
        ParsedFile(path, from_plain(prepared) if prepared is not None else None, error, sig, notes)
        for path, (prepared, error, sig, notes) in zip(paths, chunk, strict=True)
    ]


def _chunks(items: Iterable[Path], size: int) -> Iterator[list[Path]]:
    remaining = iter(items)
    while chunk := list(islice(remaining, size)):
        yield chunk


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
async def _parser(in_processes: bool) -> AsyncIterator[Parse]:
    """Something that parses a chunk of files off the event loop, as a future."""
    loop = asyncio.get_running_loop()
    if not in_processes:

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
        self,
        files: Iterable[Path],
        progress: ProgressCallback | None = None,
        *,
        signatures: dict[Path, Signature | None] | None = None,
        keep_stored_paths: bool = False,
    ) -> IngestReport:
        """Parse and store the files, taken from ``files`` as the run goes; return the
        report. Each file's signature as read goes into ``signatures`` when given, and the
        report lists stored files' paths with ``keep_stored_paths`` (the inbox needs both);
        otherwise a run keeps nothing per file but its rejections, so its memory does not
        grow with the number of files.

        Parsing runs ahead of storing: in worker processes for large runs (YAML and
        validation are CPU work that would otherwise share one core with the store), in a
        thread for small ones (a process costs more to start than a few files take)."""
        remaining = iter(files)
        head = list(islice(remaining, PROCESS_POOL_MIN_FILES))
        run = _Run(IngestReport(), progress, signatures, keep_stored_paths)
        with _collector_paused():
            async with (
                _parser(len(head) >= PROCESS_POOL_MIN_FILES) as parse,
                contextlib.aclosing(self._parsed_ahead(chain(head, remaining), parse)) as batches,
            ):
                del head  # the chunks hold what is still to parse
                async for parsed in batches:
                    await self._store_chunk(parsed, run)
        return run.report

    async def _parsed_ahead(
        self, files: Iterable[Path], parse: Parse
    ) -> AsyncGenerator[list[ParsedFile], None]:
        """The files parsed, a batch at a time, with the next chunks parsing meanwhile."""
        chunks = _chunks(files, min(self._batch_size, PARSE_CHUNK))
        ahead: deque[tuple[list[Path], asyncio.Future[list[_PlainParsed]]]] = deque()
        pending: list[ParsedFile] = []
        try:
            for chunk in islice(chunks, self._parse_ahead()):
                ahead.append((chunk, parse(chunk, self._limits)))
            while ahead:
                paths, future = ahead.popleft()
                parsed = _from_plain(paths, await future)
                if (following := next(chunks, None)) is not None:
                    ahead.append((following, parse(following, self._limits)))
                pending.extend(parsed)
                if len(pending) >= self._batch_size or not ahead:
                    yield pending
                    pending = []
        finally:
            for _, future in ahead:
                future.cancel()

    def _parse_ahead(self) -> int:
        return -(-self._batch_size // PARSE_CHUNK) + PARSE_SPARE_CHUNKS

    async def _store_chunk(self, parsed: Sequence[ParsedFile], run: _Run) -> None:
        if run.signatures is not None:
            run.signatures.update((item.path, item.signature) for item in parsed)
        for item in parsed:
            if item.error is not None:
                run.report.rejected.append(Rejection(str(item.path), item.error))
        for group in _split_on_repeated_urls(parsed):
            await self._store_group(group, run)
        if run.progress is not None:
            run.progress(len(parsed))

    async def _store_group(self, group: list[ParsedFile], run: _Run) -> None:
        files = [item.prepared for item in group if item.prepared is not None]
        now = datetime.now(UTC)
        try:
            outcomes = await self._store.articles.upsert_prepared(files, now)
        except sqlite3.IntegrityError:
            # One bad row spoils the batch: store file by file to find it.
            for item in group:
                await self._store_single(item, run)
            return
        for item, outcome in zip(group, outcomes, strict=True):
            run.stored(outcome, item.path, item.warnings)

    async def _store_single(self, item: ParsedFile, run: _Run) -> None:
        assert item.prepared is not None
        try:
            (outcome,) = await self._store.articles.upsert_prepared(
                [item.prepared], datetime.now(UTC)
            )
        except sqlite3.IntegrityError as error:
            run.report.rejected.append(
                Rejection(str(item.path), f"store: could not be stored ({error})")
            )
            return
        run.stored(outcome, item.path, item.warnings)


@dataclass(slots=True)
class _Run:
    """One ingest run: its report, and what its caller wants to hear or keep per file."""

    report: IngestReport
    progress: ProgressCallback | None
    signatures: dict[Path, Signature | None] | None
    keep_stored_paths: bool

    def stored(self, outcome: str, path: Path, warnings: Sequence[str]) -> None:
        self.report.count(outcome, path, warnings, keep_path=self.keep_stored_paths)


async def ingest_paths(
    store: Store,
    paths: Sequence[Path],
    *,
    limits: ParseLimits = DEFAULT_LIMITS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_total: Callable[[int], None] | None = None,
    progress: ProgressCallback | None = None,
    keep_stored_paths: bool = False,
) -> IngestReport:
    """Ingest files and folders (recursively) into the store. Nothing on disk is moved.

    Folders are walked as the run goes and nothing is kept per file but rejections (and
    stored files' paths, with ``keep_stored_paths``), so a run of a million files needs no
    more memory than one of a few batches. ``on_total`` hears how many files were found
    (a walk of its own, which makes no path objects); ``progress`` hears each batch's size.
    """
    if on_total is not None:
        on_total(count_article_files(paths))
    rejected: list[Rejection] = []
    files = _set_aside(iter_article_files(paths), rejected)
    ingester = Ingester(store, limits=limits, batch_size=batch_size)
    report = await ingester.ingest(files, progress, keep_stored_paths=keep_stored_paths)
    report.rejected[:0] = rejected
    return report


def _set_aside(found: Iterable[Path | Rejection], rejected: list[Rejection]) -> Iterator[Path]:
    """The paths of ``found``; its rejections go to ``rejected``."""
    for item in found:
        if isinstance(item, Rejection):
            rejected.append(item)
        else:
            yield item


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
    signatures: dict[Path, Signature | None] = {}
    report = await Ingester(store, limits=limits, batch_size=batch_size).ingest(
        articles, signatures=signatures, keep_stored_paths=True
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
