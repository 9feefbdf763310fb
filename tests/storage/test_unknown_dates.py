"""Coverage of unknown date (a related entry whose file gave no usable date) in the store: kept,
never replacing a known date, never grouped by headline, listed after dated coverage, never
planned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.articles.article_file import parse_article
from storage import Store
from storage.api import StoreApi
from storage.grouping import GroupingRules
from storage.models import Article, ArticleDraft
from storage.prepare import prepare
from tests.factories import article_fields, article_text

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ENTRY_URL = "https://coastwire.example/2026/11/01/captain-free-ferries"
HEADLINE = "Nexora Raises $40M Series B Led by Accel"


def entry(**changes: Any) -> dict[str, Any]:
    fields = {**article_fields()["related"][0], **changes}
    return {key: value for key, value in fields.items() if value is not ...}


def undated(**changes: Any) -> dict[str, Any]:
    return entry(publishedDateTime=..., **changes)


def listing(url: str, *entries: dict[str, Any], **fields: Any) -> ArticleDraft:
    text = article_text(webUrl=url, originalUrl=..., related=list(entries), **fields)
    return parse_article(text.encode(), source="t.md")


@pytest.fixture
async def store(open_any_store):
    async with open_any_store(GroupingRules(window_seconds=72 * 3600)) as opened:
        yield opened


@pytest.fixture
async def sqlite_store(tmp_path):
    opened = await Store.open(tmp_path / "t.db", grouping=GroupingRules(window_seconds=72 * 3600))
    yield opened
    await opened.close()


async def stored(store: StoreApi, url: str) -> Article:
    article = await store.articles.get_by_url(url)
    assert article is not None
    return article


async def test_an_undated_entry_is_stored_as_coverage_of_unknown_date(store):
    file = listing("https://a.example/1", undated())
    assert await store.articles.upsert_batch([file], NOW) == ["new"]
    coverage = await stored(store, ENTRY_URL)
    assert (coverage.coverage_only, coverage.published_at) == (True, None)
    assert coverage.title == "Captain-free ferries set sail in Harbour City"
    parent = await stored(store, "https://a.example/1")
    assert [r.article.id for r in await store.articles.related(parent.id)] == [coverage.id]
    assert await store.articles.upsert_batch([file], NOW + timedelta(hours=1)) == ["unchanged"]


def test_an_unknown_date_has_a_fingerprint_of_its_own_and_leaves_dated_ones_as_they_were():
    dated = prepare(listing("https://a.example/1", entry())).related[0]
    unknown = prepare(listing("https://a.example/1", undated())).related[0]
    assert dated.fingerprint == "8d4db45cf3aaed9407325950f1101c4a"  # as stored since v1
    assert unknown.fingerprint != dated.fingerprint
    assert prepare(listing("https://a.example/1", undated())).related[0] == unknown


async def test_an_undated_listing_never_replaces_a_known_date(store):
    await store.articles.upsert_batch([listing("https://a.example/1", entry())], NOW)
    later = listing("https://b.example/2", undated(title="A later, undated take"))
    await store.articles.upsert_batch([later], NOW)
    coverage = await stored(store, ENTRY_URL)
    assert coverage.published_at == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert coverage.title == "Captain-free ferries set sail in Harbour City"
    b = await stored(store, "https://b.example/2")
    assert [r.article.id for r in await store.articles.related(b.id)] == [coverage.id]
    assert await store.stories.story_of(b.id) == await store.stories.story_of(coverage.id)
    # a listing with a date does update it, and a file of its own makes it a full article
    redated = entry(publishedDateTime="2026-11-02T07:00:00Z")
    await store.articles.upsert_batch([listing("https://c.example/3", redated)], NOW)
    assert (await stored(store, ENTRY_URL)).published_at == datetime(2026, 11, 2, 7, tzinfo=UTC)


async def test_a_file_of_its_own_gives_an_undated_entry_its_date(store):
    await store.articles.upsert_batch([listing("https://a.example/1", undated())], NOW)
    own = listing(ENTRY_URL, title="Captain-free ferries set sail", published=True)
    assert await store.articles.upsert_batch([own], NOW) == ["new"]
    full = await stored(store, ENTRY_URL)
    assert (full.coverage_only, full.published_at) == (False, own.published_at)


async def test_an_undated_headline_joins_no_story_by_its_words(store):
    dated = listing("https://alpha.example/x", title=HEADLINE, provider={"domain": "alpha.example"})
    await store.articles.upsert_batch([dated], NOW)
    gamma = undated(
        webUrl="https://gamma.example/z", title=HEADLINE, provider={"domain": "gamma.example"}
    )
    lister = listing("https://beta.example/list", gamma, title="Funding round-up of the week")
    await store.articles.upsert_batch([lister], NOW)
    alpha = await store.stories.story_of((await stored(store, "https://alpha.example/x")).id)
    gamma_article = await stored(store, "https://gamma.example/z")
    assert gamma_article.published_at is None
    gamma_story = await store.stories.story_of(gamma_article.id)
    assert gamma_story != alpha  # the same words, but no date to compare within the window
    lister_article = await stored(store, "https://beta.example/list")
    assert gamma_story == await store.stories.story_of(lister_article.id)  # by the link
    # a later dated copy of the headline still finds the dated article's story
    delta = listing("https://delta.example/y", title=HEADLINE, provider={"domain": "delta.example"})
    await store.articles.upsert_batch([delta], NOW)
    assert await store.stories.story_of((await stored(store, "https://delta.example/y")).id) == (
        alpha
    )
    assert await store.stories.story_of(gamma_article.id) == gamma_story
    keys = (
        "SELECT count(*) FROM story_title_keys k JOIN articles a ON a.pk = k.article_pk "
        "WHERE a.canonical_url = {}"
    )
    gamma_url = "https://gamma.example/z"
    if isinstance(store, Store):
        assert await store._db.scalar(keys.format("?"), (gamma_url,)) == 0
    else:
        assert await store._db.scalar(keys.format("$1"), gamma_url) == 0


async def test_a_story_lists_its_coverage_of_unknown_date_last(store):
    file = listing(
        "https://a.example/1",
        undated(webUrl="https://u.example/1", title="Undated take"),
        entry(webUrl="https://d.example/1", title="Late take", publishedDateTime="2026-11-03"),
        entry(webUrl="https://d.example/2", title="Early take", publishedDateTime="2026-10-30"),
    )
    await store.articles.upsert_batch([file], NOW)
    story = await store.stories.story_of((await stored(store, "https://a.example/1")).id)
    assert story is not None
    members = await store.stories.members(story)
    assert [m.title for m in members] == [
        "Early take", "Harbour City Trials Driverless Ferries", "Late take", "Undated take"
    ]  # fmt: skip


async def test_planning_never_sees_coverage_of_unknown_date(sqlite_store):
    store = sqlite_store
    file = listing("https://a.example/1", undated(), published=True, publishedDateTime="2026-11-26")
    await store.articles.upsert_batch([file], NOW)
    assert await store.deliveries.skip_backlog(NOW - timedelta(days=2), NOW) == 0
    unplanned = await store.deliveries.unplanned(NOW - timedelta(days=2), limit=10)
    assert [p.published_at for p in unplanned] == [datetime(2026, 11, 26, tzinfo=UTC)]
