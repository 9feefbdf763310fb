"""The store's side of learned term associations: which stories learning reads, and the
table it replaces, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.articles.article_file import parse_article
from storage import Store
from storage.associations import Association
from tests.factories import article_text

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(any_store):
    return any_store


async def add(store: Store, slug: str, title: str, related: tuple[str, ...] = ()) -> None:
    listed = [
        {
            "title": f"{title} (other outlet)",
            "webUrl": url,
            "publishedDateTime": "2026-09-01T10:00:00Z",
            "provider": {"name": "Other", "domain": "other.example"},
        }
        for url in related
    ]
    text = article_text(
        title=title,
        excerpt=f"About {title}.",
        publishedDateTime="2026-09-01T09:00:00Z",
        webUrl=f"https://{slug}.example/{slug}",
        originalUrl=...,
        provider={"name": slug.title(), "domain": f"{slug}.example"},
        related=listed,
    )
    await store.articles.upsert_batch([parse_article(text.encode(), source=slug)], NOW)


async def test_learning_reads_stories_of_more_than_one_article_newest_first(store):
    await add(store, "alone", "A story of one article")
    await add(store, "older", "Older story", related=("https://other.example/o1",))
    await add(
        store,
        "newer",
        "Newer story",
        related=tuple(f"https://other.example/n{n}" for n in range(4)),
    )
    members = await store.associations.story_members(stories=5, per_story=3)
    titles = [m.title for m in members]
    assert "A story of one article" not in titles
    assert titles[0] == "Newer story" and len(titles) == 3 + 2  # at most 3 of the newer
    assert titles[-2:] == ["Older story", "Older story (other outlet)"]
    assert {m.outlet for m in members} >= {"newer.example", "other.example"}
    only_newest = await store.associations.story_members(stories=1, per_story=10)
    assert {m.title for m in only_newest} == {"Newer story", "Newer story (other outlet)"}


async def test_the_table_is_replaced_whole_and_read_strongest_first(store):
    await store.associations.replace(
        [
            Association("facial", "face", ("face", "faces"), 0.4),
            Association("facial", "camera", ("cameras", "camera"), 0.6),
            Association("rate", "ocr", ("ocr",), 0.5),
        ]
    )
    found = await store.associations.associates(["facial"])
    assert [(a.associate, a.forms) for a in found] == [
        ("camera", ("cameras", "camera")),
        ("face", ("face", "faces")),
    ]
    await store.associations.replace([Association("rate", "cut", ("cut", "cuts"), 0.3)])
    assert await store.associations.associates(["facial"]) == []
    assert [a.associate for a in await store.associations.all()] == ["cut"]
    assert await store.associations.associates([]) == []
