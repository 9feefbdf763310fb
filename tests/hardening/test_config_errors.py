"""Every invalid configuration is one stderr line naming the key (or the file's problem), exit
2, from ``topicbot check-config`` run as an operator runs it. The subprocesses run at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_BOMB = "".join(
    f"x{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10) if n else ', '.join(['lol'] * 10)}]\n"
    for n in range(9)
)

# name -> (file content, the exact stderr line after "topicbot: <file>: ")
INVALID: dict[str, tuple[str | bytes, str]] = {
    "unknown-section": (
        "discrod:\n  token_env: X\n",
        "discrod: unknown key (check the spelling against config.example.yaml)",
    ),
    "unknown-key": (
        "delivery:\n  send_intervl_seconds: 5\n",
        "delivery.send_intervl_seconds: unknown key (check the spelling against "
        "config.example.yaml)",
    ),
    "wrong-type": (
        "ingest:\n  batch_size: lots\n",
        "ingest.batch_size: Input should be a valid integer, unable to parse string as an "
        "integer (got 'lots')",
    ),
    "boolean-for-a-number": (
        "ingest:\n  batch_size: yes\n",
        "ingest.batch_size: true/false is not accepted here (got true)",
    ),
    "section-not-a-mapping": (
        "digests: daily\n",
        "digests: Input should be a valid dictionary or instance of DigestSettings (got 'daily')",
    ),
    "retention-days-zero": (
        "retention:\n  deliveries_days: 0\n",
        "retention.deliveries_days: Input should be greater than or equal to 1 (got 0)",
    ),
    "left-server-days-zero": (
        "retention:\n  left_server_days: 0\n",
        "retention.left_server_days: Input should be greater than or equal to 1 (got 0)",
    ),
    "left-server-days-words": (
        "retention:\n  left_server_days: a month\n",
        "retention.left_server_days: Input should be a valid integer, unable to parse string "
        "as an integer (got 'a month')",
    ),
    "published-articles-days-alone": (
        "retention:\n  published_articles_days: 90\n",
        "retention: published_articles_days needs articles_days too (published articles go "
        "only where unpublished ones do)",
    ),
    "interval-zero": (
        "delivery:\n  plan_interval_seconds: 0\n",
        "delivery.plan_interval_seconds: Input should be greater than or equal to 1 (got 0)",
    ),
    "interval-too-long": (
        "ingest:\n  interval_seconds: 100000\n",
        "ingest.interval_seconds: Input should be less than or equal to 86400 (got 100000)",
    ),
    "interval-nan": (
        "delivery:\n  plan_interval_seconds: .nan\n",
        "delivery.plan_interval_seconds: Input should be less than or equal to 86400 (got nan)",
    ),
    "nested-out-of-range": (
        "related:\n  weights:\n    text: -1\n",
        "related.weights.text: Input should be greater than or equal to 0 (got -1)",
    ),
    "max-file-bytes-too-small": (
        "ingest:\n  max_file_bytes: 10\n",
        "ingest.max_file_bytes: Input should be greater than or equal to 1024 (got 10)",
    ),
    "bad-timezone": (
        "digests:\n  timezone: Mars/Olympus\n",
        "digests.timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as "
        "Europe/Paris)",
    ),
    "timezone-path": (
        "digests:\n  timezone: ../../etc/passwd\n",
        "digests.timezone: unknown time zone '../../etc/passwd' (use an IANA name such as "
        "Europe/Paris)",
    ),
    "timezone-folder": (
        "digests:\n  timezone: America\n",
        "digests.timezone: unknown time zone 'America' (use an IANA name such as Europe/Paris)",
    ),
    "bad-daily-time": (
        "digests:\n  daily_time: '25:00'\n",
        "digests.daily_time: '25:00' is not a time of day in 24-hour HH:MM form",
    ),
    "fullwidth-daily-time": (
        "digests:\n  daily_time: '0\uff18:00'\n",
        "digests.daily_time: '0\uff18:00' is not a time of day in 24-hour HH:MM form",
    ),
    "unquoted-daily-time": (
        "digests:\n  daily_time: 10:30\n",
        'digests.daily_time: write the time in quotes, such as "10:30" (YAML reads an '
        "unquoted 10:30 as the number 630)",
    ),
    "bad-weekday": (
        "digests:\n  weekly_day: funday\n",
        "digests.weekly_day: Input should be 'monday', 'tuesday', 'wednesday', 'thursday', "
        "'friday', 'saturday' or 'sunday' (got 'funday')",
    ),
    "bad-api-base": (
        "discord:\n  api_base: ftp://discord.example\n",
        "discord.api_base: 'ftp://discord.example' must be empty or start with http:// or https://",
    ),
    "api-base-javascript": (
        "discord:\n  api_base: 'javascript:alert(1)'\n",
        "discord.api_base: 'javascript:alert(1)' must be empty or start with http:// or https://",
    ),
    "api-base-with-a-password": (
        "discord:\n  api_base: http://proxy:S3CRET@127.0.0.1:8080/api/v10\n",
        "discord.api_base: holds a user or password (USER:PASSWORD@): Discord authenticates the "
        "bot by its token; remove them",
    ),
    "gateway-url-with-a-user": (
        "discord:\n  gateway_url: wss://someone@gateway.example/\n",
        "discord.gateway_url: holds a user or password (USER:PASSWORD@): Discord authenticates "
        "the bot by its token; remove them",
    ),
    "section-written-twice": (
        "storage:\n  path: kept.db\ningest:\n  interval_seconds: 5\nstorage:\n  cache_mb: 8\n",
        "line 5: storage is written twice (first on line 1): merge them into one (YAML would "
        "keep only the last)",
    ),
    "key-written-twice": (
        "delivery:\n  max_age_hours: 48\n  max_age_hours: 12\n",
        "line 3: max_age_hours is written twice (first on line 2): merge them into one (YAML "
        "would keep only the last)",
    ),
    "token-env-not-a-name": (
        "discord:\n  token_env: my token\n",
        "discord.token_env: 'my token' is not an environment variable name",
    ),
    "token-env-empty": (
        "discord:\n  token_env: ''\n",
        "discord.token_env: '' is not an environment variable name",
    ),
    "guild-id-not-a-number": (
        "discord:\n  dev_guild_id: abc\n",
        "discord.dev_guild_id: Input should be a valid integer, unable to parse string as an "
        "integer (got 'abc')",
    ),
    "non-string-root-key": ("1: x\n", "1: Keys should be strings (got 1)"),
    "root-is-a-list": ("- a\n- b\n", "must be a mapping of sections (discord, storage, ...)"),
    "root-is-a-scalar": ("just words\n", "must be a mapping of sections (discord, storage, ...)"),
    "yaml-syntax-error": ("delivery: [\n", "line 2: did not find expected node content"),
    "python-tag": (
        "storage:\n  path: !!python/object/apply:os.system ['touch PWNED']\n",
        "line 2: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'",
    ),
    "not-utf8": (b"digests:\n  timezone: Europe/Z\xfcrich\n", "is not UTF-8 text"),
    "alias-bomb": (
        _BOMB + "digests:\n  timezone: *a8\n",
        "digests.timezone: Input should be a valid string (got [[[...], [...], [...], [...], "
        "...], [[...], [...], [...], [...], ...], [[...], [...], [...], [...], ...], [[...], "
        "[...], [...], [...], ...], ...])",
    ),
    "deep-nesting": (
        "discord:\n  token_env: " + "[" * 5000 + "]" * 5000 + "\n",
        "line 2: exceeded maximum nesting depth",
    ),
    "recursive-alias": (
        "discord:\n  api_base: &r [*r]\n",
        "discord.api_base: Input should be a valid string (got [[[...]]])",
    ),
    "log-format-unknown": (
        "logging:\n  format: xml\n",
        "logging.format: Input should be 'text' or 'json' (got 'xml')",
    ),
    "listen-without-a-port": (
        "observability:\n  listen: 127.0.0.1\n",
        "observability.listen: '127.0.0.1' is not HOST:PORT (such as 127.0.0.1:9108)",
    ),
}

VALID = {"empty": "", "only-comments": "# nothing here\n", "empty-mapping": "{}\n"}


def _start(config: Path, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "check-config", "--config", config.name],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, tuple[int, str, str, str]]:
    """name -> (exit code, stdout, stderr, file name): every case run once, in parallel."""
    folder = tmp_path_factory.mktemp("configs")
    started: dict[str, tuple[subprocess.Popen[str], Path]] = {}
    for name, (content, _) in INVALID.items():
        path = folder / f"{name}.yaml"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        started[name] = (_start(path, folder), path)
    for name, content in VALID.items():
        path = folder / f"{name}.yaml"
        path.write_text(content)
        started[name] = (_start(path, folder), path)
    directory = folder / "a-folder.yaml"
    directory.mkdir()
    started["a-folder"] = (_start(directory, folder), directory)
    done = {}
    for name, (process, path) in started.items():
        out, err = process.communicate(timeout=120)
        done[name] = (process.returncode, out, err, path.name)
    assert not (folder / "PWNED").exists()
    return done


def test_the_table_has_at_least_15_invalid_configurations():
    assert len(INVALID) >= 15


@pytest.mark.parametrize("name", sorted(INVALID))
def test_an_invalid_configuration_is_one_line_naming_the_key_and_exit_2(results, name):
    code, out, err, file = results[name]
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"topicbot: {file}: {INVALID[name][1]}"]


@pytest.mark.parametrize("name", sorted(VALID))
def test_an_empty_configuration_means_the_defaults(results, name):
    code, out, err, file = results[name]
    assert (code, err) == (0, "")
    assert out.startswith(f"configuration OK: {file}\n")


def test_a_folder_given_as_the_configuration_is_one_line(results):
    code, _, err, file = results["a-folder"]
    assert code == 2
    assert err.splitlines() == [f"topicbot: {file}: cannot be read (Is a directory)"]
