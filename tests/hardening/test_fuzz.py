"""Fuzzing the front-matter parser and the search query builder.

Each property runs twice: a few hundred examples in the default suite, and 100,000 under the
``slow`` marker (``python -m pytest -m slow tests/hardening``). The parser must answer an
article or an ``ArticleFileError`` (short, naming a field, never showing ``secured``); what
members type must never make the store raise, whichever search runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.articles.article_file import ArticleFileError, draft_from_fields, parse_article
from bot.domain.errors import UserError
from bot.domain.related import RelatedService
from bot.domain.text import query_terms
from bot.ingest.writer import ingest_paths
from storage import Store
from storage.related import SearchTerm
from tests.factories import EXAMPLES_DIR, article_fields, article_text
from tests.hardening.hostile_corpus import SECRET

FAST = 300
SLOW = 100_000
# The other parser properties add variety; 100k inputs each would take the slow suite past
# ten minutes on this machine, so they run a tenth of that.
SLOW_EXTRA = 10_000


def _settings(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


# --- the parser ------------------------------------------------------------------------------

FIELDS = [
    "title", "excerpt", "webUrl", "originalUrl", "publishedDateTime", "quality", "heat",
    "published", "provider", "topics", "images", "related", "category", "type", "secured",
    "other",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "https://a.example/x", "javascript:alert(1)", "file:///etc/passwd", "//x", "http://",
            "2026-01-01", "2026-02-30T00:00:00Z", "0001-01-01", "9999-12-31T23:59:59+14:00",
            "29", "-1", "1e400", "nan", "yes", "~", "", " ", "\x00", "a\x00b", "\u202e", "🌍",
        ]
    )
)  # fmt: skip
yaml_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)
python_values = st.recursive(
    scalars
    | st.binary(max_size=20)
    | st.datetimes()
    | st.dates()
    | st.sets(st.integers(), max_size=3),
    lambda children: (
        st.lists(children, max_size=5)
        | st.tuples(children, children)
        | st.dictionaries(st.sampled_from(FIELDS) | st.integers(), children, max_size=5)
    ),
    max_leaves=25,
)
field_maps = st.dictionaries(st.sampled_from(FIELDS), yaml_values, max_size=8)

# Pieces of YAML, put together at random: tags, anchors, aliases, flow and block syntax.
YAML_TOKENS = [
    "---", "...", "\n", "\n  ", "\n- ", ": ", "title", "webUrl", "secured", "topics", "related",
    "[", "]", "{", "}", ",", "&a ", "*a", "*b", "&b ", "!!python/object:os.system ", "!!binary ",
    "!!timestamp ", "!!int ", "!!float ", "!!set ", "!!omap ", "!tag ", "<<: ", "? ", "|", ">",
    "'", '"', "\\", "#", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "https://a.example/", "x",
    "2026-01-01", "\t", "\r\n", "\ufeff", "\x85", "\u2028", "é", "\xe9", "0x1F", ".inf",
]  # fmt: skip
yaml_soup = st.lists(st.sampled_from(YAML_TOKENS), max_size=40).map("".join)


def expect_article_or_error(data: bytes) -> None:
    warnings: list[str] = []
    try:
        parse_article(data, source="fuzz.md", warnings=warnings)
    except ArticleFileError as error:
        check_error(error)
    for warning in warnings:  # a skipped or degraded entry: bounded, never the secret
        assert len(warning) < 1000, warning[:300]
        assert SECRET not in warning


def check_error(error: ArticleFileError) -> None:
    assert error.field
    assert len(str(error)) < 1000, str(error)[:300]
    assert SECRET not in str(error)


def _front(fields: dict[str, Any]) -> bytes:
    return f"---\n{yaml.safe_dump(fields, allow_unicode=True)}---\n".encode()


def check_bytes(data: bytes) -> None:
    expect_article_or_error(data)
    expect_article_or_error(b"---\n" + data + b"\n---\n")
    expect_article_or_error(b"---\ntitle: t\nsecured: " + data + b"\n---\n")


def check_soup(text: str) -> None:
    expect_article_or_error(text.encode())
    expect_article_or_error(f"---\n{text}\n---\n".encode())
    expect_article_or_error(f"---\nsecured: {SECRET}{text}\n---\n".encode())
    base = article_text(secured=SECRET).rstrip("-\n")
    expect_article_or_error(f"{base}\n{text}\n---\n".encode())


def check_fields(fields: dict[str, Any]) -> None:
    fields = {**fields, "secured": fields.get("secured", SECRET)}
    expect_article_or_error(_front(fields))
    expect_article_or_error(_front(article_fields(**{**fields, "secured": SECRET})))


def check_python_fields(fields: dict[Any, Any]) -> None:
    for candidate in (fields, {**article_fields(), **fields, "secured": SECRET}):
        try:
            draft_from_fields(candidate, source="/article add")
        except ArticleFileError as error:
            check_error(error)


@_settings(FAST)
@given(st.binary(max_size=2048))
def test_fuzz_parser_bytes(data):
    check_bytes(data)


@_settings(FAST)
@given(yaml_soup)
def test_fuzz_parser_yaml_soup(text):
    check_soup(text)


@_settings(FAST)
@given(field_maps)
def test_fuzz_parser_yaml_fields(fields):
    check_fields(fields)


@_settings(FAST)
@given(st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), python_values, max_size=8))
def test_fuzz_parser_python_fields(fields):
    check_python_fields(fields)


@pytest.mark.slow
@_settings(SLOW)
@given(st.binary(max_size=2048))
def test_fuzz_parser_bytes_at_scale(data):
    check_bytes(data)


@pytest.mark.slow
@_settings(SLOW_EXTRA)
@given(yaml_soup)
def test_fuzz_parser_yaml_soup_at_scale(text):
    check_soup(text)


@pytest.mark.slow
@_settings(SLOW_EXTRA)
@given(field_maps)
def test_fuzz_parser_yaml_fields_at_scale(fields):
    check_fields(fields)


@pytest.mark.slow
@_settings(SLOW_EXTRA)
@given(st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), python_values, max_size=8))
def test_fuzz_parser_python_fields_at_scale(fields):
    check_python_fields(fields)


# --- the search query builder ----------------------------------------------------------------

# What members type: FTS5 syntax, quotes, operators, column filters, scripts, odd code points.
QUERY_PIECES = [
    '"', "'", "*", "^", "-", "+", ":", "(", ")", "{", "}", "[", "]", "NEAR(", "NEAR/2", "AND",
    "OR", "NOT", "title:", "excerpt:", "topics:", "{title excerpt}:", "rank", "bm25", "\\", ";",
    "--", "/*", "%", "_", "\x00", " ", "\t", "\n", "ai", "Riverton", "face", "ß", "İ", "ǅ",
    "ﬁ", "é", "e\u0301", "\u200d", "\ufeff", "\u202e", "🌍", "👩\u200d👩\u200d👧", "中文", "العربية",
    "0", "40M", "$40 million", "x" * 50, "\U0010ffff",
]  # fmt: skip
query_text = st.text(max_size=200) | st.lists(st.sampled_from(QUERY_PIECES), max_size=30).map(
    "".join
)
raw_terms = st.lists(st.text(max_size=30), max_size=10)


@pytest.fixture(scope="module")
def searchable(tmp_path_factory) -> Iterator[tuple[asyncio.AbstractEventLoop, Store]]:
    """A real store (FTS5) holding the examples and a few unicode headlines."""
    folder = tmp_path_factory.mktemp("fuzz-store")
    loop = asyncio.new_event_loop()
    articles = folder / "articles"
    articles.mkdir()
    for n, title in enumerate(
        ["ß and İ in a headline", "中文 标题 with AI", "Riverton “quoted” NEAR title", "e\u0301 🌍"]
    ):
        (articles / f"{n}.md").write_text(
            article_text(title=title, webUrl=f"https://fuzz.example/{n}", originalUrl=...),
            encoding="utf-8",
        )

    async def open_store() -> Store:
        store = await Store.open(folder / "fuzz.db")
        report = await ingest_paths(store, [EXAMPLES_DIR, articles])
        assert report.rejected == []
        return store

    store = loop.run_until_complete(open_store())
    yield loop, store
    loop.run_until_complete(store.close())
    loop.close()


async def search_everywhere(store: Store, text: str, terms: list[str]) -> None:
    """Every search a member's text reaches; none may raise an SQL error."""
    words = query_terms(text)
    await store.articles.search(words)
    await store.articles.search(words, any_term=True, guild_id=1)
    await store.articles.search(terms, any_term=True)
    await store.publication.suggest(0, words, "any")
    if terms and any(terms):
        await store.publication.suggest(0, [t for t in terms if t] or ["x"], "pending")
    await store.related.term_counts(
        [SearchTerm(w, (w, *terms[:2]), 1.0) for w in words], 0, 10**9, cap=100
    )
    with contextlib.suppress(UserError):  # nothing to search for: said to the member
        await RelatedService(store).for_query(0, text)


def check_search(searchable: tuple[asyncio.AbstractEventLoop, Store], text: str, terms) -> None:
    loop, store = searchable
    try:
        loop.run_until_complete(search_everywhere(store, text, terms))
    except sqlite3.Error as error:  # pragma: no cover - the failure being looked for
        pytest.fail(f"{type(error).__name__}: {error} for {text!r} / {terms!r}")


def test_fuzz_query_known_hostile_inputs(searchable):
    for text in [*QUERY_PIECES, 'NEAR("x', '"unterminated', "a OR", "title:x*", "-", "^x"]:
        check_search(searchable, text, [text])


@_settings(FAST)
@given(text=query_text, terms=raw_terms)
def test_fuzz_query_never_raises(searchable, text, terms):
    check_search(searchable, text, terms)


@pytest.mark.slow
@_settings(SLOW)
@given(text=query_text, terms=raw_terms)
def test_fuzz_query_never_raises_at_scale(searchable, text, terms):
    check_search(searchable, text, terms)


def test_a_nul_in_a_search_term_is_not_an_sql_error(searchable):
    loop, store = searchable
    assert loop.run_until_complete(store.articles.search(["a\x00b"])) == []
