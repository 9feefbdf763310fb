"""Where the benchmarks that run on PostgreSQL find their server."""

from __future__ import annotations

import os

URL_VARIABLE = "TOPICBOT_DATABASE_URL"


def postgresql_url(wanted_by: str = "--backend postgresql") -> str:
    """The server URL of ``$TOPICBOT_DATABASE_URL``, or stop with one line saying it is needed."""
    url = os.environ.get(URL_VARIABLE, "").strip()
    if not url:
        raise SystemExit(f"{wanted_by} needs ${URL_VARIABLE} (a server to use)")
    return url
