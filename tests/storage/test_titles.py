"""Headline normalisation: the quick checks change nothing the four patterns would do."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from storage import titles
from storage.titles import analyse


def _four_passes(title: str) -> str:
    text = titles._SUFFIX.sub("", titles._PREFIX.sub("", title, count=1), count=1)
    text = titles._THOUSANDS.sub("", text)
    return titles._MONEY.sub(titles._money, text)


_PIECES = ["Analysis", ":", " ", "$", "40", "M", "million", ",", "000", "7", "|", "Outlet",
           "-", "–", "—", "bn", "k", ".", "5", "Nexora", "raises", "٣", "\t"]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(parts=st.lists(st.sampled_from(_PIECES), max_size=14))
def test_headline_is_what_the_four_passes_give(parts):
    title = "".join(parts)
    assert titles.headline(title) == _four_passes(title)


def test_grouping_keys_are_the_ones_earlier_versions_stored():
    # Stored in story_title_keys: changing them would keep old and new headlines apart.
    assert analyse("Nexora Raises $40M Series B Led by Accel") == (
        ("nexora", "raises", "40m", "series", "b", "led", "accel"),
        (-5781438097993250987, -5781438097390568179, -5351187514386364062, 8958282913964762698),
    )
    assert analyse("AI") == (("ai",), (-9223372036698435099,))
    assert analyse("the of and") == ((), ())
