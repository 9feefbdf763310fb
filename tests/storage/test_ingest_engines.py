"""Ingest on both engines through the writer (``bot.ingest.writer``), with what differs on
PostgreSQL: text it cannot hold, batches, re-ingest, rollback. The real sample article is
read from ``../shared/samples`` beside the checkout (read-only, never copied here)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import storage.articles
import storage.postgresql.articles
from bot.articles.article_file import MAX_EXCERPT, ParseLimits, parse_article
from bot.ingest.writer import ingest_paths
from storage import Store
from storage.models import ArticleDraft
from tests.factories import article_text, write_article

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
SAMPLE = SAMPLES / "000_df9f5cf7b7883256.txt"
SAMPLE_URL = (  # its key: the link without its trailing slash
    "https://www.campussafetymagazine.com/press-release/more-than-1000-parents-sign-open-"
    "letter-calling-for-a-ban-on-facial-recognition-in-schools"
)


def draft(**overrides: object) -> ArticleDraft:
    return parse_article(article_text(**overrides).encode(), source="test.md")


@pytest.fixture
def store(any_store):
    return any_store


@pytest.mark.skipif(not SAMPLE.is_file(), reason="the sample article is not beside the checkout")
async def test_the_sample_article_is_stored_whole_and_found(store):
    report = await ingest_paths(store, [SAMPLES])
    assert (report.new, report.rejected) == (1, [])
    article = await store.articles.get_by_url(SAMPLE_URL)
    assert article is not None
    assert article.title.startswith("More than 1,000 Parents Sign Open Letter")
    assert article.published_at == datetime(2020, 9, 18, 9, 41, tzinfo=UTC)
    assert article.provider.domain == "campussafetymagazine.com"
    assert article.topics == ("Computer Vision", "AI")
    assert (article.images[0].width, article.images[0].height) == (2560, 1483)
    assert article.images[0].is_cached is True
    assert (article.quality, article.heat, article.published) == (29, -1, False)
    related = await store.articles.related(article.id)
    assert related
    assert all(r.article.coverage_only for r in related)
    assert related[0].article.title.startswith("LAPD Relies on Facial Recognition")
    story = await store.stories.story_of(article.id)
    members = await store.stories.members(story)
    assert {m.canonical_url for m in members} >= {SAMPLE_URL, related[0].article.canonical_url}
    assert [a.id for a in await store.articles.search(["facial", "recognition", "parents"])] == [
        article.id
    ]
    assert (await ingest_paths(store, [SAMPLES])).unchanged == 1


async def test_a_nul_in_the_text_is_stored_and_the_article_found(store):
    # SQLite keeps a NUL; PostgreSQL's text cannot hold one, and stores U+FFFD in its place
    # rather than refusing the whole batch
    source = replace(draft(), body="before\x00after", excerpt="Ferries\x00 sail")
    other = draft(webUrl="https://b.example/2", originalUrl=..., related=[])
    assert await store.articles.upsert_batch([source, other], NOW) == ["new", "new"]
    stored = await store.articles.get_by_url(source.canonical_url)
    assert stored is not None
    assert stored.body in ("before\x00after", "before\ufffdafter")
    assert stored.excerpt in ("Ferries\x00 sail", "Ferries\ufffd sail")
    assert stored.title == source.title
    assert await store.articles.upsert_batch([source], NOW) == ["unchanged"]
    found = await store.articles.search(["ferries", "driverless"])
    assert source.canonical_url in {a.canonical_url for a in found}


async def test_files_repeating_a_url_in_one_run_store_the_later_one(store, tmp_path):
    folder = tmp_path / "inbox"
    write_article(folder, "a.md", title="First take on driverless ferries")
    write_article(folder, "b.md", title="Second take on driverless ferries", quality=80)
    report = await ingest_paths(store, [folder])
    assert (report.new, report.updated, report.rejected) == (1, 1, [])
    stored = await store.articles.get_by_url(draft().canonical_url)
    assert stored is not None
    assert (stored.title, stored.quality) == ("Second take on driverless ferries", 80)
    assert await store.articles.count() == 2  # and its one coverage entry


async def test_a_changed_file_replaces_its_topics_images_and_coverage(store, tmp_path):
    folder = tmp_path / "inbox"
    path = write_article(folder, "a.md", published=True)
    await ingest_paths(store, [folder])
    write_article(
        folder,
        "a.md",
        published=True,
        topics=["Energy"],
        images=[{"url": "https://harbour-times.example/img/new.jpg", "isCached": False}],
        related=[
            {
                "title": "Ports weigh electric tugs",
                "webUrl": "https://portnews.example/tugs",
                "publishedDateTime": "2026-11-02T08:00:00Z",
                "provider": {"name": "Port News", "domain": "portnews.example"},
            }
        ],
    )
    report = await ingest_paths(store, [path])
    assert (report.updated, report.new) == (1, 0)
    stored = await store.articles.get_by_url(draft().canonical_url)
    assert stored is not None
    assert stored.topics == ("Energy",)
    assert [i.url for i in stored.images] == ["https://harbour-times.example/img/new.jpg"]
    related = await store.articles.related(stored.id)
    assert [r.article.title for r in related] == ["Ports weigh electric tugs"]
    counts = {t.key: t.article_count for t in await store.topics.most_used()}
    assert counts["energy"] == 1
    assert counts["transport"] == 0  # the file no longer carries it


async def test_near_identical_headlines_in_two_batches_of_one_run_are_one_story(store, tmp_path):
    folder = tmp_path / "inbox"
    outlets = [("a.md", "alpha", "Nexora Raises $40M Series B Led by Accel")]
    outlets += [("b.md", "beta", "Analysis: Nexora raises $40 million Series B led by Accel")]
    for name, outlet, title in outlets:
        write_article(
            folder, name, title=title, webUrl=f"https://{outlet}.example/nexora", originalUrl=...,
            provider={"name": outlet, "domain": f"{outlet}.example"}, related=[],
        )  # fmt: skip
    report = await ingest_paths(store, [folder], batch_size=1)
    assert report.new == 2
    stories = set()
    for _, outlet, _ in outlets:
        article = await store.articles.get_by_url(f"https://{outlet}.example/nexora")
        assert article is not None
        stories.add(await store.stories.story_of(article.id))
    assert len(stories) == 1


async def test_a_batch_failing_at_its_last_step_leaves_nothing_and_counts_nothing(
    store, monkeypatch
):
    async def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("stop")

    # story grouping runs last, after the rows, topics, images and links are written
    engine = storage.articles if isinstance(store, Store) else storage.postgresql.articles
    monkeypatch.setattr(engine, "assign_stories", fail)
    with pytest.raises(RuntimeError, match="stop"):
        await store.articles.upsert_batch([draft(published=True)], NOW)
    monkeypatch.undo()
    assert await store.articles.count() == 0
    assert await store.articles.get_by_url(draft().canonical_url) is None
    assert await store.topics.most_used() == []
    assert await store.articles.upsert_batch([draft(published=True)], NOW) == ["new"]
    assert [t.article_count for t in await store.topics.most_used()] == [1, 1]


async def test_topics_count_what_members_of_each_guild_see(store):
    await store.articles.upsert_batch([draft(published=True)], NOW)
    added = draft(webUrl="https://b.example/own", originalUrl=..., related=[], published=True)
    await store.articles.upsert_batch([added], NOW + timedelta(minutes=1), origin_guild_id=7)
    assert [(t.key, t.article_count) for t in await store.topics.most_used()] == [
        ("autonomous vehicles", 1), ("transport", 1),
    ]  # fmt: skip
    seen = await store.topics.seen_in(7, limit=10)
    assert [(t.key, t.article_count) for t in seen] == [
        ("autonomous vehicles", 2), ("transport", 2),
    ]  # fmt: skip
    assert await store.topics.count_seen_in(7) == 2
    assert [t.article_count for t in await store.topics.seen_in(8, limit=10)] == [1, 1]
    assert [t.name for t in await store.topics.suggest(0, "port")] == ["Transport"]
    assert [t.name for t in await store.topics.suggest(0, "tra")] == ["Transport"]
    assert (await store.topics.get("  TRANSPORT ")) == await store.topics.by_id(seen[1].id)
    own = await store.articles.get_by_url(added.canonical_url)
    assert own is not None
    assert own.origin_guild_id == 7
    assert await store.articles.search(["driverless"], guild_id=8) != []
    assert own.id not in {a.id for a in await store.articles.search(["driverless"], guild_id=8)}
    assert own.id in {a.id for a in await store.articles.search(["driverless"], guild_id=7)}


# PostgreSQL's full-text index of one article (a tsvector) holds at most 1 MiB; each distinct
# word costs it several bytes more than the word itself. SQLite's has no such limit.
WORDY_EXCERPT_WORDS = {"5 MB": 700_000, "under the default file limit": 110_000}


@pytest.mark.parametrize("size", WORDY_EXCERPT_WORDS)
async def test_an_excerpt_too_wordy_for_the_text_index_is_cut_the_same_on_both(
    store, tmp_path, size
):
    """A file whose excerpt holds more distinct words than PostgreSQL's full-text index of one
    article can: PostgreSQL refused it where SQLite stored it whole; now the excerpt is cut at
    parse time, so both store the same article with a warning, and the rest of the batch."""
    words = " ".join(f"w{n}" for n in range(WORDY_EXCERPT_WORDS[size]))
    write_article(
        tmp_path, "in/wordy.md", title="Wordy", webUrl="https://wordy.example/a",
        originalUrl=..., related=[], excerpt=words,
    )  # fmt: skip
    for n in range(3):
        write_article(
            tmp_path, f"in/ok{n}.md", title=f"Fine {n}", webUrl=f"https://fine.example/{n}",
            originalUrl=..., related=[],
        )  # fmt: skip
    limits = ParseLimits(max_file_bytes=8 * 1024 * 1024)
    report = await ingest_paths(store, [tmp_path / "in"], limits=limits, batch_size=10)
    fine = [await store.articles.get_by_url(f"https://fine.example/{n}") for n in range(3)]
    assert [a.title for a in fine if a is not None] == ["Fine 0", "Fine 1", "Fine 2"]
    wordy = await store.articles.get_by_url("https://wordy.example/a")
    kept = words[: words.rindex(" ", 0, MAX_EXCERPT)]
    assert (report.new, report.rejected) == (4, [])
    assert [w.warning for w in report.warnings] == [
        f"excerpt: is {len(words):,} characters, over the 10,000 an excerpt may hold (stored cut"
        f" to its first {len(kept):,} characters; the full text belongs in the body)"
    ]
    assert wordy is not None and wordy.excerpt == kept + "…"
