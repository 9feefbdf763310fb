"""The article file format: what is accepted, tolerated and refused, and how it is reported."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.articles.article_file import ArticleFileError, ParseLimits, front_matter_end, parse_article
from storage.models import ArticleDraft
from tests.factories import SAMPLE_FILE, article_fields, article_text


def parse(text: str) -> ArticleDraft:
    return parse_article(text.encode("utf-8"), source="news/item.md")


def refusal(data: bytes | str, limits: ParseLimits | None = None) -> ArticleFileError:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with pytest.raises(ArticleFileError) as caught:
        parse_article(raw, source="news/item.md", limits=limits or ParseLimits())
    assert str(caught.value).startswith("news/item.md: ")
    return caught.value


# --- a complete file ---------------------------------------------------------------------------


def test_every_field_of_a_complete_file_is_read():
    draft = parse_article(article_text("Body text.\n").encode(), source="a.md")
    assert draft.title == "Harbour City Trials Driverless Ferries"
    assert draft.excerpt.startswith("Two electric ferries")
    assert draft.published_at == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    assert draft.canonical_url == "https://harbour-times.example/transport/driverless-ferries"
    assert draft.original_url.endswith("?utm_source=x")
    assert (draft.category, draft.type, draft.quality, draft.heat) == ("news", "article", 64, 12)
    assert draft.published is False
    assert (draft.provider.name, draft.provider.domain) == (
        "Harbour Times",
        "harbour-times.example",
    )
    assert draft.topics == ("Autonomous Vehicles", "Transport")
    assert [(i.url, i.width, i.height, i.is_cached) for i in draft.images] == [
        ("https://harbour-times.example/img/ferry.jpg", 1200, 800, True)
    ]
    (related,) = draft.related
    assert related.title == "Captain-free ferries set sail in Harbour City"
    assert related.provider.name == "Coast Wire"
    assert related.quality == 41
    assert related.published_at == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert related.images[0].width == 640
    assert draft.secured == "b3BhcXVlLXNlY3JldC12YWx1ZQ==;dGVzdA=="
    assert draft.body == "Body text."


def test_secured_never_appears_in_the_repr():
    draft = parse_article(article_text().encode(), source="a.md")
    assert "b3BhcXVl" not in repr(draft)


@pytest.mark.skipif(not SAMPLE_FILE.exists(), reason="../shared/samples is not beside the checkout")
def test_the_shared_sample_parses_with_all_its_fields():
    draft = parse_article(SAMPLE_FILE.read_bytes(), source=str(SAMPLE_FILE))
    assert draft.quality == 29
    assert draft.heat == -1
    assert draft.topics == ("Computer Vision", "AI")
    assert len(draft.related) == 2
    assert draft.related[1].images == ()
    assert draft.secured and draft.secured.endswith("==")


def test_minimal_file_gets_defaults():
    text = (
        "---\ntitle: Short\nwebUrl: https://a.example/x\n"
        "publishedDateTime: 2026-01-02T03:04:05Z\n---\n"
    )
    draft = parse(text)
    assert (draft.quality, draft.heat, draft.published, draft.type) == (0, -1, False, "article")
    assert draft.topics == () and draft.related == () and draft.images == ()
    assert draft.secured is None


def test_original_url_alone_is_enough():
    draft = parse(article_text(webUrl=..., originalUrl="https://only-original.example/a"))
    assert draft.canonical_url == "https://only-original.example/a"


def test_unknown_keys_are_kept_as_json_values():
    draft = parse(article_text(editorNote="checked", embargo=datetime(2026, 1, 1, tzinfo=UTC)))
    assert draft.extra == {"editorNote": "checked", "embargo": "2026-01-01T00:00:00+00:00"}


# --- tolerances --------------------------------------------------------------------------------


def test_crlf_line_endings_and_bom_are_tolerated():
    text = article_text("Line one.\nLine two.\n").replace("\n", "\r\n")
    draft = parse_article(b"\xef\xbb\xbf" + text.encode(), source="a.md")
    assert draft.title == "Harbour City Trials Driverless Ferries"
    assert draft.body == "Line one.\nLine two."


def test_empty_body_and_missing_final_newline():
    draft = parse(article_text().rstrip("\n"))
    assert draft.body == ""


def test_quoted_numbers_are_read_as_numbers():
    draft = parse(article_text(quality="29", heat="-1"))
    assert (draft.quality, draft.heat) == (29, -1)


def test_topics_with_odd_spacing_and_case_are_one_topic_keeping_the_first_form():
    draft = parse(article_text(topics=["  ai ", "AI", "Machine   Learning", "machine learning"]))
    assert draft.topics == ("ai", "Machine Learning")


def test_a_single_topic_string_and_empty_lists_are_tolerated():
    assert parse(article_text(topics="Climate")).topics == ("Climate",)
    assert parse(article_text(topics=None, images=None, related=None)).related == ()


def test_topics_written_on_one_line_with_commas_are_each_a_topic():
    assert parse(article_text(topics="AI, Privacy,  Machine Learning ,")).topics == (
        "AI",
        "Privacy",
        "Machine Learning",
    )
    # an item of a list is taken whole
    assert parse(article_text(topics=["Law, Order"])).topics == ("Law, Order",)


def _with_topic_lines(*items: str) -> str:
    text = article_text(topics=["PLACEHOLDER"])
    return text.replace("- PLACEHOLDER", "\n".join(f"- {item}" for item in items), 1)


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("NO", "YAML reads as false (unquoted yes, no, on, off, true and false are yes/no"),
        ("On", "YAML reads as true"),
        ("2026", 'YAML reads as the number 2026: put it in quotes, as in "2026"'),
        ("3.10", 'the number 3.1: put it in quotes, as in "3.10"'),  # as written, not "3.1"
    ],
)
def test_an_unquoted_topic_yaml_reads_as_no_text_is_refused_saying_to_quote_it(written, problem):
    error = refusal(_with_topic_lines("Oil", written))
    assert error.field == "topics[1]"
    assert error.problem.startswith("is text that ")
    assert problem in error.problem
    assert parse(_with_topic_lines("Oil", f'"{written}"')).topics == ("Oil", written)


def test_dates_without_offset_or_time_are_utc():
    assert parse(article_text(publishedDateTime="2026-03-01T10:00:00")).published_at == datetime(
        2026, 3, 1, 10, tzinfo=UTC
    )
    text = article_text().replace(
        "publishedDateTime: '2026-11-01T08:30:00Z'", "publishedDateTime: 2026-03-01"
    )
    assert parse(text).published_at == datetime(2026, 3, 1, tzinfo=UTC)


def test_offsets_are_converted_to_utc():
    draft = parse(article_text(publishedDateTime="2026-11-22T11:00:00+01:00"))
    assert draft.published_at == datetime(2026, 11, 22, 10, tzinfo=UTC)


def test_related_entries_repeating_the_parent_or_each_other_are_dropped():
    entry = article_fields()["related"][0]
    parent = dict(entry, webUrl="https://harbour-times.example/transport/driverless-ferries#top")
    draft = parse(article_text(related=[entry, dict(entry), parent]))
    assert len(draft.related) == 1


def test_yaml_end_marker_closes_front_matter():
    text = article_text().replace("\n---\n", "\n...\n", 1)
    assert parse(text).title.startswith("Harbour")


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ("title: x\n", "front matter", "missing"),
        ("", "front matter", "missing"),
        ("---\ntitle: x\nwebUrl: https://a.example/\n", "front matter", "not terminated"),
        ("---\n- a\n- b\n---\n", "front matter", "mapping"),
        ("---\n---\n", "front matter", "not empty"),
    ],
)
def test_front_matter_structure_is_refused(data, field, words):
    error = refusal(data)
    assert error.field == field
    assert words.split()[-1] in error.problem


def test_yaml_syntax_errors_give_the_file_line():
    text = "---\ntitle: ok\nwebUrl: https://a.example/\nexcerpt: [unclosed\n---\n"
    error = refusal(text)
    assert error.field == "front matter"
    assert "YAML syntax error at line" in error.problem
    line = int(error.problem.split("line ")[1].split(":")[0])
    assert 4 <= line <= 5


def test_python_tags_are_not_honoured():
    error = refusal("---\ntitle: !!python/object/apply:os.system ['echo pwned']\n---\n")
    assert "python/object" in error.problem


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"title": ...}, "title", "is required"),
        ({"title": ""}, "title", "at least 1"),
        ({"title": 2024}, "title", 'the number 2024: put it in quotes, as in "2024"'),
        ({"title": ["a", "b"]}, "title", "valid string"),
        ({"publishedDateTime": ...}, "publishedDateTime", "is required"),
        ({"publishedDateTime": "yesterday"}, "publishedDateTime", "not an ISO 8601"),
        ({"publishedDateTime": "2026-02-30T00:00:00Z"}, "publishedDateTime", "not an ISO 8601"),
        ({"publishedDateTime": "0900-01-01"}, "publishedDateTime", "outside the years"),
        ({"publishedDateTime": 12345}, "publishedDateTime", "is the number 12345, not an ISO"),
        ({"webUrl": ..., "originalUrl": ...}, "webUrl", "is required"),
        ({"webUrl": "javascript:alert(1)"}, "webUrl", "'javascript:'"),
        ({"webUrl": "file:///etc/passwd"}, "webUrl", "'file:'"),
        ({"webUrl": "//no-scheme.example/a"}, "webUrl", "no scheme"),
        ({"webUrl": "https://"}, "webUrl", "no host"),
        ({"webUrl": "https://a.example/a b"}, "webUrl", "spaces"),
        ({"originalUrl": "ftp://a.example/x"}, "originalUrl", "'ftp:'"),
        ({"webUrl": "https://discord.com@evil.example/x"}, "webUrl", "user information"),
        ({"originalUrl": "https://u:pw@a.example/x"}, "originalUrl", "user information"),
        ({"quality": "high"}, "quality", "not a number written in decimal"),
        ({"quality": 101}, "quality", "less than or equal to 100"),
        ({"quality": -5}, "quality", "greater than or equal to 0"),
        ({"heat": 3.5}, "heat", "not a whole number"),
        ({"published": "perhaps"}, "published", "not a yes/no value: write true or false"),
        ({"provider": "Harbour Times"}, "provider", "valid dictionary"),
        ({"topics": [["nested"]]}, "topics[0]", "valid string"),
        ({"topics": ["x" * 101]}, "topics[0]", "at most 100"),
        ({"images": "not a list"}, "images", "valid list"),
        ({"related": "not a list"}, "related", "valid list"),
    ],
)
def test_bad_fields_are_refused_with_field_and_problem(overrides, field, words):
    error = refusal(article_text(**overrides))
    assert error.field == field
    assert words in error.problem


def parse_noting(text: str | bytes) -> tuple[ArticleDraft, list[str]]:
    """The draft, and the warnings about what was skipped or degraded in it."""
    warnings: list[str] = []
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_article(data, source="news/item.md", warnings=warnings), warnings


RELATED = article_fields()["related"][0]


CUT_TITLE_WARNING = (
    "title: has ' #' unquoted, which YAML reads as the start of a comment (stored without what"
    " follows it on the line; quote the value to keep it)"
)


def _with_title_line(line: str) -> str:
    text = article_text(title="PLACEHOLDER")
    return text.replace("title: PLACEHOLDER", line, 1)


def test_an_unquoted_title_cut_short_by_a_yaml_comment_is_stored_with_a_warning():
    draft, warnings = parse_noting(_with_title_line("title: Council votes #1 priority"))
    assert draft.title == "Council votes"
    assert warnings == [CUT_TITLE_WARNING]


@pytest.mark.parametrize(
    "line",
    ["title: 'Council votes #1 priority'", 'title: "Council votes #1 priority"'],
)
def test_a_quoted_title_keeps_its_hash_and_warns_nothing(line):
    draft, warnings = parse_noting(_with_title_line(line))
    assert draft.title == "Council votes #1 priority"
    assert warnings == []


def test_a_hash_inside_a_word_is_part_of_the_title():
    draft, warnings = parse_noting(_with_title_line("title: C# 13 ships with new features"))
    assert draft.title == "C# 13 ships with new features"
    assert warnings == []


def related_entry(n: int, **changes: Any) -> dict[str, Any]:
    entry = {**RELATED, "webUrl": f"https://coastwire.example/{n}", **changes}
    return {key: value for key, value in entry.items() if value is not ...}


@pytest.mark.parametrize(
    ("date", "warning"),
    [
        (..., "related[1].publishedDateTime: is missing (entry kept, date unknown)"),
        (None, "related[1].publishedDateTime: is missing (entry kept, date unknown)"),
        (
            "soon",
            "related[1].publishedDateTime: 'soon' is not an ISO 8601 date and time "
            "(entry kept, date unknown)",
        ),
        (
            "0900-01-01",
            "related[1].publishedDateTime: '0900-01-01' is outside the years 1900 to 2200 "
            "(entry kept, date unknown)",
        ),
        (
            [2026],
            "related[1].publishedDateTime: expected an ISO 8601 date and time, got [2026] "
            "(entry kept, date unknown)",
        ),
    ],
)
def test_a_related_entry_without_a_usable_date_is_kept_with_its_date_unknown(date, warning):
    entries = [related_entry(0), related_entry(1, publishedDateTime=date), related_entry(2)]
    draft, warnings = parse_noting(article_text(related=entries))
    assert draft.title == "Harbour City Trials Driverless Ferries"  # the article itself
    assert [r.web_url for r in draft.related] == [e["webUrl"] for e in entries]
    assert [r.published_at for r in draft.related] == [
        datetime(2026, 11, 1, 12, 0, tzinfo=UTC), None, datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    ]  # fmt: skip
    assert draft.related[1].title == RELATED["title"]
    assert draft.related[1].quality == RELATED["quality"]
    assert warnings == [warning]


def test_a_related_date_that_names_no_day_is_named_not_a_failure_to_read_the_file():
    # YAML reads an unquoted 2026-02-30 as a timestamp, and PyYAML raises ValueError for it
    text = article_text(related=[related_entry(0)]).replace(
        "publishedDateTime: '2026-11-01T12:00:00Z'", "publishedDateTime: 2026-02-30"
    )
    draft, warnings = parse_noting(text)
    assert draft.related[0].published_at is None
    assert warnings == [
        "related[0].publishedDateTime: '2026-02-30' is not an ISO 8601 date and time "
        "(entry kept, date unknown)"
    ]
    own = article_text().replace(
        "publishedDateTime: '2026-11-01T08:30:00Z'", "publishedDateTime: 2026-11-31T08:30:00Z"
    )
    error = refusal(own)
    assert (error.field, error.problem) == (
        "publishedDateTime",
        "'2026-11-31T08:30:00Z' is not an ISO 8601 date and time",
    )


@pytest.mark.parametrize(
    ("entry", "warning"),
    [
        (related_entry(1, title=...), "related[1].title: is required (entry skipped)"),
        (related_entry(1, title=""), "related[1].title: String should have at least 1"),
        (
            related_entry(1, webUrl=...),
            "related[1].webUrl: a webUrl or originalUrl (http or https) is required "
            "(entry skipped)",
        ),
        (
            related_entry(1, webUrl="javascript:alert(1)"),
            "related[1].webUrl: URL has 'javascript:'; only http and https links are allowed "
            "(entry skipped)",
        ),
        (
            related_entry(1, webUrl="https://discord.com@evil.example/x"),
            "related[1].webUrl: URL has user information (name@ before the host), which "
            "disguises the site it opens (entry skipped)",
        ),
        (
            related_entry(1, webUrl=..., originalUrl="file:///etc/passwd"),
            "related[1].originalUrl: URL has 'file:'; only http and https links are allowed "
            "(entry skipped)",
        ),
        ("just a line", "related[1]: is not a mapping of fields (got 'just a line') (entry"),
        (None, "related[1]: is not a mapping of fields (got None) (entry skipped)"),
    ],
)
def test_a_related_entry_that_cannot_name_an_article_is_skipped_with_a_warning(entry, warning):
    draft, warnings = parse_noting(article_text(related=[related_entry(0), entry]))
    assert [r.web_url for r in draft.related] == ["https://coastwire.example/0"]
    (only,) = warnings
    assert only.startswith(warning)
    assert only.endswith("(entry skipped)")


def test_other_bad_fields_of_a_related_entry_are_left_out_and_the_entry_kept():
    entry = related_entry(
        0, quality=150, provider="Coast Wire", excerpt=["a", "b"], originalUrl="ftp://x.example/"
    )
    draft, warnings = parse_noting(article_text(related=[entry]))
    (kept,) = draft.related
    assert (kept.web_url, kept.title) == ("https://coastwire.example/0", RELATED["title"])
    assert (kept.quality, kept.provider.name, kept.excerpt) == (0, "", "")
    assert kept.published_at == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert [w.split(":")[0] for w in warnings] == [
        "related[0].excerpt", "related[0].originalUrl", "related[0].quality", "related[0].provider"
    ]  # fmt: skip
    assert all(w.endswith("(left out)") for w in warnings)


def test_an_image_with_a_refused_url_is_skipped_not_the_file():
    images = [
        {"url": "https://harbour-times.example/a.jpg"},
        {"url": "javascript:alert(1)"},
        {"url": "https://discord.com@evil.example/b.jpg"},
        {"width": 3},
        "not an image",
    ]
    entry = related_entry(0, images=[{"url": "data:image/png;base64,AAAA"}, images[0]])
    draft, warnings = parse_noting(article_text(images=images, related=[entry]))
    assert [i.url for i in draft.images] == ["https://harbour-times.example/a.jpg"]
    assert [i.url for i in draft.related[0].images] == ["https://harbour-times.example/a.jpg"]
    assert [w.split(": ")[0] for w in warnings] == [
        "images[1].url", "images[2].url", "images[3].url", "images[4]",
        "related[0].images[0].url",
    ]  # fmt: skip
    assert all(w.endswith("(image skipped)") for w in warnings)
    assert "user information" in warnings[1]


@pytest.mark.skipif(not SAMPLE_FILE.exists(), reason="../shared/samples is not beside the checkout")
def test_the_real_sample_keeps_its_article_when_a_related_entry_goes_bad():
    sample = SAMPLE_FILE.read_bytes()
    la_times = b"    publishedDateTime: 2020-09-21T17:24:00Z\n"
    assert sample.count(la_times) == 1
    for replacement, published_at in [
        (b"", None),
        (b"    publishedDateTime: 2020-09-31T17:24:00Z\n", None),
        (b"    publishedDateTime: last Monday\n", None),
    ]:
        draft, warnings = parse_noting(sample.replace(la_times, replacement))
        assert draft.title.startswith("More than 1,000 Parents Sign Open Letter")
        assert [r.provider.name for r in draft.related] == ["MyNewsLA", "Los Angeles Times"]
        assert draft.related[1].published_at is published_at
        (warning,) = warnings
        assert warning.startswith("related[1].publishedDateTime: ")
        assert warning.endswith(" (entry kept, date unknown)")
    hostile = sample.replace(b'"https://www.latimes.com/', b'"https://discord.com@www.latimes.com/')
    draft, warnings = parse_noting(hostile)
    assert [r.provider.name for r in draft.related] == ["MyNewsLA"]
    assert warnings[0].startswith("related[1].webUrl: URL has user information")


def test_non_utf8_bytes_are_refused_with_offset():
    error = refusal(article_text().encode("utf-8").replace(b"Harbour", b"Harb\xe9ur", 1))
    assert error.field == "file"
    assert "not valid UTF-8" in error.problem and "0xe9" in error.problem


def test_a_windows_1252_export_is_told_to_save_as_utf8():
    error = refusal(article_text(title="Café owners protest").encode("cp1252"))
    assert error.problem.startswith("is not valid UTF-8 (byte 0xe9 at offset ")
    assert error.problem.endswith("): save or export it as UTF-8")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_export_is_named_as_such(encoding):
    error = refusal(article_text().encode(encoding))
    assert error.field == "file"
    assert error.problem == "is UTF-16 text, not UTF-8: save or export it as UTF-8"


def test_encoded_surrogates_are_refused():
    error = refusal(article_text().encode().replace(b"Harbour", b"Harb\xed\xa0\x80r", 1))
    assert "not valid UTF-8" in error.problem


def test_nul_bytes_are_refused():
    error = refusal(article_text().encode().replace(b"Harbour", b"Har\x00bour", 1))
    assert "NUL byte" in error.problem


AHEAD_BOUND = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_an_article_dated_decades_ahead_is_refused_as_a_likely_typo():
    text = article_text(publishedDateTime="2062-11-21T08:00:00Z")
    error = refusal(text, ParseLimits(latest_published=AHEAD_BOUND))
    assert error.field == "publishedDateTime"
    assert error.problem == (
        "is 2062-11-21 08:00 UTC, 36 years past the latest date accepted now"
        " (ingest.max_hours_ahead): a mistyped year or time zone?"
    )


def test_an_article_dated_hours_past_the_bound_says_how_many():
    text = article_text(publishedDateTime="2026-12-07T17:00:00+00:00")
    error = refusal(text, ParseLimits(latest_published=AHEAD_BOUND))
    assert "2026-12-07 17:00 UTC, 5 hours past" in error.problem


def test_an_article_dated_up_to_the_bound_is_stored():
    text = article_text(publishedDateTime="2026-12-07T13:00:00+01:00")  # 12:00 UTC
    draft = parse_article(text.encode(), limits=ParseLimits(latest_published=AHEAD_BOUND))
    assert draft.published_at == AHEAD_BOUND


def test_files_over_the_size_cap_are_refused():
    big = article_text(excerpt="x" * 5000)
    error = refusal(big, ParseLimits(max_file_bytes=4096))
    assert error.field == "file" and "4,096-byte limit" in error.problem


@pytest.mark.parametrize(("field", "cap"), [("topics", 50), ("images", 50), ("related", 100)])
def test_absurd_list_lengths_are_refused(field, cap):
    value = {
        "topics": [f"topic {n}" for n in range(cap + 1)],
        "images": [{"url": f"https://i.example/{n}.png"} for n in range(cap + 1)],
        "related": [
            dict(article_fields()["related"][0], webUrl=f"https://r.example/{n}")
            for n in range(cap + 1)
        ],
    }[field]
    error = refusal(article_text(**{field: value}))
    assert error.field == field and f"at most {cap}" in error.problem


def test_alias_bombs_are_refused_before_expansion():
    lines = ["---", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join(f'*a{n - 1}' for _ in range(10))}]" for n in range(1, 9)]
    lines += ["title: boom", "---"]
    error = refusal("\n".join(lines) + "\n")
    assert "aliases" in error.problem


def test_deep_nesting_is_refused():
    error = refusal("---\ntitle: " + "[" * 200 + "]" * 200 + "\n---\n")
    assert error.field == "front matter"


# --- properties --------------------------------------------------------------------------------


def _expect_article_or_error(data: bytes) -> None:
    with contextlib.suppress(ArticleFileError):
        parse_article(data, source="fuzz.md")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_give_an_article_or_an_article_error(data):
    _expect_article_or_error(data)
    _expect_article_or_error(b"---\n" + data + b"\n---\n")


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["title", "webUrl", "originalUrl", "publishedDateTime", "quality", "heat",
             "published", "provider", "topics", "images", "related", "secured", "other"]
        ),
        yaml_values,
    )
)  # fmt: skip
def test_arbitrary_yaml_gives_an_article_or_an_article_error(fields):
    front = yaml.safe_dump(fields, allow_unicode=True)
    _expect_article_or_error(f"---\n{front}---\n".encode())
    merged = article_fields(**fields)
    _expect_article_or_error(f"---\n{yaml.safe_dump(merged)}---\n".encode())


_ENTRY_FIELDS = ["title", "webUrl", "originalUrl", "publishedDateTime", "quality", "provider",
                 "images", "excerpt", "type", "other"]  # fmt: skip
# Values the store can keep: a NUL or a lone surrogate anywhere refuses the file (as tested
# above), whichever field holds it.
_storable_text = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_storable_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(_storable_text, max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(_storable_text, max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
related_entries = st.lists(
    _storable_values
    | st.dictionaries(st.sampled_from(_ENTRY_FIELDS), _storable_values)
    | st.builds(lambda n, **kw: related_entry(n, **kw), st.integers(0, 3),
                publishedDateTime=_storable_values, quality=_storable_values),
    max_size=5,
)  # fmt: skip


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(related_entries)
def test_whatever_its_related_entries_hold_the_article_is_stored(entries):
    draft, warnings = parse_noting(article_text(related=entries))
    assert draft.title == "Harbour City Trials Driverless Ferries"
    skipped = [w for w in warnings if w.endswith("(entry skipped)")]
    assert len(skipped) + len(draft.related) <= len(entries)  # repeated URLs are dropped
    undated = [w for w in warnings if w.endswith("(entry kept, date unknown)")]
    assert len(undated) >= sum(r.published_at is None for r in draft.related)
    assert all(re.match(r"(images|related)\[\d+\]", w) for w in warnings)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(parts=st.lists(st.sampled_from(["-", ".", " ", "\t", "\n", "a", "---", "..."])))
def test_the_end_of_front_matter_is_found_as_the_plain_line_regex_finds_it(parts):
    text = "".join(parts)
    expected = re.search(r"^(?:---|\.\.\.)[ \t]*$", text, re.MULTILINE)
    found = front_matter_end(text)
    assert found == ((expected.start(), expected.end()) if expected else None)
