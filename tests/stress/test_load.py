"""Load through the Discord double (slow: `python -m pytest -m slow`)."""

from __future__ import annotations

import pytest

from bench.bench_load import run

pytestmark = pytest.mark.slow


async def test_a_thousand_commands_from_two_hundred_members_are_all_acknowledged_in_time(tmp_path):
    result = await run(articles=100_000, commands=1000, members=200, seconds=10.0, workdir=tmp_path)
    assert result["commands"] == 1000
    assert result["late_or_unanswered"] == 0
    assert result["ack_max_ms"] < 3000
    assert result["double_errors"] == []
