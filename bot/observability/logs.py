"""Log lines as text or as one JSON object a line, carrying the ids a line concerns (job,
guild, channel, user, article); the bot token is masked in either form."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from storage.errors import ConnectionLost

if TYPE_CHECKING:
    from bot.config import LoggingSettings
    from storage.outbox.rows import Delivery

# The ids a line may carry, passed with ``extra=`` at the log call (the job from the context).
ID_FIELDS = ("job", "guild", "channel", "user", "article")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "[redacted]"
# Shorter values are not worth masking: they would mask ordinary words.
_MIN_SECRET_LENGTH = 8

_current_job: ContextVar[str | None] = ContextVar("topicbot_job", default=None)


def log_failure(
    logger: logging.Logger,
    error: BaseException,
    message: str,
    *args: object,
    extra: dict[str, Any] | None = None,
) -> None:
    """An unexpected failure, with its traceback; a lost database session in one line, a
    warning: there is nothing in it to debug, and the next call takes a new session."""
    if isinstance(error, ConnectionLost):
        logger.warning(f"{message}: %s", *args, error, extra=extra)
    else:
        logger.error(message, *args, exc_info=error, extra=extra)


@contextmanager
def job_context(job_id: str) -> Iterator[None]:
    """Lines logged inside the block (by any module) carry ``job``."""
    token = _current_job.set(job_id)
    try:
        yield
    finally:
        _current_job.reset(token)


def delivery_ids(delivery: Delivery) -> dict[str, Any]:
    """The ``extra=`` of a line about one outbox row."""
    target = "channel" if delivery.target_kind == "channel" else "user"
    return {"guild": delivery.guild_id, target: delivery.target_id, "article": delivery.article_id}


class _JobFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "job", None) is None:
            job = _current_job.get()
            if job is not None:
                record.job = job
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the ids that apply, and
    the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ID_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _Masking(logging.Formatter):
    """Wraps a formatter and masks secret values in what it produces (tracebacks included)."""

    def __init__(self, inner: logging.Formatter, secrets: Sequence[str]) -> None:
        super().__init__()
        self._inner = inner
        self._secrets = [s for s in secrets if len(s) >= _MIN_SECRET_LENGTH]

    def format(self, record: logging.LogRecord) -> str:
        text = self._inner.format(record)
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text


def log_level(settings: LoggingSettings, *, serving: bool, verbose: bool) -> int:
    """``topicbot run`` logs at ``logging.level``; other commands log warnings, or with
    ``-v`` at ``logging.level`` but at least info."""
    configured = logging.getLevelNamesMapping()[settings.level.upper()]
    if verbose:
        return min(configured, logging.INFO)
    return configured if serving else logging.WARNING


def configure_logging(
    settings: LoggingSettings, *, serving: bool, verbose: bool, secrets: Sequence[str] = ()
) -> None:
    """Send log lines to stderr in the configured format, with ``secrets`` masked."""
    inner = JsonFormatter() if settings.format == "json" else logging.Formatter(TEXT_FORMAT)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Masking(inner, secrets))
    handler.addFilter(_JobFilter())
    logging.basicConfig(
        level=log_level(settings, serving=serving, verbose=verbose), handlers=[handler]
    )
