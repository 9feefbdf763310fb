"""Story grouping at ingest, and the story API the delivery planner uses."""

from __future__ import annotations

import random
import zlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.articles.article_file import parse_article
from storage import Store
from storage.api import StoreApi
from storage.grouping import WEEK, GroupingRules, _Headline
from storage.models import ArticleDraft
from storage.titles import similarity
from tests.factories import article_text
from tests.storage.conftest import OpenStore
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
async def store(open_any_store):
    async with open_any_store(GroupingRules(window_seconds=72 * 3600)) as opened:
        yield opened


async def story(store: StoreApi, draft: ArticleDraft) -> int | None:
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


# --- bounded work: a crowd of headlines sharing title keys -----------------------------------

# Words ranked by the hash that picks a headline's key words (``titles.title_keys``): a
# headline made of the four lowest and any higher ones files exactly their four keys.
_RANKED = sorted(
    (f"{a}{b}" for a in ("bal", "cor", "dun", "fel", "gar", "hol", "kin", "lom", "mar", "nor")
     for b in ("ak", "en", "ix", "od", "ur", "ym")),
    key=lambda word: zlib.crc32(word.encode()),
)  # fmt: skip
_KEY_WORDS, _OTHER_WORDS = _RANKED[:4], _RANKED[4:]


def _crowd(count: int, shared: list[str], seed: int) -> list[ArticleDraft]:
    """``count`` headlines from ``count`` outlets within a day, each of the ``shared`` words
    and four others: they share title keys, none is near-identical to another."""
    rng = random.Random(seed)
    return [
        draft(f"https://crowd{seed}-{n}.example/a", " ".join(shared + rng.sample(_OTHER_WORDS, 4)),
              f"Crowd{seed}x{n}", at=f"2026-11-20T{n % 24:02d}:{n % 60:02d}:00Z")
        for n in range(count)
    ]  # fmt: skip


async def _comparisons_for_one_more_file(
    open_any_store: OpenStore, monkeypatch: pytest.MonkeyPatch, crowd: int
) -> int:
    async with open_any_store() as store:
        await store.articles.upsert_batch(_crowd(crowd, _KEY_WORDS, seed=1), NOW)
        calls = 0
        real = _Headline.is_near

        def counted(self: _Headline, other: _Headline, threshold: float) -> bool:
            nonlocal calls
            calls += 1
            return real(self, other, threshold)

        monkeypatch.setattr(_Headline, "is_near", counted)
        await store.articles.upsert_batch(_crowd(1, _KEY_WORDS, seed=2), NOW)
        monkeypatch.setattr(_Headline, "is_near", real)
        return calls


async def test_the_work_for_a_file_does_not_grow_with_the_headlines_sharing_its_keys(
    open_any_store, monkeypatch
):
    # an election night: hundreds of headlines a day made of the same few words
    few = await _comparisons_for_one_more_file(open_any_store, monkeypatch, 150)
    many = await _comparisons_for_one_more_file(open_any_store, monkeypatch, 600)
    assert many == few
    assert many <= 4 * GroupingRules().stop_key_headlines


async def test_near_identical_headlines_meet_through_their_other_keys_when_one_is_a_stop_key(
    store,
):
    # the crowd files the key of the pair's three lowest words, and its own others
    await store.articles.upsert_batch(_crowd(200, _KEY_WORDS[:3], seed=3), NOW)
    words = [*_KEY_WORDS, *_OTHER_WORDS[-4:]]
    one = draft("https://a.example/pair", " ".join(words), "Alpha")
    two = draft("https://b.example/pair", " ".join(reversed(words)), "Beta")
    await store.articles.upsert_batch([one], NOW)
    await store.articles.upsert_batch([two], NOW)
    assert await story(store, one) == await story(store, two)


async def test_more_outlets_than_a_stop_key_allows_with_one_headline_stay_one_story(
    open_any_store,
):
    # an election result: every outlet's headline files the same keys, so they are stop keys
    rules = GroupingRules(stop_key_headlines=3)
    async with open_any_store(rules) as store:
        outlets = [f"Outlet{n}" for n in range(12)]
        drafts = [
            draft(f"https://o{n}.example/result", title, outlet, at=f"2026-11-20T{8 + n:02d}:00:00Z")
            for n, (outlet, title) in enumerate(
                zip(outlets, ["Smith wins Ohio governor race by 4 points",
                              "Analysis: Smith Wins Ohio Governor Race By 4 Points"] * 6,
                    strict=True)
            )
        ]  # fmt: skip
        for batch in (drafts[:5], drafts[5:6], drafts[6:7], drafts[7:]):
            await store.articles.upsert_batch(batch, NOW)
        assert len({await story(store, d) for d in drafts}) == 1


async def test_near_identical_headlines_weeks_apart_group_under_a_window_of_weeks(
    open_any_store,
):
    rules = GroupingRules(window_seconds=20 * 24 * 3600)
    async with open_any_store(rules) as store:
        one = draft("https://a.example/x", "Nexora Raises $40M Series B Led by Accel", "Alpha",
                    at="2026-11-02T10:00:00Z")  # fmt: skip
        two = draft("https://b.example/y", "Nexora raises $40 million Series B led by Accel",
                    "Beta", at="2026-11-20T09:00:00Z")  # fmt: skip
        await store.articles.upsert_batch([two], NOW)
        await store.articles.upsert_batch([one], NOW)
        assert await story(store, one) == await story(store, two)
