"""Paged listings: whole lines, within Discord's description limit, the same pages each time."""

from __future__ import annotations

from bot.ui.embeds import LISTING_CHARACTERS
from bot.ui.pages import pack_pages


def test_pages_hold_whole_lines_within_the_limits():
    lines = [f"line {n} " + "x" * (n * 37 % 400) for n in range(300)]
    pages = pack_pages(lines)
    assert [line for page in pages for line in page] == lines
    assert all(1 <= len(page) <= 20 for page in pages)
    assert all(len("\n".join(page)) <= LISTING_CHARACTERS for page in pages)
    assert pack_pages(lines) == pages


def test_a_line_alone_over_the_limit_is_cut_and_nothing_is_an_empty_page():
    pages = pack_pages(["short", "y" * 5000, "after"])
    assert pages[0] == ["short"]
    assert len(pages[1][0]) == LISTING_CHARACTERS and pages[1][0].endswith("…")
    assert pages[2] == ["after"]
    assert pack_pages([]) == [[]]
