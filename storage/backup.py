"""A consistent copy of a live SQLite store, through SQLite's online backup API.

The copy is made in one step on a connection of its own, inside one read transaction: in WAL
mode the bot's writes go on meanwhile and the copy is the store as of that transaction's
start. It is written beside the target, checked (quick_check, schema version) and only then
put in place, so a failed backup never leaves a half-written file under the target's name.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage.database import StoreError

BUSY_TIMEOUT_MS = 10_000


class BackupRefused(StoreError):
    """A backup that cannot start as asked (no store, the target exists)."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    """What was written."""

    path: Path
    size_bytes: int
    schema_version: int


def backup_store(source: Path, target: Path, *, overwrite: bool = False) -> BackupResult:
    """Copy the store at ``source`` to ``target`` (a single file, no WAL beside it) and verify
    the copy; an existing ``target`` is replaced only with ``overwrite``. Blocking: run it in
    a thread from async code."""
    if not source.is_file():
        raise BackupRefused(f"no store at {source} (storage.path): nothing to back up")
    if target.is_dir():
        raise BackupRefused(f"{target} is a folder: name the backup file")
    if not target.parent.is_dir():
        raise BackupRefused(f"{target.parent}: no such folder: create it, or name another path")
    if _same_file(source, target):
        # --force would put the copy in place of the live store, under a running bot's feet
        raise BackupRefused(f"{target} is the store itself: name a path off the store's disk")
    if target.exists() and not overwrite:
        raise BackupRefused(f"{target} exists: choose another name, or pass --force to replace it")
    partial = target.with_name(f".{target.name}.partial")
    _remove(partial)
    try:
        version = _copy(source, partial)
        _verify(partial, version)
        _put_in_place(partial, target, overwrite=overwrite)
    finally:
        _remove(partial)
    return BackupResult(target, target.stat().st_size, version)


def _copy(source: Path, partial: Path) -> int:
    """Copy in one backup step (one read snapshot); return the source's schema version."""
    with contextlib.closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000)) as src:
        version = int(src.execute("PRAGMA user_version").fetchone()[0])
        with contextlib.closing(sqlite3.connect(partial)) as copy:
            src.backup(copy, pages=-1)
            # one self-contained file: the bot turns WAL back on when it opens a restored copy
            copy.execute("PRAGMA journal_mode = DELETE").fetchone()
    return version


def _verify(partial: Path, version: int) -> None:
    with contextlib.closing(sqlite3.connect(partial)) as copy:
        verdict = [str(row[0]) for row in copy.execute("PRAGMA quick_check").fetchall()]
        copied = int(copy.execute("PRAGMA user_version").fetchone()[0])
    if verdict != ["ok"]:
        raise StoreError(f"the copy failed its check: {'; '.join(verdict[:5])}")
    if copied != version:
        raise StoreError(f"the copy is at schema version {copied}, the store at {version}")


def _put_in_place(partial: Path, target: Path, *, overwrite: bool) -> None:
    if overwrite:
        os.replace(partial, target)
        return
    try:
        os.link(partial, target)  # fails, rather than replaces, if the target appeared
    except FileExistsError:
        raise BackupRefused(f"{target} exists: choose another name, or pass --force") from None


def _same_file(source: Path, target: Path) -> bool:
    try:
        return os.path.samefile(source, target)
    except FileNotFoundError:
        return False


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
