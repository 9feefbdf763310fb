"""Choosing the PostgreSQL backend, as an operator does: ``storage.backend: postgresql`` in the
file, the URL in an environment variable. Every way the URL or the server can be wrong says so
in one line, exits 3 and never shows the password; a server that answers is refused clearly
by the commands the PostgreSQL store cannot serve yet (never a silent fall back to the SQLite
file), and ``ingest`` stores files there."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bot.cli import _ingest_store as cli_ingest_store
from bot.cli import _size as cli_size
from bot.config import load_settings
from bot.stores import open_store
from storage.postgresql.store import PgStore
from tests.factories import write_article
from tests.postgresql import with_database
from tests.refusing_postgresql import refusing_server

PASSWORD = "Hunter2-s3cret-Pa55"


__all__ = ["refusing_server"]  # the fixture


def topicbot(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "TOPICBOT_DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "topicbot.yaml"
    path.write_text("storage:\n  backend: postgresql\n  path: data/topicbot.db\n")
    return path


def run_with(url: str | None, tmp_path: Path, config: Path, *command: str):
    env = {} if url is None else {"TOPICBOT_DATABASE_URL": url}
    return topicbot(*command, "--config", str(config), cwd=tmp_path, env=env)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_one_line_exit_3(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 3, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for part in expected:
        assert part in lines[0]
    assert PASSWORD not in result.stderr + result.stdout


def test_a_missing_variable_is_named(tmp_path, config):
    result = run_with(None, tmp_path, config, "stats")
    assert_one_line_exit_3(result, "storage.backend is postgresql", "$TOPICBOT_DATABASE_URL")
    assert not (tmp_path / "data").exists()  # no SQLite store made in its place


def test_the_variable_named_by_url_env_is_the_one_read(tmp_path):
    config = tmp_path / "topicbot.yaml"
    config.write_text("storage:\n  backend: postgresql\n  url_env: MY_DB\n")
    result = topicbot(
        "stats", "--config", str(config), cwd=tmp_path, env={"TOPICBOT_DATABASE_URL": "x"}
    )
    assert_one_line_exit_3(result, "$MY_DB is not set")


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://bot:{PASSWORD}@127.0.0.1/topicbot",
        f"postgresql://bot:{PASSWORD}@127.0.0.1:port/topicbot",
        f"postgresql://bot:{PASSWORD}@127.0.0.1:5432",
    ],
)
def test_a_bad_url_is_refused_without_showing_it(tmp_path, config, url):
    result = run_with(url, tmp_path, config, "stats")
    assert_one_line_exit_3(result, "$TOPICBOT_DATABASE_URL", "postgresql://")


def test_stats_read_a_complete_postgresql_store(tmp_path, config, postgresql_database_url):
    env = {"TOPICBOT_DATABASE_URL": postgresql_database_url}
    result = topicbot("stats", "--config", str(config), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "articles       0 (published 0, pending 0, coverage-only 0, too old to post 0)"
    )
    assert lines[5].endswith(asyncio.run(space_reuse(postgresql_database_url)))
    assert "schema_migrations" in asyncio.run(tables_in(postgresql_database_url))
    assert not (tmp_path / "data").exists()


async def space_reuse(url: str) -> str:
    """How stats end their store line on this server: a server-wide setting cannot be
    changed for one test, so the expectation follows it."""
    connection = await asyncpg.connect(url)
    try:
        server = str(await connection.fetchval("SHOW autovacuum"))
    finally:
        await connection.close()
    if server == "on":
        return " MB (deleted rows' space reused through autovacuum)"
    return " MB (deleted rows' space NOT reused: autovacuum is off; see topicbot doctor)"


async def tables_in(url: str) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    finally:
        await connection.close()
    return [row[0] for row in rows]


def test_doctor_says_what_is_wrong_with_the_postgresql_store(tmp_path):
    config = tmp_path / "topicbot.yaml"
    config.write_text(
        "storage:\n  backend: postgresql\n"
        "discord:\n  api_base: http://127.0.0.1:9/api/v10\n"  # unreachable: the local checks
    )
    url = f"postgresql://bot:{PASSWORD}@127.0.0.1:{free_port()}/topicbot"
    env = {"TOPICBOT_DATABASE_URL": url, "DISCORD_TOKEN": "x" * 40}
    result = topicbot("doctor", "--config", str(config), cwd=tmp_path, env=env)
    assert result.returncode == 4, result.stderr
    (store,) = [line for line in result.stdout.splitlines() if line.startswith("FIX  store")]
    assert store.startswith("FIX  store: cannot reach PostgreSQL at bot@127.0.0.1:")
    assert PASSWORD not in result.stdout + result.stderr
    assert not (tmp_path / "topicbot.db").exists()  # no SQLite store checked in its place


async def autovacuum_off_on_the_outbox(url: str) -> str:
    """Disable autovacuum on the outbox table (the store migrated first), as an operator
    tuning by hand might; the server's own setting, as it is."""
    async with await PgStore.open(url, pool_size=1):
        pass
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("ALTER TABLE deliveries SET (autovacuum_enabled = off)")
        return str(await connection.fetchval("SHOW autovacuum"))
    finally:
        await connection.close()


def test_doctor_says_when_autovacuum_cannot_reclaim_pruned_rows(tmp_path, postgresql_database_url):
    config = tmp_path / "topicbot.yaml"
    config.write_text(
        "storage:\n  backend: postgresql\n"
        "discord:\n  api_base: http://127.0.0.1:9/api/v10\n"  # unreachable: the local checks
    )
    env = {"TOPICBOT_DATABASE_URL": postgresql_database_url, "DISCORD_TOKEN": "x" * 40}
    server = asyncio.run(autovacuum_off_on_the_outbox(postgresql_database_url))
    result = topicbot("doctor", "--config", str(config), cwd=tmp_path, env=env)
    assert result.returncode == 4, result.stderr
    (line,) = [row for row in result.stdout.splitlines() if " autovacuum: " in row]
    # a server-wide setting cannot be changed for one test: the line follows it
    server_off = "autovacuum is off; " if server == "off" else ""
    assert line.startswith(
        f"FIX  autovacuum: {server_off}autovacuum_enabled is off on deliveries: the dead rows "
        "every prune leaves are never reclaimed"
    )
    assert "ALTER SYSTEM SET autovacuum = on" in line and "RESET (autovacuum_enabled)" in line


def test_backup_refuses_to_copy_the_sqlite_file_of_a_postgresql_store(tmp_path, config):
    result = run_with("postgresql://bot@127.0.0.1/topicbot", tmp_path, config, "backup", "b.db")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "topicbot: backup copies the SQLite store; with storage.backend: postgresql, back up "
        "the database with PostgreSQL's own tools (pg_dump)"
    ]
    assert not (tmp_path / "b.db").exists()


def test_check_config_names_the_store_it_would_use(tmp_path, config):
    result = run_with(None, tmp_path, config, "check-config")
    assert result.returncode == 0
    assert "  store: PostgreSQL at $TOPICBOT_DATABASE_URL" in result.stdout.splitlines()


def test_ingest_stores_the_files_in_the_postgresql_database(
    tmp_path, config, postgresql_database_url
):
    inbox = tmp_path / "inbox"
    write_article(inbox, "a.md", published=True)
    write_article(inbox, "b.md", webUrl="https://b.example/2", originalUrl=..., related=[])
    first = run_with(postgresql_database_url, tmp_path, config, "ingest", str(inbox))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["2 files: 2 new, 0 updated, 0 unchanged, 0 rejected"]
    again = run_with(postgresql_database_url, tmp_path, config, "ingest", str(inbox))
    assert again.stdout.splitlines() == ["2 files: 0 new, 0 updated, 2 unchanged, 0 rejected"]
    assert not (tmp_path / "data").exists()  # nothing written to a SQLite file instead

    async def stored() -> list[tuple[str, bool]]:
        async with await PgStore.open(postgresql_database_url, source="$TEST") as store:
            article = await store.articles.get_by_url("https://b.example/2")
            assert article is not None
            return [(t.key, t.article_count > 0) for t in await store.topics.most_used()]

    assert asyncio.run(stored()) == [("autonomous vehicles", True), ("transport", True)]


def test_ingest_without_the_variable_says_so_and_stores_nothing(tmp_path, config):
    inbox = tmp_path / "inbox"
    write_article(inbox, "a.md")
    result = run_with(None, tmp_path, config, "ingest", str(inbox))
    assert_one_line_exit_3(result, "storage.backend is postgresql", "$TOPICBOT_DATABASE_URL")
    assert not (tmp_path / "data").exists()


async def test_stats_say_how_a_postgresql_database_reuses_space(postgresql_database_url):
    async with await PgStore.open(postgresql_database_url, pool_size=1) as store:
        size = await store.retention.size()
    shown = cli_size(size)
    assert shown.endswith(await space_reuse(postgresql_database_url))
    assert "free pages" not in shown


def test_stats_say_when_autovacuum_cannot_reuse_pruned_rows_space(
    tmp_path, config, postgresql_database_url
):
    server = asyncio.run(autovacuum_off_on_the_outbox(postgresql_database_url))
    env = {"TOPICBOT_DATABASE_URL": postgresql_database_url}
    result = topicbot("stats", "--config", str(config), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    (line,) = [row for row in result.stdout.splitlines() if row.startswith("store ")]
    server_off = "autovacuum is off; " if server == "off" else ""
    assert line.endswith(
        f" MB (deleted rows' space NOT reused: {server_off}autovacuum_enabled is off on "
        "deliveries; see topicbot doctor)"
    )


async def backends(watcher: asyncpg.Connection) -> int:
    """How many other clients are connected to the watcher's database (autovacuum's workers
    left out)."""
    return int(
        await watcher.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
    )


# the store run, worker, stats, related and doctor open; the one ingest opens
@pytest.mark.parametrize("opener", [open_store, cli_ingest_store], ids=["open_store", "ingest"])
async def test_storage_pool_size_caps_the_connections_the_store_opens(
    tmp_path, postgresql_database_url, monkeypatch, opener
):
    # README: "`storage.pool_size` (default 10) caps its connections"
    config = tmp_path / "topicbot.yaml"
    config.write_text("storage:\n  backend: postgresql\n  pool_size: 3\n")
    monkeypatch.setenv("TOPICBOT_DATABASE_URL", postgresql_database_url)
    watcher = await asyncpg.connect(postgresql_database_url)
    try:
        async with await opener(load_settings(config)) as store:

            async def hold() -> None:  # eight callers at once, each in a transaction a while
                async with store.transaction():
                    await store.audit.recent(1)
                    await asyncio.sleep(0.3)

            callers = asyncio.gather(*(hold() for _ in range(8)))
            peak = 0
            while not callers.done():
                peak = max(peak, await backends(watcher))
                await asyncio.sleep(0.02)
            await callers
        assert peak == 3  # as many as the key allows (so the eight did press), and no more
    finally:
        await watcher.close()


@pytest.mark.parametrize("command", [("stats",), ("run",)])
def test_an_unreachable_server_is_named_without_the_password(tmp_path, config, command):
    url = f"postgresql://bot:{PASSWORD}@127.0.0.1:{free_port()}/topicbot"
    env = {"TOPICBOT_DATABASE_URL": url, "DISCORD_TOKEN": "x" * 40}
    result = topicbot(*command, "--config", str(config), cwd=tmp_path, env=env)
    assert_one_line_exit_3(result, "cannot reach PostgreSQL at bot@127.0.0.1:", "refused")


def test_an_unknown_host_is_named(tmp_path, config):
    url = f"postgresql://bot:{PASSWORD}@no-such-host.invalid:5432/topicbot"
    result = run_with(url, tmp_path, config, "stats")
    assert_one_line_exit_3(result, "unknown host 'no-such-host.invalid'")


def test_a_wrong_password_is_said_without_showing_it(tmp_path, config, refusing_server):
    url = f"postgresql://bot:{PASSWORD}@127.0.0.1:{refusing_server.port}/topicbot?sslmode=disable"
    result = run_with(url, tmp_path, config, "stats")
    assert_one_line_exit_3(result, "refused the password for user 'bot'")
    assert refusing_server.passwords == [PASSWORD.encode()]  # it was sent, and refused


def test_an_unknown_database_is_named(tmp_path, config, postgresql_server_url):
    parts = urlsplit(with_database(postgresql_server_url, "no_such_topicbot_db"))
    address = f"{parts.username or 'postgres'}:{PASSWORD}@{parts.hostname}:{parts.port or 5432}"
    result = run_with(urlunsplit(parts._replace(netloc=address)), tmp_path, config, "stats")
    assert_one_line_exit_3(result, "the database 'no_such_topicbot_db' does not exist")


@pytest.mark.parametrize("command", ["stats", "ingest"])
def test_a_database_a_newer_topicbot_migrated_is_refused(
    tmp_path, config, postgresql_database_url, command
):
    # as an older topicbot finds it once a newer one has migrated it (a rolling upgrade's
    # process restarted on the old version): it must not write by the rules it predates
    env = {"TOPICBOT_DATABASE_URL": postgresql_database_url}
    assert topicbot("stats", "--config", str(config), cwd=tmp_path, env=env).returncode == 0
    newest = asyncio.run(record_a_newer_migration(postgresql_database_url))
    write_article(tmp_path / "inbox", "a.md")
    args = [command, *(["inbox"] if command == "ingest" else []), "--config", str(config)]
    result = topicbot(*args, cwd=tmp_path, env=env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"topicbot: the store failed: the PostgreSQL database is at schema version "
        f"{newest + 1}, newer than this topicbot understands ({newest}); upgrade topicbot"
    )
    assert asyncio.run(article_count(postgresql_database_url)) == 0


async def record_a_newer_migration(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        newest = int(await connection.fetchval("SELECT max(version) FROM schema_migrations"))
        await connection.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from_a_newer_topicbot')",
            newest + 1,
        )
    finally:
        await connection.close()
    return newest


async def article_count(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM articles"))
    finally:
        await connection.close()
