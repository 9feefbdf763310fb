"""One article per story link however its scheme or trailing slash is written: a producer that
moves to https, or adds a slash, and sends a story again updates the stored article; channels
and members see it once (docs/article-format.md, Identity)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.articles.urls import canonical_url
from bot.ingest.writer import ingest_paths
from tests.bot.harness import Harness
from tests.bot.test_alerts import fresh, posts, route
from tests.factories import write_article

HTTP = "http://harbour-times.example/ferries/42"
HTTPS_SLASH = "https://harbour-times.example/ferries/42/"


async def ingest_one(harness: Harness, folder: Path, url: str, **fields: Any) -> dict[str, int]:
    """Ingest one file (a folder of its own) through the real ingest path; its counts."""
    fields.setdefault("title", "Ferry pilot expands to the islands")
    fields.setdefault("publishedDateTime", fresh(harness))
    fields.setdefault("published", True)
    fields.setdefault("quality", 70)
    fields.setdefault("topics", ["Transport"])
    fields.setdefault("related", [])
    write_article(folder, "story.md", webUrl=url, originalUrl=url, **fields)
    report = await ingest_paths(harness.store, [folder])
    assert report.rejected == []
    return {"new": report.new, "updated": report.updated, "unchanged": report.unchanged}


async def test_a_resend_over_https_with_a_slash_updates_the_posted_article(
    harness: Harness, tmp_path: Path
):
    g = harness.first
    await route(harness, g, g.alerts.id)
    before = (await harness.store.stats()).articles  # the bundled examples
    assert await ingest_one(harness, tmp_path / "a", HTTP) == {
        "new": 1,
        "updated": 0,
        "unchanged": 0,
    }
    await harness.deliver()
    (post,) = posts(harness, g.alerts.id)
    assert post.embeds[0]["url"] == HTTP  # the link as the producer wrote it

    counts = await ingest_one(harness, tmp_path / "b", HTTPS_SLASH, excerpt="Now with times.")
    await harness.deliver()
    assert len(posts(harness, g.alerts.id)) == 1  # not posted a second time
    assert counts == {"new": 0, "updated": 1, "unchanged": 0}
    stored = await harness.store.articles.get_by_url("https://harbour-times.example/ferries/42")
    assert stored is not None
    assert stored.web_url == HTTPS_SLASH  # shown as the newest file wrote it
    assert (await harness.store.stats()).articles == before + 1


async def test_the_same_file_sent_again_over_the_other_scheme_is_unchanged_in_what_counts(
    harness: Harness, tmp_path: Path
):
    before = (await harness.store.stats()).articles
    await ingest_one(harness, tmp_path / "a", "https://harbour-times.example/ferries/42")
    again = await ingest_one(harness, tmp_path / "b", "HTTP://Harbour-Times.example:80/ferries/42/")
    assert again["new"] == 0
    assert (await harness.store.stats()).articles == before + 1


async def test_a_link_written_either_way_finds_the_story_and_is_listed_once(
    harness: Harness, tmp_path: Path
):
    member = harness.first.members[0].id
    before = (await harness.store.stats()).articles
    coverage = {
        "title": "Island ferries get a pilot", "webUrl": "http://beta.example/isles/",
        "publishedDateTime": fresh(harness, 2), "type": "article",
        "provider": {"name": "Beta News", "domain": "beta.example"},
    }  # fmt: skip
    await ingest_one(harness, tmp_path / "a", HTTP, related=[coverage])
    # another story's file lists the same coverage under https and without the slash
    same = {**coverage, "webUrl": "https://beta.example/isles"}
    await ingest_one(
        harness, tmp_path / "b", "https://alpha.example/isles-ferry",
        title="Ferry pilot reaches the isles", related=[same],
    )  # fmt: skip
    assert (await harness.store.stats()).articles == before + 3
    for link in (HTTPS_SLASH, "https://harbour-times.example/ferries/42?utm_source=x"):
        result = await harness.slash(harness.first, member, "related", {"story": link})
        (message,) = result.followups
        text = str(message.embeds)
        assert "Ferry pilot expands to the islands" in text, text
        assert text.count("Island ferries get a pilot") == 1, text


async def test_article_add_of_a_stored_story_under_the_other_scheme_names_it(
    harness: Harness, tmp_path: Path
):
    await ingest_one(harness, tmp_path / "a", HTTP)
    stored = await harness.store.articles.get_by_url(canonical_url(HTTP))
    assert stored is not None
    moderator = harness.first.moderator.id
    result = await harness.slash(
        harness.first,
        moderator,
        "article add",
        {"url": HTTPS_SLASH, "title": "Ferry pilot, again", "topics": "Transport"},
    )
    assert result.content == (
        f"That link is already stored as `{stored.id}`. Use `/publish` to publish it."
    )
