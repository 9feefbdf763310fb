"""The inbox: files dropped in a folder are ingested once settled, then moved to processed/,
or to rejected/ beside a note saying why. Nothing is deleted."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bot.articles.article_file import DEFAULT_LIMITS, ParseLimits
from bot.ingest.discovery import (
    REFUSAL_NOTE_SUFFIX,
    Signature,
    file_signature,
    is_article_path,
    split_linked_dirs,
    unsupported_suffix,
)
from bot.ingest.report import IngestReport, Rejection
from bot.ingest.writer import DEFAULT_BATCH_SIZE, Ingester
from storage.api import ArticleStoreApi

log = logging.getLogger(__name__)

_TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", "~")
# A file modified more recently than this may still be being written.
DEFAULT_SETTLE_SECONDS = 2.0
PROCESSED_DIR = "processed"
REJECTED_DIR = "rejected"


def _is_temporary(name: str) -> bool:
    return name.startswith(".") or name.endswith(_TEMPORARY_SUFFIXES)


def inbox_candidates(inbox: Path, *, settle_seconds: float, now: float) -> list[Path]:
    """Files waiting in the inbox that have not changed for ``settle_seconds``."""
    candidates: list[Path] = []
    for root, dirs, names in os.walk(inbox, followlinks=False):
        at_top = Path(root) == inbox
        real, links = split_linked_dirs(root, dirs)
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
    store: ArticleStoreApi,
    inbox: Path,
    *,
    limits: ParseLimits = DEFAULT_LIMITS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
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
            report.rejected.append(Rejection(str(path), unsupported_suffix(path)))
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


def _set_aside_rejected(path: Path, inbox: Path, reason: str) -> None:
    destination = _move_aside(path, inbox, REJECTED_DIR, note_suffix=REFUSAL_NOTE_SUFFIX)
    note = destination.with_name(destination.name + REFUSAL_NOTE_SUFFIX)
    with note.open("x", encoding="utf-8") as handle:  # never over a file already there
        handle.write(f"{path}: {reason}\n")
    log.warning("rejected %s: %s", path, reason)
