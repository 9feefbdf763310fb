"""`topicbot run` as a user starts it: a subprocess talking to the Discord double."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.discord_double import DiscordDouble
from tests.discord_double.plugin import build_world
from tests.factories import EXAMPLES_DIR
from tests.waiting import PATIENCE_S

ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, double: DiscordDouble) -> Path:
    config = tmp_path / "topicbot.yaml"
    config.write_text(
        "discord:\n"
        f"  api_base: {double.api_base}\n"
        f"  gateway_url: {double.gateway_url}\n"
        "storage:\n  path: topicbot.db\n"
        "ingest:\n  inbox_dir: inbox\n  interval_seconds: 1\n  settle_seconds: 0\n"
    )
    return config


class Topicbot:
    """A ``topicbot run`` subprocess whose log lines are collected as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())
        STARTED.append(self)

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip())

    async def wait_for_log(self, text: str, timeout_s: float = PATIENCE_S) -> None:
        """Wait until a log line contains ``text``."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not any(text in line for line in self.lines):
            if self.process.returncode is not None or asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no log line with {text!r}:\n" + "\n".join(self.lines))
            await asyncio.sleep(0.05)

    async def stop(
        self, timeout_s: float = PATIENCE_S, sig: signal.Signals = signal.SIGTERM
    ) -> int:
        """SIGTERM (or ``sig``), then the exit code."""
        self.process.send_signal(sig)
        return await self.finish(timeout_s)

    async def finish(self, timeout_s: float = 2 * PATIENCE_S) -> int:
        """Wait for the process to end (killing it past the timeout) and for its output."""
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout_s)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
        await self._reader
        return code

    @property
    def log(self) -> str:
        return "\n".join(self.lines)


# Every bot process started, so that one a failed test left running is killed after it
# (``kill_bots_left_running``): it would hold its port and store, and load the machine.
STARTED: list[Topicbot] = []


def kill_bots_left_running() -> None:
    """Kill what a test started and did not stop (it failed before its ``stop``)."""
    while STARTED:
        bot = STARTED.pop()
        if bot.process.returncode is None:  # its event loop may be closed: no asyncio here
            with contextlib.suppress(ProcessLookupError):
                os.kill(bot.process.pid, signal.SIGKILL)


async def start_topicbot(
    config: Path,
    token: str,
    *flags: str,
    subcommand: str = "run",
    env: dict[str, str] | None = None,
) -> Topicbot:
    environment = {**os.environ, "DISCORD_TOKEN": token, "PYTHONUNBUFFERED": "1", **(env or {})}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", subcommand, "--config", str(config), *flags, cwd=ROOT,
        env=environment, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    return Topicbot(process)


async def test_run_logs_in_syncs_answers_and_exits_cleanly_on_sigterm(
    discord_double: DiscordDouble, tmp_path
):
    world = build_world(discord_double, guilds=1)
    config = write_config(tmp_path, discord_double)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for example in EXAMPLES_DIR.iterdir():
        (inbox / example.name).write_bytes(example.read_bytes())
    bot = await start_topicbot(config, discord_double.token)
    try:
        await bot.wait_for_log("connected as")
        await bot.wait_for_log("job scan_inbox: 5 new, 0 updated, 0 unchanged, 0 rejected")
        assert len(list((inbox / "processed").iterdir())) == 5
        member = world.first.members[0].id
        result = await discord_double.slash(
            world.first.id, member, "subscribe", {"topic": "AI"}, timeout_s=10
        )
        assert result.content == "Subscribed to **ai** — instant, quality 0+."
    finally:
        code = await bot.stop()
    assert code == 0, bot.log
    assert "Traceback" not in bot.log, bot.log
    assert " WARNING " not in bot.log, bot.log  # a clean run has nothing to warn about
    assert "stopped cleanly" in bot.log
    assert discord_double.token not in bot.log
    # a job run is logged by its job id, in one line, and only when it did something
    assert "<locals>" not in bot.log
    assert "Running job" not in bot.log
    (scan,) = [line for line in bot.lines if "scan_inbox" in line and "Added job" not in line]
    assert "5 new" in scan


async def test_run_exits_cleanly_on_sigint_as_on_sigterm(discord_double: DiscordDouble, tmp_path):
    # Ctrl-C at a terminal: the same clean shutdown as SIGTERM, exit 0, no KeyboardInterrupt
    world = build_world(discord_double, guilds=1)
    config = write_config(tmp_path, discord_double)
    bot = await start_topicbot(config, discord_double.token)
    try:
        await bot.wait_for_log("connected as")
        member = world.first.members[0].id
        result = await discord_double.slash(world.first.id, member, "subscriptions", timeout_s=10)
        assert result.content == "You don't follow any topics here yet. Try `/subscribe`."
    finally:
        code = await bot.stop(sig=signal.SIGINT)
    assert code == 0, bot.log
    assert "Traceback" not in bot.log, bot.log
    assert "KeyboardInterrupt" not in bot.log, bot.log
    assert " WARNING " not in bot.log, bot.log
    assert "stopped cleanly" in bot.log


async def test_commands_are_not_synced_again_when_unchanged(
    discord_double: DiscordDouble, tmp_path
):
    build_world(discord_double, guilds=1)
    config = write_config(tmp_path, discord_double)
    logs = []
    for _ in range(2):
        bot = await start_topicbot(config, discord_double.token)
        try:
            await bot.wait_for_log("connected as")
        finally:  # a failed wait must not leave the bot running past the test
            code = await bot.stop()
        assert code == 0, bot.log
        logs.append(bot.log)
    assert "slash commands unchanged; not syncing" in bot.log
    # the operator reads which store it serves (a mistyped storage.path starts a new one)
    store = tmp_path.resolve() / "topicbot.db"
    assert f"store: SQLite file {store} was not there; created a new, empty one" in logs[0]
    assert f"store: SQLite file {store}, 0 articles" in logs[1]
    syncs = discord_double.requests("PUT", "/applications/{application_id}/commands")
    assert len(syncs) == 1


@pytest.mark.parametrize("token", ["", "not-the-right-token"])
async def test_a_missing_or_refused_token_is_one_line_and_exit_two(
    discord_double: DiscordDouble, tmp_path, token
):
    config = write_config(tmp_path, discord_double)
    bot = await start_topicbot(config, token)
    code = await bot.finish()
    stderr = bot.log
    assert code == 2
    assert "Traceback" not in stderr
    expected = (
        "topicbot: set the DISCORD_TOKEN environment variable to the bot's token"
        if not token
        else "topicbot: Discord refused the token in $DISCORD_TOKEN"
    )
    assert stderr.splitlines()[-1] == expected
    assert token == "" or token not in stderr
    discord_double.errors.clear()


async def test_an_unreachable_discord_is_one_line_and_exit_four(tmp_path):
    config = tmp_path / "topicbot.yaml"
    config.write_text(  # port 9 (discard) on loopback: nothing listens, the connection is refused
        "discord:\n  api_base: http://127.0.0.1:9/api/v10\nstorage:\n  path: topicbot.db\n"
    )
    bot = await start_topicbot(config, "some-token")
    code = await bot.finish()
    assert code == 4
    assert "Traceback" not in bot.log
    assert bot.log.splitlines()[-1].startswith(
        "topicbot: cannot reach Discord at http://127.0.0.1:9/api/v10: "
    )
    assert "the store failed" not in bot.log


@pytest.mark.parametrize("command", ["worker", "sync-commands"])
async def test_worker_and_sync_commands_say_in_one_line_when_discord_cannot_be_reached(
    tmp_path, command
):
    config = tmp_path / "topicbot.yaml"
    config.write_text(  # port 9 (discard) on loopback: nothing listens, the connection is refused
        "discord:\n  api_base: http://127.0.0.1:9/api/v10\nstorage:\n  path: topicbot.db\n"
    )
    process = await start_topicbot(config, "some-token", subcommand=command)
    code = await process.finish()
    assert code == 4, process.log
    assert "Traceback" not in process.log
    assert process.log.splitlines()[-1].startswith(
        "topicbot: cannot reach Discord at http://127.0.0.1:9/api/v10: "
    )


async def test_sigterm_on_postgresql_stops_cleanly_with_the_store_still_open_to_the_last(
    discord_double: DiscordDouble, tmp_path, postgresql_database_url
):
    # At close the bot frees the posts its presses were deleting: the store must not be
    # closed under it (it was, on PostgreSQL: "could not offer again ...: pool is closing").
    build_world(discord_double, guilds=1)
    config = tmp_path / "topicbot.yaml"
    config.write_text(
        "discord:\n"
        f"  api_base: {discord_double.api_base}\n"
        f"  gateway_url: {discord_double.gateway_url}\n"
        "storage:\n  backend: postgresql\n"
        "ingest:\n  inbox_dir: inbox\n"
    )
    env = {"TOPICBOT_DATABASE_URL": postgresql_database_url}
    bot = await start_topicbot(config, discord_double.token, env=env)
    try:
        await bot.wait_for_log("connected as")
    finally:
        code = await bot.stop()
    assert code == 0, bot.log
    assert " WARNING " not in bot.log, bot.log
    assert "stopped cleanly" in bot.log
