"""The ``secured`` value and the bot token never reach a log line, an output or a reason."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.articles.article_file import ArticleFileError, parse_article
from bot.ingest.inbox import scan_inbox
from storage import Store
from tests.bot.test_run import start_topicbot
from tests.discord_double import DiscordDouble
from tests.discord_double.plugin import build_world
from tests.factories import article_text
from tests.hardening.hostile_corpus import SECRET, age, build

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "MTIzNDU2Nzg5.hostile-token.DO-NOT-PRINT-9c2e"


def topicbot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DISCORD_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "-v", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(params=["text", "json"])
def log_format(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def config(tmp_path: Path, log_format: str) -> Path:
    path = tmp_path / "topicbot.yaml"
    path.write_text(
        "discord:\n  api_base: http://127.0.0.1:9\n  gateway_url: ws://127.0.0.1:9\n"
        "storage:\n  path: topicbot.db\ningest:\n  inbox_dir: inbox\n"
        f"logging:\n  level: debug\n  format: {log_format}\n"
    )
    return path


def assert_json_lines(stderr: str) -> list[dict[str, object]]:
    """Every line is a JSON log object, or the one-line error a command ends with."""
    entries = []
    for line in stderr.splitlines():
        if line.startswith("topicbot: "):
            continue
        entry = json.loads(line)
        assert {"time", "level", "logger", "message"} <= entry.keys(), line
        entries.append(entry)
    return entries


def test_the_cli_never_prints_the_secured_value_or_the_token(tmp_path, config, log_format):
    corpus = tmp_path / "corpus"
    build(corpus)
    cfg = ("--config", str(config))
    runs = [
        topicbot("ingest", str(corpus), *cfg, cwd=tmp_path),
        topicbot("ingest", str(corpus), "--json", *cfg, cwd=tmp_path),
        topicbot("stats", *cfg, cwd=tmp_path),
        topicbot("stats", "--json", *cfg, cwd=tmp_path),
        topicbot("check-config", *cfg, cwd=tmp_path),
        topicbot("related", "--query", f"hostile case {SECRET}", "--json", *cfg, cwd=tmp_path),
        topicbot("related", "--story", "https://hostile.example/secured-map", *cfg, cwd=tmp_path),
    ]
    first = runs[0]
    assert first.returncode == 1, first.stderr  # the corpus has refusals
    assert "rejected" in first.stdout
    assert json.loads(runs[1].stdout)["unchanged"] > 0
    for result in runs:
        shown = result.stdout + result.stderr
        assert "Traceback" not in shown
        assert TOKEN not in shown
        assert SECRET not in shown, (result.args, shown[:2000])
        if log_format == "json":
            assert_json_lines(result.stderr)
    if log_format == "json":
        entries = assert_json_lines(runs[0].stderr)
        assert any(e["logger"] == "storage.database" for e in entries)  # migrations


def test_run_that_cannot_reach_discord_never_prints_the_token(tmp_path, config, log_format):
    result = topicbot("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode != 0
    assert TOKEN not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    if log_format == "json":
        assert_json_lines(result.stderr)


async def test_a_running_bot_logging_json_at_debug_never_shows_the_token_or_secured(
    discord_double: DiscordDouble, tmp_path
):
    build_world(discord_double, guilds=1)
    inbox = tmp_path / "inbox"
    build(inbox)
    age(inbox)
    config = tmp_path / "topicbot.yaml"
    config.write_text(
        f"discord:\n  api_base: {discord_double.api_base}\n"
        f"  gateway_url: {discord_double.gateway_url}\n"
        "storage:\n  path: topicbot.db\ningest:\n  inbox_dir: inbox\n  settle_seconds: 1\n"
        "logging:\n  level: debug\n  format: json\n"
    )
    bot = await start_topicbot(config, discord_double.token)
    try:
        await bot.wait_for_log('"message": "job scan_inbox: ', timeout_s=60)
    finally:
        assert await bot.stop() == 0, bot.log
    entries = assert_json_lines(bot.log)
    assert discord_double.token not in bot.log
    assert SECRET not in bot.log
    assert any(e["level"] == "debug" and e["logger"].startswith("discord") for e in entries)
    (summary,) = [e for e in entries if str(e["message"]).startswith("job scan_inbox: ")]
    assert summary["job"] == "scan_inbox"
    # a line logged by ingest during the job carries the job too
    assert any(e["logger"] == "bot.ingest.inbox" and e.get("job") == "scan_inbox" for e in entries)


async def test_inbox_logs_and_reasons_never_show_the_secured_value(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    inbox = tmp_path / "inbox"
    build(inbox)
    age(inbox)
    store = await Store.open(tmp_path / "t.db")
    try:
        report = await scan_inbox(store, inbox, settle_seconds=1)
    finally:
        await store.close()
    assert report.rejected
    assert all(SECRET not in r.error for r in report.rejected)
    notes = sorted((inbox / "rejected").rglob("*.error.txt"))
    assert notes
    assert all(SECRET not in note.read_text(encoding="utf-8") for note in notes)
    assert SECRET not in caplog.text


@pytest.mark.parametrize(
    "secured",
    [
        {"key": SECRET, "nested": [SECRET, {SECRET: SECRET}]},
        [SECRET] * 3,
        f"!{SECRET} x",
        f"!!python/name:{SECRET}",
        f'"{SECRET}',
        f"{{{SECRET}: [",
        f"&{SECRET} [*{SECRET}]",
        f"!!binary {SECRET}",
        f"!!timestamp {SECRET}",
        f"!!int {SECRET}",
    ],
)
@pytest.mark.parametrize("neighbour", [{}, {"quality": "lots"}, {"webUrl": "javascript:x"}])
def test_a_rejected_files_reason_never_contains_the_secured_value(secured, neighbour):
    if isinstance(secured, str):
        text = article_text(secured="PLACEHOLDER", **neighbour)
        text = text.replace("secured: PLACEHOLDER", f"secured: {secured}")
    else:
        text = article_text(secured=secured, **neighbour)
    outcome: object
    try:
        outcome = parse_article(text.encode(), source="a.md")
    except ArticleFileError as error:
        outcome = error
    assert SECRET not in str(outcome)
    assert SECRET not in repr(outcome)
    assert isinstance(outcome, ArticleFileError) or not neighbour  # stored only when clean
