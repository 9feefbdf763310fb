"""The ``secured`` value and the bot token never reach a log line, an output or a reason."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.domain.article_file import ArticleFileError, parse_article
from bot.domain.ingest import scan_inbox
from storage import Store
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


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "topicbot.yaml"
    path.write_text(
        "discord:\n  api_base: http://127.0.0.1:9\n  gateway_url: ws://127.0.0.1:9\n"
        "storage:\n  path: topicbot.db\ningest:\n  inbox_dir: inbox\n"
    )
    return path


def test_the_cli_never_prints_the_secured_value_or_the_token(tmp_path, config):
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


def test_run_that_cannot_reach_discord_never_prints_the_token(tmp_path, config):
    result = topicbot("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode != 0
    assert TOKEN not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


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
