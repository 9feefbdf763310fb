"""The related engine's tests share a store of everyday news (test_related.py brings its own),
on each engine in turn (PostgreSQL: ``bench.pg_copy.mirrored``)."""

from __future__ import annotations

import pytest

from bench.pg_copy import mirrored
from tests.bot.domain.news_store import open_with_filler


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request, tmp_path):
    opened = await open_with_filler(tmp_path / "t.db")
    try:
        if request.param == "sqlite":
            yield opened
        else:
            async with mirrored(opened, request.getfixturevalue("postgresql_database_url")) as both:
                yield both
    finally:
        await opened.close()
