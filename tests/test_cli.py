"""The topicbot command as an operator runs it: a subprocess, real files, exit codes, output."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import pty
import random
import sqlite3
import struct
import subprocess
import sys
import termios
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import Store
from tests.factories import EXAMPLES_DIR, article_fields, article_text, write_article
from tests.storage.test_retention import MEMBER, NOW, ago, housekeeper, seed


def topicbot(
    *args: str, cwd: Path, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``topicbot ARGS`` as a subprocess in ``cwd`` (with ``env``, else this process's)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "topicbot.yaml"
    path.write_text("storage:\n  path: data/topicbot.db\ningest:\n  inbox_dir: inbox\n")
    return path


def test_ingest_prints_counts_and_exits_zero(tmp_path, config):
    result = topicbot("ingest", str(EXAMPLES_DIR), "--config", str(config), cwd=tmp_path)
    files = len(list(EXAMPLES_DIR.iterdir()))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{files} files: {files} new, 0 updated, 0 unchanged, 0 rejected"
    ]
    assert (tmp_path / "data" / "topicbot.db").exists()


def test_ingest_json_reports_rejections_and_exits_one(tmp_path, config):
    write_article(tmp_path / "in", "good.md")
    (tmp_path / "in" / "bad.md").write_text("---\ntitle: x\n")
    result = topicbot("ingest", "in", "--json", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report == {
        "new": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": [
            {
                "path": str(Path("in") / "bad.md"),
                "error": "front matter: not terminated: add a line '---' after the last field",
            }
        ],
        "warnings": [],
        "skipped": [],
    }
    again = topicbot("ingest", "in", "--json", "--config", str(config), cwd=tmp_path)
    assert json.loads(again.stdout)["unchanged"] == 1


def test_ingest_text_output_names_each_rejected_file(tmp_path, config):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bad.md").write_text("---\ntitle: x\nquality: lots\n---\n")
    result = topicbot("ingest", "in", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[1].startswith(f"rejected {Path('in') / 'bad.md'}: ")


def _related_entries() -> list[dict[str, object]]:
    """The factory's related entry, then one without a date and one with a hostile link."""
    good = article_fields()["related"][0]
    undated = {k: v for k, v in good.items() if k != "publishedDateTime"}
    undated["webUrl"] = "https://coastwire.example/undated"
    # its own piece (the same outlet's headline and excerpt again would be a copy, not shown)
    undated["title"] = "Ferry crews retrain as the harbour goes driverless"
    hostile = dict(good, webUrl="https://discord.com@evil.example/x")
    return [good, undated, hostile]


UNDATED_WARNING = "related[1].publishedDateTime: is missing (entry kept, date unknown)"
HOSTILE_WARNING = (
    "related[2].webUrl: URL has user information (name@ before the host), which disguises "
    "the site it opens (entry skipped)"
)


def test_a_headline_cut_short_by_an_unquoted_hash_is_named_in_the_ingest_output(tmp_path, config):
    text = article_text(title="PLACEHOLDER").replace(
        "title: PLACEHOLDER", "title: Council votes #1 priority for the harbour", 1
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.md").write_text(text, encoding="utf-8")
    result = topicbot("ingest", "in", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "1 file: 1 new, 0 updated, 0 unchanged, 0 rejected",
        f"warning {Path('in') / 'a.md'}: title: has ' #' unquoted, which YAML reads as the start"
        " of a comment (stored without what follows it on the line; quote the value to keep it)",
    ]


def test_a_file_dated_decades_ahead_is_rejected_naming_the_date(tmp_path, config):
    write_article(tmp_path / "in", "a.md", publishedDateTime="2062-11-21T08:00:00Z")
    result = topicbot("ingest", "in", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    summary, rejected = result.stdout.splitlines()
    assert summary == "1 file: 0 new, 0 updated, 0 unchanged, 1 rejected"
    assert rejected.startswith(
        f"rejected {Path('in') / 'a.md'}: publishedDateTime: is 2062-11-21 08:00 UTC, "
    )
    assert rejected.endswith(
        " years past the latest date accepted now (ingest.max_hours_ahead): a mistyped year"
        " or time zone?"
    )


def test_a_file_with_bad_related_entries_is_stored_and_says_so_in_one_line(tmp_path, config):
    # published, so that `related` (as a server that decided nothing) finds the story
    write_article(tmp_path / "in", "a.md", related=_related_entries(), published=True)
    write_article(tmp_path / "in", "b.md", webUrl="https://b.example/1", originalUrl=...)
    result = topicbot("ingest", "in", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "2 files: 2 new, 0 updated, 0 unchanged, 0 rejected",
        f"warning {Path('in') / 'a.md'}: {UNDATED_WARNING} · {HOSTILE_WARNING}",
    ]
    again = topicbot("ingest", "in", "--json", "--config", str(config), cwd=tmp_path)
    assert again.returncode == 0
    assert json.loads(again.stdout) == {
        "new": 0,
        "updated": 0,
        "unchanged": 2,
        "rejected": [],
        "warnings": [
            {"path": str(Path("in") / "a.md"), "warning": UNDATED_WARNING},
            {"path": str(Path("in") / "a.md"), "warning": HOSTILE_WARNING},
        ],
        "skipped": [],
    }
    stats = json.loads(topicbot("stats", "--json", "--config", str(config), cwd=tmp_path).stdout)
    assert (stats["articles"], stats["coverage_only"]) == (4, 2)  # a, b and the two kept entries

    story = "https://harbour-times.example/transport/driverless-ferries"
    shown = topicbot("related", "--story", story, "--json", "--config", str(config), cwd=tmp_path)
    results = json.loads(shown.stdout)["results"]
    assert [(r["url"], r["published"]) for r in results[:2]] == [
        ("https://coastwire.example/2026/11/01/captain-free-ferries", "2026-11-01T12:00:00+00:00"),
        ("https://coastwire.example/undated", None),
    ]
    text = topicbot("related", "--story", story, "--config", str(config), cwd=tmp_path).stdout
    assert text.splitlines()[0].startswith("story: Harbour City Trials Driverless Ferries — ")
    assert " — Coast Wire, date unknown, quality 41" in text.splitlines()[4]


def test_usage_and_config_errors_exit_two_with_one_line(tmp_path, config):
    missing = topicbot("ingest", "nowhere", "--config", str(config), cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip() == "topicbot: no such file or folder: nowhere"

    bad = tmp_path / "bad.yaml"
    bad.write_text("delivery:\n  send_interval_seconds: 0.5\n")
    result = topicbot("check-config", "--config", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"topicbot: {bad}: delivery.send_interval_seconds: "
        "Input should be greater than or equal to 1 (got 0.5)"
    ]

    no_args = topicbot("ingest", cwd=tmp_path)
    assert no_args.returncode == 2


@pytest.mark.parametrize("command", [["ingest", "in"], ["stats"], ["check-config"], ["run"]])
def test_a_named_config_file_that_is_missing_is_an_error_not_defaults(tmp_path, command):
    # a typo must not run with defaults and start a new, empty store in the working folder
    write_article(tmp_path / "in", "a.md")
    result = topicbot(*command, "--config", "topicbot.yml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "topicbot: topicbot.yml: no such configuration file "
        "(only the default topicbot.yaml may be missing)"
    ]
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # no store was made


@pytest.mark.parametrize("command", [["ingest", "in"], ["stats"], ["stats", "--json"]])
def test_an_unreadable_store_is_one_line_and_exit_three(tmp_path, config, command):
    # README's exit codes: "3 the store failed (disk full, locked, unreadable, ...)"; locked:
    # the next test.
    write_article(tmp_path / "in", "a.md")
    junk = random.Random(0).randbytes(16384)  # not an SQLite file: no header, no pages
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "topicbot.db").write_bytes(junk)
    result = topicbot(*command, "--config", str(config), cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert result.stderr.splitlines() == ["topicbot: the store failed: file is not a database"]
    assert result.stdout == ""
    assert (tmp_path / "data" / "topicbot.db").read_bytes() == junk  # left as it was


def test_a_store_another_process_holds_locked_is_one_line_and_exit_three(tmp_path, config):
    # SQLite waits out its 10 s busy timeout first: the one slow case of the exit codes.
    write_article(tmp_path / "in", "a.md")
    assert topicbot("ingest", "in", "--config", str(config), cwd=tmp_path).returncode == 0

    def articles() -> int:
        stats = topicbot("stats", "--json", "--config", str(config), cwd=tmp_path)
        return int(json.loads(stats.stdout)["articles"])

    before = articles()
    write_article(tmp_path / "in", "b.md", webUrl="https://example.com/b", related=[])
    holder = sqlite3.connect(tmp_path / "data" / "topicbot.db", isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        result = topicbot("ingest", "in", "--config", str(config), cwd=tmp_path)
    finally:
        holder.close()
    assert result.returncode == 3, result.stderr
    assert result.stderr.splitlines() == [
        "topicbot: the store is busy (database is locked): is another topicbot writing to it?"
    ]
    assert articles() == before  # nothing half-written: b.md is not stored
    assert topicbot("ingest", "in", "--config", str(config), cwd=tmp_path).returncode == 0
    assert articles() == before + 1  # and is, once the store is free


def test_check_config_accepts_the_example_and_defaults(tmp_path):
    example = Path(__file__).resolve().parents[1] / "config.example.yaml"
    assert topicbot("check-config", "--config", str(example), cwd=tmp_path).returncode == 0
    defaults = topicbot("check-config", cwd=tmp_path)
    assert defaults.returncode == 0
    assert "defaults" in defaults.stdout


def test_a_pacing_past_discords_usual_limit_is_accepted_with_a_warning_and_a_typo_refused(
    tmp_path,
):
    # a bot Discord granted more than 50 requests a second may use it
    granted = tmp_path / "granted.yaml"
    granted.write_text("delivery:\n  global_requests_per_second: 240\n")
    result = topicbot("check-config", "--config", str(granted), cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == (
        "  warning: delivery.global_requests_per_second is 240, above Discord's 50 requests a "
        "second per bot: right only if Discord granted this bot a higher global limit (set it "
        "below the grant)"
    )
    typo = tmp_path / "typo.yaml"
    typo.write_text("delivery:\n  global_requests_per_second: 4700\n")
    result = topicbot("check-config", "--config", str(typo), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"topicbot: {typo}: delivery.global_requests_per_second: "
        "Input should be less than or equal to 1000 (got 4700)"
    )
    assert "warning" not in topicbot("check-config", cwd=tmp_path).stdout


def test_stats_counts_what_was_ingested(tmp_path, config):
    topicbot("ingest", str(EXAMPLES_DIR), "--config", str(config), cwd=tmp_path)
    result = topicbot("stats", "--json", "--config", str(config), cwd=tmp_path)
    stats = json.loads(result.stdout)
    assert result.returncode == 0
    assert stats["articles"] == stats["published"] + stats["pending"] + stats["coverage_only"]
    assert stats["published"] == 3
    assert stats["coverage_only"] == 2
    text = topicbot("stats", "--config", str(config), cwd=tmp_path).stdout
    assert text.startswith(f"articles       {stats['articles']} (published 3,")


def test_stats_say_how_many_servers_set_their_own_digest_schedule(tmp_path, config):
    topicbot("ingest", str(EXAMPLES_DIR), "--config", str(config), cwd=tmp_path)
    line = "digests        every server follows the configured schedule"
    assert line in topicbot("stats", "--config", str(config), cwd=tmp_path).stdout.splitlines()

    async def override() -> None:
        now = datetime.now(UTC)
        async with await Store.open(tmp_path / "data" / "topicbot.db") as store:
            await store.guild_settings.update(1, now, timezone="Asia/Tokyo", digest_time="07:30")
            await store.guild_settings.update(2, now, digest_day="friday")

    asyncio.run(override())
    text = topicbot("stats", "--config", str(config), cwd=tmp_path).stdout
    assert text.splitlines()[-1] == (
        "digests        2 servers set their own (time zone 1, time 1, day 1); the rest follow "
        "the configured schedule"
    )
    stats = json.loads(topicbot("stats", "--json", "--config", str(config), cwd=tmp_path).stdout)
    assert stats["digest_overrides"] == {
        "servers": 2, "timezone": 1, "digest_time": 1, "digest_day": 1
    }  # fmt: skip


def test_stats_say_how_many_members_who_left_wait_and_when_the_next_goes(tmp_path, config):
    topicbot("ingest", str(EXAMPLES_DIR), "--config", str(config), cwd=tmp_path)
    before = topicbot("stats", "--config", str(config), cwd=tmp_path).stdout.splitlines()
    assert "left members   none waiting for their subscriptions to be deleted" in before
    gone = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)

    async def found_gone() -> None:
        async with await Store.open(tmp_path / "data" / "topicbot.db") as store:
            # what a check before a DM records of members who left (Unknown Member)
            await store.members.record(5, {7: False, 8: True}, gone)
            await store.members.record(6, {7: False}, gone + timedelta(days=2))

    asyncio.run(found_gone())
    lines = topicbot("stats", "--config", str(config), cwd=tmp_path).stdout.splitlines()
    assert lines[8] == (
        "left members   2 left a server, their subscriptions there kept until "
        "retention.left_member_days have passed: the next deleted at the first housekeeping "
        "run after 2026-12-02 08:00 UTC"
    )
    stats = json.loads(topicbot("stats", "--json", "--config", str(config), cwd=tmp_path).stdout)
    assert (stats["members_left"], stats["next_member_deletion"]) == (
        2,
        "2026-12-02T08:00:00+00:00",
    )
    forever = tmp_path / "forever.yaml"
    forever.write_text(config.read_text() + "retention:\n  left_member_days: null\n")
    lines = topicbot("stats", "--config", str(forever), cwd=tmp_path).stdout.splitlines()
    assert lines[8] == (
        "left members   2 left a server, their subscriptions there kept "
        "(retention.left_member_days: null keeps them forever)"
    )


def test_stats_say_how_many_left_servers_wait_and_when_the_next_goes(tmp_path, config):
    topicbot("ingest", str(EXAMPLES_DIR), "--config", str(config), cwd=tmp_path)
    before = topicbot("stats", "--config", str(config), cwd=tmp_path).stdout.splitlines()
    assert "left servers   none waiting for their data to be deleted" in before
    left = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)

    async def kicked() -> None:
        async with await Store.open(tmp_path / "data" / "topicbot.db") as store:
            await store.guild_settings.left(5, left + timedelta(days=3))
            await store.guild_settings.left(6, left)

    asyncio.run(kicked())
    lines = topicbot("stats", "--config", str(config), cwd=tmp_path).stdout.splitlines()
    assert lines[7] == (
        "left servers   2 removed the bot, their data kept until retention.left_server_days "
        "have passed: the next deleted at the first housekeeping run after 2026-12-01 09:30 UTC"
    )
    stats = json.loads(topicbot("stats", "--json", "--config", str(config), cwd=tmp_path).stdout)
    assert (stats["servers_left"], stats["next_server_deletion"]) == (
        2,
        "2026-12-01T09:30:00+00:00",
    )
    forever = tmp_path / "forever.yaml"
    forever.write_text(config.read_text() + "retention:\n  left_server_days: null\n")
    lines = topicbot("stats", "--config", str(forever), cwd=tmp_path).stdout.splitlines()
    assert lines[7] == (
        "left servers   2 removed the bot, their data kept (retention.left_server_days: null "
        "keeps it forever)"
    )


def test_the_secured_field_never_reaches_the_output(tmp_path, config):
    write_article(tmp_path / "in", "a.md", secured="TOP-SECRET-VALUE")
    (tmp_path / "in" / "b.md").write_text("---\ntitle: x\nsecured: TOP-SECRET-VALUE\n---\n")
    result = topicbot("-v", "ingest", "in", "--config", str(config), cwd=tmp_path)
    assert "TOP-SECRET-VALUE" not in result.stdout + result.stderr


def test_related_from_the_shell_prints_json_in_rank_order(tmp_path, capsys):
    import json as _json

    from bot.cli import main as _main
    from tests.factories import EXAMPLES_DIR as _EXAMPLES

    config = tmp_path / "c.yaml"
    config.write_text(f"storage:\n  path: {tmp_path / 't.db'}\n", encoding="utf-8")
    assert _main(["ingest", str(_EXAMPLES), "--config", str(config)]) == 0
    capsys.readouterr()
    story = "https://www.riverton-ledger.example/news/2026/11/20/council-bans-face-scanning"
    assert _main(["related", "--story", story, "--json", "--config", str(config)]) == 0
    results = _json.loads(capsys.readouterr().out)["results"]
    assert [r["title"] for r in results[:2]] == [
        "Police face-recognition ban passes in Riverton",
        "What Riverton's facial recognition ban means for nearby towns",
    ]
    keys = {"id", "title", "url", "provider", "published", "quality", "reason", "close"}
    assert set(results[0]) == keys
    assert results[0]["published"] == "2026-11-20T18:30:00+00:00"
    assert results[0]["reason"] == "curated coverage"
    assert results[0]["close"] is True
    # what shares little with the story comes after everything closer
    closeness = [r["close"] for r in results]
    assert closeness == sorted(closeness, reverse=True)
    assert _main(["related", "--query", 'NEAR("x', "--json", "--config", str(config)]) == 0
    assert _json.loads(capsys.readouterr().out) == {"results": []}
    assert _main(["related", "--story", "nosuchid", "--config", str(config)]) == 2
    assert "can't find the story" in capsys.readouterr().err


def test_stats_show_the_store_size_and_what_the_last_pruning_removed(tmp_path, config):
    topicbot("ingest", str(EXAMPLES_DIR), "--config", str(config), cwd=tmp_path)
    before = topicbot("stats", "--config", str(config), cwd=tmp_path).stdout.splitlines()
    assert "last pruning   never (the running bot prunes every hour)" in before

    async def prune() -> None:
        async with await Store.open(tmp_path / "data" / "topicbot.db") as store:
            await seed(store, [("dm", MEMBER, "sent", ago(40), ago(40))])
            await housekeeper(store).run()

    asyncio.run(prune())
    lines = topicbot("stats", "--config", str(config), cwd=tmp_path).stdout.splitlines()
    assert lines[4] == (
        "deliveries     pending 0, sent 1, failed 0, dead 0, skipped 0, cancelled 0 "
        "(1 of them pruned, counted still)"
    )
    assert lines[5].startswith("store          ")
    assert lines[5].endswith(" MB of free pages, given back a little at each housekeeping run)")
    assert lines[6] == (
        f"last pruning   {NOW:%Y-%m-%d %H:%M} UTC: 1 deliveries, 0 audit entries, 0 articles, "
        f"0 unused topics, 0 left servers' data, 0 left members' data, "
        f"{lines[6].split(', ')[-1]}"
    )
    stats = json.loads(topicbot("stats", "--json", "--config", str(config), cwd=tmp_path).stdout)
    assert stats["deliveries"]["sent"] == 1
    assert stats["deliveries_pruned"]["sent"] == 1
    assert stats["size"]["bytes"] > stats["size"]["free_bytes"] >= 0
    assert stats["last_pruning"]["deliveries"] == 1
    assert stats["last_pruning"]["finished_at"] == NOW.isoformat()


def test_related_from_the_shell_puts_what_shares_little_under_its_own_line(tmp_path, capsys):
    from bot.cli import main as _main

    def article(name: str, title: str, excerpt: str, when: str) -> None:
        write_article(
            tmp_path / "in", f"{name}.md", title=title, excerpt=excerpt,
            webUrl=f"https://{name}.example/news", originalUrl=..., publishedDateTime=when,
            provider={"name": name, "domain": f"{name}.example"}, related=[], published=True,
        )  # fmt: skip

    article(
        "haldenpost",
        "Harbour Bridge closed after divers find cracked pier",
        "Port Halden shut the Harbour Bridge to all traffic after divers found a cracked pier.",
        "2026-10-06T08:00:00Z",
    )
    article(
        "coastwire",
        "Cracked pier forces Port Halden to shut its Harbour Bridge",
        "Engineers will inspect the damaged pier before the span reopens.",
        "2026-10-06T12:00:00Z",
    )
    article(
        "towncrier",
        "Council to review the timing of city traffic lights",
        "Drivers have complained about long waits at junctions.",
        "2026-09-16T08:00:00Z",
    )
    config = tmp_path / "c.yaml"
    config.write_text(f"storage:\n  path: {tmp_path / 't.db'}\n", encoding="utf-8")
    assert _main(["ingest", str(tmp_path / "in"), "--config", str(config)]) == 0
    capsys.readouterr()
    story = "https://haldenpost.example/news"
    assert _main(["related", "--story", story, "--config", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("story: Harbour Bridge closed after divers find cracked pier — ")
    assert lines[1].startswith(" 1. Cracked pier forces Port Halden")
    assert lines[4] == "less closely related (they share little with this story):"
    assert lines[5].startswith(" 2. Council to review the timing of city traffic lights")


def ingest_on_a_terminal(tmp_path: Path, config: Path) -> tuple[int, str]:
    """``topicbot ingest in`` with its stderr on a pseudo-terminal: exit code, what it showed."""
    controller, terminal = pty.openpty()
    # 24 rows of 100 columns, as a terminal window has (a new pseudo-terminal has none)
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "ingest", "in", "--config", str(config)],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    with contextlib.suppress(OSError):  # EIO once the process has closed the terminal
        while chunk := os.read(controller, 65536):
            shown += chunk
    os.close(controller)
    return process.wait(timeout=120), shown.decode("utf-8", "replace")


def test_ingest_shows_a_progress_bar_on_a_terminal_only_when_it_takes_long(tmp_path, config):
    # 8,000 files take over 3 s on the fastest machine measured (2,500 files/s, quiet), so past
    # the bar's 1 s delay anywhere this runs; one file well under it.
    write_article(tmp_path / "in", "one.md", originalUrl=..., related=[])
    code, shown = ingest_on_a_terminal(tmp_path, config)
    assert code == 0
    assert "file/s" not in shown

    template = article_text(title="Ferry trial day NUMBER", webUrl="https://many.example/NUMBER",
                            originalUrl=..., related=[])  # fmt: skip
    for n in range(8_000):
        (tmp_path / "in" / f"{n}.md").write_text(template.replace("NUMBER", str(n)))
    code, shown = ingest_on_a_terminal(tmp_path, config)
    assert code == 0
    assert "8001/8001" in shown and "file/s" in shown


IMPORTS_OF = """
import sys
from bot.cli import main
code = main(sys.argv[1:])
print(code, sorted(name for name in ("discord", "apscheduler") if name in sys.modules))
"""


def test_the_store_commands_leave_discord_py_and_the_scheduler_unimported(tmp_path, config):
    # about 27 MB of a process's memory (ingest's writer is held to 200 MB), and a slower start
    for command in (["ingest", str(EXAMPLES_DIR)], ["stats"], ["related", "--query", "ferry"],
                    ["check-config"]):  # fmt: skip
        result = subprocess.run(
            [sys.executable, "-c", IMPORTS_OF, *command, "--config", str(config)],
            cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.stdout.splitlines()[-1] == "0 []", (command, result.stderr)
