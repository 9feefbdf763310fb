"""The related engine's tests share a store of everyday news (test_related.py brings its own)."""

from __future__ import annotations

import pytest

from tests.bot.domain.news_store import open_with_filler


@pytest.fixture
async def store(tmp_path):
    opened = await open_with_filler(tmp_path / "t.db")
    yield opened
    await opened.close()
