"""The hostile corpus through ``ingest_paths`` and through the inbox: every file ends where its
case says (stored, with a warning for each entry skipped or degraded, or refused with the
field named), the run never aborts, nothing is lost, and the ``secured`` value never shows."""

from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path

import pytest

import bot.ingest.workers as workers
from bot.ingest.inbox import scan_inbox
from bot.ingest.writer import ingest_paths
from storage import Store
from tests.hardening.hostile_corpus import (
    SECRET,
    Case,
    age,
    build,
    entries,
    fifo_safety,
    run_hook,
)


@pytest.fixture
async def store(tmp_path):
    opened = await Store.open(tmp_path / "topicbot.db")
    yield opened
    await opened.close()


@pytest.fixture
def hooked(monkeypatch) -> dict[Path, str]:
    """Run the cases' hooks from wrappers around the reader: register ``path -> hook``."""
    hooks: dict[Path, str] = {}
    real_parse_one = workers._parse_one
    real_read = workers.read_article_file

    def parse_one(path, limits):
        if hooks.get(path) == "vanish-before-read":
            run_hook(hooks.pop(path), path)
        return real_parse_one(path, limits)

    def read(path, limits, **options):
        hook = hooks.get(path)
        if hook == "vanish-while-read":
            run_hook(hooks.pop(path), path)
        draft = real_read(path, limits, **options)
        if hook == "change-while-read":
            run_hook(hooks.pop(path), path)
        return draft

    monkeypatch.setattr(workers, "_parse_one", parse_one)
    monkeypatch.setattr(workers, "read_article_file", read)
    return hooks


def register(hooks: dict[Path, str], root: Path, cases: list[Case]) -> None:
    hooks.update((root / c.name, c.hook) for c in cases if c.hook)


def test_the_corpus_covers_every_category_with_at_least_40_cases(tmp_path):
    cases = build(tmp_path / "corpus")
    counts = Counter(c.category for c in cases)
    assert len(cases) >= 40
    assert set(counts) == {"tolerance", "degraded", "refusal", "hostile", "filesystem", "race"}
    assert len({c.name for c in cases}) == len(cases)
    fields = {c.field for c in cases if c.field}
    assert {"front matter", "file", "title", "webUrl", "topics", "related", "secured"} <= fields


async def expect_store_holds(store: Store, stored: list[Case]) -> list[str]:
    """Problems with what the store holds, given the cases that were stored (in order)."""
    problems: list[str] = []
    last_for_url = {c.url: c for c in stored}
    for url, case in last_for_url.items():
        assert url is not None
        article = await store.articles.get_by_url(url)
        if article is None:
            problems.append(f"{case.name}: {url} is not stored")
            continue
        if article.title != case.title:
            problems.append(f"{case.name}: title {article.title!r} != {case.title!r}")
        if case.quality is not None and article.quality != case.quality:
            problems.append(f"{case.name}: quality {article.quality} != {case.quality}")
    stats = await store.stats()
    coverage = sum(c.coverage for c in last_for_url.values())
    if (stats.articles, stats.coverage_only) != (len(last_for_url) + coverage, coverage):
        problems.append(
            f"store holds {stats.articles} articles ({stats.coverage_only} coverage-only), "
            f"expected {len(last_for_url) + coverage} ({coverage})"
        )
    return problems


async def test_ingest_paths_takes_every_hostile_file_to_its_expected_end(
    store, tmp_path, hooked, caplog
):
    caplog.set_level(logging.INFO)  # what `topicbot -v` logs
    root = tmp_path / "corpus"
    cases = build(root)
    register(hooked, root, cases)
    before = entries(root)

    with fifo_safety(root):
        report = await ingest_paths(store, [root], keep_stored_paths=True)

    rejected = {Path(r.path).relative_to(root).as_posix(): r.error for r in report.rejected}
    stored = [p.relative_to(root).as_posix() for p in report.stored_paths]
    warned = {
        Path(path).relative_to(root).as_posix(): warnings
        for path, warnings in report.warnings_by_file().items()
    }
    problems: list[str] = []
    for case in cases:
        if case.walk == "stored" and case.name not in stored:
            problems.append(f"{case.name}: not stored ({rejected.get(case.name)})")
        warnings = warned.get(case.name, [])
        if [w.split(": ")[0] for w in warnings] != list(case.warnings):
            problems.append(f"{case.name}: expected warnings on {case.warnings}: {warnings}")
        if case.walk == "rejected":
            error = rejected.get(case.name)
            if error is None or not error.startswith(f"{case.field}: "):
                problems.append(f"{case.name}: expected a refusal naming {case.field}: {error}")
        if case.walk == "ignored" and (case.name in stored or case.name in rejected):
            problems.append(f"{case.name}: should not have been read")
    expected = {c.name for c in cases if c.walk in ("stored", "rejected")}
    problems += [f"{name}: unexpected" for name in sorted({*stored, *rejected} - expected)]
    problems += await expect_store_holds(store, [c for c in cases if c.walk == "stored"])
    assert problems == [], "\n".join(problems)
    assert sorted(stored) == sorted(c.name for c in cases if c.walk == "stored")
    assert report.files == len(stored) + len(rejected)

    vanished = {c.name for c in cases if c.hook and c.hook.startswith("vanish")}
    assert entries(root) == sorted(set(before) - vanished)  # nothing moved, nothing deleted
    assert all(SECRET not in error for error in rejected.values())
    assert all(SECRET not in warning.warning for warning in report.warnings)
    assert SECRET not in caplog.text
    assert not lexists(Path("PWNED"), root / "PWNED")


def lexists(*paths: Path) -> bool:
    """Whether any of the paths is there (a dangling link counts)."""
    return any(os.path.lexists(path) for path in paths)


def _note_problem(inbox: Path, case: Case) -> str | None:
    moved = inbox / "rejected" / case.name
    note = moved.with_name(moved.name + ".error.txt")
    if not os.path.lexists(moved):
        return f"{case.name}: not in rejected/"
    if not note.exists():
        return f"{case.name}: no {note.name}"
    text = note.read_text(encoding="utf-8")
    if not text.startswith(f"{inbox / case.name}: {case.field}: "):
        return f"{case.name}: the reason does not name {case.field}: {text!r}"
    if SECRET in text:
        return f"{case.name}: the reason shows the secured value"
    return None


def _place_problem(inbox: Path, case: Case) -> str | None:
    where = {
        "stored": inbox / "processed" / case.name,
        "left": inbox / case.name,
        "rejected": inbox / "rejected" / case.name,
    }
    if case.inbox == "rejected":
        return _note_problem(inbox, case)
    if case.inbox in where and not os.path.lexists(where[case.inbox]):
        return f"{case.name}: expected {case.inbox}, not found at {where[case.inbox]}"
    return None


def _expected_entries(cases: list[Case]) -> list[str]:
    places: list[str] = []
    for case in cases:
        if case.inbox == "stored":
            places.append(f"processed/{case.name}")
        elif case.inbox == "rejected":
            places += [f"rejected/{case.name}", f"rejected/{case.name}.error.txt"]
        elif case.inbox == "left":
            places.append(case.name)
    return sorted(places)


async def test_the_inbox_takes_every_hostile_file_to_its_expected_end(
    store, tmp_path, hooked, caplog
):
    caplog.set_level(logging.INFO)  # what `topicbot -v` logs
    inbox = tmp_path / "inbox"
    cases = build(inbox)
    register(hooked, inbox, cases)
    before = entries(inbox)

    with fifo_safety(inbox):
        report = await scan_inbox(store, inbox, settle_seconds=2)

    problems = [p for p in (_place_problem(inbox, case) for case in cases) if p]
    stored = [c for c in cases if c.inbox == "stored"]
    problems += await expect_store_holds(store, stored)
    logged = [r.getMessage() for r in caplog.records if "with warnings" in r.getMessage()]
    warned = [c for c in cases if c.warnings]
    if len(logged) != len(warned):
        problems.append(f"{len(logged)} files logged as stored with warnings, not {len(warned)}")
    for case in warned:
        line = f"stored {inbox / case.name} with warnings: {case.warnings[0]}: "
        if not any(message.startswith(line) for message in logged):
            problems.append(f"{case.name}: no log line starting {line!r}")
    assert problems == [], "\n".join(problems)
    assert report.new + report.updated + report.unchanged == len(stored)
    # Nothing lost: every original file is in processed/, rejected/ or still waiting.
    after = entries(inbox)
    assert after == _expected_entries(cases)
    gone = [c for c in cases if c.inbox == "gone"]
    notes = [a for a in after if a.endswith(".error.txt")]
    assert len(after) - len(notes) == len(before) - len(gone)
    assert SECRET not in caplog.text

    # The file that changed while it was read is taken on the next scan, once settled.
    age(inbox)
    again = await scan_inbox(store, inbox, settle_seconds=2)
    assert (again.new, again.rejected) == (1, [])
    assert lexists(inbox / "processed" / "x-change-while-read.md")
    assert sorted(entries(inbox)) == sorted(
        [a for a in after if a != "x-change-while-read.md"] + ["processed/x-change-while-read.md"]
    )
