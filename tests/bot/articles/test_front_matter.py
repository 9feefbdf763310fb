"""The lean front-matter loader gives exactly what ``yaml.load(..., CSafeLoader)`` gives."""

from __future__ import annotations

from datetime import UTC

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.articles import front_matter
from tests.bot.articles.yaml_outcomes import outcome, stock_outcome, walked


def _assert_same(text: str) -> None:
    assert outcome(front_matter.load, text) == stock_outcome(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment",
        "title: plain\nquality: 29\nheat: -1\npublished: true\n",
        "quality: '29'\nq2: \"29\"\nq3: !!int '7'\nq4: !!str 7\n",
        "octal: 012\nhex: 0x1F\nunder: 1_000\nsexa: 1:30\nplus: +5\nzero: -0\nbig: 99999999999999999999",
        "floats: [1.5, .inf, -.Inf, .nan, 1e3, 6.8523015e+5, 190:20:30.15]",
        "bools: [yes, No, on, OFF, y, n, true, False]\nnulls: [~, null, Null, '']",
        "when: 2021-12-20T12:54:00Z\nday: 2002-12-14\nbad: 2021-13-45\nspaced: 2001-12-14 21:59:43.10 -5",
        "base: &b {a: 1, b: 2}\nchild:\n  <<: *b\n  c: 3\n",
        "list: &l [1, 2]\nsame: *l\nagain: *l\n",
        "bin: !!binary aGVsbG8=\nset: !!set {a, b}\nomap: !!omap [a: 1]\npairs: !!pairs [a: 1]",
        "? [a, b]\n: unhashable\n",
        "? {a: 1}\n: unhashable\n",
        "dup: 1\ndup: 2\n",
        "1: int key\n2.5: float key\ntrue: bool key\n~: null key\n2020-01-01: date key\n",
        "=: value key\n",
        "!custom tag: no\n",
        "a: !custom 1\n",
        "---\na: 1\n---\nb: 2\n",
        "a: [unclosed\n",
        "a: b: c\n",
        "&r [*r]",
        "&m {self: *m}",
        "- a\n- b\n",
        "just a string",
        '"\\0 nul escape"',
        "a: '\\ud800'\nb: \"\\ud800\"",
        "[" * 2000 + "]" * 2000,
        "tabs:\t1\n",
        "multi: |\n  line one\n  line two\nfolded: >\n  a\n  b\n",
    ],
)
def test_known_corners_load_as_the_stock_loader_loads_them(text):
    _assert_same(text)


def test_aliased_collections_stay_shared_as_in_pyyaml():
    loaded = front_matter.load("list: &l [1, 2]\nsame: *l\n")
    assert loaded["list"] is loaded["same"]


def test_a_recursive_alias_is_built_as_pyyaml_builds_it():
    loaded = front_matter.load("&m {self: *m}")
    assert loaded["self"] is loaded


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([None, UTC])),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(st.text(max_size=10), st.integers()), inner, max_size=5),
    ),
    max_leaves=30,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(value=_VALUES, flow=st.sampled_from([None, True, False]), unicode=st.booleans())
def test_any_dumped_value_loads_as_the_stock_loader_loads_it(value, flow, unicode):
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=unicode)
    _assert_same(text)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab1:-[]{},&*!<>?|'\"#\n \t.~0x_")), max_size=60))
def test_any_yaml_like_text_gives_the_same_value_or_the_same_error(text):
    _assert_same(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(value=_VALUES, flow=st.sampled_from([None, True, False]))
def test_the_loader_counts_values_and_depth_as_the_shape_check_walks_them(value, flow):
    loaded = front_matter.load_counted(yaml.safe_dump(value, default_flow_style=flow))
    if loaded.counted:  # no alias, no stock loader
        assert (loaded.values, loaded.depth) == walked(loaded.value)


def test_a_repeated_alias_is_never_taken_as_counted():
    loaded = front_matter.load_counted("a: &x [1, 2]\nb: *x\nc: *x\n")
    assert not loaded.counted
