"""Settings: a YAML file validated into typed classes. A missing file at the default location
means all defaults; a file named explicitly must exist."""

from __future__ import annotations

import re
import reprlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

# A default the code holds itself (the store's story rules, the parser's limits, ingest's batch
# and settle time) is read from there: each has one home.
from bot.articles.article_file import DEFAULT_LIMITS, ParseLimits
from bot.domain.rerank import RERANK_POOL
from bot.ingest.inbox import DEFAULT_SETTLE_SECONDS
from bot.ingest.writer import DEFAULT_BATCH_SIZE
from storage.database import DEFAULT_CACHE_MB
from storage.grouping import GroupingRules

_GROUPING = GroupingRules()

DEFAULT_CONFIG_PATH = Path("topicbot.yaml")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DAILY_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$", re.ASCII)  # not "0８:00"
_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _YamlLoader(_BASE_LOADER):  # type: ignore[misc,valid-type]
    """The safe loader, refusing a key written twice in one mapping: YAML keeps the last one,
    so a section written again further down would silently drop the first one's keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[tuple[str, str], int] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue
            if (key.tag, key.value) in first_line:
                seen = first_line[(key.tag, key.value)]
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"{key.value} is written twice (first on line {seen}): merge them into "
                    "one (YAML would keep only the last)",
                    key.start_mark,
                )
            first_line[(key.tag, key.value)] = key.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


_YAML_LOADER = _YamlLoader
# What a bad value is shown as: bounded, so an alias bomb is not expanded into the message.
_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxlist, _SHOWN.maxdict, _SHOWN.maxstring, _SHOWN.maxother = 2, 4, 4, 60, 60

# Discord's global rate limit: requests a second per bot token, unless Discord raised it.
DISCORD_GLOBAL_PER_SECOND = 50
# Past this a pacing is a typo (Discord grants large bots a few times the usual limit).
MAX_GLOBAL_PER_SECOND = 1000

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Interval = Annotated[float, Field(ge=1, le=86_400)]
QualityBar = Annotated[int, Field(ge=0, le=100)]


class ConfigError(Exception):
    """A configuration that topicbot cannot start with; the message names the key."""


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    # OSError: from the tzdata package, a folder such as "America" fails to open as a file
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)"
        ) from None
    return name


def _unquoted_clock_time(value: Any) -> Any:
    # YAML 1.1 reads an unquoted 10:30 as the base-60 number 630.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        shown = f"{value // 60}:{value % 60:02d}"
        raise ValueError(
            f'write the time in quotes, such as "{shown}" (YAML reads an unquoted {shown} '
            f"as the number {value})"
        )
    return value


def _clock_time(value: str) -> str:
    if not _DAILY_TIME.match(value):
        raise ValueError(f"{value!r} is not a time of day in 24-hour HH:MM form")
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not an environment variable name")
    return value


def _listen_address(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65_535:
        raise ValueError(f"{value!r} is not HOST:PORT (such as 127.0.0.1:9108)")
    return value


def _local_path(value: Any) -> Any:
    if value is None:
        value = ""
    if not isinstance(value, str | Path):
        raise ValueError(f"should be a path, written as text (got {value!r})")
    if isinstance(value, str):
        if not value.strip():
            raise ValueError(
                "is empty: name a path (a relative one is taken from this file's folder)"
            )
        # "~/topicbot.db" means the home folder, as in a shell, not a folder named "~"
        return Path(value).expanduser()
    return value


LocalPath = Annotated[Path, BeforeValidator(_local_path)]


def _rest_url_or_empty(value: str) -> str:
    # the REST API is HTTP: a ws:// base would fail at login as "cannot reach Discord"
    if _has_credentials(value):
        return _url_or_empty(value)  # refused without showing the value (a password)
    if value and not re.match(r"^https?://", value):
        raise ValueError(f"{value!r} must be empty or start with http:// or https://")
    return _url_or_empty(value)


def _url_or_empty(value: str) -> str:
    if _has_credentials(value):
        # aiohttp refuses a URL with a user beside the token's Authorization header (a
        # traceback at login); the value is not shown, since it holds a password
        raise ValueError(
            "holds a user or password (USER:PASSWORD@): Discord authenticates the bot by its "
            "token; remove them"
        )
    if value and not re.match(r"^(https?|wss?)://", value):
        raise ValueError(
            f"{value!r} must be empty or start with http://, https://, ws:// or wss://"
        )
    return value.rstrip("/")


def _has_credentials(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return "@" in value
    return parts.username is not None or parts.password is not None


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        # No setting is a true/false one; pydantic would read true as 1 (and YAML reads
        # yes, no, on and off as true and false).
        if isinstance(value, bool):
            raise ValueError(f"true/false is not accepted here (got {str(value).lower()})")
        return value


class DiscordSettings(_Section):
    token_env: Annotated[str, AfterValidator(_env_name)] = "DISCORD_TOKEN"  # noqa: S105 - a name
    # a server id: a Discord snowflake (positive, 64 bits); -5 would fail only at the sync
    dev_guild_id: Annotated[int, Field(ge=1, lt=2**63)] | None = None
    api_base: Annotated[str, AfterValidator(_rest_url_or_empty)] = ""
    gateway_url: Annotated[str, AfterValidator(_url_or_empty)] = ""


class StorageSettings(_Section):
    backend: Literal["sqlite", "postgresql"] = "sqlite"
    path: LocalPath = Path("./topicbot.db")
    # postgresql: the connection URL is read from this environment variable only (it may hold
    # a password, which has no place in a file that gets copied around).
    url_env: Annotated[str, AfterValidator(_env_name)] = "TOPICBOT_DATABASE_URL"
    pool_size: Annotated[int, Field(ge=1, le=1000)] = 10
    # A ceiling for the database file, for small disks: past it writes fail cleanly ("full").
    max_size_mb: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    # SQLite's page cache, per connection (the writer's and the searches'): most of the
    # memory a long ingest holds.
    cache_mb: Annotated[int, Field(ge=1, le=65_536)] = DEFAULT_CACHE_MB


class IngestSettings(_Section):
    inbox_dir: LocalPath = Path("./inbox")
    interval_seconds: Interval = 60
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = DEFAULT_BATCH_SIZE
    max_file_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = (
        DEFAULT_LIMITS.max_file_bytes
    )
    # A file modified more recently than this may still be being written.
    settle_seconds: Annotated[float, Field(ge=0, le=3600)] = DEFAULT_SETTLE_SECONDS
    # An article dated further ahead than this is refused as a likely typo (a year, a zone).
    max_hours_ahead: Annotated[float, Field(gt=0, le=24 * 365)] = 48

    def parse_limits(self, now: datetime) -> ParseLimits:
        """The bounds a run that starts at ``now`` parses files within."""
        return ParseLimits(
            max_file_bytes=self.max_file_bytes,
            latest_published=now + timedelta(hours=self.max_hours_ahead),
        )


class DeliverySettings(_Section):
    plan_interval_seconds: Interval = 10
    send_interval_seconds: Interval = 5
    default_min_quality: QualityBar = 20
    max_age_hours: Annotated[float, Field(gt=0, le=24 * 365)] = 48
    dm_cap_per_hour: Annotated[int, Field(ge=1, le=1000)] = 10
    max_attempts: Annotated[int, Field(ge=1, le=50)] = 6
    retry_base_seconds: Annotated[float, Field(gt=0, le=3600)] = 5
    retry_cap_seconds: Annotated[float, Field(gt=0, le=86_400)] = 900
    disable_after_failures: Annotated[int, Field(ge=1, le=100)] = 3
    request_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 15
    channel_messages_per_5s: Annotated[int, Field(ge=1, le=5)] = 5
    # Discord's 50 a second per bot, less room for the other processes' requests (replies to
    # commands do not count); more only for a bot Discord granted more, up to a sane bound.
    global_requests_per_second: Annotated[float, Field(gt=0, le=MAX_GLOBAL_PER_SECOND)] = 46
    digest_items: Annotated[int, Field(ge=1, le=10)] = 10
    # a digest's messages at most (the first holds the best digest_items in full, each
    # further one up to a few dozen linked titles); past them the rest is counted, not sent
    digest_messages: Annotated[int, Field(ge=1, le=50)] = 5
    # how long Discord's answer to "is this member still in the server?" is trusted before a
    # DM or digest of that server asks again (the bot hears of no one leaving)
    member_check_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 24

    def pacing_warning(self) -> str | None:
        """What to say when the pacing is above Discord's usual global limit."""
        if self.global_requests_per_second <= DISCORD_GLOBAL_PER_SECOND:
            return None
        return (
            f"delivery.global_requests_per_second is {self.global_requests_per_second:g}, above "
            f"Discord's {DISCORD_GLOBAL_PER_SECOND} requests a second per bot: right only if "
            "Discord granted this bot a higher global limit (set it below the grant)"
        )


class DigestSettings(_Section):
    timezone: Annotated[str, AfterValidator(_timezone)] = "UTC"
    daily_time: Annotated[
        str, BeforeValidator(_unquoted_clock_time), AfterValidator(_clock_time)
    ] = "08:00"
    weekly_day: Weekday = "monday"
    check_interval_seconds: Interval = 60


class CommandSettings(_Section):
    max_subscriptions_per_member: Annotated[int, Field(ge=1, le=1000)] = 25
    max_feeds_per_guild: Annotated[int, Field(ge=1, le=1000)] = 50
    related_per_minute: Annotated[int, Field(ge=1, le=600)] = 6
    latest_per_minute: Annotated[int, Field(ge=1, le=600)] = 6
    autocomplete_per_10s: Annotated[int, Field(ge=1, le=1000)] = 25


class RelatedWeights(_Section):
    text: Annotated[float, Field(ge=0, le=10)] = 1.0
    time: Annotated[float, Field(ge=0, le=1)] = 0.97
    query_time: Annotated[float, Field(ge=0, le=1)] = 0.5
    same_outlet: Annotated[float, Field(ge=0, le=1)] = 0.3
    topics: Annotated[float, Field(ge=0, le=10)] = 0.05
    quality: Annotated[float, Field(ge=0, le=10)] = 0.05


class RelatedSettings(_Section):
    story_window_hours: Annotated[float, Field(gt=0, le=24 * 60)] = _GROUPING.window_seconds / 3600
    title_similarity: Annotated[float, Field(gt=0, le=1)] = _GROUPING.title_similarity
    max_per_outlet: Annotated[int, Field(ge=1, le=10)] = 2
    time_scale_hours: Annotated[float, Field(gt=0, le=24 * 3650)] = 24
    # one event's coverage within this of the story is as close as it gets (docs/performance.md,
    # "Closeness in time")
    time_grace_hours: Annotated[float, Field(ge=0, le=24 * 3650)] = 6
    query_time_scale_days: Annotated[float, Field(gt=0, le=3650)] = 30
    # a similar story scoring under this shares little with the one asked about: listed last,
    # as "less closely related" (docs/performance.md, "How close a result is")
    close_score: Annotated[float, Field(ge=0, le=10)] = 0.1
    weights: RelatedWeights = RelatedWeights()
    search_window_articles: Annotated[int, Field(ge=1000, le=100_000_000)] = 100_000
    # terms looked up per search at most: a story's heaviest, then its feedback's heaviest
    # new ones (docs/performance.md, "A larger term budget")
    search_terms: Annotated[int, Field(ge=1, le=64)] = 48
    story_terms: Annotated[int, Field(ge=1, le=64)] = 32
    feedback_terms: Annotated[int, Field(ge=0, le=64)] = 24
    term_cap: Annotated[int, Field(ge=10, le=100_000)] = 300
    term_budget: Annotated[int, Field(ge=100, le=1_000_000)] = 3000
    feedback_articles: Annotated[int, Field(ge=0, le=5)] = 2
    feedback_weight: Annotated[float, Field(ge=0, le=1)] = 0.8
    # learned term associations (bot/domain/associations.py); 0 searches none
    association_weight: Annotated[float, Field(ge=0, le=1)] = 0.5
    # the hand-written news-register paraphrases (bot/domain/headlinese.txt); 0 searches none
    lexicon_weight: Annotated[float, Field(ge=0, le=1)] = 1.0
    # a story's best similar stories re-ordered by what each says of itself
    # (bot/domain/rerank.py, whose weights were fit on 12); 0 re-orders none
    rerank_candidates: Annotated[int, Field(ge=0, le=30)] = RERANK_POOL


class LoggingSettings(_Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["text", "json"] = "text"


class ObservabilitySettings(_Section):
    # HOST:PORT for /healthz and /metrics; None serves nothing.
    listen: Annotated[str, AfterValidator(_listen_address)] | None = None


Days = Annotated[int, Field(ge=1, le=36_500)]


class RetentionSettings(_Section):
    # null keeps forever
    deliveries_days: Days | None = 30
    audit_days: Days | None = None
    articles_days: Days | None = None
    published_articles_days: Days | None = None
    # a server that removed the bot: its feeds, subscriptions, settings, decisions and audit
    # log go this long after (kept meanwhile for its return)
    left_server_days: Days | None = 30
    # a member Discord said left a server (which still runs the bot): their subscriptions
    # there, paused meanwhile for their return, go this long after
    left_member_days: Days | None = 30
    batch_rows: Annotated[int, Field(ge=100, le=100_000)] = 2000
    reclaim_pages: Annotated[int, Field(ge=16, le=1_000_000)] = 1024

    @model_validator(mode="after")
    def _published_needs_articles(self) -> RetentionSettings:
        if self.published_articles_days is not None and self.articles_days is None:
            raise ValueError(
                "published_articles_days needs articles_days too (published articles go only "
                "where unpublished ones do)"
            )
        return self


class Settings(_Section):
    """Everything topicbot can be configured with."""

    discord: DiscordSettings = DiscordSettings()
    commands: CommandSettings = CommandSettings()
    storage: StorageSettings = StorageSettings()
    ingest: IngestSettings = IngestSettings()
    delivery: DeliverySettings = DeliverySettings()
    digests: DigestSettings = DigestSettings()
    related: RelatedSettings = RelatedSettings()
    logging: LoggingSettings = LoggingSettings()
    observability: ObservabilitySettings = ObservabilitySettings()
    retention: RetentionSettings = RetentionSettings()

    def resolved_against(self, folder: Path) -> Settings:
        """Relative paths are taken from the config file's folder, not the working directory."""
        return self.model_copy(
            update={
                "storage": self.storage.model_copy(update={"path": folder / self.storage.path}),
                "ingest": self.ingest.model_copy(
                    update={"inbox_dir": folder / self.ingest.inbox_dir}
                ),
            }
        )


def load_settings(path: Path | None) -> Settings:
    """Load and validate settings from ``path`` (default ``topicbot.yaml``).

    No file at the default location means all defaults; a ``path`` that names no file is a
    ``ConfigError`` (a typo must not run with defaults and a new, empty store)."""
    if path is not None and not path.exists():
        raise ConfigError(
            f"{path}: no such configuration file (only the default {DEFAULT_CONFIG_PATH} "
            "may be missing)"
        )
    config_path = path or DEFAULT_CONFIG_PATH
    if not config_path.exists():
        return Settings()
    raw = _read_yaml(config_path)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_describe(config_path, error)) from None
    return settings.resolved_against(config_path.resolve().parent)


def _read_yaml(config_path: Path) -> dict[str, Any]:
    try:
        text = config_path.read_text(encoding="utf-8")
        loaded = yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except OSError as error:
        raise ConfigError(f"{config_path}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{config_path}: is not UTF-8 text") from None
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 0
        raise ConfigError(f"{config_path}: line {line}: {error.problem}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{config_path}: not valid YAML ({error})") from None
    except RecursionError:
        raise ConfigError(f"{config_path}: is nested too deeply") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{config_path}: must be a mapping of sections (discord, storage, ...)")
    return loaded


def _describe(config_path: Path, error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    key = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key (check the spelling against config.example.yaml)"
    elif first["type"] not in ("value_error", "missing") and "input" in first:
        message = f"{message} (got {_SHOWN.repr(first['input'])})"
    return f"{config_path}: {key}: {message}"
