"""One running bot per SQLite store: an exclusive lock on a file beside the store, held for as
long as the bot runs. SQLite serves one writing process; two bots on one file would both run
the jobs (and send every alert twice), so the second is refused with a line that says so.
The operating system drops the lock when its process ends, however it ends."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from storage.database import StoreError, make_room_for


class StoreInUse(StoreError):
    """Another process runs the bot on this SQLite store."""


# The stores this process holds the lock of (a probe from this process would find it taken).
_held_here: set[Path] = set()


def lock_path(store_path: Path) -> Path:
    """The lock file of the store at ``store_path``: ``topicbot.db.lock`` beside
    ``topicbot.db``."""
    return store_path.with_name(store_path.name + ".lock")


@contextlib.contextmanager
def sole_process(store_path: Path) -> Iterator[None]:
    """Hold the store's lock for the block, or raise ``StoreInUse`` naming the holder."""
    path = lock_path(store_path)
    make_room_for(store_path)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreInUse(_refusal(store_path, _holder(descriptor))) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        _held_here.add(path.resolve())
        try:
            yield
        finally:
            _held_here.discard(path.resolve())
    finally:
        os.close(descriptor)  # closing it releases the lock


def held_elsewhere(store_path: Path) -> str | None:
    """`` (pid N)`` (or ``""``) when another process runs a bot on the store, else None."""
    path = lock_path(store_path)
    if path.resolve() in _held_here:
        return None
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return None  # no lock file: no bot has run on it here
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(descriptor)
        return None  # closing it releases the probe's shared lock
    finally:
        os.close(descriptor)


def _holder(descriptor: int) -> str:
    text = os.pread(descriptor, 32, 0).decode(errors="replace").strip()
    return f" (pid {text})" if text.isdigit() else ""


def _refusal(store_path: Path, holder: str) -> str:
    return (
        f"{store_path} is in use by another topicbot run{holder}: a SQLite store serves one "
        "process; to run several, use storage.backend: postgresql"
    )
