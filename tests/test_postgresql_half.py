"""The PostgreSQL half of the tests on a machine without a server, and CI's early check."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def without_server(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TOPICBOT_TEST_DATABASE_URL"}
    return {**env, **extra}


def test_without_a_server_the_run_passes_and_says_so_in_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/storage/postgresql", "-p", "no:randomly"],
        cwd=ROOT,
        env=without_server(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    said = [line for line in result.stdout.splitlines() if "PostgreSQL" in line]
    assert len(said) == 2, result.stdout  # the line, and the count in the last line
    assert said[0].startswith("PostgreSQL half skipped: ")
    assert "TOPICBOT_TEST_DATABASE_URL" in said[0]
    assert "skipped (no PostgreSQL)" in said[1]
    assert "SKIPPED" not in result.stdout  # not one line per test


def test_ci_stops_in_one_line_when_the_server_does_not_answer():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://postgres@127.0.0.1:{port}/test"
    result = subprocess.run(
        [sys.executable, ".ci/postgresql_ready.py"],
        cwd=ROOT,
        env=without_server(TOPICBOT_TEST_DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "ci: the PostgreSQL test server does not answer: cannot reach PostgreSQL at "
        f"postgres@127.0.0.1:{port}/test ($TOPICBOT_TEST_DATABASE_URL): connection refused "
        "(is the server running there?)"
    ]
