"""`topicbot related --guild ID` as an operator runs it: what that server's members see."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import Store
from storage.models import PublicationState
from tests.engines import ENGINES, postgresql_url
from tests.factories import EXAMPLES_DIR, write_article
from tests.test_cli import topicbot

STORY = "https://harbour-times.example/ferry-strike"
COVERAGE = "https://coastwire.example/ferry-strike"
PENDING = "https://pendingpost.example/ferry-strike"
RETRACTED = "https://retractedtimes.example/ferry-strike"
RETRACTED_IN, PUBLISHED_IN = 111, 222
QUERY = "harbour ferry strike automation"


def fields(url: str, title: str, published: bool, **extra: object) -> dict[str, object]:
    return {
        "webUrl": url, "originalUrl": ..., "title": title, "published": published,
        "publishedDateTime": "2026-11-20T10:00:00Z", "topics": ["Ferry Strikes"],
        "provider": {"name": url.split("/")[2], "domain": url.split("/")[2]},
        "related": [], "images": [], **extra,
    }  # fmt: skip


# Guild 111 retracts the published article; guild 222 publishes the pending one.
DECISIONS: list[tuple[int, str, PublicationState]] = [
    (RETRACTED_IN, RETRACTED, "retracted"),
    (PUBLISHED_IN, PENDING, "published"),
]


async def decide(database: Path) -> None:
    async with await Store.open(database) as store:
        for guild, link, state in DECISIONS:
            article = await store.articles.get_by_url(link)
            assert article is not None
            await store.publication.decide(guild, article.id, state, 1, datetime.now(UTC))


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store the tests only read: the files ingested, then the two servers' decisions."""
    tmp_path = tmp_path_factory.mktemp("related")
    config = tmp_path / "topicbot.yaml"
    config.write_text("storage:\n  path: data/topicbot.db\n")
    folder = tmp_path / "in"
    covered = {"title": "Ferry strike halts harbour crossings", "webUrl": COVERAGE,
               "publishedDateTime": "2026-11-20T11:00:00Z"}  # fmt: skip
    write_article(folder, "story.md", **fields(
        STORY, "Harbour ferry workers strike over automation plans", True, related=[covered]))  # fmt: skip
    write_article(folder, "pending.md", **fields(
        PENDING, "Ferry strike: harbour workers walk out over automation", False))  # fmt: skip
    write_article(folder, "retracted.md", **fields(
        RETRACTED, "Harbour ferry strike over automation spreads overnight", True))  # fmt: skip
    result = topicbot("ingest", "in", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    asyncio.run(decide(tmp_path / "data" / "topicbot.db"))
    return config


def urls(config: Path, *args: str) -> set[str]:
    result = topicbot("related", *args, "--json", "--config", str(config), cwd=config.parent)
    assert result.returncode == 0, result.stderr
    return {row["url"] for row in json.loads(result.stdout)["results"]}


def test_a_query_shows_what_the_servers_members_see(stored: Path):
    assert urls(stored, "--query", QUERY, "--guild", str(RETRACTED_IN)) == {STORY, COVERAGE}
    assert urls(stored, "--query", QUERY, "--guild", str(PUBLISHED_IN)) == {
        STORY, COVERAGE, PENDING, RETRACTED
    }  # fmt: skip
    # a server that added and decided nothing: what the source published, and coverage
    assert urls(stored, "--query", QUERY) == {STORY, COVERAGE, RETRACTED}


def test_a_story_lists_what_the_servers_members_see(stored: Path):
    assert urls(stored, "--story", STORY, "--guild", str(RETRACTED_IN)) == {COVERAGE}
    assert urls(stored, "--story", STORY, "--guild", str(PUBLISHED_IN)) == {
        COVERAGE, PENDING, RETRACTED
    }  # fmt: skip
    assert urls(stored, "--story", STORY) == {COVERAGE, RETRACTED}


@pytest.mark.parametrize(("story", "guild"), [(PENDING, None), (PENDING, RETRACTED_IN),
                                               (RETRACTED, RETRACTED_IN)])  # fmt: skip
def test_a_story_the_servers_members_do_not_see_is_not_found(
    stored: Path, story: str, guild: int | None
):
    scope = ["--guild", str(guild)] if guild else []
    result = topicbot(
        "related", "--story", story, *scope, "--config", str(stored), cwd=stored.parent
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"topicbot: can't find the story “{story}”: give an article's id or link (as --json "
        "lists them), or search with --query"
    ]
    assert result.stdout == ""


def test_guild_must_be_a_server_id(stored: Path):
    result = topicbot("related", "--query", QUERY, "--guild", "0", "--config", str(stored),
                      cwd=stored.parent)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == "topicbot: --guild must be a server id (a positive number)"


@pytest.fixture(params=ENGINES)
def engine_cli(request: pytest.FixtureRequest, tmp_path: Path):
    """``topicbot ARGS`` on a configuration naming a SQLite file, then (with
    ``TOPICBOT_TEST_DATABASE_URL``) one naming a PostgreSQL database of the test's own."""
    url = postgresql_url(request)
    config = tmp_path / "topicbot.yaml"
    backend = "  backend: postgresql\n" if url else ""
    config.write_text(f"storage:\n{backend}  path: data/topicbot.db\n")
    env = {k: v for k, v in os.environ.items() if k != "TOPICBOT_DATABASE_URL"}
    if url:
        env["TOPICBOT_DATABASE_URL"] = url

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args, "--config", str(config)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    return run


def test_a_story_by_its_id_or_its_link_with_at_most_limit_results(engine_cli):
    riverton = "https://www.riverton-ledger.example/news/2026/11/20/council-bans-face-scanning"
    stored = engine_cli("ingest", str(EXAMPLES_DIR))
    assert stored.returncode == 0, stored.stderr

    def results(*args: str) -> list[dict[str, object]]:
        shown = engine_cli("related", *args, "--json")
        assert shown.returncode == 0, shown.stderr
        return json.loads(shown.stdout)["results"]

    found = results("--query", "council bans face scanning police")
    (story_id,) = [row["id"] for row in found if row["url"] == riverton]
    by_link = results("--story", riverton)
    assert len(by_link) == 2  # its curated coverage
    assert results("--story", str(story_id)) == by_link
    assert results("--story", str(story_id), "--limit", "1") == by_link[:1]
    text = engine_cli("related", "--story", str(story_id), "--limit", "1").stdout.splitlines()
    assert text[0] == (
        "story: Riverton City Council Votes to Ban Face Scanning by Police — Riverton Ledger, "
        f"2026-11-20 (id {story_id})"
    )
    assert text[1] == f" 1. {by_link[0]['title']} — {by_link[0]['provider']}, " + (
        f"{str(by_link[0]['published'])[:10]}, quality {by_link[0]['quality']}"
    )
    assert len(text) == 4  # the story, then the one result: its line, its link, why listed


def test_a_story_not_found_is_quoted_on_the_terminal_as_typed(stored: Path):
    # Discord's replies escape markdown in what they quote; a terminal shows no markdown
    typed = "harbour_ferry *strike* [x]"
    result = topicbot("related", "--story", typed, "--config", str(stored), cwd=stored.parent)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"topicbot: can't find the story “{typed}”: give an article's id or link (as --json "
        "lists them), or search with --query"
    ]
