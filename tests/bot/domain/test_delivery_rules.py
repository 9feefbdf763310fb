"""The sender's pure rules: what Discord's answers mean, and how long a retry waits."""

from __future__ import annotations

import random

import pytest

from bot.domain.delivery import (
    CANNOT_DM,
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    UNKNOWN_CHANNEL,
    UNKNOWN_USER,
    classify_failure,
    pause_reason,
    retry_delay,
)


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (None, None, "retry"),  # no answer: a timeout or a dropped connection
        (429, None, "retry"),
        (500, None, "retry"),
        (502, 0, "retry"),
        (503, None, "retry"),
        (403, CANNOT_DM, "target"),
        (403, MISSING_ACCESS, "target"),
        (403, MISSING_PERMISSIONS, "target"),
        (404, UNKNOWN_USER, "target"),
        (404, UNKNOWN_CHANNEL, "target_gone"),
        (401, None, "target"),
        (403, None, "target"),
        (404, None, "target"),
        (400, 50035, "message"),  # Invalid Form Body: this message, not the target
        (413, None, "message"),
    ],
)
def test_discords_answers_are_sorted(status, code, kind):
    assert classify_failure(status, code).kind == kind


def test_a_failure_says_what_discord_answered():
    failure = classify_failure(403, CANNOT_DM, "Cannot send messages to this user")
    assert failure.code == CANNOT_DM
    assert failure.description == "403 (code 50007): Cannot send messages to this user"
    assert classify_failure(None, None, "TimeoutError").description == "no answer: TimeoutError"
    assert len(classify_failure(400, 50035, "x" * 5000).description) < 250


@pytest.mark.parametrize(
    ("code", "kind", "reason"),
    [
        (CANNOT_DM, "dm", "Discord refused my DMs"),
        (UNKNOWN_CHANNEL, "channel", "the channel no longer exists"),
        (MISSING_PERMISSIONS, "channel", "I can't post there"),
        (UNKNOWN_USER, "dm", "DMs keep failing (404 (code 10013))"),
    ],
)
def test_a_pause_says_why(code, kind, reason):
    status = 404 if code in (UNKNOWN_CHANNEL, UNKNOWN_USER) else 403
    assert pause_reason(classify_failure(status, code), kind).startswith(reason)


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(0, 5.0), (1, 10.0), (2, 20.0), (7, 640.0), (8, 900.0), (30, 900.0)]
)
def test_a_retry_waits_between_half_and_all_of_a_doubling_capped_ceiling(attempt, ceiling):
    def delay(draw):
        return retry_delay(attempt, base_seconds=5, cap_seconds=900, draw=draw)

    assert delay(lambda low, high: low) == ceiling / 2
    assert delay(lambda low, high: high) == ceiling
    drawn = [delay(random.Random(seed).uniform) for seed in range(200)]
    assert all(ceiling / 2 <= d <= ceiling for d in drawn)
    assert len(set(drawn)) > 100  # spread, not one fixed delay


def test_no_retry_comes_at_once():
    assert min(retry_delay(0, base_seconds=5, cap_seconds=900) for _ in range(1000)) >= 2.5
