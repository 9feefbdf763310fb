"""JSON log lines: the ids a line concerns, tracebacks, the token masked."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.config import LoggingSettings
from bot.observability.logs import configure_logging, job_context, log_level

TOKEN = "MTIzNDU2Nzg5.a-token.that-must-not-show"


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch):
    """Root logging configured as the CLI does it, into a buffer."""
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers = []
    configure_logging(
        LoggingSettings(level="debug", format="json"), serving=True, verbose=False, secrets=[TOKEN]
    )
    yield stream
    root.handlers, level = saved
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_carries_its_ids_and_the_job_it_ran_in(captured):
    log = logging.getLogger("bot.sending.dispatcher")
    with job_context("send_deliveries"):
        log.warning("channel %d refused", 42, extra={"guild": 7, "channel": 42, "article": "abc"})
    log.info("outside any job")
    first, second = lines(captured)
    assert first["message"] == "channel 42 refused"
    assert first["level"] == "warning"
    assert first["logger"] == "bot.sending.dispatcher"
    assert (first["job"], first["guild"], first["channel"], first["article"]) == (
        "send_deliveries",
        7,
        42,
        "abc",
    )
    assert str(first["time"]).endswith("+00:00")
    assert "job" not in second
    assert "guild" not in second


def test_a_traceback_is_one_field_and_the_token_is_masked(captured):
    try:
        raise RuntimeError(f"login with {TOKEN} failed")
    except RuntimeError:
        logging.getLogger("discord.client").exception("debug %s", TOKEN)
    (entry,) = lines(captured)
    assert TOKEN not in captured.getvalue()
    assert entry["message"] == "debug [redacted]"
    assert "RuntimeError: login with [redacted] failed" in str(entry["exception"])


@pytest.mark.parametrize(
    ("level", "serving", "verbose", "expected"),
    [
        ("info", True, False, logging.INFO),
        ("debug", True, False, logging.DEBUG),
        ("error", True, False, logging.ERROR),
        ("debug", False, False, logging.WARNING),
        ("debug", False, True, logging.DEBUG),
        ("warning", False, True, logging.INFO),
    ],
)
def test_run_logs_at_the_configured_level_other_commands_at_warning(
    level, serving, verbose, expected
):
    settings = LoggingSettings(level=level)
    assert log_level(settings, serving=serving, verbose=verbose) == expected
