"""`topicbot backup PATH`: a verified copy; PATH never overwritten without --force."""

from __future__ import annotations

import asyncio
import sqlite3

from storage import Store
from tests.factories import EXAMPLES_DIR
from tests.test_cli import config, topicbot

__all__ = ["config"]  # the fixture


def test_backup_writes_a_verified_single_file_copy(tmp_path, config):
    assert (
        topicbot("ingest", str(EXAMPLES_DIR), "--config", str(config), cwd=tmp_path).returncode == 0
    )
    result = topicbot("backup", "copy.db", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"backed up {tmp_path / 'data' / 'topicbot.db'} to copy.db: ")
    assert line.endswith(", quick_check ok")
    assert sorted(p.name for p in tmp_path.glob("copy.db*")) == ["copy.db"]  # no WAL beside it
    assert not list(tmp_path.glob(".copy.db*"))

    async def counts(path):
        async with await Store.open(path) as store:
            return await store.stats()

    assert asyncio.run(counts(tmp_path / "copy.db")) == asyncio.run(
        counts(tmp_path / "data" / "topicbot.db")
    )


def test_backup_refuses_an_existing_path_unless_forced(tmp_path, config):
    assert (
        topicbot("ingest", str(EXAMPLES_DIR), "--config", str(config), cwd=tmp_path).returncode == 0
    )
    precious = tmp_path / "copy.db"
    precious.write_text("an older backup")
    refused = topicbot("backup", "copy.db", "--config", str(config), cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "topicbot: copy.db exists: choose another name, or pass --force to replace it"
    )
    assert precious.read_text() == "an older backup"

    forced = topicbot("backup", "copy.db", "--force", "--config", str(config), cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    with sqlite3.connect(precious) as copy:
        assert copy.execute("PRAGMA quick_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM articles").fetchone()[0] > 0


def test_backup_without_a_store_is_one_line_and_exit_two(tmp_path, config):
    result = topicbot("backup", "copy.db", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"topicbot: no store at {tmp_path / 'data' / 'topicbot.db'} (storage.path): "
        "nothing to back up"
    )
    assert not (tmp_path / "copy.db").exists()
    assert not (tmp_path / "data").exists()  # no empty store created on the way


def test_backup_of_a_file_that_is_not_a_store_is_exit_three(tmp_path, config):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "topicbot.db").write_text("not a database")
    result = topicbot("backup", "copy.db", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "copy.db").exists()
