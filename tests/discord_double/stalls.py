"""What the process was doing when a wait for the bot ran out: each other thread's innermost
frames and each asyncio task's await chain, so that a timeout on a loaded machine says where
the time went, not only that it went."""

from __future__ import annotations

import asyncio
import sys
import threading
from types import FrameType
from typing import Any

FRAMES_SHOWN = 4


def _where(frame: FrameType) -> str:
    return f"{frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno} {frame.f_code.co_name}"


def _thread_line(name: str, frame: FrameType | None) -> str:
    frames: list[str] = []
    while frame is not None and len(frames) < FRAMES_SHOWN:
        frames.append(_where(frame))
        frame = frame.f_back
    return f"  thread {name}: " + " <- ".join(frames)


def _await_chain(coroutine: Any) -> list[str]:
    """The frames a suspended coroutine waits through, outermost first."""
    chain: list[str] = []
    while coroutine is not None:
        frame = getattr(coroutine, "cr_frame", None) or getattr(coroutine, "ag_frame", None)
        if frame is None:
            frame = getattr(coroutine, "gi_frame", None)
        if frame is not None:
            chain.append(_where(frame))
        coroutine = getattr(coroutine, "cr_await", None) or getattr(coroutine, "gi_yieldfrom", None)
    return chain


def report() -> str:
    """Other threads, then unfinished tasks, one line each, innermost frame first."""
    names = {t.ident: t.name for t in threading.enumerate()}
    lines = [
        _thread_line(names.get(ident, str(ident)), frame)
        for ident, frame in sys._current_frames().items()
        if ident != threading.get_ident()
    ]
    try:
        tasks = asyncio.all_tasks()
    except RuntimeError:
        tasks = set()
    for task in sorted(tasks, key=lambda t: t.get_name()):
        chain = _await_chain(task.get_coro())
        if chain:
            lines.append(f"  task {task.get_name()}: " + " <- ".join(chain[::-1][:FRAMES_SHOWN]))
    return "\n".join(lines)
