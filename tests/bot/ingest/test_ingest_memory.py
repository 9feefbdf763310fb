"""A run's memory depends on its batch size, not on how many files it holds."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from bench.bench_ingest import GOAL_ALL_MB, GOAL_WRITER_MB
from bench.corpus import CorpusSpec, generate_corpus
from bench.memory import peak_of_command
from bot.ingest.writer import ingest_paths
from storage import Store

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]


async def _peak_of_a_run(folder: Path, db: Path) -> int:
    """The most memory Python objects held during an ingest of ``folder``, beyond what they
    held before it (SQLite's page cache, bounded by its own setting, is not counted)."""
    async with await Store.open(db) as store:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            report = await ingest_paths(store, [folder], batch_size=500)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert report.rejected == []
    return peak - before


def _corpus_in_folders(folder: Path, count: int, size: int) -> None:
    """``count`` generated article files under ``folder``, ``size`` to a subfolder."""
    generate_corpus(folder, CorpusSpec(count=count, seed=count))
    for index, path in enumerate(sorted(folder.glob("*.md"))):
        part = folder / f"part{index // size:03d}"
        part.mkdir(exist_ok=True)
        path.rename(part / path.name)


async def test_a_run_of_three_times_the_files_needs_no_more_memory(tmp_path):
    # The walk holds one folder's names at a time (sorted, for a stable order), so the files
    # go in folders of 2,000 as an inbox that is emptied as it fills would hold them; both
    # runs are long enough for the parse-ahead and the headline cache to reach their bounds.
    for count in (8_000, 24_000):
        _corpus_in_folders(tmp_path / f"n{count}", count, size=2_000)
    small = await _peak_of_a_run(tmp_path / "n8000", tmp_path / "small.db")
    large = await _peak_of_a_run(tmp_path / "n24000", tmp_path / "large.db")
    # a path, a signature or a headline kept per file would be 16,000 x hundreds of bytes
    assert large - small < 2_000_000, f"{small / 1e6:.1f} MB -> {large / 1e6:.1f} MB"


def test_topicbot_ingest_of_20000_files_stays_within_the_memory_goal(tmp_path):
    # the goal of issue 11, checked as an operator runs it: the default batch size and cache,
    # the parse workers counted; ``python -m bench.bench_ingest --count 100000`` checks 100k
    generate_corpus(tmp_path / "in", CorpusSpec(count=20_000, seed=11))
    (tmp_path / "topicbot.yaml").write_text("storage:\n  path: data/topicbot.db\n")
    command = [sys.executable, "-m", "bot", "ingest", "in", "--json"]
    code, peak = peak_of_command(
        command,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
    )
    assert code == 0
    assert peak.writer_mb <= GOAL_WRITER_MB, f"writer {peak.writer_mb:.0f} MB"
    assert peak.all_mb <= GOAL_ALL_MB, f"all processes {peak.all_mb:.0f} MB"
