"""Promises about the project itself: layers stay apart, README and CI agree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


# Everything but the Discord edge (the app, sending, checks, sync, cogs and ui) stays free of
# discord.py, so it runs and is tested without a gateway connection.
DISCORD_FREE_PACKAGES = (
    "storage",
    "bot/articles",
    "bot/ingest",
    "bot/domain",
    "bot/observability",
)


def test_storage_and_domain_never_import_discord():
    assert all(python_files(folder) for folder in DISCORD_FREE_PACKAGES)
    offenders = [
        str(path.relative_to(ROOT))
        for folder in DISCORD_FREE_PACKAGES
        for path in python_files(folder)
        if re.search(r"^\s*(import discord|from discord)", path.read_text(), re.MULTILINE)
    ]
    assert offenders == []


def test_sql_lives_only_in_storage():
    sql_literal = re.compile(
        r"[\"']\s*(SELECT\s|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)",
        re.IGNORECASE,
    )
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_files("bot")
        if sql_literal.search(path.read_text()) or ".execute(" in path.read_text()
    ]
    assert offenders == []


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"Run the tests:\n\n```sh\n(.+?)\n```", readme)
    assert match, "README.md must give the test command under 'Run the tests:'"
    assert match.group(1) in (ROOT / ".ci" / "run").read_text().splitlines()


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of the file (``TYPE_CHECKING`` blocks and
    function bodies included): ``from a.b import c`` counts as ``a.b`` and ``a.b.c``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def bot_import_graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in python_files("bot")}
    return {name: imported_modules(path) & modules.keys() for name, path in modules.items()}


def test_only_the_runner_and_the_cogs_import_the_app():
    importers = {name for name, imports in bot_import_graph().items() if "bot.app" in imports}
    assert importers - {"bot.runner"} == {n for n in importers if n.startswith("bot.cogs.")}
    assert "bot.runner" in importers


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle in ``graph`` (its modules in order), or [] when there is none."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str]:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return []
        for imported in sorted(graph[name]):
            cycle = visit(imported, [*path, name])
            if cycle:
                return cycle
        done.add(name)
        return []

    for name in sorted(graph):
        cycle = visit(name, [])
        if cycle:
            return cycle
    return []


def test_no_import_circle_among_bot_modules():
    assert find_cycle(bot_import_graph()) == []


def test_the_circle_finder_finds_one():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


def test_cogs_do_not_import_each_other():
    graph = bot_import_graph()
    cogs = {name for name in graph if name.startswith("bot.cogs.")}
    assert {name: graph[name] & cogs for name in cogs if graph[name] & cogs} == {}


def test_commands_reply_through_the_one_helper_that_answers_in_time():
    """A reply sent around ``bot.answers.reply`` would fail once a slow command was
    acknowledged (or race the acknowledgement): see bot/answers.py."""
    around = re.compile(r"response\.(send_message|defer)\(|followup\.send\(")
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_files("bot/cogs")
        if around.search(path.read_text())
    ]
    assert offenders == []
