"""Where ingest time goes: each stage timed on its own, serially, over a generated corpus.

    python -m bench.profile_ingest --count 10000 [--workdir DIR] [--seed S] [--cprofile OUT]

Parse stages call the parser's internal steps one by one (``bot.articles.article_file``'s
``_decode``, ``_split_front_matter``, ``_load_counted``, ``_check_loaded``, ``_validate``,
``_to_draft``); if those are renamed, only the whole ``read_article_file`` is timed. Store stages
feed the already-parsed drafts to ``ArticleRepository.upsert_batch`` in batches, and time every
call that aiosqlite runs on its worker thread (the SQLite work proper) by statement kind; the rest
of the wall time is Python on the event loop (planning, fingerprints, parameters) plus the
thread hand-offs. The real pipeline (``ingest_paths``) overlaps parsing with writing, so its
time sits between the largest stage and the sum of all.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import pstats
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite.core

from bench.bench_ingest import _fresh_db, list_files, parse_only, prepare_corpus
from bench.corpus import PRESETS, preset_spec
from bot.articles import article_file
from bot.ingest.writer import ingest_paths
from storage.models import ArticleDraft
from storage.store import Store

_STAGES = (
    "_decode", "_split_front_matter", "_load_counted", "_check_loaded", "_validate", "_to_draft"
)  # fmt: skip


class SqlTimer:
    """Times every function aiosqlite runs on its worker thread, keyed by statement kind."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self._original: Any = None

    @staticmethod
    def _kind(fn: Callable[..., Any], args: tuple[Any, ...]) -> str:
        name = getattr(fn, "__name__", "call")
        if args and isinstance(args[0], str):
            words = args[0].split()
            head = " ".join(words[:3]).upper()
            for marker in ("INTO", "FROM", "UPDATE"):
                if marker in words[:4] or marker.lower() in words[:4]:
                    index = [w.upper() for w in words].index(marker)
                    head = f"{words[0].upper()} {words[index + 1]}"
                    break
            return f"{name}: {head}"
        return name

    def install(self) -> None:
        timer = self
        original = aiosqlite.core.Connection._execute
        self._original = original

        async def _execute(connection: Any, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
            kind = timer._kind(fn, args)

            def timed(*a: Any, **k: Any) -> Any:
                started = time.perf_counter()
                try:
                    return fn(*a, **k)
                finally:
                    with timer._lock:
                        timer.seconds[kind] += time.perf_counter() - started
                        timer.calls[kind] += 1

            return await original(connection, timed, *args, **kw)

        aiosqlite.core.Connection._execute = _execute  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            aiosqlite.core.Connection._execute = self._original  # type: ignore[method-assign]

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def parse_stages(paths: Sequence[str]) -> tuple[dict[str, float], list[ArticleDraft]]:
    """Seconds per parser stage over all files, and the drafts."""
    limits = article_file.DEFAULT_LIMITS
    seconds: dict[str, float] = defaultdict(float)
    drafts: list[ArticleDraft] = []
    staged = all(hasattr(article_file, name) for name in _STAGES)
    gc.collect()
    clock = time.perf_counter
    for path in paths:
        t0 = clock()
        with open(path, "rb") as handle:
            data = handle.read()
        t1 = clock()
        seconds["read"] += t1 - t0
        if not staged:
            drafts.append(article_file.parse_article(data, source=path, limits=limits))
            seconds["parse_article (whole)"] += clock() - t1
            continue
        text = article_file._decode(data, path, limits)
        t2 = clock()
        front, body, first_line = article_file._split_front_matter(text, path)
        t3 = clock()
        loaded = article_file._load_counted(front, path, first_line)
        t4 = clock()
        article_file._check_loaded(loaded, path, limits)
        t5 = clock()
        model = article_file._validate(loaded.value, path, [])
        t6 = clock()
        drafts.append(article_file._to_draft(model, body, path))
        t7 = clock()
        seconds["decode"] += t2 - t1
        seconds["split front matter"] += t3 - t2
        seconds["YAML (bot/articles/front_matter.py)"] += t4 - t3
        seconds["list lengths, shape check"] += t5 - t4
        seconds["pydantic validate"] += t6 - t5
        seconds["to draft (canonical URLs...)"] += t7 - t6
    return dict(seconds), drafts


async def store_stage(
    db_path: Path, drafts: Sequence[ArticleDraft], batch_size: int, timer: SqlTimer, profile: Any
) -> tuple[float, dict[str, float], dict[str, int], float, dict[str, float], dict[str, int]]:
    """Wall seconds and per-statement SQL seconds for a first write, then a re-write."""
    store = await Store.open(db_path)
    try:
        results: list[Any] = []
        for round_number in range(2):
            timer.reset()
            gc.collect()
            if profile is not None and round_number == 0:
                profile.enable()
            started = time.perf_counter()
            for start in range(0, len(drafts), batch_size):
                batch = drafts[start : start + batch_size]
                await store.articles.upsert_batch(batch, datetime.now(UTC))
            wall = time.perf_counter() - started
            if profile is not None and round_number == 0:
                profile.disable()
            results += [wall, dict(timer.seconds), dict(timer.calls)]
    finally:
        await store.close()
    return tuple(results)  # type: ignore[return-value]


async def pipeline(db_path: Path, corpus_dir: Path, batch_size: int) -> float:
    store = await Store.open(db_path)
    try:
        gc.collect()
        started = time.perf_counter()
        await ingest_paths(store, [corpus_dir], batch_size=batch_size)
        return time.perf_counter() - started
    finally:
        await store.close()


def _row(label: str, seconds: float, count: int, reference: float) -> str:
    return (
        f"  {label:<44} {seconds:8.2f}s {seconds / count * 1e6:9.0f} us/file "
        f"{seconds / reference * 100:6.1f}%"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_ingest", description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", choices=sorted(PRESETS), default="default")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/topicbot-bench"))
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--cprofile", type=Path, help="write a cProfile of the first store pass")
    parser.add_argument("--top", type=int, default=25, help="cProfile rows to print")
    args = parser.parse_args(argv)

    args.workdir.mkdir(parents=True, exist_ok=True)
    spec = preset_spec(args.corpus, args.count, args.seed)
    corpus_dir, _, _ = prepare_corpus(args.workdir, args.corpus, spec)
    paths = list_files(corpus_dir)
    count = len(paths)
    parse_only(paths)  # warm the file cache
    bare = parse_only(paths)
    stages, drafts = parse_stages(paths)
    parse_total = sum(stages.values())

    timer = SqlTimer()
    timer.install()
    profile = cProfile.Profile() if args.cprofile else None
    db_path = args.workdir / f"profile-n{count}-s{args.seed}.db"
    _fresh_db(db_path)
    try:
        first_wall, first_sql, first_calls, again_wall, again_sql, again_calls = asyncio.run(
            store_stage(db_path, drafts, args.batch_size, timer, profile)
        )
    finally:
        timer.uninstall()
    del drafts
    _fresh_db(db_path)
    piped = asyncio.run(pipeline(db_path, corpus_dir, args.batch_size))
    _fresh_db(db_path)

    serial = parse_total + first_wall
    print(f"{count:,} files, batch size {args.batch_size}; shares are of the serial sum")
    print(f"bare read+YAML (bench 'parse' phase): {bare:.2f}s = {count / bare:,.0f} files/s")
    print("parse (serial, main thread):")
    for label, seconds in stages.items():
        print(_row(label, seconds, count, serial))
    print(_row("= parse total", parse_total, count, serial))
    print("store, first write (upsert_batch on parsed drafts):")
    first_sql_total = sum(first_sql.values())
    for kind, seconds in sorted(first_sql.items(), key=lambda item: -item[1]):
        print(_row(f"sql {kind[:36]} x{first_calls[kind]}", seconds, count, serial))
    print(_row("= SQLite thread total", first_sql_total, count, serial))
    print(
        _row("= Python on the event loop + hand-offs", first_wall - first_sql_total, count, serial)
    )
    print(_row("= store total", first_wall, count, serial))
    print(_row("serial sum (parse + store)", serial, count, serial))
    print(_row("real pipeline (ingest_paths)", piped, count, serial))
    print(f"  pipeline files/s {count / piped:,.0f}; ratio to bare parse {bare / piped:.3f}")
    again_sql_total = sum(again_sql.values())
    print("store, re-write of the same drafts (all unchanged):")
    for kind, seconds in sorted(again_sql.items(), key=lambda item: -item[1])[:6]:
        print(_row(f"sql {kind[:36]} x{again_calls[kind]}", seconds, count, again_wall))
    print(_row("= SQLite thread total", again_sql_total, count, again_wall))
    print(_row("= store total", again_wall, count, again_wall))

    if profile is not None:
        profile.dump_stats(str(args.cprofile))
        stream = io.StringIO()
        stats = pstats.Stats(profile, stream=stream)
        stats.sort_stats("tottime").print_stats(args.top)
        print(f"cProfile of the first store pass (event-loop thread) -> {args.cprofile}")
        print(stream.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
