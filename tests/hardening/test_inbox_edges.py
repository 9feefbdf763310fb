"""Inbox and reader edge cases found while building the hostile corpus, one test per fix."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
import yaml

from bot.articles import front_matter
from bot.articles.article_file import ArticleFileError, draft_from_fields, parse_article
from bot.ingest.inbox import scan_inbox
from bot.ingest.writer import ingest_paths
from storage import Store
from tests.factories import article_fields, article_text, write_article
from tests.hardening.hostile_corpus import age, entries, fifo_safety


@pytest.fixture
async def store(tmp_path):
    opened = await Store.open(tmp_path / "topicbot.db")
    yield opened
    await opened.close()


async def test_a_named_pipe_is_refused_without_waiting_for_a_writer(store, tmp_path):
    os.mkfifo(tmp_path / "pipe.md")
    started = time.monotonic()
    with fifo_safety(tmp_path, after=10):
        report = await ingest_paths(store, [tmp_path / "pipe.md"])
    assert time.monotonic() - started < 5
    assert [r.error for r in report.rejected] == ["file: is not a regular file (a named pipe)"]


async def test_a_link_to_a_folder_is_reported_not_skipped(store, tmp_path):
    real = tmp_path / "real"
    write_article(real, "a.md")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "linked.md").symlink_to(real, target_is_directory=True)
    report = await ingest_paths(store, [tmp_path / "in"])
    assert [r.error for r in report.rejected] == [
        "file: is a symbolic link; links are not followed"
    ]
    assert report.new == 0


async def test_a_file_gone_before_it_is_read_does_not_stop_the_scan(store, tmp_path, monkeypatch):
    import bot.ingest.inbox as inbox_module

    inbox = tmp_path / "inbox"
    write_article(inbox, "a-gone.md", webUrl="https://g.example/1", originalUrl=...)
    write_article(inbox, "b-kept.md", webUrl="https://g.example/2", originalUrl=...)
    (inbox / "c-bad.md").write_text("no front matter")
    age(inbox)
    real_list = inbox_module._list_inbox

    def list_then_delete(folder: Path, settle: float) -> list[Path]:
        listed = real_list(folder, settle)
        (folder / "a-gone.md").unlink()
        return listed

    monkeypatch.setattr(inbox_module, "_list_inbox", list_then_delete)
    report = await scan_inbox(store, inbox, settle_seconds=1)
    assert report.new == 1
    assert entries(inbox) == [
        "processed/b-kept.md",
        "rejected/c-bad.md",
        "rejected/c-bad.md.error.txt",
    ]


async def test_a_reason_note_never_overwrites_a_file_already_set_aside(store, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # First scan: a file whose *name* is the note another file will need later.
    (inbox / "story.md.error.txt").write_text("my own notes, not an article")
    age(inbox)
    await scan_inbox(store, inbox, settle_seconds=1)
    kept = (inbox / "rejected" / "story.md.error.txt").read_text()
    assert kept == "my own notes, not an article"
    # Second scan: story.md is refused; its note must not land on the file above.
    (inbox / "story.md").write_text("---\ntitle: [\n---\n")
    age(inbox)
    await scan_inbox(store, inbox, settle_seconds=1)
    assert (inbox / "rejected" / "story.md.error.txt").read_text() == kept
    notes = sorted(p.name for p in (inbox / "rejected").iterdir())
    assert "story.1.md" in notes
    assert "front matter" in (inbox / "rejected" / "story.1.md.error.txt").read_text()


async def test_a_move_that_fails_is_logged_and_the_others_still_move(store, tmp_path, caplog):
    inbox = tmp_path / "inbox"
    write_article(inbox, "good.md")
    (inbox / "bad.md").write_text("no front matter")
    (inbox / "processed").write_text("a file where the processed/ folder should be")
    age(inbox)
    report = await scan_inbox(store, inbox, settle_seconds=1)
    assert report.new == 1
    assert (inbox / "good.md").exists()  # could not be moved: stays for the next scan
    assert (inbox / "rejected" / "bad.md").exists()
    assert "could not move" in caplog.text


def test_escaped_nul_characters_are_refused_with_the_field():
    text = '---\ntitle: "a\\0b"\nwebUrl: https://a.example/\npublishedDateTime: 2026-01-01\n---\n'
    with pytest.raises(ArticleFileError) as caught:
        parse_article(text.encode(), source="a.md")
    assert caught.value.reason == "title: contains a NUL character"
    with pytest.raises(ArticleFileError) as caught:
        draft_from_fields(dict(article_fields(), excerpt="x\x00y"), source="/article add")
    assert caught.value.reason == "excerpt: contains a NUL character"


def test_lone_surrogates_from_the_pure_python_loader_are_refused(monkeypatch):
    def pure_python(text):
        return front_matter.Loaded(yaml.load(text, Loader=yaml.SafeLoader), 0, 0, counted=False)

    monkeypatch.setattr(front_matter, "load_counted", pure_python)
    text = article_text().replace(
        "title: Harbour City Trials Driverless Ferries", 'title: "Harbour \\ud800"'
    )
    with pytest.raises(ArticleFileError) as caught:
        parse_article(text.encode(), source="a.md")
    assert caught.value.reason == "title: contains a lone surrogate"


@pytest.mark.parametrize(("field", "count"), [("topics", 100_000), ("related", 10_000)])
def test_huge_lists_name_their_field_not_the_whole_front_matter(field, count):
    items = ", ".join(f"{{title: t, webUrl: 'https://r.example/{n}'}}" for n in range(count))
    if field == "topics":
        items = ", ".join(f"t{n}" for n in range(count))
    text = f"---\ntitle: x\n{field}: [{items}]\n---\n"
    with pytest.raises(ArticleFileError) as caught:
        parse_article(text.encode(), source="a.md")
    assert caught.value.field == field
    assert f"has {count:,} entries" in caught.value.problem


@pytest.mark.parametrize(
    "secured",
    [
        "!SECRET-TAG x",
        "!!python/name:SECRET.module",
        '"SECRET never closed',
        "\n  - !SECRET a",
        "{SECRET: [unclosed}",
    ],
)
def test_a_malformed_secured_value_is_never_quoted_in_the_reason(secured, caplog):
    caplog.set_level(logging.DEBUG, logger="bot")
    text = f"---\ntitle: x\nwebUrl: https://a.example/\nsecured: {secured}\n---\n"
    with pytest.raises(ArticleFileError) as caught:
        parse_article(text.encode(), source="a.md")
    assert "SECRET" not in str(caught.value)
    assert caught.value.field == "secured"
    assert "line 4" in caught.value.problem or "line 5" in caught.value.problem
