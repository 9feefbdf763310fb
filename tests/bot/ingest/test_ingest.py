"""Ingest from folders and the inbox: counting per file, moving aside, never losing a file."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import time
from pathlib import Path

import pytest

from bot.ingest.inbox import scan_inbox
from bot.ingest.writer import ingest_paths
from storage import Store
from tests import test_cli as cli
from tests.factories import EXAMPLES_DIR, SAMPLE_FILE, article_text, write_article


@pytest.fixture
async def store(tmp_path):
    opened = await Store.open(tmp_path / "topicbot.db")
    yield opened
    await opened.close()


def age(path: Path, seconds: float = 60) -> None:
    """Make a file look finished (not modified for a while)."""
    past = time.time() - seconds
    os.utime(path, (past, past))


async def test_the_bundled_examples_all_ingest(store):
    report = await ingest_paths(store, [EXAMPLES_DIR])
    assert report.rejected == []
    assert report.new == len(list(EXAMPLES_DIR.iterdir()))
    again = await ingest_paths(store, [EXAMPLES_DIR])
    assert (again.new, again.updated, again.unchanged) == (0, 0, report.new)


@pytest.mark.skipif(not SAMPLE_FILE.exists(), reason="../shared/samples is not beside the checkout")
async def test_the_shared_sample_ingests_and_reingests_unchanged(store):
    first = await ingest_paths(store, [SAMPLE_FILE])
    stats = await store.stats()
    second = await ingest_paths(store, [SAMPLE_FILE])
    assert (first.new, first.rejected) == (1, [])
    assert (stats.articles, stats.coverage_only, stats.topics) == (3, 2, 2)
    assert (second.new, second.updated, second.unchanged) == (0, 0, 1)
    assert await store.stats() == stats


def sample_with_an_undated_related_entry(folder: Path) -> Path:
    """The real sample, its Los Angeles Times entry without its date (written to ``folder``,
    never into the repository)."""
    text = SAMPLE_FILE.read_text(encoding="utf-8")
    date = "    publishedDateTime: 2020-09-21T17:24:00Z\n"
    assert text.count(date) == 1
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SAMPLE_FILE.name
    path.write_text(text.replace(date, ""), encoding="utf-8")
    return path


SAMPLE_WARNING = "related[1].publishedDateTime: is missing (entry kept, date unknown)"


@pytest.mark.skipif(not SAMPLE_FILE.exists(), reason="../shared/samples is not beside the checkout")
async def test_the_sample_with_an_undated_related_entry_is_stored_whole(store, tmp_path):
    path = sample_with_an_undated_related_entry(tmp_path / "in")
    report = await ingest_paths(store, [path])
    assert (report.new, report.rejected) == (1, [])
    assert [(w.path, w.warning) for w in report.warnings] == [(str(path), SAMPLE_WARNING)]
    assert report.to_json()["warnings"] == [{"path": str(path), "warning": SAMPLE_WARNING}]
    stats = await store.stats()
    assert (stats.articles, stats.coverage_only) == (3, 2)
    la_times = await store.articles.get_by_url(
        "https://www.latimes.com/california/story/2020-09-21/lapd-controversial-facial-recognition-software"
    )
    assert la_times is not None
    assert (la_times.coverage_only, la_times.published_at) == (True, None)
    again = await ingest_paths(store, [path])
    assert (again.unchanged, len(again.warnings)) == (1, 1)  # said again on every run


async def test_folders_are_read_recursively_and_counted_per_file(store, tmp_path):
    root = tmp_path / "articles"
    write_article(root, "a.md", webUrl="https://a.example/1", originalUrl=...)
    write_article(root / "deep" / "er", "b.markdown", webUrl="https://a.example/2", originalUrl=...)
    write_article(root, "c.txt", webUrl="https://a.example/3", originalUrl=...)
    (root / "notes.json").write_text("{}")
    (root / ".hidden.md").write_text("not read")
    (root / "bad.md").write_text("no front matter here")
    report = await ingest_paths(store, [root])
    assert (report.new, report.updated, report.unchanged) == (3, 0, 0)
    assert [(Path(r.path).name, r.error) for r in report.rejected] == [
        ("bad.md", "front matter: missing: the file must start with a line '---'")
    ]
    assert (await store.stats()).articles == 4  # three files share one related entry


async def test_the_total_announced_is_the_number_of_files_then_read(store, tmp_path):
    root = tmp_path / "articles"
    for n, name in enumerate(["a.md", "deep/b.MARKDOWN", "c.txt", "d.md.", "e.", "bad.md"]):
        write_article(root, name, webUrl=f"https://a.example/{n}", originalUrl=...)
    (root / ".hidden").mkdir()
    write_article(root / ".hidden", "f.md")
    (root / "linked.md").symlink_to(root / "deep", target_is_directory=True)
    (root / "bad.md").write_text("no front matter here")
    totals: list[int] = []
    report = await ingest_paths(store, [root, root / "c.txt"], on_total=totals.append)
    assert totals == [report.files] == [6]  # a, b, c twice, bad, the link (refused)


async def test_a_named_file_with_another_suffix_is_rejected_not_ignored(store, tmp_path):
    path = tmp_path / "article.yaml"
    path.write_text(article_text())
    report = await ingest_paths(store, [path])
    assert report.rejected[0].error.startswith("file: not an article file (.yaml)")


async def test_two_files_with_one_url_in_a_batch_store_one_article_last_wins(store, tmp_path):
    write_article(tmp_path / "in", "1.md", quality=10)
    write_article(tmp_path / "in", "2.md", quality=80)
    report = await ingest_paths(store, [tmp_path / "in"])
    stored = await store.articles.get_by_url(
        "https://harbour-times.example/transport/driverless-ferries"
    )
    assert (report.new, report.updated) == (1, 1)
    assert stored is not None
    assert stored.quality == 80
    assert (await store.stats()).articles == 2


async def test_batches_smaller_than_the_input_still_count_everything(store, tmp_path):
    for n in range(23):
        write_article(
            tmp_path / "in", f"{n:02}.md", webUrl=f"https://b.example/{n}", originalUrl=...
        )
    (tmp_path / "in" / "zz-broken.md").write_text("---\ntitle: [\n---\n")
    report = await ingest_paths(store, [tmp_path / "in"], batch_size=4)
    assert (report.new, len(report.rejected)) == (23, 1)


async def test_unreadable_files_are_rejected_with_the_reason(store, tmp_path):
    target = write_article(tmp_path, "real.md")
    link = tmp_path / "in" / "link.md"
    link.parent.mkdir()
    link.symlink_to(target)
    report = await ingest_paths(store, [tmp_path / "in"])
    assert report.rejected[0].error == "file: is a symbolic link; links are not followed"


# --- the inbox -------------------------------------------------------------------------------


async def test_inbox_moves_stored_and_rejected_files_aside_keeping_everything(store, tmp_path):
    inbox = tmp_path / "inbox"
    good = write_article(inbox, "good.md")
    nested = write_article(
        inbox / "wire", "nested.md", webUrl="https://n.example/1", originalUrl=...
    )
    bad = inbox / "bad.md"
    bad.write_text(
        "---\ntitle: x\nwebUrl: javascript:alert(1)\npublishedDateTime: 2026-01-01\n---\n"
    )
    other = inbox / "photo.jpg"
    other.write_bytes(b"\xff\xd8")
    for path in (good, nested, bad, other):
        age(path)

    report = await scan_inbox(store, inbox, settle_seconds=2)

    assert (report.new, len(report.rejected)) == (2, 2)
    assert (inbox / "processed" / "good.md").read_text() == article_text()
    assert (inbox / "processed" / "wire" / "nested.md").exists()
    assert (inbox / "rejected" / "bad.md").exists()
    reason = (inbox / "rejected" / "bad.md.error.txt").read_text()
    assert "webUrl" in reason
    assert "javascript" in reason
    assert (inbox / "rejected" / "photo.jpg").exists()
    assert "not an article file" in (inbox / "rejected" / "photo.jpg.error.txt").read_text()
    assert not good.exists()
    assert not bad.exists()


@pytest.mark.skipif(not SAMPLE_FILE.exists(), reason="../shared/samples is not beside the checkout")
async def test_inbox_stores_a_file_with_warnings_and_logs_them(store, tmp_path, caplog):
    inbox = tmp_path / "inbox"
    path = sample_with_an_undated_related_entry(inbox)
    age(path)
    report = await scan_inbox(store, inbox, settle_seconds=2)
    assert (report.new, report.rejected) == (1, [])
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == [path.name]
    assert not (inbox / "rejected").exists()
    (line,) = [r for r in caplog.records if "with warnings" in r.getMessage()]
    assert line.levelname == "WARNING"
    assert line.getMessage() == f"stored {path} with warnings: {SAMPLE_WARNING}"
    assert "fOR7nBpUETfVfRf9" not in caplog.text  # the sample's secured value


async def test_inbox_leaves_fresh_hidden_and_temporary_files_for_later(store, tmp_path):
    inbox = tmp_path / "inbox"
    fresh = write_article(inbox, "fresh.md")
    partial = inbox / "incoming.md.part"
    partial.write_text(article_text()[:40])
    hidden = inbox / ".writing.md"
    hidden.write_text(article_text()[:40])
    age(partial)
    age(hidden)

    report = await scan_inbox(store, inbox, settle_seconds=30)

    assert report.files == 0
    assert fresh.exists()
    assert partial.exists()
    assert hidden.exists()
    age(fresh)
    later = await scan_inbox(store, inbox, settle_seconds=30)
    assert later.new == 1
    assert not fresh.exists()


async def test_inbox_never_overwrites_an_earlier_file_of_the_same_name(store, tmp_path):
    inbox = tmp_path / "inbox"
    for quality in (10, 20):
        age(write_article(inbox, "daily.md", quality=quality))
        await scan_inbox(store, inbox, settle_seconds=1)
    kept = sorted(p.name for p in (inbox / "processed").iterdir())
    assert kept == ["daily.1.md", "daily.md"]


async def test_inbox_does_not_rescan_its_own_processed_and_rejected_folders(store, tmp_path):
    inbox = tmp_path / "inbox"
    age(write_article(inbox, "a.md"))
    bad = inbox / "b.md"
    bad.write_text("nope")
    age(bad)
    await scan_inbox(store, inbox, settle_seconds=1)
    again = await scan_inbox(store, inbox, settle_seconds=0)
    assert again.files == 0


async def test_a_file_still_being_written_while_read_stays_in_the_inbox(
    store, tmp_path, monkeypatch
):
    import bot.ingest.workers as workers

    inbox = tmp_path / "inbox"
    growing = write_article(inbox, "growing.md")
    age(growing)
    real_read = workers.read_article_file

    def read_then_writer_appends(path, limits, **options):
        draft = real_read(path, limits, **options)
        with path.open("a") as handle:  # the writer is not done yet
            handle.write("More body text arriving.\n")
        return draft

    monkeypatch.setattr(workers, "read_article_file", read_then_writer_appends)
    report = await scan_inbox(store, inbox, settle_seconds=1)
    assert report.new == 0  # half old, half new: nothing is stored
    assert [r.error for r in report.rejected] == [workers.CHANGED_WHILE_READ]
    assert growing.exists()
    assert not (inbox / "processed").exists() or not any((inbox / "processed").iterdir())
    assert not (inbox / "rejected").exists()
    assert (await store.stats()).articles == 0

    monkeypatch.setattr(workers, "read_article_file", real_read)
    age(growing)
    later = await scan_inbox(store, inbox, settle_seconds=1)
    assert later.new == 1
    assert (inbox / "processed" / "growing.md").read_text().endswith("arriving.\n")


async def test_large_runs_parse_in_worker_processes_with_the_same_result(
    store, tmp_path, monkeypatch
):
    import bot.ingest.writer as writer

    monkeypatch.setattr(writer, "PROCESS_POOL_MIN_FILES", 1)
    for n in range(12):
        write_article(
            tmp_path / "in", f"{n:02}.md", webUrl=f"https://pool.example/{n}", originalUrl=...
        )
    (tmp_path / "in" / "broken.md").write_text("---\ntitle: [\n---\n")
    write_article(
        tmp_path / "in", "imageless.md", webUrl="https://pool.example/i", originalUrl=...,
        images=[{"url": "javascript:x"}],
    )  # fmt: skip
    report = await ingest_paths(store, [tmp_path / "in"], batch_size=5)
    assert (report.new, len(report.rejected)) == (13, 1)
    assert [(Path(w.path).name, w.warning.split(":")[0]) for w in report.warnings] == [
        ("imageless.md", "images[0].url")
    ]
    assert report.rejected[0].error.startswith("front matter: YAML syntax error at line 3")
    assert (await store.stats()).articles == 14  # the files and their shared coverage entry


@pytest.mark.parametrize("enabled_before", [True, False])
async def test_a_run_pauses_the_cycle_collector_and_leaves_it_as_it_found_it(
    store, tmp_path, monkeypatch, enabled_before
):
    import bot.ingest.workers as workers

    seen_during_run: list[bool] = []
    real_read = workers.read_article_file

    def read_noting_the_collector(path, limits, **options):
        seen_during_run.append(gc.isenabled())
        return real_read(path, limits, **options)

    monkeypatch.setattr(workers, "read_article_file", read_noting_the_collector)
    write_article(tmp_path / "in", "a.md")
    (gc.enable if enabled_before else gc.disable)()
    try:
        report = await ingest_paths(store, [tmp_path / "in"])
        after = gc.isenabled()
    finally:
        gc.enable()
    assert report.new == 1
    assert seen_during_run == [False]
    assert after is enabled_before


async def test_overlapping_runs_resume_the_collector_only_when_the_last_one_ends(
    store, tmp_path, monkeypatch
):
    import bot.ingest.writer as writer

    first_reading = asyncio.Event()
    release_first = asyncio.Event()
    real_store_chunk = writer.Ingester._store_chunk

    async def store_chunk_waiting_for_release(self, parsed, *rest):
        if any(item.path.name == "slow.md" for item in parsed):
            first_reading.set()
            await release_first.wait()
        await real_store_chunk(self, parsed, *rest)

    monkeypatch.setattr(writer.Ingester, "_store_chunk", store_chunk_waiting_for_release)
    write_article(tmp_path / "one", "slow.md", webUrl="https://a.example/slow", originalUrl=...)
    write_article(tmp_path / "two", "fast.md", webUrl="https://a.example/fast", originalUrl=...)
    assert gc.isenabled()
    slow = asyncio.create_task(ingest_paths(store, [tmp_path / "one"]))
    await first_reading.wait()
    fast = await ingest_paths(store, [tmp_path / "two"])
    still_paused = not gc.isenabled()
    release_first.set()
    slow_report = await slow
    assert (fast.new, slow_report.new) == (1, 1)
    assert still_paused  # the slow run was still going when the fast one ended
    assert gc.isenabled()


async def test_a_failing_run_still_resumes_the_collector(store, tmp_path, monkeypatch):
    import bot.ingest.writer as writer

    async def store_fails(*args, **kwargs):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(writer.Ingester, "_store_chunk", store_fails)
    write_article(tmp_path / "in", "a.md")
    with pytest.raises(RuntimeError, match="disk gone"):
        await ingest_paths(store, [tmp_path / "in"])
    assert gc.isenabled()


async def test_inbox_sets_aside_what_is_no_article_once_saying_why(store, tmp_path, caplog):
    """An operator who dropped ``story.json`` or ``README`` in the inbox finds it in rejected/
    beside a note saying which files are read, logged once (not on every scan); ``.markdown``
    and ``.MD`` are articles."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    names = ["story.markdown", "STORY.MD", "story.json", "README"]
    for n, name in enumerate(names):
        (inbox / name).write_text(article_text(webUrl=f"https://a.example/{n}"))
        age(inbox / name)

    first = await scan_inbox(store, inbox, settle_seconds=2)
    second = await scan_inbox(store, inbox, settle_seconds=2)

    assert (first.new, second.files) == (2, 0)
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["STORY.MD", "story.markdown"]
    reads = "topicbot reads .md, .markdown and .txt"
    for name, shown in (("story.json", ".json"), ("README", "no suffix")):
        note = (inbox / "rejected" / f"{name}.error.txt").read_text()
        assert note == f"{inbox / name}: file: not an article file ({shown}); {reads}\n"
    logged = [r.getMessage() for r in caplog.records if "not an article file" in r.getMessage()]
    assert sorted(logged) == [
        f"rejected {inbox / 'README'}: file: not an article file (no suffix); {reads}",
        f"rejected {inbox / 'story.json'}: file: not an article file (.json); {reads}",
    ]


async def test_ingesting_the_inbox_folder_skips_the_notes_it_wrote(store, tmp_path):
    """An operator who runs `topicbot ingest inbox/` gets its articles read again (processed/
    and rejected/ included), never the `.error.txt` notes the scan wrote beside refused files:
    each is listed as skipped saying what it is, and one named on the command line is refused
    saying so."""
    inbox = tmp_path / "inbox"
    write_article(inbox, "good.md")
    bad = inbox / "bad.txt"
    bad.write_text("---\ntitle: x\n---\n")
    for path in inbox.iterdir():
        age(path)
    await scan_inbox(store, inbox, settle_seconds=2)
    note = inbox / "rejected" / "bad.txt.error.txt"
    assert note.exists()
    (tmp_path / "topicbot.yaml").write_text("storage:\n  path: other.db\n")

    result = cli.topicbot("ingest", "inbox", "--json", cwd=tmp_path)
    named = cli.topicbot("ingest", "inbox/rejected/bad.txt.error.txt", "--json", cwd=tmp_path)

    report = json.loads(result.stdout)
    assert (result.returncode, report["new"]) == (1, 1)
    assert [Path(r["path"]).name for r in report["rejected"]] == ["bad.txt"]
    why = "a note topicbot wrote beside a refused file (why it was refused), not an article"
    assert report["skipped"] == [
        {"path": str(Path("inbox/rejected/bad.txt.error.txt")), "reason": why}
    ]
    assert json.loads(named.stdout)["rejected"] == [
        {"path": "inbox/rejected/bad.txt.error.txt", "error": f"file: {why}"}
    ]
