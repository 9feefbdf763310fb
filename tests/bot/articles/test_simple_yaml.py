"""The line reader for plain block YAML: what it reads equals ``yaml.load``; the rest it refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.articles import front_matter, simple_yaml
from tests.bot.articles.yaml_outcomes import outcome, stock_outcome, walked
from tests.factories import EXAMPLES_DIR, SAMPLE_FILE, article_text


def _front_matter(text: str) -> str:
    return text.removeprefix("\ufeff").split("---\n")[1]


def _read_or_none(text: str) -> simple_yaml.Counted | None:
    try:
        return simple_yaml.read(text)
    except simple_yaml.NotSimple:
        return None


def _assert_read_as_stock_reads(text: str) -> simple_yaml.Counted | None:
    read = _read_or_none(text)
    if read is not None:
        assert ("value", repr(read.value)) == stock_outcome(text)
        composed = front_matter.load_composed(text)
        assert (read.values, read.depth) == (composed.values, composed.depth)
        assert read.values >= walked(read.value)[0]  # repeated keys count each time
    return read


def test_an_export_shaped_file_is_read_line_by_line():
    text = (
        'title: "Parents Sign Open Letter: \\"Ban It\\" Now"\n'
        "excerpt: 'It''s part of a new effort, #1 in K-12 schools.'\n"
        "publishedDateTime: 2020-09-18T09:41:00Z\n"
        'webUrl: "https://example.com/a?b=1#frag"\n'
        "quality: 29\nheat: -1\npublished: false\nnothing:\n\n"
        "provider:\n  name: Campus Safety Magazine\n  domain: campussafety.example\n"
        "topics:\n  - Computer Vision\n  - AI\n"
        "images:\n- url: https://img.example/1.jpg\n  width: 2560\n  isCached: true\n"
        "related:\n"
        "  - title: LAPD Relies on Software in 30,000 Cases\n"
        "    provider:\n      name: MyNewsLA\n    quality: 37\n"
        "    images:\n      - url: https://img.example/2.png\n"
        "  - title: Another\n"
    )
    read = _assert_read_as_stock_reads(text)
    assert read is not None
    assert read.value["title"] == 'Parents Sign Open Letter: "Ban It" Now'
    assert read.value["excerpt"] == "It's part of a new effort, #1 in K-12 schools."
    assert read.value["publishedDateTime"] == datetime(2020, 9, 18, 9, 41, tzinfo=UTC)
    assert read.value["nothing"] is None
    assert read.value["related"][0]["images"] == [{"url": "https://img.example/2.png"}]


def test_the_bundled_examples_and_test_articles_take_the_quick_way_where_they_can():
    block_style = [
        path for path in sorted(EXAMPLES_DIR.iterdir()) if "[" not in path.read_text("utf-8")
    ]
    assert block_style, "the examples should include plain block YAML"
    for path in block_style:
        assert _assert_read_as_stock_reads(_front_matter(path.read_text("utf-8"))) is not None
    assert _assert_read_as_stock_reads(_front_matter(article_text())) is not None


@pytest.mark.skipif(not SAMPLE_FILE.exists(), reason="../shared/samples is not beside the checkout")
def test_the_shared_sample_takes_the_quick_way():
    assert _assert_read_as_stock_reads(_front_matter(SAMPLE_FILE.read_text("utf-8"))) is not None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n  \n",
        "# a comment\na: 1\n",
        "a: 1 # a comment\n",
        "a: [1, 2]\n",
        "a: {b: 1}\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: |\n  block\n",
        "a: >\n  folded\n",
        "a: plain\n  continued\n",
        'a: "quoted\n  continued"\n',
        "a:\tb\n",
        'a: "\\x41"\n',
        'a: "\\u00e9"\n',
        'a: "ends early" b\n',
        "a: 'odd ' quote'\n",
        "on: 1\n",
        "null: 1\n",
        "1: one\n",
        "<<: {a: 1}\n",
        "? a\n: b\n",
        '"a": 1\n',
        "a b: 1\n",
        "a: b: c\n",
        "a: b:\n",
        "a:b\n",
        "- a\n- b\n",
        "a:\n  - \n",
        "a:\n  -\n",
        "a:\n  - - b\n",
        "a: 1\n b: 2\n",
        "a:\n    b: 1\n  c: 2\n",
        "  a: 1\n",
        "a: = \n",
        "a: 2021-13-45\n",
        "a: %x\n",
        "a: @x\n",
        "a: `x\n",
        "a: \x85\n",
        "a: x\u2028y\n",
        "k" * 101 + ": 1\n",
        "---\na: 1\n",
        "a: 1\n...\n",
    ],
)
def test_what_it_does_not_read_is_left_to_the_stock_loader(text):
    assert _read_or_none(text) is None
    assert outcome(front_matter.load, text) == stock_outcome(text)


_KEYS = st.sampled_from(
    ["a", "b", "title", "isCached", "x-y", "_k", "on", "Null", "y", "n", "e1", "k" * 100]
)
_TRICKY_VALUES = [
    "", "plain words", "-1", "-0", "+5", "012", "0x1F", "1_000", "1:30", "3.5", ".inf",
    "-.5", "1e3", "yes", "No", "~", "null", "true", "2020-09-18T09:41:00Z",
    "2002-12-14", "2001-12-14 21:59:43.10 -5", "2021-13-45", "C#", "a #b", "a:b",
    "a: b", "x:", "-", "- x", "-x", "[a]", "a]", "{a", "a, b", "&a", "*a", "!t", "|",
    ">", "%", "@", "`", "?", "? x", ":x", "'single'", "'it''s'", "'odd ' one'", "''",
    '"double"', '"say \\"hi\\""', '"back\\\\slash"', '"tab\\tnew\\nline"', '"a\\/b"',
    '"\\x41"', '"\\u00e9"', '"\\"', '"', '"a" b', "'a' b", "é ü ñ", "…", "=",
    "http://a.example/b?c=1#d", "-.inf", ".", "...", "---", "a\x85b", "a\u2028b",
    "\ufeffa", "a\x7fb",
]  # fmt: skip
_VALUES = st.one_of(
    st.sampled_from(_TRICKY_VALUES),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
)


# mostly what exports hold, so that most documents are read rather than refused
_USUAL_KEYS = st.sampled_from(["a", "b", "title", "isCached", "x-y", "_k"])
_USUAL_VALUES = st.sampled_from(
    ["plain words", "29", "-1", "true", "~", "2020-09-18T09:41:00Z", '"a: quoted"', "'it''s'"]
)
_TREE_KEYS = st.one_of(*[_USUAL_KEYS] * 6, _KEYS)
_PRINTABLE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=12
)
_TREE_VALUES = st.one_of(_USUAL_VALUES, _USUAL_VALUES, _PRINTABLE_TEXT, _VALUES)
_TREES = st.recursive(
    _TREE_VALUES,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.lists(st.tuples(_TREE_KEYS, inner), min_size=1, max_size=4),
    ),
    max_leaves=12,
)


def _render(node: Any, indent: int, steps: list[int], lines: list[str]) -> None:
    """``node`` (a token, a list of nodes or a list of (key, node) pairs) as block YAML."""
    step = steps[len(lines) % len(steps)]
    for entry in node:
        if isinstance(entry, tuple):
            key, value = entry
            if isinstance(value, str):
                lines.append(f"{' ' * indent}{key}: {value}")
            else:
                lines.append(f"{' ' * indent}{key}:")
                _render(value, indent + step, steps, lines)
        elif isinstance(entry, str):
            lines.append(f"{' ' * indent}- {entry}")
        elif entry and isinstance(entry[0], tuple):
            first = len(lines)
            _render(entry, indent + 2, steps, lines)
            lines[first] = f"{' ' * indent}- {lines[first][indent + 2 :]}"
        else:
            lines.append(f"{' ' * indent}-")
            _render(entry, indent + step, steps, lines)


@st.composite
def _documents(draw: st.DrawFn) -> str:
    pairs = draw(st.lists(st.tuples(_TREE_KEYS, _TREES), min_size=1, max_size=5))
    steps = draw(st.lists(st.sampled_from([0, 1, 2, 2, 4]), min_size=1, max_size=3))
    lines: list[str] = []
    _render(pairs, 0, steps, lines)
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):  # a slip of the hand somewhere
        at = draw(st.integers(0, len(lines) - 1))
        slip = draw(st.sampled_from(["indent", "dedent", "blank", "trailing"]))
        if slip == "indent":
            lines[at] = " " + lines[at]
        elif slip == "dedent":
            lines[at] = lines[at].removeprefix(" ")
        elif slip == "blank":
            lines.insert(at, " " * draw(st.integers(0, 3)))
        else:
            lines[at] += "  "
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(text=_documents())
def test_any_block_document_is_read_as_the_stock_loader_reads_it_or_refused(text):
    _assert_read_as_stock_reads(text)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(value=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20))
def test_any_characters_in_a_value_are_read_as_the_stock_loader_reads_them_or_refused(value):
    _assert_read_as_stock_reads(f"a: {value}\nb: '{value}'\nc: \"{value}\"\n")


_DUMPABLE_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
    st.datetimes(timezones=st.sampled_from([None, UTC])),
)  # fmt: skip
_DUMPABLE = st.recursive(
    _DUMPABLE_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True), inner),
    ),
    max_leaves=25,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    value=st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), _DUMPABLE, min_size=1),
    indent=st.sampled_from([2, 4]),
)
def test_any_dumped_mapping_is_read_as_the_stock_loader_reads_it_or_refused(value, indent):
    text = yaml.safe_dump(value, default_flow_style=False, allow_unicode=True, indent=indent)
    _assert_read_as_stock_reads(text)


def test_typical_dumped_articles_are_not_refused():
    # the quick way has to be the usual way, or it is only a cost
    refused = 0
    for n in range(50):
        text = _front_matter(article_text(title=f"Headline number {n}: what's new"))
        refused += _assert_read_as_stock_reads(text) is None
    assert refused == 0


@pytest.mark.slow
@settings(
    max_examples=20_000, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
@given(text=_documents())
def test_block_documents_at_scale_are_read_as_the_stock_loader_reads_them_or_refused(text):
    _assert_read_as_stock_reads(text)
