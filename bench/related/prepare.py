"""How long SQLite takes to prepare the related engine's search statement, which each
connection does once (the first ``/related`` after the bot starts pays it): the CPU time of
compiling it (``EXPLAIN``) on fresh connections to a new, empty store.

``python -m bench.related.prepare [--connections 20] [--workdir DIR]``
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from storage.related import candidate_sql
from storage.store import Store


def compile_cpu_ms(path: Path, sql: str) -> float:
    """CPU milliseconds of compiling ``sql`` on a new connection whose schema is loaded."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("SELECT 1 FROM articles LIMIT 1")
        started = time.thread_time()
        unbound = dict.fromkeys(re.findall(r"(?<!:):(\w+)", sql))  # EXPLAIN runs nothing
        connection.execute(f"EXPLAIN {sql}", unbound).fetchall()
        return (time.thread_time() - started) * 1000
    finally:
        connection.close()


async def _new_store(path: Path) -> None:
    store = await Store.open(path)
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--workdir", type=Path, help="where the empty store goes (default: temp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as folder:
        path = Path(folder) / "store.sqlite"
        asyncio.run(_new_store(path))
        sql = candidate_sql()
        times = [compile_cpu_ms(path, sql) for _ in range(args.connections)]
    print(f"search statement: {len(sql):,} characters")
    print(
        f"prepare, CPU ms over {len(times)} connections: median {statistics.median(times):.1f},"
        f" min {min(times):.1f}, max {max(times):.1f}"
    )


if __name__ == "__main__":
    main()
