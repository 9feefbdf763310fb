"""An operator's audit of the command line: configuration files as people write them, backups
put where they cannot go, and output read by a pipe that closes early."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from storage import Store
from storage.database import migration_scripts, open_connection, schema_version
from storage.exclusive import sole_process
from tests.factories import EXAMPLES_DIR
from tests.storage.legacy import store_at_version
from tests.test_cli import config, topicbot

__all__ = ["config"]  # the fixture


def _ingested(tmp_path: Path, config: Path) -> Path:
    result = topicbot("ingest", str(EXAMPLES_DIR), "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / "data" / "topicbot.db"


def test_a_path_starting_with_a_tilde_is_in_the_home_folder(tmp_path: Path) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    (elsewhere / "topicbot.yaml").write_text(
        "storage:\n  path: ~/bot/topicbot.db\ningest:\n  inbox_dir: ~/inbox\n"
    )
    env = {**os.environ, "HOME": str(home)}
    result = topicbot(
        "ingest", str(EXAMPLES_DIR), "--config", "topicbot.yaml", cwd=elsewhere, env=env
    )
    assert result.returncode == 0, result.stderr
    assert (home / "bot" / "topicbot.db").is_file()
    assert not (elsewhere / "~").exists()


def test_check_config_shows_a_tilde_path_in_the_home_folder(tmp_path: Path) -> None:
    (tmp_path / "topicbot.yaml").write_text("storage:\n  path: ~/topicbot.db\n")
    home = {**os.environ, "HOME": str(tmp_path / "home")}
    result = topicbot("check-config", "--config", "topicbot.yaml", cwd=tmp_path, env=home)
    assert result.returncode == 0, result.stderr
    assert f"  store: {tmp_path / 'home' / 'topicbot.db'}" in result.stdout.splitlines()


def test_an_empty_path_is_refused_naming_the_key(tmp_path: Path) -> None:
    for key, content in (
        ("storage.path", "storage:\n  path: ''\n"),
        ("ingest.inbox_dir", "ingest:\n  inbox_dir: ' '\n"),
        ("storage.path", "storage:\n  path:\n"),
    ):
        (tmp_path / "topicbot.yaml").write_text(content)
        for command in ("check-config", "stats"):
            result = topicbot(command, "--config", "topicbot.yaml", cwd=tmp_path)
            assert (result.returncode, result.stdout) == (2, ""), result.stderr
            assert result.stderr.splitlines() == [
                f"topicbot: topicbot.yaml: {key}: is empty: name a path (a relative one is "
                "taken from this file's folder)"
            ]


def test_a_backup_into_a_missing_folder_names_the_folder(tmp_path: Path, config: Path) -> None:
    _ingested(tmp_path, config)
    result = topicbot("backup", "backups/today.db", "--config", str(config), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "topicbot: backups: no such folder: create it, or name another path"
    ]
    assert not (tmp_path / "backups").exists()


def test_a_backup_onto_the_store_itself_is_refused_even_with_force(
    tmp_path: Path, config: Path
) -> None:
    store = _ingested(tmp_path, config)
    before = store.read_bytes()
    inode = store.stat().st_ino
    for target in ("data/topicbot.db", "data/../data/./topicbot.db"):
        result = topicbot("backup", target, "--force", "--config", str(config), cwd=tmp_path)
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr.splitlines() == [
            f"topicbot: {Path(target)} is the store itself: name a path off the store's disk"
        ]
    # the live file was not swapped for a copy (a running bot would write to the old one)
    assert (store.stat().st_ino, store.read_bytes()) == (inode, before)


def test_output_read_by_a_pipe_that_closed_is_not_a_store_failure(
    tmp_path: Path, config: Path
) -> None:
    _ingested(tmp_path, config)
    for command in (["stats"], ["related", "--query", "council", "--json"], ["check-config"]):
        read, write = os.pipe()
        os.close(read)  # the reader is gone before anything is written: `| head -0`
        with os.fdopen(write, "w") as stdout:
            result = subprocess.run(
                [sys.executable, "-m", "bot", *command, "--config", str(config)],
                cwd=tmp_path,
                stdout=stdout,
                stderr=subprocess.PIPE,
                text=True,
                timeout=60,
                check=False,
            )
        assert (result.returncode, result.stderr) == (0, ""), command


def test_a_store_path_that_cannot_hold_a_store_is_named_by_every_command(
    tmp_path: Path,
) -> None:
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-file").write_text("x")
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    with_token = {**env, "DISCORD_TOKEN": "not.a.token"}
    for path, problem in (
        ("a-folder", f"{tmp_path / 'a-folder'} is a folder, not a store file: name a file "
         "(storage.path)"),
        ("a-file/data/topicbot.db", f"{tmp_path / 'a-file'} is a file, not a folder: the store "
         f"{tmp_path / 'a-file' / 'data' / 'topicbot.db'} cannot be created under it"),
    ):  # fmt: skip
        (tmp_path / "topicbot.yaml").write_text(
            f"storage:\n  path: {path}\ndiscord:\n  api_base: http://127.0.0.1:9/api/v10\n"
        )
        for command in (["stats"], ["ingest", str(EXAMPLES_DIR)], ["run"], ["worker"]):
            result = topicbot(*command, "--config", "topicbot.yaml", cwd=tmp_path, env=with_token)
            assert (result.returncode, result.stdout) == (3, ""), command
            assert result.stderr.splitlines() == [f"topicbot: the store failed: {problem}"]
        doctor = topicbot("doctor", "--config", "topicbot.yaml", cwd=tmp_path, env=env)
        assert doctor.returncode == 1
        assert f"FIX  store: {problem}" in doctor.stdout.splitlines()


def test_related_from_the_shell_speaks_of_its_own_options_not_discords(
    tmp_path: Path, config: Path
) -> None:
    _ingested(tmp_path, config)
    for given, said in (
        (["--story", "nosuchid"], "can't find the story “nosuchid”: give an article's id or "
         "link (as --json lists them), or search with --query"),
        (["--story", "  "], "--story needs an article's id or link"),
        (["--query", " "], "--query needs a few words to search for"),
    ):  # fmt: skip
        result = topicbot("related", *given, "--json", "--config", str(config), cwd=tmp_path)
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr.splitlines() == [f"topicbot: {said}"]


def test_doctor_says_an_inbox_that_cannot_be_a_folder_needs_fixing(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    for inbox, said in (
        ("a-file", f"{tmp_path / 'a-file'} is a file — point ingest.inbox_dir at a folder"),
        ("a-file/inbox", f"{tmp_path / 'a-file'} is a file, so {tmp_path / 'a-file' / 'inbox'} "
         "cannot be created — fix ingest.inbox_dir"),
    ):  # fmt: skip
        (tmp_path / "topicbot.yaml").write_text(f"ingest:\n  inbox_dir: {inbox}\n")
        doctor = topicbot("doctor", "--config", "topicbot.yaml", cwd=tmp_path, env=env)
        assert doctor.returncode == 1
        assert f"FIX  inbox: {said}" in doctor.stdout.splitlines()


LOCK_HOLDER = """
import sys, time
from pathlib import Path
from storage.exclusive import sole_process
with sole_process(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


async def _old_store(path: Path) -> int:
    """A store one schema version behind; returns that version."""
    version = migration_scripts()[-1][0] - 1
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = await store_at_version(path, version)
    await connection.close()
    return version


async def _version_of(path: Path) -> int:
    connection = await open_connection(path)
    try:
        return await schema_version(connection)
    finally:
        await connection.close()


def test_a_newer_topicbot_does_not_upgrade_a_store_an_older_bot_still_runs_on(
    tmp_path: Path, config: Path
) -> None:
    # pip install -U while the bot runs, then `topicbot stats` to look: the new version must
    # not change the tables under the old bot
    store = tmp_path / "data" / "topicbot.db"
    old = asyncio.run(_old_store(store))
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(store)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        said = (
            f"{store} is at schema version {old} and an older topicbot runs on it"
            f" (pid {holder.pid}); this one needs version {old + 1}: stop the running bot, then"
            " start this version (it upgrades the store)"
        )
        for command in (["stats"], ["ingest", str(EXAMPLES_DIR)]):
            refused = topicbot(*command, "--config", str(config), cwd=tmp_path)
            assert (refused.returncode, refused.stderr) == (3, f"topicbot: {said}\n"), command
        env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
        doctor = topicbot("doctor", "--config", str(config), cwd=tmp_path, env=env)
        assert f"FIX  store: {said}" in doctor.stdout.splitlines()
        assert asyncio.run(_version_of(store)) == old
    finally:
        holder.kill()
        holder.wait()
    upgraded = topicbot("stats", "--config", str(config), cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert asyncio.run(_version_of(store)) == old + 1


async def test_the_bot_upgrades_the_store_whose_lock_it_holds_itself(tmp_path: Path) -> None:
    store = tmp_path / "topicbot.db"
    old = await _old_store(store)
    with sole_process(store):
        async with await Store.open(store) as opened:
            assert await opened.articles.count() == 0
    assert await _version_of(store) == old + 1
