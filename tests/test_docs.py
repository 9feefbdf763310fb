"""The documentation a newcomer follows: every link between its pages leads somewhere."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from bot.cli import build_parser
from bot.config import Settings
from bot.observability.metrics import Metrics
from bot.permissions import invite_url

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*)$", re.MULTILINE)
README = (ROOT / "README.md").read_text()
CODE_BLOCK = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = CODE_BLOCK.sub("", page.read_text())
    return {_slug(heading) for heading in HEADING.findall(text)}


def _local_links(page: Path) -> list[str]:
    text = CODE_BLOCK.sub("", page.read_text())
    return [link for link in LINK.findall(text) if not re.match(r"[a-z]+:", link)]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_local_link_leads_to_a_page_and_heading_that_exist(page: Path) -> None:
    broken = []
    for link in _local_links(page):
        target, _, anchor = link.partition("#")
        target_path = (page.parent / target).resolve() if target else page
        if not target_path.exists():
            broken.append(f"{link}: no such file")
        elif anchor and target_path.suffix == ".md" and anchor not in _anchors(target_path):
            broken.append(f"{link}: no heading with that anchor")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_readme_points_a_newcomer_to_every_docs_page() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [
        page.name
        for page in sorted((ROOT / "docs").glob("*.md"))
        if f"docs/{page.name}" not in readme
    ]
    assert not missing, f"README.md does not link to {missing}"


def _example_keys(section: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    keys: dict[str, Any] = {}
    for key, value in section.items():
        if isinstance(value, dict):
            keys.update(_example_keys(value, f"{prefix}{key}."))
        else:
            keys[f"{prefix}{key}"] = value
    return keys


def test_config_example_lists_every_key_with_the_default_it_takes() -> None:
    """config.example.yaml "documents every key" and says "a missing ... key takes the default
    shown here": both, key by key, against the settings the program validates."""
    example = _example_keys(yaml.safe_load((ROOT / "config.example.yaml").read_text()))
    defaults = _example_keys(Settings().model_dump(mode="json"))
    assert sorted(example) == sorted(defaults), "keys of config.example.yaml vs the settings"
    differing = {
        key: (value, defaults[key])
        for key, value in example.items()
        if Settings.model_validate(_nested(key, value)).model_dump(mode="json")
        != Settings().model_dump(mode="json")
    }
    assert not differing, f"config.example.yaml shows values that are not the defaults: {differing}"


def _nested(key: str, value: Any) -> dict[str, Any]:
    *sections, last = key.split(".")
    tree: dict[str, Any] = {last: value}
    for section in reversed(sections):
        tree = {section: tree}
    return tree


def test_readme_command_table_names_every_command_and_option() -> None:
    """README's "Command line" table against the parser: each command, and each option it
    takes (and no other)."""
    table = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    documented = {}
    for cell in re.findall(r"^\| `topicbot ([^`]+)` \|", table, re.MULTILINE):
        name, *rest = cell.split()
        documented[name] = set(re.findall(r"--[a-z-]+", " ".join(rest)))
    subparsers = next(
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    actual = {
        name: {
            option
            for action in parser._actions
            for option in action.option_strings
            # -v/--verbose, which every command takes, is said once below the table
            if option.startswith("--") and option not in ("--help", "--verbose")
        }
        for name, parser in subparsers.choices.items()
    }
    assert sorted(documented) == sorted(actual), "README's command table vs the commands"
    for name, options in actual.items():
        assert documented[name] == options, f"topicbot {name}: options in README vs the parser"
    assert "Every command takes `-v` (`--verbose`), before or after" in README


def test_operating_md_lists_every_metric_with_its_labels() -> None:
    """docs/operating.md's metrics table against what /metrics exposes: names and labels."""
    operating = (ROOT / "docs" / "operating.md").read_text()
    row = r"^\| `(topicbot_[a-z_]+)(?:\{([a-z_,]+)\})?` \|"
    documented = dict(re.findall(row, operating, re.MULTILINE))
    exposed = {
        metric._name + ("_total" if metric._type == "counter" else ""): ",".join(metric._labelnames)
        for metric in vars(Metrics()).values()
        if isinstance(metric, MetricWrapperBase)
    }
    assert documented == exposed, "operating.md's metrics table vs /metrics"


def test_setup_md_shows_the_invite_url_invite_url_prints() -> None:
    """setup.md's `topicbot invite-url` example, with its application id filled in."""
    setup = (ROOT / "docs" / "setup.md").read_text()
    (example,) = re.findall(r"`(https://discord\.com/oauth2/authorize\?[^`]+)`", setup)
    assert example.replace("1234...", "1234") == invite_url(1234)
