"""Peak resident memory of this process and of everything it started, while a block runs.

    with PeakRss() as peak:
        ...
    peak.writer_mb, peak.all_mb

    code, peak = peak_of_command([sys.executable, "-m", "bot", "ingest", ...])

``writer_mb`` is this process's own peak (the kernel's high-water mark, reset on entry through
``/proc/self/clear_refs``); ``all_mb`` is the largest sum, over samples taken every
``interval`` seconds, of this process's resident set and its descendants' (parse workers).
Resident sets count shared library pages once per process, so ``all_mb`` errs high. Linux
only; elsewhere both stay 0.
"""

from __future__ import annotations

import contextlib
import glob
import os
import subprocess
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_MB = 1024 * 1024
_SAMPLE_SECONDS = 0.05


def _status_kb(pid: int | str, field: str) -> int:
    """A ``VmRSS``-style field of ``/proc/PID/status`` in KiB, 0 when unreadable."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _rss_bytes(pid: int) -> int:
    with (
        contextlib.suppress(OSError, ValueError, IndexError),
        open(f"/proc/{pid}/statm", encoding="ascii") as statm,
    ):
        return int(statm.read().split()[1]) * _PAGE
    return 0


def descendants(pid: int) -> list[int]:
    """The processes started by ``pid``, and theirs, that are alive now."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for path in glob.glob(f"/proc/{parent}/task/*/children"):
            with contextlib.suppress(OSError), open(path, encoding="ascii") as children:
                kids = [int(kid) for kid in children.read().split()]
                found.extend(kids)
                todo.extend(kids)
    return found


class PeakRss:
    """See the module's docstring."""

    def __init__(self, interval: float = _SAMPLE_SECONDS) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="peak-rss", daemon=True)
        self._pid = os.getpid()
        self._all = 0
        self._own = 0
        self.writer_mb = 0.0
        self.all_mb = 0.0
        self.start_mb = 0.0

    def __enter__(self) -> PeakRss:
        with (
            contextlib.suppress(OSError),
            open("/proc/self/clear_refs", "w", encoding="ascii") as refs,
        ):
            refs.write("5")  # resets VmHWM, the peak resident set, to the current one
        self.start_mb = _rss_bytes(self._pid) / _MB
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._take()
        own_peak = _status_kb(self._pid, "VmHWM") * 1024
        self.writer_mb = max(own_peak, self._own) / _MB
        self.all_mb = max(self._all, own_peak) / _MB

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self._take()

    def _take(self) -> None:
        own = _rss_bytes(self._pid)
        self._own = max(self._own, own)
        self._all = max(self._all, own + sum(map(_rss_bytes, descendants(self._pid))))


def peak_of_command(command: Sequence[str], **popen: Any) -> tuple[int, PeakRss]:
    """Run ``command`` to its end; its exit status, and the peak resident memory of the process
    (``writer_mb``: its ``VmHWM``, read until it exits) and of it with its descendants
    (``all_mb``, sampled as ``PeakRss`` does)."""
    peak = PeakRss()
    process = subprocess.Popen(command, **popen)
    own = every = 0
    while process.poll() is None:
        own = max(own, _status_kb(process.pid, "VmHWM") * 1024)
        every = max(every, sum(map(_rss_bytes, [process.pid, *descendants(process.pid)])))
        time.sleep(_SAMPLE_SECONDS)
    peak.writer_mb, peak.all_mb = own / _MB, max(every, own) / _MB
    return process.returncode, peak
