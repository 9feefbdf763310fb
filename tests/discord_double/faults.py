"""Fault injection and rate-limit emulation for the Discord double."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MESSAGES = {
    400: "Bad Request",
    401: "401: Unauthorized",
    403: "Missing Access",
    404: "404: Not Found",
    429: "You are being rate limited.",
    500: "500: Internal Server Error",
    502: "502: Bad Gateway",
}

# Well-known JSON error codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes)
KNOWN_CODES = {
    10003: "Unknown Channel",
    10008: "Unknown Message",
    10062: "Unknown interaction",
    50001: "Missing Access",
    50003: "Cannot execute action on a DM channel",
    50007: "Cannot send messages to this user",
    50013: "Missing Permissions",
    40060: "Interaction has already been acknowledged.",
}


@dataclass
class Reply:
    """A response the double will send: status, JSON body (None = empty) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class DiscordError(Exception):
    """Raised by route handlers to answer with a Discord-style error body."""

    def __init__(self, status: int, code: int = 0, message: str = "") -> None:
        self.status = status
        self.code = code
        self.message = message or KNOWN_CODES.get(code) or DEFAULT_MESSAGES.get(status, "Error")
        super().__init__(f"{status} {self.code}: {self.message}")

    def reply(self) -> Reply:
        """The error as a response."""
        return Reply(self.status, {"message": self.message, "code": self.code})


@dataclass
class FaultRule:
    """One ``fail_next`` registration."""

    method: str
    path_regex: re.Pattern[str]
    status: int | None
    code: int | None = None
    message: str = ""
    retry_after: float | None = None
    is_global: bool = False
    times: int = 1
    delay: float | None = None
    hits: int = 0
    after: int = 0  # matching requests let through before the rule answers

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to a request (and still has uses left)."""
        return (
            self.times > 0
            and self.method in (method, "*")
            and self.path_regex.search(path) is not None
        )

    def reply(self) -> Reply | None:
        """The injected response; None means "answer normally" (delay-only rules)."""
        if self.status is None:
            return None
        if self.status == 429:
            return rate_limited_reply(self.retry_after or 1.0, is_global=self.is_global)
        message = (
            self.message
            or KNOWN_CODES.get(self.code or 0)
            or DEFAULT_MESSAGES.get(self.status, "Error")
        )
        return Reply(self.status, {"message": message, "code": self.code or 0})


def rate_limited_reply(
    retry_after: float, *, is_global: bool, bucket: str = "fault", limit: int = 1
) -> Reply:
    """A 429 exactly as discord.py expects it (note: it also needs the ``Via`` header)."""
    headers = {
        "Retry-After": str(max(1, round(retry_after))),
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Bucket": bucket,
        "X-RateLimit-Scope": "global" if is_global else "user",
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    body = {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": is_global,
        "code": 0,
    }
    return Reply(429, body, headers)


@dataclass
class _Window:
    started: float
    count: int = 0


class RateLimiter:
    """Fixed-window per-channel message-create limits plus a global per-second limit."""

    def __init__(self, per_channel: tuple[int, float], global_per_second: int) -> None:
        self.limit, self.period = per_channel
        self.global_per_second = global_per_second
        self._channels: dict[int, _Window] = {}
        self._global = _Window(started=time.monotonic())
        self.rejected = 0

    def check_global(self) -> Reply | None:
        """Count one request against the global limit; a 429 reply when exceeded."""
        now = time.monotonic()
        if now - self._global.started >= 1.0:
            self._global = _Window(started=now)
        self._global.count += 1
        if self._global.count <= self.global_per_second:
            return None
        self.rejected += 1
        return rate_limited_reply(
            1.0 - (now - self._global.started), is_global=True, bucket="global"
        )

    def check_channel(self, channel_id: int) -> tuple[Reply | None, dict[str, str]]:
        """Count a message create in ``channel_id``: (429 reply or None, headers to send)."""
        now = time.monotonic()
        window = self._channels.get(channel_id)
        if window is None or now - window.started >= self.period:
            window = self._channels[channel_id] = _Window(started=now)
        reset_after = self.period - (now - window.started)
        if window.count >= self.limit:
            self.rejected += 1
            reply = rate_limited_reply(
                reset_after, is_global=False, bucket="msgcreate", limit=self.limit
            )
            return reply, reply.headers
        window.count += 1
        return None, self.headers(self.limit - window.count, reset_after)

    def headers(self, remaining: int, reset_after: float) -> dict[str, str]:
        """X-RateLimit-* headers for a successful message create."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": "msgcreate",
        }
