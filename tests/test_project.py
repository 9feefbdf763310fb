"""Promises about the project itself: layers stay apart, README and CI agree."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


# Everything but the Discord edge (the app, alerts, checks, sync, cogs and ui) stays free of
# discord.py, so it runs and is tested without a gateway connection.
DISCORD_FREE_PACKAGES = (
    "storage",
    "bot/articles",
    "bot/ingest",
    "bot/domain",
    "bot/observability",
)


def test_storage_and_domain_never_import_discord():
    assert all(python_files(folder) for folder in DISCORD_FREE_PACKAGES)
    offenders = [
        str(path.relative_to(ROOT))
        for folder in DISCORD_FREE_PACKAGES
        for path in python_files(folder)
        if re.search(r"^\s*(import discord|from discord)", path.read_text(), re.MULTILINE)
    ]
    assert offenders == []


def test_sql_lives_only_in_storage():
    sql_literal = re.compile(
        r"[\"']\s*(SELECT\s|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)",
        re.IGNORECASE,
    )
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_files("bot")
        if sql_literal.search(path.read_text()) or ".execute(" in path.read_text()
    ]
    assert offenders == []


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"Run the tests:\n\n```sh\n(.+?)\n```", readme)
    assert match, "README.md must give the test command under 'Run the tests:'"
    assert match.group(1) in (ROOT / ".ci" / "run").read_text().splitlines()
