"""Pytest plugin for the PostgreSQL half of the tests.

The server comes from ``TOPICBOT_TEST_DATABASE_URL`` (``.ci/run`` sets it). Each test that asks
for ``postgresql_database_url`` gets a database of its own, created next to the one the URL
names and dropped after the test. Without the variable those tests are skipped, and the run
says so in one line at the end instead of one line per test.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

URL_VARIABLE = "TOPICBOT_TEST_DATABASE_URL"
_SKIP_REASON = f"the PostgreSQL half needs {URL_VARIABLE}"
_SKIPPED_KEY = "skipped (no PostgreSQL)"


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` instead."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def postgresql_server_url() -> str:
    """The test server's URL, or a skip when there is none."""
    url = os.environ.get(URL_VARIABLE, "").strip()
    if not url:
        pytest.skip(_SKIP_REASON)
    return url


def _administer(server_url: str, statement: str) -> None:
    """Run one statement on the server, on a loop of its own in a thread of its own: the
    fixture serves plain tests and, through ``request.getfixturevalue``, async fixtures whose
    loop is already running."""

    async def run() -> None:
        connection = await asyncpg.connect(server_url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, run()).result()


@contextmanager
def new_database(server_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the server of ``server_url``, dropped after."""
    name = f"topicbot_test_{uuid.uuid4().hex[:16]}"
    _administer(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        _administer(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgresql_database_url(postgresql_server_url: str) -> Iterator[str]:
    """The URL of a new, empty database of this test's own, dropped after it."""
    with new_database(postgresql_server_url) as url:
        yield url


def _skipped_for_postgresql(report: pytest.TestReport) -> bool:
    longrepr = report.longrepr
    return isinstance(longrepr, tuple) and _SKIP_REASON in str(longrepr[2])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line for every test skipped for want of a server (counted apart in the last line
    as well), in place of one short-summary line per test."""
    skipped = terminalreporter.stats.get("skipped", [])
    for_postgresql = [report for report in skipped if _skipped_for_postgresql(report)]
    if not for_postgresql:
        return
    others = [report for report in skipped if report not in for_postgresql]
    if others:
        terminalreporter.stats["skipped"] = others
    else:
        del terminalreporter.stats["skipped"]
    terminalreporter.stats[_SKIPPED_KEY] = for_postgresql
    terminalreporter.write_line(
        f"PostgreSQL half skipped: {len(for_postgresql)} tests need {URL_VARIABLE} "
        "(a PostgreSQL 15 server URL, such as postgresql://postgres@127.0.0.1:5432/test)",
        yellow=True,
    )


async def until_sessions_wait_for_locks(holder: asyncpg.Connection, count: int, what: str) -> None:
    """Return once ``count`` sessions of ``holder``'s database wait for a lock (within 60 s,
    for a loaded machine); otherwise fail saying ``what`` never happened."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        # Activity is a snapshot per transaction, and the holder is usually in one.
        await holder.execute("SELECT pg_stat_clear_snapshot()")
        waiting = await holder.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        )
        if waiting >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(what)
