"""Where the benchmarks that run on PostgreSQL find their server."""

from __future__ import annotations

import os

from storage.postgresql.database import PgDatabase

URL_VARIABLE = "TOPICBOT_DATABASE_URL"


def postgresql_url(wanted_by: str = "--backend postgresql") -> str:
    """The server URL of ``$TOPICBOT_DATABASE_URL``, or stop with one line saying it is needed."""
    url = os.environ.get(URL_VARIABLE, "").strip()
    if not url:
        raise SystemExit(f"{wanted_by} needs ${URL_VARIABLE} (a server to use)")
    return url


async def server_cpu_seconds(db: PgDatabase) -> float | None:
    """CPU time the server's processes working on ``db``'s database have spent so far (None
    when the server is not on this machine). On a loaded machine a wall time mostly measures
    waiting for a core; this does not."""
    return processes_cpu_seconds(await server_pids(db))


async def server_pids(db: PgDatabase) -> list[int]:
    """The server processes working on ``db``'s database now (its pool's connections)."""
    rows = await db.fetch_all("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    return [int(row[0]) for row in rows]


def processes_cpu_seconds(pids: list[int]) -> float | None:
    """CPU time the processes ``pids`` have spent so far (None when one is not on this
    machine); a plain read of ``/proc``, for callers that cannot wait for a query."""
    try:
        return sum(_cpu_seconds(pid) for pid in pids)
    except OSError:
        return None


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
