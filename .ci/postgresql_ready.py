"""CI: fail early, in one line, when the PostgreSQL test server does not answer (the
PostgreSQL half of the tests would otherwise fail one by one)."""

from __future__ import annotations

import asyncio
import os
import sys

from storage.postgresql import PostgresConnectError, open_pool

VARIABLE = "TOPICBOT_TEST_DATABASE_URL"


async def check(url: str) -> None:
    pool = await open_pool(url, size=1, source=f"${VARIABLE}")
    try:
        await pool.fetchval("SELECT 1")
    finally:
        await pool.close()


def main() -> int:
    url = os.environ.get(VARIABLE, "")
    if not url:
        print(f"ci: {VARIABLE} is not set", file=sys.stderr)
        return 1
    try:
        asyncio.run(check(url))
    except PostgresConnectError as error:
        print(f"ci: the PostgreSQL test server does not answer: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
