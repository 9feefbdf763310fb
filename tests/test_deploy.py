"""The systemd unit in deploy/: it parses, hardens the service, and runs a command the CLI
has, with a configuration that writes only where the unit lets it."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.config import load_settings

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "topicbot.service"
CONFIG = ROOT / "deploy" / "topicbot.yaml"


def read_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """systemd's unit syntax: [Section] headers, Key=value lines (a key may repeat), '#' or
    ';' comments. Anything else is a syntax error."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, equals, value = line.partition("=")
        assert equals and current is not None and key.strip().isalnum(), f"line {number}: {raw}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_the_unit_hardens_the_service_and_restarts_it_on_failure():
    unit = read_unit(UNIT)
    assert set(unit) == {"Unit", "Service", "Install"}
    service = {key: values[-1] for key, values in unit["Service"].items()}
    assert service["User"] == "topicbot" != "root"
    assert service["StateDirectory"] == "topicbot"
    assert service["WorkingDirectory"] == "/var/lib/topicbot"
    assert service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    assert service["RestartPreventExitStatus"] == "2"  # bad config or token: no restart loop
    for key, value in {
        "ProtectSystem": "strict",
        "NoNewPrivileges": "yes",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[key] == value, key
    # the token comes from a root-only environment file, never the unit itself
    assert "DISCORD_TOKEN" not in UNIT.read_text().replace("# DISCORD_TOKEN=...", "")
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_the_unit_runs_topicbot_run_with_a_config_that_writes_only_in_its_state_folder():
    service = read_unit(UNIT)["Service"]
    (command,) = service["ExecStart"]
    executable, *arguments = shlex.split(command)
    assert Path(executable).name == "topicbot"  # the console script of pyproject.toml
    args = build_parser().parse_args(arguments)
    assert args.command == "run"
    assert args.config == Path("/etc/topicbot/topicbot.yaml")
    settings = load_settings(CONFIG)
    state = Path("/var/lib") / service["StateDirectory"][-1]
    assert settings.storage.path.parent == state
    assert settings.ingest.inbox_dir.parent == state


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_the_unit(tmp_path):
    # verify checks that the command exists: point it at this environment's topicbot
    topicbot = Path(sys.executable).with_name("topicbot")
    assert topicbot.exists()
    unit = tmp_path / "topicbot.service"
    unit.write_text(UNIT.read_text().replace("/opt/topicbot/venv/bin/topicbot", str(topicbot)))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    # an unknown or misspelt key is only a warning naming the file and line
    assert "topicbot.service:" not in result.stderr + result.stdout
