"""A slow answer says what the process was doing: in the timeout's message, or as a warning
when it came in the end."""

from __future__ import annotations

import asyncio
import re
import threading

import pytest

from tests.discord_double import interactions
from tests.discord_double.interactions import InteractionResult, SlowAnswerWarning


def result() -> InteractionResult:
    return InteractionResult(id=1, token="t", type=2, payload={}, channel_id=1)


async def _busy_in_a_thread(release: threading.Event) -> None:
    await asyncio.to_thread(release.wait, 5)


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interactions, "SLOW_ANSWER_S", 0.05)


async def test_a_timeout_names_the_tasks_and_threads_that_were_running(quick):
    release = threading.Event()
    stuck = asyncio.create_task(_busy_in_a_thread(release), name="stuck-command")
    try:
        with pytest.raises(TimeoutError) as raised:
            await result().wait_for(lambda r: r.acknowledged, timeout_s=0.2)
    finally:
        release.set()
        await stuck
    message = str(raised.value)
    assert "condition not met in 0.2s (acknowledged: False)" in message
    # innermost first: where the task waits, then who awaits it
    assert re.search(
        r"task stuck-command: threads.py:\d+ to_thread <- test_stalls.py:\d+ _busy_in_a_thread",
        message,
    )
    assert re.search(r"thread asyncio_\d+: threading.py:\d+ wait", message)  # in Event.wait


async def test_an_answer_after_the_slow_mark_is_a_warning_with_the_snapshot(quick):
    answered = result()

    async def answer_late() -> None:
        await asyncio.sleep(0.15)
        answered.callback_type = 4
        answered.notify()

    late = asyncio.create_task(answer_late(), name="late-answer")
    with pytest.warns(SlowAnswerWarning, match=r"(?s)took 0\.\ds.*task late-answer: .*answer_late"):
        await answered.wait_for(lambda r: r.acknowledged, timeout_s=2)
    await late


async def test_a_quick_answer_warns_nothing(quick, recwarn):
    answered = result()
    answered.callback_type = 4
    await answered.wait_for(lambda r: r.acknowledged, timeout_s=2)
    assert not [w for w in recwarn if w.category is SlowAnswerWarning]
