"""Ingest throughput against the bare cost of reading and YAML-parsing the same files.

    python -m bench.bench_ingest --count 100000 [--corpus default|lowvocab] [--workdir DIR]
        [--seed S] [--batch-size N] [--cache-mb MB] [--backend sqlite|postgresql]

Phases, in one run, over one generated corpus (reused from the workdir when its manifest matches):

  parse      read bytes, decode, split the front matter, ``yaml.load(..., CSafeLoader)`` -
             nothing else. Run before and after the ingest; the better run counts, so both
             sides see a warm OS file cache.
  ingest     ``ingest_paths(store, [corpus_dir], batch_size=...)`` into a new SQLite file, or
             with ``--backend postgresql`` into a new database on the server named by
             $TOPICBOT_DATABASE_URL (created for the run and dropped after it).
  reingest   the same call again on the same store; every file must come back ``unchanged``.

Each ingest phase reports its peak resident memory: the writing process's own and that of all
processes together (the writer and its parse workers; ``bench.memory``). The corpus is
generated in a process of its own, so its memory is not counted.

The goals are ingest files/s >= 0.60 x parse files/s (0.50 on PostgreSQL) and a peak of at
most 200 MB in the writer and 400 MB in all. The last line printed is one JSON object.
Exit status: 0 when every check passed (goal or not), 1 when a check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import yaml

from bench.corpus import PRESETS, CorpusSpec, preset_spec, read_manifest
from bench.memory import PeakRss
from bot.ingest.discovery import collect_article_files
from bot.ingest.report import IngestReport
from bot.ingest.writer import ingest_paths
from storage.api import ArticleStoreApi
from storage.database import DEFAULT_CACHE_MB
from storage.postgresql.store import PgStore
from storage.store import Store

GOAL_RATIO = 0.60
GOAL_RATIO_POSTGRESQL = 0.50
URL_VARIABLE = "TOPICBOT_DATABASE_URL"
GOAL_WRITER_MB = 200
GOAL_ALL_MB = 400
_FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_LOADER = yaml.CSafeLoader


def prepare_corpus(
    workdir: Path, preset: str, spec: CorpusSpec
) -> tuple[Path, dict[str, Any], bool]:
    """The corpus directory and its manifest; generated unless a matching one is there."""
    corpus_dir = workdir / f"corpus-{preset}-n{spec.count}-s{spec.seed}"
    manifest = read_manifest(corpus_dir)
    if manifest is not None and all(manifest.get(k) == v for k, v in spec.key().items()):
        present = sum(1 for entry in os.scandir(corpus_dir) if entry.name.endswith(".md"))
        if present == spec.count:
            return corpus_dir, manifest, True
    # in a process of its own: the generator holds the whole corpus, and the memory this
    # process kept of it would count as the ingest's
    command = [sys.executable, "-m", "bench.corpus", str(corpus_dir), "--overwrite"]
    command += ["--count", str(spec.count), "--seed", str(spec.seed), "--preset", preset]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    manifest = read_manifest(corpus_dir)
    if manifest is None:
        raise SystemExit(f"{corpus_dir}: the generator wrote no manifest")
    return corpus_dir, manifest, False


def list_files(corpus_dir: Path) -> list[str]:
    return sorted(entry.path for entry in os.scandir(corpus_dir) if entry.name.endswith(".md"))


def _check_corpus(corpus_dir: Path, count: int) -> tuple[int, float]:
    """The corpus's size in bytes and the seconds ``collect_article_files`` takes to walk it.
    The lists made here are dropped before any phase that measures memory: the peak RSS
    reported is the ingest's, not this process's lists of 100,000 paths."""
    paths = list_files(corpus_dir)
    corpus_bytes = sum(os.path.getsize(p) for p in paths)
    walk_started = time.perf_counter()
    collected, _ = collect_article_files([corpus_dir])
    walk_seconds = time.perf_counter() - walk_started
    if not len(collected) == len(paths) == count:
        raise SystemExit(f"expected {count} files, found {len(paths)} / {len(collected)}")
    return corpus_bytes, walk_seconds


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def parse_only(paths: Sequence[str]) -> float:
    """Seconds to read and YAML-load every file's front matter, and nothing else."""
    gc.collect()
    started = time.perf_counter()
    for path in paths:
        with open(path, "rb") as handle:
            data = handle.read()
        text = data.decode("utf-8-sig")
        _, _, rest = text.partition("\n")  # the opening '---'
        end = _FRONT_MATTER_END.search(rest)
        front_matter = rest[: end.start()] if end else rest
        loaded = yaml.load(front_matter, Loader=_LOADER)
        if not isinstance(loaded, dict):
            raise SystemExit(f"{path}: front matter is not a mapping")
    return time.perf_counter() - started


class Phase(NamedTuple):
    report: IngestReport
    seconds: float
    peak: PeakRss
    writer_cpu: float  # seconds of CPU, this process (all its threads)
    workers_cpu: float  # seconds of CPU, the parse workers (reaped when the run ends)


async def _timed_ingest(store: ArticleStoreApi, corpus_dir: Path, batch_size: int) -> Phase:
    gc.collect()
    with PeakRss() as peak:
        started, writer, workers = time.perf_counter(), _cpu(), _cpu(resource.RUSAGE_CHILDREN)
        report = await ingest_paths(store, [corpus_dir], batch_size=batch_size)
        seconds = time.perf_counter() - started
    return Phase(report, seconds, peak, _cpu() - writer, _cpu(resource.RUSAGE_CHILDREN) - workers)


async def ingest_phases(
    db_path: Path, corpus_dir: Path, batch_size: int, cache_mb: int
) -> tuple[Phase, Phase, int, str]:
    store = await Store.open(db_path, cache_mb=cache_mb)
    try:
        first = await _timed_ingest(store, corpus_dir, batch_size)
        second = await _timed_ingest(store, corpus_dir, batch_size)
        stored = await store.articles.count()
        integrity = await store.integrity_check()
    finally:
        await store.close()
    return first, second, stored, integrity


# PostgreSQL has no integrity check of its own to run; this one checks what the store keeps
# by itself: every topic's count (triggers) and every article's story (grouping).
_PG_CHECK = """
SELECT (SELECT count(*) FROM topics t WHERE t.article_count <> (
            SELECT count(*) FROM article_topics at JOIN articles a ON a.pk = at.article_pk
            WHERE at.topic_id = t.id
              AND article_counted(a.origin_guild_id, a.coverage_only, a.published)))
     + (SELECT count(*) FROM articles WHERE story_id IS NULL)
"""


async def ingest_phases_postgresql(
    server_url: str, corpus_dir: Path, batch_size: int
) -> tuple[Phase, Phase, int, str, int]:
    name = f"topicbot_bench_{uuid.uuid4().hex[:12]}"
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            store = await PgStore.open(url, source=f"${URL_VARIABLE}")
            try:
                first = await _timed_ingest(store, corpus_dir, batch_size)
                second = await _timed_ingest(store, corpus_dir, batch_size)
                stored = await store.articles.count()
            finally:
                await store.close()
            checked = await asyncpg.connect(url)
            try:
                wrong = await checked.fetchval(_PG_CHECK)
                size = await checked.fetchval("SELECT pg_database_size(current_database())")
            finally:
                await checked.close()
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    return first, second, stored, "ok" if wrong == 0 else f"{wrong} wrong counts", int(size)


def _fresh_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _db_bytes(path: Path) -> int:
    return sum(
        Path(f"{path}{suffix}").stat().st_size
        for suffix in ("", "-wal", "-shm")
        if Path(f"{path}{suffix}").exists()
    )


def _counts(report: IngestReport) -> dict[str, int]:
    return {
        "new": report.new,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": len(report.rejected),
    }


def _cpu_line(phase: Phase, count: int) -> str:
    writer, workers = (seconds / count * 1e6 for seconds in (phase.writer_cpu, phase.workers_cpu))
    return f"CPU per file: writer {writer:,.0f} us, workers {workers:,.0f} us"


def _peak(phase: Phase) -> str:
    return f"peak RSS writer {phase.peak.writer_mb:,.0f} MB, all {phase.peak.all_mb:,.0f} MB"


def run(
    count: int,
    seed: int,
    workdir: Path,
    batch_size: int,
    preset: str = "default",
    cache_mb: int = DEFAULT_CACHE_MB,
    backend: str = "sqlite",
) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    spec = preset_spec(preset, count, seed)
    started = time.perf_counter()
    corpus_dir, manifest, reused = prepare_corpus(workdir, preset, spec)
    how = "reused" if reused else f"generated in {time.perf_counter() - started:.1f}s"
    print(f"corpus: {corpus_dir} ({count:,} files, {how})", flush=True)
    corpus_bytes, walk_seconds = _check_corpus(corpus_dir, count)

    parse_cpu = _cpu()
    parse_runs = [parse_only(list_files(corpus_dir))]
    parse_cpu = _cpu() - parse_cpu
    print(
        f"parse #1:  {parse_runs[0]:8.2f}s  {count / parse_runs[0]:9,.0f} files/s  "
        f"(CPU {parse_cpu / count * 1e6:,.0f} us per file)",
        flush=True,
    )

    db_path = workdir / f"bench-{preset}-n{count}-s{seed}.db"
    if backend == "postgresql":
        server_url = os.environ.get(URL_VARIABLE, "").strip()
        if not server_url:
            raise SystemExit(f"--backend postgresql needs ${URL_VARIABLE} (a server URL)")
        first_phase, second_phase, stored, integrity, db_bytes = asyncio.run(
            ingest_phases_postgresql(server_url, corpus_dir, batch_size)
        )
    else:
        _fresh_db(db_path)
        first_phase, second_phase, stored, integrity = asyncio.run(
            ingest_phases(db_path, corpus_dir, batch_size, cache_mb)
        )
        db_bytes = _db_bytes(db_path)
    goal_ratio = GOAL_RATIO_POSTGRESQL if backend == "postgresql" else GOAL_RATIO
    first, ingest_s = first_phase.report, first_phase.seconds
    second, reingest_s = second_phase.report, second_phase.seconds
    print(f"ingest:    {ingest_s:8.2f}s  {count / ingest_s:9,.0f} files/s  {_counts(first)}")
    print(f"           {_peak(first_phase)}; {_cpu_line(first_phase, count)}")
    print(f"reingest:  {reingest_s:8.2f}s  {count / reingest_s:9,.0f} files/s  {_counts(second)}")
    print(f"           {_peak(second_phase)}", flush=True)

    parse_runs.append(parse_only(list_files(corpus_dir)))
    print(f"parse #2:  {parse_runs[1]:8.2f}s  {count / parse_runs[1]:9,.0f} files/s", flush=True)
    parse_s = min(parse_runs)

    expected = int(manifest["expected_articles"])
    checks = {
        "no_rejections": not first.rejected and not second.rejected,
        "first_all_new": first.new == count,
        "reingest_all_unchanged": second.unchanged == count,
        "article_count": stored == expected,
        "integrity_ok": integrity == "ok",
    }
    for report in (first, second):
        for rejection in report.rejected[:5]:
            print(f"  rejected {rejection.path}: {rejection.error}", file=sys.stderr)

    parse_rate, ingest_rate, reingest_rate = (count / s for s in (parse_s, ingest_s, reingest_s))
    ratio = ingest_rate / parse_rate
    peak_writer = max(first_phase.peak.writer_mb, second_phase.peak.writer_mb)
    peak_all = max(first_phase.peak.all_mb, second_phase.peak.all_mb)
    return {
        "corpus": preset,
        "count": count,
        "seed": seed,
        "batch_size": batch_size,
        "cache_mb": cache_mb,
        "corpus_bytes": corpus_bytes,
        "walk_seconds": round(walk_seconds, 3),
        "parse_seconds": round(parse_s, 3),
        "parse_seconds_runs": [round(s, 3) for s in parse_runs],
        "ingest_seconds": round(ingest_s, 3),
        "reingest_seconds": round(reingest_s, 3),
        "parse_files_per_s": round(parse_rate, 1),
        "ingest_files_per_s": round(ingest_rate, 1),
        "reingest_files_per_s": round(reingest_rate, 1),
        "ratio": round(ratio, 3),
        "reingest_ratio": round(reingest_rate / parse_rate, 3),
        "backend": backend,
        "goal_ratio": goal_ratio,
        "goal_met": ratio >= goal_ratio,
        "ingest_peak_rss_writer_mb": round(first_phase.peak.writer_mb, 1),
        "ingest_peak_rss_all_mb": round(first_phase.peak.all_mb, 1),
        "reingest_peak_rss_writer_mb": round(second_phase.peak.writer_mb, 1),
        "reingest_peak_rss_all_mb": round(second_phase.peak.all_mb, 1),
        "rss_at_start_mb": round(first_phase.peak.start_mb, 1),
        # CPU per file, steadier than the rates on a shared machine
        "parse_cpu_us_per_file": round(parse_cpu / count * 1e6),
        "ingest_writer_cpu_us_per_file": round(first_phase.writer_cpu / count * 1e6),
        "ingest_workers_cpu_us_per_file": round(first_phase.workers_cpu / count * 1e6),
        "memory_goal_met": peak_writer <= GOAL_WRITER_MB and peak_all <= GOAL_ALL_MB,
        "ingest": _counts(first),
        "reingest": _counts(second),
        "articles_expected": expected,
        "articles_stored": stored,
        "integrity": integrity,
        "db_bytes": db_bytes,
        "db_path": str(db_path) if backend == "sqlite" else "(dropped PostgreSQL database)",
        "checks": checks,
        "ok": all(checks.values()),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_ingest",
        description="Ingest files/s versus bare read+YAML files/s on a synthetic corpus.",
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--corpus", choices=sorted(PRESETS), default="default")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/topicbot-bench"))
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--cache-mb", type=int, default=DEFAULT_CACHE_MB, help="storage.cache_mb")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args(argv)
    result = run(
        args.count, args.seed, args.workdir, args.batch_size, args.corpus, args.cache_mb,
        args.backend,
    )  # fmt: skip
    print(
        f"ratio ingest/parse: {result['ratio']:.3f} (goal >= {result['goal_ratio']:.2f}: "
        f"{'met' if result['goal_met'] else 'NOT met'}); re-ingest/parse: "
        f"{result['reingest_ratio']:.3f}"
    )
    print(
        f"peak RSS writer {result['ingest_peak_rss_writer_mb']:,.0f} MB, all processes "
        f"{result['ingest_peak_rss_all_mb']:,.0f} MB (goal <= {GOAL_WRITER_MB} / {GOAL_ALL_MB}: "
        f"{'met' if result['memory_goal_met'] else 'NOT met'})"
    )
    print(
        f"articles stored {result['articles_stored']:,} (expected "
        f"{result['articles_expected']:,}); integrity {result['integrity']}; "
        f"db {result['db_bytes'] / 1e6:.1f} MB"
    )
    failed = [name for name, passed in result["checks"].items() if not passed]
    if failed:
        print(f"FAILED checks: {', '.join(failed)}", file=sys.stderr)
    print(json.dumps(result, sort_keys=True))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
