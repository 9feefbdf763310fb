"""Story grouping at ingest, and the story API the delivery planner uses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.article_file import parse_article
from storage import Store
from storage.grouping import WEEK, GroupingRules, _Headline
from storage.models import ArticleDraft
from storage.titles import similarity
from tests.factories import article_text
from tests.storage.legacy import add_article, store_at_version

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def draft(url: str, title: str, outlet: str, at: str = "2026-11-20T10:00:00Z", **kw: object):
    return parse_article(
        article_text(
            webUrl=url,
            originalUrl=...,
            title=title,
            provider={"name": outlet, "domain": f"{outlet.lower()}.example"},
            publishedDateTime=at,
            related=kw.pop("related", []),
            **kw,
        ).encode(),
        source="t.md",
    )


@pytest.fixture
async def store(tmp_path):
    opened = await Store.open(tmp_path / "t.db", grouping=GroupingRules(window_seconds=72 * 3600))
    yield opened
    await opened.close()


async def story(store: Store, draft: ArticleDraft) -> int | None:
    article = await store.articles.get_by_url(draft.canonical_url)
    assert article is not None
    return await store.stories.story_of(article.id)


async def test_a_file_and_its_related_entries_are_one_story(store):
    lead = draft("https://a.example/1", "Harbour City Trials Driverless Ferries", "Alpha")
    await store.articles.upsert_batch([lead], NOW)  # the factory's default related entry
    lead_with = parse_article(article_text(webUrl="https://a.example/2").encode(), source="t")
    await store.articles.upsert_batch([lead_with], NOW)
    coverage = await store.articles.get_by_url(
        "https://coastwire.example/2026/11/01/captain-free-ferries"
    )
    assert coverage is not None
    assert await store.stories.story_of(coverage.id) == await story(store, lead_with)
    assert await story(store, lead) != await story(store, lead_with)


async def test_two_files_listing_the_same_coverage_join_their_stories(store):
    first = parse_article(article_text(webUrl="https://a.example/1").encode(), source="t")
    second = parse_article(
        article_text(webUrl="https://b.example/1", title="Ferries without captains").encode(),
        source="t",
    )
    await store.articles.upsert_batch([first], NOW)
    await store.articles.upsert_batch([second], NOW)
    assert await story(store, first) == await story(store, second)
    members = await store.stories.members(await story(store, first))
    assert {m.canonical_url for m in members} == {
        "https://a.example/1", "https://b.example/1",
        "https://coastwire.example/2026/11/01/captain-free-ferries",
    }  # fmt: skip


async def test_near_identical_headlines_from_two_outlets_are_one_story(store):
    one = draft("https://a.example/x", "Nexora Raises $40M Series B Led by Accel", "Alpha")
    two = draft(
        "https://b.example/y",
        "Analysis: Nexora raises $40 million Series B led by Accel | Beta News",
        "Beta",
        at="2026-11-21T09:00:00Z",
    )
    await store.articles.upsert_batch([one], NOW)
    await store.articles.upsert_batch([two], NOW)
    assert await story(store, one) == await story(store, two)


@pytest.mark.parametrize(
    ("title", "outlet", "at"),
    [
        (
            "Nexora raises $40M Series B led by Accel",
            "Alpha",
            "2026-11-20T12:00:00Z",
        ),  # same outlet
        ("Nexora raises $40M Series B led by Accel", "Beta", "2026-11-25T12:00:00Z"),  # too late
        (
            "Nexora raises $25M Series B led by Accel",
            "Beta",
            "2026-11-20T12:00:00Z",
        ),  # other figure
        ("Nexora opens an office in Berlin", "Beta", "2026-11-20T12:00:00Z"),  # other words
    ],
)
async def test_headlines_that_are_not_the_same_story_stay_apart(store, title, outlet, at):
    one = draft("https://alpha.example/x", "Nexora Raises $40M Series B Led by Accel", "Alpha")
    two = draft("https://other.example/y", title, outlet, at=at)
    await store.articles.upsert_batch([one, two], NOW)
    assert await story(store, one) != await story(store, two)


async def test_reingesting_keeps_the_story_and_unknown_articles_have_none(store):
    one = draft("https://a.example/x", "Nexora Raises $40M Series B Led by Accel", "Alpha")
    two = draft("https://b.example/y", "Nexora raises $40 million Series B led by Accel", "Beta")
    await store.articles.upsert_batch([one, two], NOW)
    before = await story(store, two)
    await store.articles.upsert_batch([draft(two.canonical_url, "A new headline", "Beta")], NOW)
    assert await story(store, two) == before
    assert await store.stories.story_of("nosuchid") is None


_WORDS = st.lists(st.sampled_from(["ferry", "harbour", "city", "trial", "2026", "40m", "7", "ai"]))


@given(a=_WORDS, b=_WORDS, threshold=st.sampled_from([0.1, 0.5, 0.7, 1.0]))
def test_grouping_judges_headlines_exactly_as_titles_similarity_does(a, b, threshold):
    near = _Headline.of(a).is_near(_Headline.of(b), threshold)
    assert near == (similarity(set(a), set(b)) >= threshold)


async def test_near_identical_headlines_either_side_of_a_week_boundary_are_one_story(store):
    # title keys are filed by week (Thursday 00:00 UTC); the window reaches into the last one
    one = draft("https://a.example/x", "Nexora Raises $40M Series B Led by Accel", "Alpha",
                at="2026-11-25T22:00:00Z")  # fmt: skip
    two = draft("https://b.example/y", "Nexora raises $40 million Series B led by Accel",
                "Beta", at="2026-11-26T02:00:00Z")  # fmt: skip
    assert int(datetime(2026, 11, 26, tzinfo=UTC).timestamp()) % WEEK == 0
    await store.articles.upsert_batch([two], NOW)
    await store.articles.upsert_batch([one], NOW)
    assert await story(store, one) == await story(store, two)


async def test_headlines_stored_before_the_weekly_filing_still_group_after_the_upgrade(tmp_path):
    path = tmp_path / "v6.db"
    connection = await store_at_version(path, 6)
    try:
        old_pk = await add_article(
            connection,
            "https://a.example/x",
            "Nexora Raises $40M Series B Led by Accel",
            published_at=int(datetime(2026, 11, 20, 10, tzinfo=UTC).timestamp()),
            domain="alpha.example",
            story_keys=True,
        )
    finally:
        await connection.close()
    async with await Store.open(path) as store:
        two = draft("https://b.example/y", "Analysis: Nexora raises $40 million Series B",
                    "Beta", at="2026-11-21T09:00:00Z")  # fmt: skip
        await store.articles.upsert_batch([two], NOW)
        stored = await store.articles.get_by_url(two.canonical_url)
        assert stored is not None
        assert await store.stories.story_of(stored.id) == old_pk
