"""How long ``topicbot migrate-store --to-postgresql`` takes on a large store.

    python -m bench.bench_migrate_store [--count 100000] [--seed 1] [--workdir DIR] [--url URL]

Generates the corpus (or reuses it, as ``bench.bench_ingest`` does), ingests it into a SQLite
store of its own under the workdir (reused when it is there), then copies that store into a
new database next to the one URL names (default ``$TOPICBOT_TEST_DATABASE_URL``), dropped
after. Timed: the whole ``copy_sqlite_file`` (connect, COPY of every table, sequences, topic
recount, checksums of both sides, commit) and each of its steps (each table's copy with its
SQLite-side checksum, sequences and topic counts, the PostgreSQL-side checksums and the
commit). The last line is a JSON object: ``seconds``, ``rows``, ``rows_per_s``,
``articles``, ``steps``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.bench_ingest import prepare_corpus
from bench.corpus import preset_spec
from bench.pg_copy import scratch_database
from bot.ingest.writer import ingest_paths
from storage import Store
from storage.postgresql.from_sqlite import copy_sqlite_file


async def sqlite_store(workdir: Path, count: int, seed: int) -> Path:
    """A store holding the corpus of ``count`` files, ingested once and then reused."""
    path = workdir / f"migrate-n{count}-s{seed}.db"
    if path.exists():
        return path
    corpus_dir, _, _ = prepare_corpus(workdir, "default", preset_spec("default", count, seed))
    partial = path.with_suffix(".partial")
    async with await Store.open(partial) as store:
        report = await ingest_paths(store, [corpus_dir])
    if report.rejected:
        raise SystemExit(f"the corpus had {len(report.rejected)} rejected files")
    partial.rename(path)
    return path


async def measure(source: Path, server_url: str) -> dict[str, object]:
    steps: list[tuple[str, float]] = []
    async with scratch_database(server_url) as url:
        began = time.perf_counter()
        checks = await copy_sqlite_file(
            source, url, source="--url", progress=lambda s: steps.append((s, time.perf_counter()))
        )
        seconds = time.perf_counter() - began
    ends = [moment for _, moment in steps[1:]] + [began + seconds]
    rows = sum(check.postgresql_rows for check in checks)
    return {
        "seconds": round(seconds, 2),
        "rows": rows,
        "rows_per_s": round(rows / seconds),
        "articles": next(c.postgresql_rows for c in checks if c.table == "articles"),
        "steps": {
            step: round(end - start, 2) for (step, start), end in zip(steps, ends, strict=True)
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/topicbot-bench"))
    parser.add_argument("--url", default=os.environ.get("TOPICBOT_TEST_DATABASE_URL", ""))
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("--url or $TOPICBOT_TEST_DATABASE_URL is needed")
    args.workdir.mkdir(parents=True, exist_ok=True)
    source = asyncio.run(sqlite_store(args.workdir, args.count, args.seed))
    result = asyncio.run(measure(source, args.url))
    for step, seconds in result["steps"].items():  # type: ignore[attr-defined]
        print(f"{seconds:>8.2f} s  {step}")
    print(f"{result['rows']} rows in {result['seconds']} s ({result['rows_per_s']} rows/s)")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
