"""The related engine over a real store: hostile queries, exclusions, ranking, reasons."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from bench.pg_copy import mirrored
from bot.articles.article_file import parse_article
from bot.config import RelatedSettings
from bot.domain.errors import UserError
from bot.domain.related import RelatedService
from bot.ingest.writer import ingest_paths
from storage import Store
from storage.related import CandidateQuery, SearchTerm, Window
from tests.factories import EXAMPLES_DIR, article_text

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
GUILD, OTHER_GUILD = 1, 2
RIVERTON = "https://www.riverton-ledger.example/news/2026/11/20/council-bans-face-scanning"


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request, tmp_path):
    """The examples stored, on each engine in turn (PostgreSQL: ``bench.pg_copy.mirrored``)."""
    opened = await Store.open(tmp_path / "t.db")
    try:
        await ingest_paths(opened, [EXAMPLES_DIR])
        if request.param == "sqlite":
            yield opened
        else:
            async with mirrored(opened, request.getfixturevalue("postgresql_database_url")) as both:
                yield both
    finally:
        await opened.close()


async def add(store: Store, guild: int | None = None, **fields: object) -> str:
    draft = parse_article(article_text(**fields).encode(), source="t.md")
    await store.articles.upsert_batch([draft], NOW, origin_guild_id=guild)
    stored = await store.articles.get_by_url(draft.canonical_url)
    assert stored is not None
    return stored.id


def face_story(n: int, outlet: str, **fields: object) -> dict[str, object]:
    return {
        "webUrl": f"https://{outlet}.example/{n}",
        "originalUrl": ...,
        "title": f"Riverton face scanning ban: police react ({n})",
        "provider": {"name": outlet.title(), "domain": f"{outlet}.example"},
        "publishedDateTime": "2026-11-21T10:00:00Z",
        "related": [],
        "published": True,
        "topics": ["Privacy"],
        **fields,
    }


HOSTILE = [
    '"unbalanced quote',
    "NEAR(riverton police",
    "face*",
    "-police",
    "title: riverton",
    "riverton AND OR NOT police",
    "^riverton",
    "{title excerpt}: ban",
    "x" * 10_000,
    "riverton " * 2000,
    "🚓🚨 face scanning 🚓",
    "حظر التعرف على الوجه ‏ban‏",
    "\x00riverton\x00",
    "'; DROP TABLE articles; --",
    "9" * 100 + " $" + "9" * 40 + "bn",
]


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_queries_never_raise_sql_errors(store, text):
    results = await RelatedService(store).for_query(GUILD, text, limit=10)
    assert len({r.article.canonical_url for r in results}) == len(results)
    assert await store.articles.count() == 7


@pytest.mark.parametrize("text", ['"riverton', "NEAR(riverton", "title: riverton", "riverton*"])
async def test_query_syntax_is_read_as_plain_words(store, text):
    results = await RelatedService(store).for_query(GUILD, text)
    assert RIVERTON in [r.article.canonical_url for r in results]


async def test_only_symbols_ask_for_words(store):
    with pytest.raises(UserError, match="Type a few words"):
        await RelatedService(store).for_query(GUILD, '🚓 * *** ^^ --- "" :')


async def test_never_the_story_itself_nor_one_url_twice(store):
    story, results = await RelatedService(store).for_story(GUILD, RIVERTON)
    urls = [r.article.canonical_url for r in results]
    assert story.canonical_url not in urls
    assert len(urls) == len(set(urls))
    assert [r.reason for r in results[:2]] == ["curated coverage", "curated coverage"]


async def test_other_guilds_additions_and_unpublished_full_articles_are_not_offered(store):
    mine = await add(store, GUILD, **face_story(1, "mine"))
    theirs = await add(store, OTHER_GUILD, **face_story(2, "theirs"))
    pending = await add(store, **face_story(3, "pending", published=False))
    retracted = await add(store, **face_story(4, "retracted"))
    await store.publication.decide(GUILD, retracted, "retracted", 9, NOW)
    _, results = await RelatedService(store).for_story(GUILD, RIVERTON, limit=20)
    ids = [r.article.id for r in results]
    assert mine in ids
    assert theirs not in ids
    assert pending not in ids
    assert retracted not in ids
    _, elsewhere = await RelatedService(store).for_story(OTHER_GUILD, RIVERTON, limit=20)
    assert theirs in [r.article.id for r in elsewhere]
    assert mine not in [r.article.id for r in elsewhere]
    assert retracted in [r.article.id for r in elsewhere]


async def test_a_free_text_search_offers_what_a_story_offers(store):
    mine = await add(store, GUILD, **face_story(1, "mine"))
    theirs = await add(store, OTHER_GUILD, **face_story(2, "theirs"))
    pending = await add(store, **face_story(3, "pending", published=False))
    retracted = await add(store, **face_story(4, "retracted"))
    await store.publication.decide(GUILD, retracted, "retracted", 9, NOW)
    ids = [r.article.id for r in await RelatedService(store).for_query(GUILD, "face scanning")]
    assert mine in ids
    assert {theirs, pending, retracted}.isdisjoint(ids)
    elsewhere = await RelatedService(store).for_query(OTHER_GUILD, "face scanning")
    assert {theirs, retracted} <= {r.article.id for r in elsewhere}
    assert pending not in {r.article.id for r in elsewhere}


async def test_a_story_pending_or_retracted_here_is_not_found(store):
    pending = await add(store, **face_story(3, "pending", published=False))
    retracted = await add(store, **face_story(4, "retracted"))
    await store.publication.decide(GUILD, retracted, "retracted", 9, NOW)
    service = RelatedService(store)
    for story in (pending, retracted):
        with pytest.raises(UserError, match="can't find"):
            await service.for_story(GUILD, story)
    assert (await service.story(OTHER_GUILD, retracted)).id == retracted
    await store.publication.decide(GUILD, pending, "published", 9, NOW)
    assert (await service.story(GUILD, pending)).id == pending


async def test_similar_stories_say_why_and_one_outlet_does_not_crowd_the_list(store):
    for n in range(5):
        await add(store, **face_story(n, "crowd"))
    await add(store, **face_story(9, "lone", title="Riverton police face scanning ban explained"))
    service = RelatedService(store, RelatedSettings(max_per_outlet=2))
    _, results = await service.for_story(GUILD, RIVERTON, limit=6)
    outlets = [r.article.provider.domain for r in results]
    assert outlets[:2] == ["valleypost.example", "statewire.example"]  # the story's own coverage
    assert outlets[2:5].count("crowd.example") == 2  # a third waits until "lone" is listed
    assert "lone.example" in outlets[2:5]
    assert outlets[5] == "crowd.example"
    similar = results[2]
    assert "shared topics: Privacy" in similar.reason
    assert "shared terms: " in similar.reason


def plain(*words: str) -> tuple[SearchTerm, ...]:
    return tuple(SearchTerm(w, (w,), 1.0 + n / 10) for n, w in enumerate(words))


async def reference_plan(
    store: Store, query: CandidateQuery
) -> tuple[tuple[str, ...], Window] | None:
    """The search plan of ``CandidateQuery``, written out in Python."""
    newest = max((await store.related.load(range(1, 1000))).keys())
    centre = query.centre_pk if query.centre_pk is not None else newest
    low, high = max(centre - query.half_window, 0), centre + query.half_window
    terms = list(query.terms)
    cap = query.term_cap
    counts = await store.related.term_counts(terms, low, high, cap=cap)
    if not any(counts.values()):
        low, high = 0, newest
        counts = await store.related.term_counts(terms, low, high, cap=cap)
    narrow = not any(0 < n < cap for n in counts.values())
    size = min(high, newest) - low + 2.0
    weighed = sorted(
        (-t.weight * math.log(size / counts[t.key]), t.key)
        for t in terms
        if counts[t.key] > 0 and (counts[t.key] < cap or narrow)
    )
    chosen: list[str] = []
    total = 0
    for _, key in weighed[: 2 if narrow else query.max_terms]:
        total += counts[key]
        if chosen and not narrow and total > query.term_budget:
            break
        chosen.append(key)
    if narrow:
        half = max((high - low) // 16, 1000)
        low, high = max(centre - half, 0), centre + (half if query.around else 0)
    return (tuple(chosen), Window(low, high, narrow)) if chosen else None


PLANS = [
    (plain("riverton", "police", "zzznothing"), 3, 2, 100, 100),  # all rare: all searched
    (plain("riverton", "police", "face", "ban"), 3, 2, 100, 4),  # the heaviest within budget
    (plain("face", "scanning", "ban", "riverton"), 3, 2, 2, 2),  # only common words: narrowed
    (plain("zzznothing", "parcel"), 1, 1, 100, 100),  # nothing near the story: the whole store
    (plain("zzznothing", "qqqnothing"), 3, 5, 100, 100),  # nothing anywhere
    (plain('"quoted', "NEAR(x", "title:", "*"), 3, 5, 100, 100),  # never query syntax
    ((SearchTerm("13000", ("13k", "13 000"), 2.0),), 3, 5, 100, 100),  # any of its forms
]


@pytest.mark.parametrize(("terms", "centre", "half", "cap", "budget"), PLANS)
@pytest.mark.parametrize("around", [True, False])
async def test_the_one_statement_plans_as_written_out(
    store, terms, centre, half, cap, budget, around
):
    for n in range(4):
        await add(store, **face_story(n, f"outlet{n}", excerpt=f"A $13K fine, {n} times."))
    query = CandidateQuery(
        terms=terms,
        centre_pk=centre if around else None,
        half_window=half,
        around=around,
        guild_id=GUILD,
        reference_time=0,
        term_cap=cap,
        term_budget=budget,
        max_terms=8,
        limit=40,
        pool=100,
    )
    weights = RelatedService(store).weights(False)
    search = await store.related.candidates(query, weights)
    expected = await reference_plan(store, query)
    assert (expected and (search.chosen, search.window)) == expected
    if expected is not None:
        again = await store.related.candidates(search.planned(), weights)
        assert [c.pk for c in again.candidates] == [c.pk for c in search.candidates]
        assert (again.chosen, again.window) == expected


async def test_a_story_is_found_by_link_and_by_id(store):
    service = RelatedService(store)
    by_link = await service.story(GUILD, RIVERTON + "?utm_source=x")
    assert by_link.canonical_url == RIVERTON
    assert (await service.story(GUILD, f"  {by_link.id.upper()} ")).id == by_link.id
    theirs = await add(store, OTHER_GUILD, **face_story(2, "theirs"))
    with pytest.raises(UserError, match="can't find"):
        await service.story(GUILD, theirs)
    assert (await service.story(OTHER_GUILD, theirs)).id == theirs


# sqlite_stat1 rows as ANALYZE left them on a 100k-article store.
LARGE_STORE_STATS = [
    ("articles", "articles_story", "100000 2"),
    ("articles", "articles_published_at", "100000 1"),
    ("articles", "sqlite_autoindex_articles_1", "100000 1"),
    ("articles", "sqlite_autoindex_articles_2", "100000 1"),
]


async def test_a_story_and_its_searches_never_read_every_article_once_statistics_exist(
    tmp_path,
):
    path = tmp_path / "analysed.db"
    async with await Store.open(path) as store:
        await ingest_paths(store, [EXAMPLES_DIR])
        await store._db.execute("ANALYZE")
        await store._db.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'articles'")
        await store._db.executemany("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", LARGE_STORE_STATS)
    async with await Store.open(path) as store:  # statistics are read when a connection opens
        plans: list[str] = []
        run = store.related._rows

        async def explained(sql: str, params: object) -> list[tuple[object, ...]]:
            plans.extend(r[3] for r in await run(f"EXPLAIN QUERY PLAN {sql}", params))
            return await run(sql, params)

        store.related._rows = explained  # type: ignore[method-assign]
        found = await store.related.story(RIVERTON, RIVERTON, GUILD, coverage=10)
        assert found is not None and found.coverage
        assert not [step for step in plans if "BLOOM FILTER ON a" in step or step == "SCAN a"]
        plans.clear()
        await RelatedService(store).for_story(GUILD, RIVERTON)  # and its searches
    assert any("VIRTUAL TABLE" in step for step in plans)
    assert not [step for step in plans if "BLOOM FILTER ON a" in step or step == "SCAN a"]
    assert "SCAN articles" not in plans
