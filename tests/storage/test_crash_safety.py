"""Crash safety of ingest: a full disk and SIGKILL at random points leave a sound store that a
second run completes, with nothing lost and nothing half-written."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from storage import Store
from tests.factories import write_article

ROOT = Path(__file__).resolve().parents[2]


def corpus(folder: Path, count: int) -> None:
    for n in range(count):
        write_article(
            folder, f"{n:05}.md", webUrl=f"https://crash.example/{n}", originalUrl=...,
            related=[], excerpt=f"Story {n}. " + "Words of the excerpt. " * 120,
            topics=[f"Topic {n % 7}", "Shared"],
        )  # fmt: skip


def config(tmp_path: Path, **storage: object) -> Path:
    path = tmp_path / f"topicbot-{len(storage)}.yaml"
    lines = ["storage:", "  path: data/topicbot.db"]
    lines += [f"  {key}: {value}" for key, value in storage.items()]
    lines += ["ingest:", "  batch_size: 40"]
    path.write_text("\n".join(lines) + "\n")
    return path


def half_written(db: Path) -> list[tuple]:
    """Articles missing their topics, or topic links without an article: must be none."""
    connection = sqlite3.connect(db)
    try:
        return connection.execute(
            "SELECT id FROM articles a WHERE coverage_only = 0 AND NOT EXISTS "
            "(SELECT 1 FROM article_topics t WHERE t.article_pk = a.pk) "
            "UNION ALL SELECT article_pk FROM article_topics t WHERE NOT EXISTS "
            "(SELECT 1 FROM articles a WHERE a.pk = t.article_pk)"
        ).fetchall()
    finally:
        connection.close()


async def ingest(config_path: Path, cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "ingest", "in", "--json", "--config", str(config_path),
        cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    _, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stderr.decode()


async def count_articles(db: Path) -> tuple[int, str]:
    async with await Store.open(db) as store:
        return await store.articles.count(), await store.integrity_check()


async def test_a_full_store_stops_with_a_clear_line_and_a_second_run_completes(tmp_path):
    corpus(tmp_path / "in", 300)
    capped = config(tmp_path, max_size_mb=1)
    code, stderr = await ingest(capped, tmp_path)
    db = tmp_path / "data" / "topicbot.db"
    assert code == 3
    (line,) = stderr.strip().splitlines()
    assert line.startswith("topicbot: the store is full (database or disk is full)")
    stored, integrity = await count_articles(db)
    assert integrity == "ok"
    assert 0 < stored < 300
    assert half_written(db) == []
    assert len(list((tmp_path / "in").iterdir())) == 300  # nothing on disk was touched

    code, stderr = await ingest(config(tmp_path), tmp_path)
    assert code == 0, stderr
    assert await count_articles(db) == (300, "ok")


async def kill_at_random(config_path: Path, cwd: Path, rng: random.Random) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "ingest", "in", "--config", str(config_path),
        cwd=cwd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    await asyncio.sleep(rng.uniform(0.3, 1.6))
    if process.returncode is None:
        process.send_signal(signal.SIGKILL)
    await process.wait()


async def sigkill_rounds(tmp_path: Path, files: int, rounds: int, seed: int) -> None:
    corpus(tmp_path / "in", files)
    path = config(tmp_path)
    db = tmp_path / "data" / "topicbot.db"
    rng = random.Random(seed)
    for _ in range(rounds):
        await kill_at_random(path, tmp_path, rng)
        if db.exists():
            _, integrity = await count_articles(db)
            assert integrity == "ok"
            assert half_written(db) == []
    code, stderr = await ingest(path, tmp_path)
    assert code == 0, stderr
    assert await count_articles(db) == (files, "ok")


async def test_sigkill_during_ingest_loses_nothing(tmp_path):
    await sigkill_rounds(tmp_path, files=400, rounds=4, seed=11)


@pytest.mark.slow
async def test_sigkill_during_ingest_many_times(tmp_path):
    await sigkill_rounds(tmp_path, files=1500, rounds=30, seed=12)
