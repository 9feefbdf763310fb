"""Words with letters that carry their mark in their shape (ø, æ, ł, ß...) are found as an
English keyboard types them on SQLite, as on PostgreSQL (whose unaccent spells them out): the
full-text indexes read views that spell them out (migration 0027), and what the engine
searches for is spelled the same way. Stores made before the migration are indexed anew.
Scripts whose marks belong to the letter (Cyrillic й, Hangul) are searched whole."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.articles.article_file import parse_article
from bot.domain.related import RelatedService
from storage import Store
from tests.factories import article_text
from tests.storage.legacy import add_article, store_at_version
from tests.storage.test_store import indexes_agree_with_their_content

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
GUILD = 1
BEFORE = 26  # the schema version before the indexes spelled the letters out
HEADLINES = {
    "https://nord.example/1": "Tromsø harbour reopens after winter storm damage",
    "https://east.example/2": "Łódź tram depot fire halts weekday services",
    "https://alps.example/3": "Hauptstraße closure angers Graz shopkeepers",
    "https://isle.example/4": "Ærø ferry timetable cut for the winter",
    "https://ru.example/5": "Горбачёв: новый российский фильм",
    "https://kr.example/6": "서울 시장 선거 결과 발표",
}
TYPED = {
    "tromso": "https://nord.example/1",
    "lodz tram": "https://east.example/2",
    "hauptstrasse": "https://alps.example/3",
    "aero ferry": "https://isle.example/4",
    "tromsø": "https://nord.example/1",
    "ŁÓDŹ": "https://east.example/2",
    "горбачев": "https://ru.example/5",  # ё typed as е, as unaccent reads it
    "российский": "https://ru.example/5",  # й is a letter of its own, not и and a breve
    "서울 시장": "https://kr.example/6",  # Hangul whole, not its jamo
}


def _draft(url: str, title: str, excerpt: str = "Services resume on Monday."):
    text = article_text(
        title=title,
        excerpt=excerpt,
        webUrl=url,
        originalUrl=...,
        publishedDateTime="2026-11-25T10:00:00Z",
        related=[],
        published=True,
        topics=["Local News"],
    )
    return parse_article(text.encode(), source="t.md")


async def _found_by(store: Store, typed: str) -> list[str]:
    results = await RelatedService(store).for_query(GUILD, typed, limit=10)
    return [r.article.web_url for r in results]


async def _suggested_for(store: Store, typed: str) -> list[str]:
    words = typed.casefold().split()  # as autocomplete passes typed words
    return [
        g.article.web_url for g in await store.publication.suggest(GUILD, words, "any", limit=5)
    ]


@pytest.fixture
async def store(tmp_path):
    opened = await Store.open(tmp_path / "t.db")
    await opened.articles.upsert_batch([_draft(u, t) for u, t in HEADLINES.items()], NOW)
    yield opened
    await opened.close()


@pytest.mark.parametrize(("typed", "url"), TYPED.items())
async def test_a_name_typed_without_its_letters_finds_the_article(store, typed, url):
    assert (await _found_by(store, typed))[:1] == [url]
    assert (await _suggested_for(store, typed))[:1] == [url]


async def test_an_outlet_spelling_it_out_is_coverage_of_one_spelling_it_in(store):
    spelled_out = "https://wire.example/5"
    await store.articles.upsert_batch(
        [_draft(spelled_out, "Tromso quay back in business", "Trawlers unload again.")], NOW
    )
    story = await store.articles.get_by_url("https://nord.example/1")
    assert story is not None
    _, similar = await RelatedService(store).for_story(GUILD, story.id)
    assert spelled_out in [r.article.web_url for r in similar]


async def test_the_indexes_follow_new_changed_and_deleted_articles(store, tmp_path):
    # a title and excerpt changed (the same file again), then an article deleted
    await store.articles.upsert_batch(
        [_draft("https://nord.example/1", "Tromsø harbour stays shut", "Øresund ferries wait.")],
        NOW,
    )
    async with store._db.transaction():
        await store._db.execute("DELETE FROM articles WHERE web_url = 'https://east.example/2'")
    indexes_agree_with_their_content(tmp_path / "t.db")
    assert await _found_by(store, "oresund") == ["https://nord.example/1"]
    assert await _found_by(store, "lodz") == []
    assert await _suggested_for(store, "tromso stays") == ["https://nord.example/1"]


async def test_a_store_made_before_is_indexed_anew(tmp_path):
    path = tmp_path / "old.db"
    connection = await store_at_version(path, BEFORE)
    for url, title in HEADLINES.items():
        await add_article(connection, url, title, published_at=int(NOW.timestamp()))
    await connection.close()
    async with await Store.open(path) as store:
        for typed in ("tromso", "lodz tram", "hauptstrasse", "aero ferry"):
            assert await _suggested_for(store, typed) == [TYPED[typed]], typed
        indexes_agree_with_their_content(path)
