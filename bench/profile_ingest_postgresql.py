"""Where the time of an ingest into PostgreSQL goes, statement by statement.

    TOPICBOT_DATABASE_URL=postgresql://... python -m bench.profile_ingest_postgresql
        [--count 20000] [--corpus default|lowvocab] [--workdir DIR] [--top 20] [--every N]

Generates (or reuses) the bench corpus, ingests it with ``ingest_paths`` into a new database
beside the one the URL names (dropped after), and times every call the store makes on its
database from the writer (execute, fetch, COPY), grouped by statement: how long the writer
waited for each, against the run's wall time and the writer's own CPU time. The parse workers'
CPU and the server's are not in the writer's; on a small machine they share its cores.

With ``--every N`` it also prints, each time N more files are stored, what those files cost
per 1,000: the server's CPU, the writer's and the wall time, so that a cost growing with the
store's size shows (a figure for the whole run hides it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bench_ingest import prepare_corpus
from bench.corpus import PRESETS, preset_spec
from bench.pg_copy import scratch_database
from bench.servers import (
    postgresql_url,
    processes_cpu_seconds,
    server_cpu_seconds,
    server_pids,
)
from bot.ingest.writer import ingest_paths
from storage.postgresql.database import PgDatabase
from storage.postgresql.store import PgStore

TIMED = ("execute", "fetch_all", "fetch_one", "scalar", "copy_records")
Timings = dict[tuple[str, str], list[float]]


@contextmanager
def timed_statements() -> Iterator[Timings]:
    """Time each of PgDatabase's calls while the block runs: (method, statement) ->
    [calls, seconds]."""
    timings: Timings = defaultdict(lambda: [0, 0.0])
    originals = {name: getattr(PgDatabase, name) for name in TIMED}

    def wrapped(name: str, call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def timed(self: PgDatabase, statement: Any, *args: Any, **kw: Any) -> Any:
            started = time.perf_counter()
            try:
                return await call(self, statement, *args, **kw)
            finally:
                entry = timings[(name, " ".join(str(statement).split())[:100])]
                entry[0] += 1
                entry[1] += time.perf_counter() - started

        return timed

    for name, call in originals.items():
        setattr(PgDatabase, name, wrapped(name, call))
    try:
        yield timings
    finally:
        for name, call in originals.items():
            setattr(PgDatabase, name, call)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(slots=True)
class _Mark:
    files: int
    wall: float
    writer: float
    server: float | None


def _mark(files: int, pids: list[int]) -> _Mark:
    return _Mark(files, time.perf_counter(), _cpu(), processes_cpu_seconds(pids))


@dataclass(slots=True)
class Segments:
    """Told of each batch stored (``ingest_paths``' progress), prints what the files since the
    last line cost per 1,000 files, every ``every`` files. The server's CPU is that of the
    processes ``pids`` (read from ``/proc`` as the batches come; "n/a" when the server is on
    another machine)."""

    every: int
    pids: list[int]
    files: int = 0
    last: _Mark = field(init=False)

    def __post_init__(self) -> None:
        self.last = _mark(0, self.pids)

    def heard(self, files: int) -> None:
        self.files += files
        if self.files // self.every > self.last.files // self.every:
            now = _mark(self.files, self.pids)
            print(_segment_line(self.last, now), flush=True)
            self.last = now


def _segment_line(before: _Mark, after: _Mark) -> str:
    per_1k = 1000.0 / (after.files - before.files)
    server = (
        "n/a"
        if before.server is None or after.server is None
        else f"{(after.server - before.server) * per_1k:.2f} s"
    )
    return (
        f"{after.files:>9,} files: per 1,000 since {before.files:,}, server CPU {server}, "
        f"writer CPU {(after.writer - before.writer) * per_1k:.2f} s, "
        f"wall {(after.wall - before.wall) * per_1k:.2f} s (load {os.getloadavg()[0]:.1f})"
    )


async def profile(url: str, corpus: Path, top: int, every: int = 0) -> None:
    async with (
        scratch_database(url) as scratch,
        await PgStore.open(scratch, source="$TOPICBOT_DATABASE_URL") as store,
    ):
        load = os.getloadavg()[0]
        server = await server_cpu_seconds(store._db)
        segments = Segments(every, await server_pids(store._db)) if every > 0 else None
        started, cpu = time.perf_counter(), _cpu()
        with timed_statements() as timings:
            report = await ingest_paths(
                store, [corpus], progress=segments.heard if segments else None
            )
        wall, cpu = time.perf_counter() - started, _cpu() - cpu
        server_after = await server_cpu_seconds(store._db)
    waited = sum(seconds for _, seconds in timings.values())
    print(
        f"{report.new} files new in {wall:.1f} s (load {load:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after); the writer's CPU {cpu:.1f} s; "
        f"waiting for statements {waited:.1f} s"
    )
    if server is not None and server_after is not None:
        print(f"the server's CPU for this database: {server_after - server:.1f} s")
    ranked = sorted(timings.items(), key=lambda item: -item[1][1])
    for (name, statement), (calls, seconds) in ranked[:top]:
        print(f"{seconds:7.2f} s {int(calls):5d}  {name:<12} {statement}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", choices=sorted(PRESETS), default="default")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/topicbot-bench"))
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument(
        "--every", type=int, default=0, help="print per-1,000-file costs every N files"
    )
    args = parser.parse_args(argv)
    url = postgresql_url("this profile")
    args.workdir.mkdir(parents=True, exist_ok=True)
    spec = preset_spec(args.corpus, args.count, args.seed)
    corpus, _, _ = prepare_corpus(args.workdir, args.corpus, spec)
    asyncio.run(profile(url, corpus, args.top, args.every))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
