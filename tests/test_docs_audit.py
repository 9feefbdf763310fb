"""The documentation taken literally: what README.md, docs/setup.md and docs/operating.md tell an
operator to type, and the output and log lines they show, checked against what the program
does (the CLI as a subprocess, the bot against the Discord double)."""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.observability.logs import JsonFormatter
from tests.bot.conftest import engine, harness, make_harness
from tests.bot.harness import Harness
from tests.bot.test_alerts import follow, posts, route, story
from tests.bot.test_doctor import topicbot as run_cli
from tests.bot.test_lifecycle_audit import eventually, invite_back, kick, seed_topic
from tests.bot.test_run import start_topicbot, write_config
from tests.discord_double import DiscordDouble
from tests.discord_double.plugin import build_world
from tests.discord_double.state import SEND_MESSAGES, Overwrite
from tests.factories import EXAMPLES_DIR

__all__ = ["engine", "harness", "make_harness"]  # the end-to-end fixtures, used here too

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
OPERATING = (ROOT / "docs" / "operating.md").read_text()
SETUP = (ROOT / "docs" / "setup.md").read_text()
TOPICBOT = Path(sys.executable).with_name("topicbot")  # the installed entry point


def topicbot(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``topicbot ARGS`` typed in ``cwd``, as the docs write it (no --config unless given)."""
    return subprocess.run(
        [str(TOPICBOT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def quoted(doc: str, start: str) -> str:
    """The one `backticked` example in ``doc`` that starts with ``start`` (line breaks in the
    Markdown source read as spaces)."""
    prose = re.sub(r"^```.*?^```", "", doc, flags=re.MULTILINE | re.DOTALL)
    spans = re.findall(r"`([^`]+)`", prose)
    found = [" ".join(span.split()) for span in spans if span.startswith(start)]
    assert len(found) == 1, f"expected one example starting {start!r}, found {found}"
    return found[0]


def shape(example: str) -> re.Pattern[str]:
    """A pattern for lines shaped like ``example``: its numbers may differ."""
    return re.compile(
        re.sub(r"\\\.|\d+", lambda m: r"\." if m[0] == r"\." else r"\d+", re.escape(example))
    )


# --- the command line -------------------------------------------------------------------------


def test_check_config_names_the_default_file_it_read(tmp_path):
    """README: "The default location is ./topicbot.yaml". check-config without --config used to
    say "defaults (no config file)" while it had read (and applied) ./topicbot.yaml."""
    (tmp_path / "topicbot.yaml").write_text("ingest:\n  interval_seconds: 7\n")
    result = topicbot("check-config", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:3] == [
        "configuration OK: topicbot.yaml",
        f"  store: {tmp_path / 'topicbot.db'}",
        f"  inbox: {tmp_path / 'inbox'} (every 7s)",
    ]
    (tmp_path / "topicbot.yaml").unlink()
    result = topicbot("check-config", cwd=tmp_path)
    assert result.stdout.splitlines()[0] == "configuration OK: defaults (no topicbot.yaml)"


def test_a_bad_value_is_refused_with_the_line_readme_shows(tmp_path):
    example = quoted(README, "topicbot: topicbot.yaml: ")
    key, _, rest = example.removeprefix("topicbot: topicbot.yaml: ").partition(": ")
    section, name = key.split(".")
    value = re.search(r"\(got (.+)\)$", rest)
    assert value is not None
    (tmp_path / "topicbot.yaml").write_text(f"{section}:\n  {name}: {value[1]}\n")
    result = topicbot("check-config", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", example + "\n")


@pytest.mark.parametrize("value", ["-5", "0", "true"])
def test_a_dev_guild_id_that_is_no_server_id_is_refused_at_load(tmp_path, value):
    """README: "bad values are refused at load with one line naming the key". A negative or zero
    discord.dev_guild_id used to pass check-config, and `run` then pushed its commands to a
    server that cannot exist."""
    (tmp_path / "topicbot.yaml").write_text(f"discord:\n  dev_guild_id: {value}\n")
    result = topicbot("check-config", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    (line,) = result.stderr.splitlines()
    assert line.startswith("topicbot: topicbot.yaml: discord.dev_guild_id: "), line
    (tmp_path / "topicbot.yaml").write_text("discord:\n  dev_guild_id: 123456789012345678\n")
    assert topicbot("check-config", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("where", ["before", "after"])
def test_v_logs_more_wherever_it_is_typed(tmp_path, where):
    """operating.md: other commands log warnings only, "or at that level but at least info with
    -v". `topicbot ingest examples -v` used to be a usage error (exit 2): -v was taken only
    before the command's name."""
    args = ["-v", "ingest", str(EXAMPLES_DIR)]
    if where == "after":
        args = [*args[1:], "-v"]
    result = topicbot(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "INFO storage.database: applying schema migration 0001" in result.stderr
    quiet = topicbot("stats", cwd=tmp_path)
    assert (quiet.returncode, quiet.stderr) == (0, "")


def test_config_may_come_before_the_command_too(tmp_path):
    """`topicbot --config FILE stats` used to be refused as "invalid choice: 'FILE'" (exit 2)."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "topicbot.yaml").write_text("storage:\n  path: ../data/x.db\n")
    (tmp_path / "data").mkdir()
    before = topicbot("--config", "etc/topicbot.yaml", "check-config", cwd=tmp_path)
    after = topicbot("check-config", "--config", "etc/topicbot.yaml", cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    assert before.stdout == after.stdout
    assert before.stdout.splitlines()[:2] == [
        "configuration OK: etc/topicbot.yaml",
        f"  store: {tmp_path / 'etc' / '..' / 'data' / 'x.db'}",
    ]
    missing = topicbot("--config", "nope.yaml", "stats", cwd=tmp_path)
    assert (missing.returncode, missing.stderr.splitlines()) == (
        2,
        [
            "topicbot: nope.yaml: no such configuration file (only the default topicbot.yaml may be missing)"
        ],
    )


def test_api_base_must_be_an_http_url(tmp_path):
    """config.example.yaml: `api_base: ""  # REST base with version, e.g.
    http://127.0.0.1:8080/api/v10`. A ws:// base passed check-config, and login then failed as
    "cannot reach Discord" (exit 4), which sends an operator after the network."""
    (tmp_path / "topicbot.yaml").write_text("discord:\n  api_base: ws://127.0.0.1:8080/api/v10\n")
    result = topicbot("check-config", cwd=tmp_path)
    assert (result.returncode, result.stderr.splitlines()) == (
        2,
        [
            "topicbot: topicbot.yaml: discord.api_base: 'ws://127.0.0.1:8080/api/v10' must be "
            "empty or start with http:// or https://"
        ],
    )
    (tmp_path / "topicbot.yaml").write_text("discord:\n  gateway_url: ws://127.0.0.1:8080/\n")
    assert topicbot("check-config", cwd=tmp_path).returncode == 0


def test_the_quick_start_stores_the_examples_and_counts_them(tmp_path):
    """README's quick start, typed as written in a fresh folder: `topicbot ingest examples/ &&
    topicbot stats`; the store is created as ./topicbot.db."""
    shutil.copytree(EXAMPLES_DIR, tmp_path / "examples")
    files = len(list(EXAMPLES_DIR.iterdir()))
    assert "`topicbot ingest examples/ && topicbot stats`" in README
    ingest = topicbot("ingest", "examples/", cwd=tmp_path)
    assert ingest.returncode == 0, ingest.stderr
    assert ingest.stdout.splitlines() == [
        f"{files} files: {files} new, 0 updated, 0 unchanged, 0 rejected"
    ]
    assert (tmp_path / "topicbot.db").exists()
    stats = topicbot("stats", cwd=tmp_path)
    assert stats.returncode == 0, stats.stderr
    assert stats.stdout.splitlines()[0].split()[:2] == ["articles", "7"]


def test_setup_md_first_article_is_stored_published_and_new_enough_to_post(tmp_path):
    """setup.md step 6: its article file, dated now as it says to, dropped in as written."""
    block = re.search(r"```markdown\n(---\n.*?\n---\n)```", SETUP, re.DOTALL)
    assert block is not None
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = re.sub(r"publishedDateTime: \S+", f"publishedDateTime: {now}", block[1])
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "first.md").write_text(text)
    ingest = topicbot("ingest", "in", cwd=tmp_path)
    assert (ingest.returncode, ingest.stdout, ingest.stderr) == (
        0,
        "1 file: 1 new, 0 updated, 0 unchanged, 0 rejected\n",
        "",
    )
    stats = topicbot("stats", cwd=tmp_path)
    assert stats.stdout.splitlines()[0].split()[:4] == ["articles", "1", "(published", "1,"]
    assert "too old to post 0)" in stats.stdout.splitlines()[0]


def test_backup_prints_the_line_operating_md_shows(tmp_path):
    example = quoted(OPERATING, "backed up ")
    shutil.copytree(EXAMPLES_DIR, tmp_path / "examples")
    assert topicbot("ingest", "examples", cwd=tmp_path).returncode == 0
    (tmp_path / "backups").mkdir()
    target = example.split(" to ")[1].split(":")[0]
    result = topicbot("backup", target, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert shape(example).fullmatch(line), f"{line!r} is not shaped like the doc's {example!r}"


def test_migrate_store_prints_the_table_operating_md_shows(tmp_path, postgresql_database_url):
    """docs/operating.md's example is the bundled examples' store: its rows, in its order, and
    its last line's counts."""
    block = re.search(r"^ {7}table .*?^ {7}copied [^\n]*", OPERATING, re.DOTALL | re.MULTILINE)
    assert block is not None
    documented = [line.strip() for line in block[0].splitlines()]
    assert topicbot("ingest", str(EXAMPLES_DIR), cwd=tmp_path).returncode == 0
    env = {"PATH": "/usr/bin:/bin", "TOPICBOT_DATABASE_URL": postgresql_database_url}
    result = topicbot("migrate-store", "--to-postgresql", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    printed = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert printed[0] == " ".join(documented[0].split())  # the header
    checksums = re.compile(r"\b[0-9a-f]{16}\b")
    rows = [checksums.sub("#", line) for line in printed[1:-1]]
    shown = [
        checksums.sub("#", " ".join(line.split())) for line in documented[1:-1] if line != "..."
    ]
    assert rows[: len(shown)] == shown, "the doc's first rows, in the order they are printed"
    said = re.match(r"copied (\d+) rows in (\d+) tables from ", documented[-1])
    done = re.match(r"copied (\d+) rows in (\d+) tables from ", printed[-1])
    assert said is not None and done is not None, printed[-1]
    assert done.groups() == said.groups()
    assert printed[-1].endswith(": every count and checksum matches")


# --- the bot's log lines ----------------------------------------------------------------------


def logged_as(example: str, *ids: int) -> str:
    """The doc's example log line with its numbers replaced, in order, by ``ids``."""
    numbers = iter(ids)
    return re.sub(r"\d+", lambda _: str(next(numbers)), example)


async def test_a_removal_and_a_return_are_logged_as_operating_md_says(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="bot.domain.servers")
    removed = quoted(OPERATING, "removed from server ")
    back = quoted(OPERATING, "back in server ")
    a = harness.first
    await seed_topic(harness)
    await route(harness, a, a.alerts.id)
    await follow(harness, a, a.members[0].id, "Transport", delivery="daily")
    await story(harness, 1)
    await harness.plan()  # a channel post and a digest row wait

    await kick(harness, a)
    assert logged_as(removed, a.id, 2) in caplog.messages
    await invite_back(harness, a)
    await eventually(lambda: _true(logged_as(back, a.id) in caplog.messages), "the return logged")


async def test_a_deleted_channel_is_logged_as_operating_md_says(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="bot.domain.servers")
    example = quoted(OPERATING, "channel 42 of server 7 was deleted")
    a = harness.first
    await seed_topic(harness)
    await route(harness, a, a.alerts.id)
    await route(harness, a, a.alerts.id, topic="Transport")
    await harness.double.delete_channel(a.alerts)
    line = logged_as(example, a.alerts.id, a.id, 2)
    await eventually(lambda: _true(line in caplog.messages), f"{line!r} logged")


async def _true(value: bool) -> bool:
    return value


# --- the slash commands README lists ----------------------------------------------------------


def documented_commands() -> dict[str, list[list[str]]]:
    """README's slash-command table: each command's path (``feed add``) and, for each time it is
    written out, its options as written (``[topic]`` for an optional one)."""
    table = README.split("## Slash commands", 1)[1].split("\n## ", 1)[0]
    written: dict[str, list[list[str]]] = {}
    for row in table.splitlines():
        if not row.startswith("| `/"):
            continue
        first_cell = row.split(" | ")[0]
        for span in re.findall(r"`/([^`]+)`", first_cell):
            words = span.split()
            written.setdefault(words[0], []).append(words[1:])
    return written


def registered(payload: dict[str, Any]) -> dict[str, dict[str, bool]]:
    """A registered command's paths and options: {"feed add": {"channel": True, ...}}."""
    options = payload.get("options") or []
    subcommands = [o for o in options if o["type"] in (1, 2)]
    if not subcommands:
        return {payload["name"]: {o["name"]: bool(o.get("required")) for o in options}}
    paths: dict[str, dict[str, bool]] = {}
    for sub in subcommands:
        for path, opts in registered(sub).items():
            paths[f"{payload['name']} {path}"] = opts
    return paths


async def test_the_readme_lists_every_slash_command_with_its_options(harness: Harness):
    commands = harness.double.world.commands_for(None)
    doctor = re.search(r"^OK   commands: (\d+) in sync for every server$", SETUP, re.MULTILINE)
    assert doctor is not None and int(doctor[1]) == len(commands), "setup.md's doctor example"
    actual: dict[str, dict[str, bool]] = {}
    for command in commands:
        if command.type == 1:
            actual.update(registered(command.payload))
    documented: dict[str, dict[str, bool]] = {}
    for top, forms in documented_commands().items():
        for words in forms:
            path = top
            while words and f"{path} {words[0]}" in {p for p in actual if p.startswith(path)}:
                path = f"{path} {words.pop(0)}"
            options = documented.setdefault(path, {})
            for word in words:
                options[word.strip("[]")] = not word.startswith("[")
    assert sorted(documented) == sorted(actual), "README's slash-command table vs the commands"
    for path, options in actual.items():
        assert sorted(documented[path]) == sorted(options), f"/{path}: options"
        if len(documented_commands().get(path.split()[0], [])) == 1 or " " in path:
            assert documented[path] == options, f"/{path}: which options are required"


async def test_a_refused_post_logs_the_json_line_operating_md_shows(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    """operating.md's `logging.format: json` example is a channel refusing a post: the same
    fields, logger and message (with this test's ids), time in UTC with milliseconds."""
    example = json.loads(re.search(r"```json\n(.*?)\n```", OPERATING, re.DOTALL)[1])  # type: ignore[index]
    caplog.set_level(logging.WARNING, logger=example["logger"])
    a = harness.first
    await seed_topic(harness)
    await route(harness, a, a.alerts.id)
    a.alerts.overwrites.append(Overwrite(id=a.bot_role.id, deny=SEND_MESSAGES))
    await harness.double.update_channel(a.alerts)
    article = await story(harness, 1)
    await harness.deliver()

    (record,) = [r for r in caplog.records if r.name == example["logger"]]
    logged = json.loads(JsonFormatter().format(record))
    assert sorted(logged) == sorted(example)
    assert shape(example["time"]).fullmatch(logged["time"]), logged["time"]
    assert logged["time"].endswith("+00:00")
    expected = {
        **example,
        "time": logged["time"],
        "message": example["message"].replace(str(example["channel"]), str(a.alerts.id)),
        "guild": a.id,
        "channel": a.alerts.id,
        "article": article.id,
    }
    assert logged == expected


# --- setup.md's test server: discord.dev_guild_id and sync-commands --guild -------------------

WRONG_SERVER = (
    "topicbot: Discord refused the commands for server {id}: the bot is not in it. Check the id "
    "(--guild, discord.dev_guild_id), or invite the bot there (topicbot invite-url)"
)


async def test_sync_commands_to_a_server_the_bot_is_not_in_is_one_line_and_exit_two(
    discord_double: DiscordDouble, tmp_path
):
    """setup.md has the operator copy a server id by hand; a wrong one (another server, a
    typo) used to end sync-commands with Discord's 403 as a traceback and exit 1."""
    world = build_world(discord_double, guilds=1)
    config = write_config(tmp_path, discord_double)
    elsewhere = discord_double.world.ids.next()
    code, out, err = await run_cli(
        config, discord_double.token, "sync-commands", "--guild", str(elsewhere)
    )
    assert (code, out) == (2, [])
    assert err.splitlines() == [WRONG_SERVER.format(id=elsewhere)]
    code, out, err = await run_cli(
        config, discord_double.token, "sync-commands", "--guild", str(world.first.id)
    )
    assert (code, out) == (0, [f"synced slash commands to guild {world.first.id}"])


async def test_run_with_a_dev_guild_id_the_bot_is_not_in_is_one_line_and_exit_two(
    discord_double: DiscordDouble, tmp_path
):
    build_world(discord_double, guilds=1)
    config = write_config(tmp_path, discord_double)
    elsewhere = discord_double.world.ids.next()
    text = config.read_text().replace("discord:\n", f"discord:\n  dev_guild_id: {elsewhere}\n")
    config.write_text(text)
    bot = await start_topicbot(config, discord_double.token)
    code = await bot.finish()
    assert code == 2, bot.log
    assert "Traceback" not in bot.log, bot.log
    assert bot.lines[-1] == WRONG_SERVER.format(id=elsewhere)


async def test_doctor_names_a_dev_guild_id_the_bot_is_not_in(
    discord_double: DiscordDouble, tmp_path
):
    """setup.md: doctor checks "the commands in sync", one line with what to do. With a
    dev_guild_id of a server the bot is not in, it used to say "Discord answered 403 (Missing
    Access) — try again in a while", which no wait fixes."""
    build_world(discord_double, guilds=1)
    config = write_config(tmp_path, discord_double)
    elsewhere = discord_double.world.ids.next()
    text = config.read_text().replace("discord:\n", f"discord:\n  dev_guild_id: {elsewhere}\n")
    config.write_text(text)
    code, out, err = await run_cli(config, discord_double.token, "doctor")
    assert code == 1, err
    assert out[2] == (
        f"FIX  commands: the bot is not in server {elsewhere} (discord.dev_guild_id) — check the "
        "id, or invite the bot there (`topicbot invite-url`)"
    )
    assert [line.split(":")[0] for line in out[3:]] == [
        "OK   feeds",
        "OK   clock",
        "OK   store",
        "OK   inbox",
    ]


# --- config.example.yaml's keys, each set to another value, do what its comment says ------------


async def test_max_feeds_per_guild_caps_the_feeds_of_one_server(make_harness):
    """`commands.max_feeds_per_guild: 50  # channel feeds one server may have`"""
    harness = await make_harness(commands={"max_feeds_per_guild": 2})
    a = harness.first
    await route(harness, a, a.alerts.id)
    await route(harness, a, a.general.id)
    refused = await harness.slash(
        a, a.moderator.id, "feed add", {"channel": a.alerts.id, "topic": "AI"}
    )
    assert refused.content == (
        "This server already has 2 feeds, the most allowed. Remove one with `/feed remove` first."
    )
    assert len(await harness.store.feeds.for_guild(a.id)) == 2
    await route(harness, harness.second, harness.second.alerts.id)  # another server's own cap


async def test_default_min_quality_is_the_bar_of_a_server_that_set_none(make_harness):
    """`delivery.default_min_quality: 20  # a guild's quality bar (0-100) until a moderator sets
    its own`"""
    harness = await make_harness(delivery={"default_min_quality": 80})
    a = harness.first
    added = await harness.slash(a, a.moderator.id, "feed add", {"channel": a.alerts.id})
    assert added.content == f"Added feed: <#{a.alerts.id}> ← **every topic**, quality 80+"
    await story(harness, 1, quality=70, title="Under the bar")
    await story(harness, 2, quality=85, title="Over the bar")
    await harness.deliver()
    assert [p.embeds[0]["title"] for p in posts(harness, a.alerts.id)] == ["Over the bar"]


async def test_digest_items_is_how_many_articles_a_digest_shows(make_harness):
    """`delivery.digest_items: 10  # articles shown in full in a digest DM (the rest follow as
    linked titles)`"""
    harness = await make_harness(delivery={"digest_items": 2})
    g = harness.first
    reader = g.members[0].id
    await story(harness, 0, published=False)
    await follow(harness, g, reader, "Transport", delivery="daily")
    for n, quality in [(1, 40), (2, 95), (3, 70)]:
        await story(harness, n, quality=quality, title=f"Story {n}")
    await harness.deliver()
    harness.clock.advance(days=1, minutes=1)
    await harness.bot.dispatcher.send_digests()
    (digest,) = harness.double.dms_to(reader)
    embed, rest = digest.embeds
    lines = [line for line in embed["description"].splitlines() if line.startswith("**")]
    assert [line.split("[")[1].split("]")[0] for line in lines] == ["Story 2", "Story 3"]
    assert "quality 95" in embed["description"]
    assert rest["description"].startswith("**3.** [Story 1]")  # linked, not in full
    assert "quality" not in rest["description"]
    assert rest["footer"]["text"] == "3 new articles"


@pytest.mark.parametrize(("similarity", "alerts"), [(0.7, 2), (0.3, 1)])
async def test_title_similarity_decides_which_headlines_are_one_story(
    make_harness, similarity, alerts
):
    """`related.title_similarity: 0.7  # word-set similarity (0-1) of two headlines that makes
    them one story`, and `story_window_hours`: "one alert per member per story"."""
    harness = await make_harness(related={"title_similarity": similarity})
    g = harness.first
    reader = g.members[0].id
    await story(harness, 0, published=False)
    await follow(harness, g, reader, "Transport")
    await story(harness, 1, title="Harbour ferry pilot expands to the northern islands")
    await story(
        harness,
        2,
        title="Harbour ferry pilot grows service to the islands",
        webUrl="https://coast-courier.example/ferries/2",
        provider={"name": "Coast Courier", "domain": "coast-courier.example"},
    )
    await harness.deliver()
    assert len(harness.double.dms_to(reader)) == alerts
