"""What story grouping costs at ingest, and how well it groups: the real ``ingest_paths``
with and without it, and the stories it made scored against the corpus's labels.

python -m bench.related.bench_grouping --articles 20000 [--workdir DIR]

Scores are over pairs of stored articles: precision is the share of pairs put in one story
that are one story in the labels, recall the share of labelled pairs put in one story.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import storage.articles
from bench.related.corpus import CorpusSpec, generate, iter_files
from bot.ingest.writer import ingest_paths
from storage import Store


def _fresh(db: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return db


def _pairs(sizes: Counter[Any]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes.values())


def story_scores(db: Path, labels: Mapping[str, object]) -> dict[str, float]:
    """Pairwise precision and recall of the stored stories against ``labels`` (canonical URL
    -> labelled story), over the articles the store holds that have a label."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT canonical_url, ifnull(story_id, pk) FROM articles")
        stored = [(labels[url], story) for url, story in rows if url in labels]
    predicted = _pairs(Counter(story for _, story in stored))
    labelled = _pairs(Counter(label for label, _ in stored))
    both = _pairs(Counter(stored))
    return {
        "pair_precision": round(both / predicted, 4) if predicted else 1.0,
        "pair_recall": round(both / labelled, 4) if labelled else 1.0,
    }


async def _ingest(folder: Path, db: Path) -> float:
    async with await Store.open(db) as store:
        started = time.perf_counter()
        report = await ingest_paths(store, [folder])
        seconds = time.perf_counter() - started
    assert not report.rejected
    return seconds


async def _no_grouping(*_: Any, **__: Any) -> None:
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
    articles = generate(CorpusSpec(articles=args.articles))
    for name, text in iter_files(articles):
        (folder / name).write_text(text, encoding="utf-8")
        files += 1
    labels = {a.url: a.story for a in articles}
    db = Path(args.workdir) / "grouping.db"
    asyncio.run(_ingest(folder, _fresh(db)))  # warm the file cache
    with_grouping = asyncio.run(_ingest(folder, _fresh(db)))
    scores = story_scores(db, labels)
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
        **scores,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
