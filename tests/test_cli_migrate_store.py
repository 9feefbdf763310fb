"""`topicbot migrate-store --to-postgresql`, as an operator runs it: the verified table on
stdout, one line for each way it cannot run, and a run killed half-way leaves nothing behind
so that the next one completes."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import asyncpg
import pytest

from bot.ingest.writer import ingest_paths
from storage import Store
from tests.factories import write_article
from tests.postgresql import until_sessions_wait_for_locks
from tests.refusing_postgresql import refusing_server
from tests.storage.postgresql.every_row import SHOUTING_META, build_store_with_every_row
from tests.test_cli_postgresql import (
    PASSWORD,
    assert_one_line_exit_3,
    free_port,
)

__all__ = ["refusing_server"]  # the fixture

TOPICBOT = Path(sys.executable).with_name("topicbot")  # the installed entry point


def topicbot(
    *args: str, cwd: Path, url: str | None, **popen: object
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TOPICBOT_DATABASE_URL"}
    if url is not None:
        env["TOPICBOT_DATABASE_URL"] = url
    return subprocess.run(
        [str(TOPICBOT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def migrate(tmp_path: Path, url: str | None, *options: str) -> subprocess.CompletedProcess[str]:
    return topicbot(
        "migrate-store", "--to-postgresql", *options, "--config", "topicbot.yaml",
        cwd=tmp_path, url=url,
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A configuration naming a SQLite store with a row in every table."""
    (tmp_path / "topicbot.yaml").write_text("storage:\n  path: data/topicbot.db\n")
    path = tmp_path / "data" / "topicbot.db"
    path.parent.mkdir()
    asyncio.run(build_store_with_every_row(path, tmp_path / "articles"))
    return path


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


async def count(url: str, table: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await connection.close()


def test_the_store_is_copied_and_each_table_checked(store, tmp_path, postgresql_database_url):
    before = fingerprint(store)
    result = migrate(tmp_path, postgresql_database_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "table", "SQLite", "rows", "PostgreSQL", "rows", "SQLite", "checksum", "PostgreSQL",
        "checksum", "match",
    ]  # fmt: skip
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:-1]}
    assert "articles" in rows and "deliveries" in rows and "articles_fts" not in rows
    for table, (sqlite_rows, pg_rows, sqlite_sum, pg_sum, match) in rows.items():
        assert (sqlite_rows, sqlite_sum, match) == (pg_rows, pg_sum, "ok"), table
        assert int(sqlite_rows) > 0, table
    assert lines[-1].startswith(f"copied {sum(int(r[0]) for r in rows.values())} rows in ")
    assert lines[-1].endswith("($TOPICBOT_DATABASE_URL): every count and checksum matches")
    assert fingerprint(store) == before
    assert asyncio.run(count(postgresql_database_url, "articles")) == int(rows["articles"][0])


def test_a_second_run_is_refused_and_force_replaces(store, tmp_path, postgresql_database_url):
    assert migrate(tmp_path, postgresql_database_url).returncode == 0
    refused = migrate(tmp_path, postgresql_database_url)
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[-1].startswith(
        "topicbot: the PostgreSQL database already holds a store (rows in "
    )
    assert refused.stderr.splitlines()[-1].endswith("--force empties it first")
    forced = migrate(tmp_path, postgresql_database_url, "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.splitlines()[-1].endswith("every count and checksum matches")


def test_help_says_what_force_does(tmp_path):
    result = topicbot("migrate-store", "--help", cwd=tmp_path, url=None)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "--force empty the database's topicbot tables first, replacing the store" in text
    assert "one transaction" in text


def test_a_missing_sqlite_store_is_said(tmp_path, postgresql_database_url):
    (tmp_path / "topicbot.yaml").write_text("storage:\n  path: data/topicbot.db\n")
    result = migrate(tmp_path, postgresql_database_url)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"topicbot: no SQLite store at {tmp_path / 'data' / 'topicbot.db'} (storage.path): "
        "nothing to copy"
    ]
    assert not (tmp_path / "data").exists()


@pytest.fixture
def empty_store(tmp_path: Path) -> Path:
    (tmp_path / "topicbot.yaml").write_text("storage:\n  path: topicbot.db\n")

    async def create() -> None:
        async with await Store.open(tmp_path / "topicbot.db"):
            pass

    asyncio.run(create())
    return tmp_path / "topicbot.db"


def test_a_missing_variable_is_one_line_exit_3(empty_store, tmp_path):
    result = migrate(tmp_path, None)
    assert_one_line_exit_3(result, "migrate-store --to-postgresql but $TOPICBOT_DATABASE_URL")


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://bot:{password}@127.0.0.1/topicbot", "must start with postgresql://"),
        ("postgresql://bot:{password}@127.0.0.1:{free_port}/topicbot", "connection refused"),
    ],
    ids=["not-postgresql", "nothing-listening"],
)
def test_a_bad_url_or_unreachable_server_is_one_line_exit_3(empty_store, tmp_path, url, said):
    # The port is picked when the test runs: test ids must not differ between xdist workers.
    url = url.format(password=PASSWORD, free_port=free_port())
    assert_one_line_exit_3(migrate(tmp_path, url), said)


def test_a_wrong_password_is_one_line_exit_3(empty_store, tmp_path, refusing_server):
    url = f"postgresql://bot:{PASSWORD}@127.0.0.1:{refusing_server.port}/topicbot?sslmode=disable"
    assert_one_line_exit_3(migrate(tmp_path, url), "refused the password for user 'bot'")


@pytest.mark.parametrize(
    ("signal_number", "status", "said"),
    [
        (signal.SIGKILL, -signal.SIGKILL, ""),
        (
            signal.SIGINT,
            130,
            "topicbot: migrate-store interrupted; the copy is one transaction, so the "
            "database holds all of it or nothing: run the command again\n",
        ),
    ],
)
def test_a_run_killed_mid_copy_leaves_nothing_and_the_next_run_completes(
    store, tmp_path, postgresql_database_url, signal_number, status, said
):
    before = fingerprint(store)
    asyncio.run(_migrated(postgresql_database_url))
    killed = asyncio.run(_kill_while_copying(tmp_path, postgresql_database_url, signal_number))
    assert killed == (status, said)
    assert asyncio.run(count(postgresql_database_url, "articles")) == 0  # nothing committed
    result = migrate(tmp_path, postgresql_database_url)  # no --force needed
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].endswith("every count and checksum matches")
    assert fingerprint(store) == before


async def _migrated(url: str) -> None:
    from storage.postgresql.schema import migrate as migrate_schema

    connection = await asyncpg.connect(url)
    try:
        await migrate_schema(connection)
    finally:
        await connection.close()


async def _kill_while_copying(tmp_path: Path, url: str, signal_number: int) -> tuple[int, str]:
    """Start a copy, let it copy the tables before ``term_associations`` and wait at it (a lock held
    here), send it ``signal_number`` there; its exit status and what it said last."""
    holder = await asyncpg.connect(url)
    try:
        async with holder.transaction():
            await holder.execute("LOCK TABLE term_associations IN SHARE MODE")
            env = {**os.environ, "TOPICBOT_DATABASE_URL": url}
            child = await asyncio.create_subprocess_exec(
                TOPICBOT, "migrate-store", "--to-postgresql", "--config", "topicbot.yaml",
                cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                preexec_fn=_as_in_a_terminal,
            )  # fmt: skip
            try:
                await until_sessions_wait_for_locks(
                    holder, 1, "the copy never reached the term_associations table"
                )
                assert await holder.fetchval(WROTE_ARTICLES_AND_WAITS)  # killed mid-copy
            finally:
                child.send_signal(signal_number)
                _, err = await asyncio.wait_for(child.communicate(), timeout=30)
    finally:
        await holder.close()
    last = err.decode().splitlines(keepends=True)[-1]
    return child.returncode or 0, "" if last.startswith("copying term_associations") else last


def _as_in_a_terminal() -> None:
    """Ctrl-C reaches the child even when these tests run as a background job: a shell without
    job control starts those with SIGINT ignored, which the child would inherit (and honour,
    as `nohup` wants), so the signal would never arrive."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# The waiting copy's transaction has written to articles (copied before term_associations).
WROTE_ARTICLES_AND_WAITS = """
SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a USING (pid)
               WHERE a.wait_event_type = 'Lock' AND a.datname = current_database()
                 AND l.granted AND l.relation = 'articles'::regclass
                 AND l.mode = 'RowExclusiveLock')
"""


def test_a_copy_that_differs_prints_where_and_exits_3(store, tmp_path, postgresql_database_url):
    async def shouting_meta() -> None:
        await _migrated(postgresql_database_url)
        connection = await asyncpg.connect(postgresql_database_url)
        try:  # a trigger of the target's own changes what is written
            await connection.execute(SHOUTING_META)
        finally:
            await connection.close()

    asyncio.run(shouting_meta())
    result = migrate(tmp_path, postgresql_database_url)
    assert result.returncode == 3
    differing = [line.split()[0] for line in result.stdout.splitlines() if "DIFFERS" in line]
    assert differing == ["meta"]
    assert result.stderr.splitlines()[-1] == (
        "topicbot: the store failed: the copy differs from the SQLite store in meta; nothing "
        "was committed"
    )
    assert asyncio.run(count(postgresql_database_url, "articles")) == 0


def test_an_article_too_wordy_for_postgresqls_text_index_is_named_and_nothing_committed(
    tmp_path, postgresql_database_url
):
    """SQLite indexes any excerpt; PostgreSQL's full-text index of one article holds 1 MiB. A
    store holding such an article cannot move as it is: the run says which article, never its
    text, and commits nothing."""
    (tmp_path / "topicbot.yaml").write_text("storage:\n  path: topicbot.db\n")
    wordy = " ".join(f"w{n}" for n in range(110_000))  # a 0.8 MB file: within the default
    write_article(
        tmp_path / "in", "wordy.md", title="Wordy", webUrl="https://wordy.example/a",
        originalUrl=..., related=[], excerpt=wordy,
    )  # fmt: skip
    write_article(tmp_path / "in", "fine.md", webUrl="https://fine.example/a", originalUrl=...)

    async def ingest() -> str:
        async with await Store.open(tmp_path / "topicbot.db") as store:
            assert (await ingest_paths(store, [tmp_path / "in"])).new >= 2
            article = await store.articles.get_by_url("https://wordy.example/a")
            assert article is not None
            return article.id

    wordy_id = asyncio.run(ingest())
    # Ingest cuts such an excerpt now; a store an older version wrote holds it whole.
    with closing(sqlite3.connect(tmp_path / "topicbot.db")) as db, db:
        db.execute("UPDATE articles SET excerpt = ? WHERE id = ?", (wordy, wordy_id))
    result = migrate(tmp_path, postgresql_database_url)
    assert result.returncode == 3, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"topicbot: the store failed: article {wordy_id} holds more distinct words than "
        "PostgreSQL's full-text index of one article can (1,117,980 bytes, at most "
        f"1,048,575): shorten its excerpt ({len(wordy):,} characters) in its file, ingest "
        "that again on SQLite and run migrate-store again; nothing was committed"
    )
    assert "w1000" not in result.stderr
    assert asyncio.run(count(postgresql_database_url, "articles")) == 0
