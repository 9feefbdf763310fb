"""``bench.related.prepare``: the search statement compiles on a new store's connection, and
the figure says so."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bench.related import prepare
from storage.related import candidate_sql


def test_the_search_statement_compiles_on_a_fresh_connection(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    asyncio.run(prepare._new_store(path))
    assert prepare.compile_cpu_ms(path, candidate_sql()) > 0


def test_the_command_prints_the_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["prepare", "--connections", "2", "--workdir", str(tmp_path)])
    prepare.main()
    out = capsys.readouterr().out
    assert "search statement: " in out
    assert "prepare, CPU ms over 2 connections: median " in out
