"""The writer: parsed files stored in batched transactions, while the parse workers
(``bot.ingest.workers``) read the next batch."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain, islice
from pathlib import Path

from bot.articles.article_file import DEFAULT_LIMITS, ParseLimits
from bot.ingest.discovery import Signature, count_article_files, iter_article_files
from bot.ingest.report import IngestReport, Rejection, Skipped
from bot.ingest.workers import (
    PARSE_CHUNK,
    Parse,
    ParsedFile,
    PlainParsed,
    from_plain_parsed,
    parser,
)
from storage.api import ArticleStoreApi
from storage.errors import ROW_REFUSED

ProgressCallback = Callable[[int], None]

# Chunks parsed ahead beyond the batch being filled: the workers keep parsing the next batch
# while the writer stores this one.
PARSE_SPARE_CHUNKS = 2
# Files stored per transaction, unless the caller says otherwise (``ingest.batch_size``).
DEFAULT_BATCH_SIZE = 2000
# Below this many files a worker process costs more to start than it saves.
PROCESS_POOL_MIN_FILES = 2000


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
        store: ArticleStoreApi,
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
                parser(len(head) >= PROCESS_POOL_MIN_FILES) as parse,
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
        ahead: deque[tuple[list[Path], asyncio.Future[list[PlainParsed]]]] = deque()
        pending: list[ParsedFile] = []
        try:
            for chunk in islice(chunks, self._parse_ahead()):
                ahead.append((chunk, parse(chunk, self._limits)))
            while ahead:
                paths, future = ahead.popleft()
                parsed = from_plain_parsed(paths, await future)
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
        except ROW_REFUSED:
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
        except ROW_REFUSED as error:
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
    store: ArticleStoreApi,
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
    skipped: list[Skipped] = []
    files = _set_aside(iter_article_files(paths), rejected, skipped)
    ingester = Ingester(store, limits=limits, batch_size=batch_size)
    report = await ingester.ingest(files, progress, keep_stored_paths=keep_stored_paths)
    report.rejected[:0] = rejected
    report.skipped[:0] = skipped
    return report


def _set_aside(
    found: Iterable[Path | Rejection | Skipped], rejected: list[Rejection], skipped: list[Skipped]
) -> Iterator[Path]:
    """The paths of ``found``; its rejections go to ``rejected``, what is no article to
    ``skipped``."""
    for item in found:
        if isinstance(item, Rejection):
            rejected.append(item)
        elif isinstance(item, Skipped):
            skipped.append(item)
        else:
            yield item
