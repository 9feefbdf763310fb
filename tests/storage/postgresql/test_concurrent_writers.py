"""Two writers storing the same URL at once on PostgreSQL (a `topicbot ingest` beside the bot's
inbox job, or two of them): both find the URL new and both insert it; the database keeps one,
the other meets its unique key. That writer's batch is planned again and stored whole: one
article, nothing rejected, nothing lost.

The race is made certain rather than hoped for: a third connection holds a lock on
``articles`` that lets both writers read (and so plan the URL as new) but not insert, until
both wait for it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bot.articles.article_file import parse_article
from storage.postgresql.store import PgStore
from tests.factories import article_fields, article_text, write_article
from tests.postgresql import until_sessions_wait_for_locks

NOW = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
SAME = "https://same.example/story"
COVERAGE = "https://coverage.example/shared"


async def together(url: str, *writers: Awaitable[Any]) -> list[Any]:
    """Run ``writers`` so that each has read and planned before any inserts an article."""
    holder = await asyncpg.connect(url)
    try:
        async with holder.transaction():
            # reads go on (ACCESS SHARE); every INSERT or UPDATE waits (ROW EXCLUSIVE)
            await holder.execute("LOCK TABLE articles IN SHARE ROW EXCLUSIVE MODE")
            tasks = [asyncio.ensure_future(writer) for writer in writers]
            await until_sessions_wait_for_locks(
                holder, len(tasks), f"{len(tasks)} writers never waited together"
            )
        return await asyncio.gather(*tasks)
    finally:
        await holder.close()


def _draft(url: str, title: str, related: list[dict[str, Any]] | None = None) -> Any:
    text = article_text(title=title, webUrl=url, originalUrl=..., related=related or [])
    return parse_article(text.encode(), source="test.md")


async def test_a_batch_meeting_a_url_another_writer_just_stored_is_stored_whole(
    postgresql_database_url,
):
    coverage = {**article_fields()["related"][0], "webUrl": COVERAGE}
    async with (
        await PgStore.open(postgresql_database_url, pool_size=2, source="$TEST") as first,
        await PgStore.open(postgresql_database_url, pool_size=2, source="$TEST") as second,
    ):
        outcomes = await together(
            postgresql_database_url,
            first.articles.upsert_batch([_draft(SAME, "Same story", [coverage])], NOW),
            second.articles.upsert_batch(
                [
                    _draft(SAME, "Same story, retold", [coverage]),
                    _draft("https://b.example/1", "B"),
                ],
                NOW,
            ),
        )
        assert sorted(map(tuple, outcomes)) == [("new",), ("updated", "new")] or sorted(
            map(tuple, outcomes)
        ) == [("new", "new"), ("updated",)]
        stored = await second.articles.get_by_url(SAME)
        assert stored is not None
        assert stored.title in ("Same story", "Same story, retold")
        assert await second.articles.count() == 3  # the story, its coverage, B: each once


TOPICBOT = Path(sys.executable).with_name("topicbot")  # the installed entry point


async def ingest(folder: Path, url: str) -> dict[str, Any]:
    """`topicbot ingest --json` on a store on PostgreSQL, as an operator runs it."""
    (folder / "topicbot.yaml").write_text("storage:\n  backend: postgresql\n")
    process = await asyncio.create_subprocess_exec(
        TOPICBOT, "ingest", "in", "--json", "--config", "topicbot.yaml",
        cwd=folder, env={**os.environ, "TOPICBOT_DATABASE_URL": url},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    return dict(json.loads(out))


async def test_two_ingests_of_the_same_url_at_once_store_one_article_and_lose_nothing(
    postgresql_database_url, tmp_path
):
    coverage = {**article_fields()["related"][0], "webUrl": COVERAGE}
    for side in ("a", "b"):
        folder = tmp_path / side / "in"
        write_article(
            folder, "same.md", title="Same story", webUrl=SAME, originalUrl=..., related=[coverage]
        )
        for n in range(3):  # each lists the same coverage, new to both
            write_article(
                folder, f"{side}{n}.md", title=f"{side} {n}", webUrl=f"https://{side}.example/{n}",
                originalUrl=..., related=[coverage],
            )  # fmt: skip
    async with await PgStore.open(postgresql_database_url, pool_size=1, source="$TEST") as store:
        pass  # the schema, made before the race
    reports = await together(
        postgresql_database_url,
        ingest(tmp_path / "a", postgresql_database_url),
        ingest(tmp_path / "b", postgresql_database_url),
    )
    for report in reports:
        assert report["rejected"] == []
        assert report["new"] + report["updated"] + report["unchanged"] == 4
    assert sorted(report["new"] for report in reports) == [3, 4]  # one found the same URL
    async with await PgStore.open(postgresql_database_url, pool_size=1, source="$TEST") as store:
        # the story, the coverage and 3 files of each side: each once
        assert await store.articles.count() == 1 + 1 + 6
        same = await store.articles.get_by_url(SAME)
        assert same is not None
        assert len(await store.articles.related(same.id)) == 1
