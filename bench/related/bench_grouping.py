"""What story grouping costs at ingest: the real ``ingest_paths`` with and without it.

python -m bench.related.bench_grouping --articles 20000 [--workdir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import time
from pathlib import Path
from typing import Any

import storage.articles
from bench.related.corpus import CorpusSpec, generate, iter_files
from bot.domain.ingest import ingest_paths
from storage import Store


def _fresh(db: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return db


async def _ingest(folder: Path, db: Path) -> float:
    async with await Store.open(db) as store:
        started = time.perf_counter()
        report = await ingest_paths(store, [folder])
        seconds = time.perf_counter() - started
    assert not report.rejected
    return seconds


async def _no_grouping(*_: Any) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--workdir", default="/tmp/topicbot-bench")
    args = parser.parse_args()
    folder = Path(args.workdir) / f"grouping-{args.articles}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files = 0
    for name, text in iter_files(generate(CorpusSpec(articles=args.articles))):
        (folder / name).write_text(text, encoding="utf-8")
        files += 1
    db = Path(args.workdir) / "grouping.db"
    asyncio.run(_ingest(folder, _fresh(db)))  # warm the file cache
    with_grouping = asyncio.run(_ingest(folder, _fresh(db)))
    real = storage.articles.assign_stories
    storage.articles.assign_stories = _no_grouping  # type: ignore[assignment]
    try:
        without = asyncio.run(_ingest(folder, _fresh(db)))
    finally:
        storage.articles.assign_stories = real
    print(json.dumps({
        "files": files,
        "ingest_s_with_grouping": round(with_grouping, 2),
        "ingest_s_without": round(without, 2),
        "grouping_cost": f"{(with_grouping / without - 1) * 100:.1f}%",
    }))  # fmt: skip


if __name__ == "__main__":
    main()
