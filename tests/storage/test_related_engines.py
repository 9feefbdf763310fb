"""The related engine's reads on both engines: PostgreSQL finds, for every term the engine
searches, the same articles as SQLite's FTS5 (words split at the same places, figures however
written, accents folded); title autocomplete on PostgreSQL offers what SQLite's does. The
PostgreSQL store is the SQLite one mirrored into a database of the test's own
(``bench.pg_copy.mirrored``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from bench.pg_copy import MirroredStore, mirrored
from bot.articles.article_file import parse_article
from bot.domain.related import RelatedService
from bot.domain.terms import query_terms, story_terms
from bot.domain.text import query_terms as typed_terms
from storage import Store
from storage.postgresql.titles import prefix_tsquery
from storage.related import CandidateQuery, SearchTerm
from tests.factories import article_text

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
GUILD, OTHER_GUILD = 1, 2
HEADLINES = [
    ("Reserve bank cuts rate to 1.75%", "The cut to 1.75 per cent was the first since 2019."),
    ("FreshWay buys Harvest Mart in $8.4bn deal", "The 8.4 billion dollar deal, at 3.5bn shares."),
    ("U.S. agency F.A.A. grounds CA-220 jets", "The Federal Aviation Administration acted."),
    ("Marathon record falls: 2:00:28 in Berlin", "Women's record set on 2026-11-20 at 09:30."),
    ("Outage at example.com hits nimbus.io users", "Mail to help@example.com bounced."),
    ("Café owner in Zoë's street wins award", "The café's résumé of 12,000 visitors."),
    ("AI-driven face-scanning vans in Port Caldwell", "Facial recognition, face_scan x_y."),
    ("$13K rebate for heat pumps", "A $13,000 rebate, 13 thousand dollars each."),
    ("“Harbour at Dusk” painting found — at last…", "O'Brien’s gallery had it since ’98."),
    ("Tromsø and Łódź twin their old towns", "Signed on the Hauptstraße by Ærø's mayor."),
    ("İzmir ferry strike ends", "Eskişehir buses run again."),
    ("Горбачёв: новый российский фильм", "Премьера в Київі, 서울 시장 선거."),
]


async def add(store: MirroredStore, n: int, title: str, excerpt: str, published: bool) -> str:
    draft = parse_article(_text(n, title, excerpt, published).encode(), source=f"{n}.md")
    await store.articles.upsert_batch([draft], NOW)
    stored = await store.articles.get_by_url(draft.canonical_url)
    assert stored is not None
    return stored.id


@pytest_asyncio.fixture
async def both(tmp_path, postgresql_database_url) -> AsyncIterator[MirroredStore]:
    async with await Store.open(tmp_path / "t.db") as sqlite:
        for n, (title, excerpt) in enumerate(HEADLINES):
            await sqlite.articles.upsert_batch(
                [parse_article(_text(n, title, excerpt).encode(), source=f"{n}.md")], NOW
            )
        async with mirrored(sqlite, postgresql_database_url) as store:
            yield store


def _text(n: int, title: str, excerpt: str, published: bool = True) -> str:
    return article_text(
        title=title,
        excerpt=excerpt,
        webUrl=f"https://outlet{n}.example/{n}",
        originalUrl=...,
        provider={"name": f"Outlet {n}", "domain": f"outlet{n}.example"},
        publishedDateTime="2026-11-20T10:00:00Z",
        topics=["Zzztopic"],
        related=[],
        published=published,
    )


def searched_terms() -> list[SearchTerm]:
    """Every term the engine searches for these stories, and what members might type."""
    terms = [t for title, excerpt in HEADLINES for t in story_terms(title, excerpt)]
    typed = [t for title, _ in HEADLINES for t in query_terms(title)]
    found = {t.key: SearchTerm(t.key, t.forms, t.weight) for t in [*terms, *typed]}
    found["topic"] = SearchTerm("topic", ("zzztopic",), 1.0)  # topics are not searched
    return list(found.values())


async def test_every_term_matches_the_same_articles_on_both_engines(both):
    terms = searched_terms()
    assert len(terms) > 60  # the comparison below compares something
    on_sqlite = await both.sqlite.related.term_counts(terms, 0, 1000, cap=100)
    on_postgresql = await both.related.term_counts(terms, 0, 1000, cap=100)
    assert on_postgresql == on_sqlite
    assert on_sqlite["topic"] == 0
    for form in (
        "1 75",
        "8 4bn",
        "3 5bn",
        "2 00 28",
        "09 30",
        "13 000",
        "cafe",
        "tromso",
        "lodz",
        "hauptstrasse",
        "aero",
    ):
        found = [t.key for t in terms if form in t.forms]
        assert found and all(on_postgresql[key] > 0 for key in found), form


async def test_the_same_searches_find_the_same_candidates(both):
    for n, (title, _) in enumerate(HEADLINES):
        on_sqlite = await RelatedService(both.sqlite).for_query(GUILD, title)
        on_postgresql = await RelatedService(both).for_query(GUILD, title)
        assert [r.article.id for r in on_postgresql] == [r.article.id for r in on_sqlite], n
        assert on_sqlite and on_sqlite[0].article.title == title


TYPED = ["rese", "reserv", "harbour", "marat", "ai", "re", "reserve bank", "1.75", "café"]
TYPED += [
    "cafe own",
    "zoë's",
    '"harbour at dus',
    "f.a.a",
    "tromso",
    "lodz twi",
    "tromsø",
    "İzmir",
    "İZMİR fer",
]


@pytest.mark.parametrize("typed", TYPED)
async def test_title_autocomplete_offers_what_sqlite_offers(both, typed):
    words = typed_terms(typed)  # as /related's autocomplete passes them
    on_sqlite = await both.sqlite.publication.suggest(GUILD, words, "published")
    on_postgresql = await both.postgresql.publication.suggest(GUILD, words, "published")
    assert {g.article.id for g in on_postgresql} == {g.article.id for g in on_sqlite}
    assert on_sqlite or len(typed) < 3


async def test_a_figure_is_found_by_its_words_and_its_phrases_on_both_engines(both):
    # A term's one-word forms are read first and its phrases only when those found fewer
    # than the cap: "12m" is in three articles, "12 million" in two more.
    figures = ("12m", "12m", "12 million", "12m", "12 million")
    for n, figure in enumerate(figures, start=30):
        await add(both, n, f"Harbour fund of {figure} approved", "Dredging starts.", True)
    await both.copy()
    term = SearchTerm("12000000", ("12 million", "12m"), 2.0)
    for cap, count in ((3, 3), (10, 5)):
        query = _query(term, cap)
        for engine in (both.sqlite, both):
            search = await engine.related.candidates(query, RelatedService(engine).weights(False))
            assert search.counts == {"12000000": count}, (engine, cap)
            titles = {c.title for c in search.candidates}
            assert titles == {f"Harbour fund of {f} approved" for f in figures}, (engine, cap)


def _query(term: SearchTerm, cap: int) -> CandidateQuery:
    return CandidateQuery(
        terms=(term,),
        centre_pk=None,
        half_window=1000,
        around=False,
        guild_id=GUILD,
        reference_time=int(NOW.timestamp()),
        term_cap=cap,
        term_budget=3000,
        max_terms=24,
        limit=10,
        pool=60,
    )


HOSTILE = ['"', "'", "\\", "a & b | !c", "x:*", "<->", "'quoted'", "\x00", "🚓", "(((", ":AC"]


@pytest.mark.parametrize("typed", HOSTILE)
async def test_typed_syntax_is_only_text(both, typed):
    query = prefix_tsquery([typed])
    assert query.count("'") in (0, 2) and "\\" not in query
    found = await both.postgresql.publication.suggest(GUILD, [typed], "published")
    assert found == []


async def test_autocomplete_offers_only_what_the_guild_lists_in_the_state(both):
    theirs = await add(both, 20, "Reserve bank of elsewhere", "", published=True)
    await both.sqlite._db.execute(
        "UPDATE articles SET origin_guild_id = ? WHERE id = ?", (OTHER_GUILD, theirs)
    )
    pending = await add(both, 21, "Reserve bank pending story", "", published=False)
    await both.copy()
    published = await both.postgresql.publication.suggest(GUILD, ["reserve"], "published")
    waiting = await both.postgresql.publication.suggest(GUILD, ["reserve"], "pending")
    everything = await both.postgresql.publication.suggest(GUILD, ["reserve"], "any")
    assert [g.article.title for g in published] == ["Reserve bank cuts rate to 1.75%"]
    assert [(g.article.id, g.state) for g in waiting] == [(pending, "pending")]
    assert {g.article.id for g in everything} == {pending, published[0].article.id}
    elsewhere = await both.postgresql.publication.suggest(OTHER_GUILD, ["reserve"], "published")
    assert theirs in {g.article.id for g in elsewhere}
    newest = await both.postgresql.publication.suggest(GUILD, [], "pending")
    assert [g.article.id for g in newest] == [pending]


async def test_equal_scores_list_the_newest_first_on_both_engines(both):
    # fifteen updates alike but for their number, all of one moment: a query matches them
    # all equally, and the ten it lists are the last stored, on either engine
    ids = [await add(both, n, f"Dredging bulletin {n}", "Silt moved.", True) for n in range(40, 55)]
    await both.copy()
    for engine in (both.sqlite, both):
        listed = [r.article.id for r in await RelatedService(engine).for_query(GUILD, "dredging")]
        assert listed == ids[::-1][:10], engine
