"""Which page of a listing to read: the page asked for, kept within the pages there are."""

from __future__ import annotations

import math
from typing import NamedTuple


class PageWindow(NamedTuple):
    """Page ``number`` of ``pages`` (1-based), read from ``offset``."""

    number: int
    pages: int
    offset: int


def page_window(total: int, asked: int, per_page: int) -> PageWindow:
    """The page ``asked`` for among ``total`` items, ``per_page`` a page: a page past the
    end (items went since the buttons were drawn) is the last one, and there is always one."""
    pages = max(1, math.ceil(total / per_page))
    number = min(max(asked, 1), pages)
    return PageWindow(number, pages, (number - 1) * per_page)
