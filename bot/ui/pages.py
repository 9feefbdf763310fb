"""Paginated listings with buttons that keep working after a restart (dynamic custom ids)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import discord

# Discord forgets a press not answered within 3 seconds ("This interaction failed"); a page
# not rendered by then (a loaded machine, a busy store) is acknowledged first, shown when ready.
from bot.answers import ANSWER_WITHIN_S
from bot.domain.text import clip
from bot.errors import report_error, send_private
from bot.ui.embeds import BRAND_COLOUR, LISTING_CHARACTERS, fit_lines, plain
from bot.ui.stale import in_range, stale_reply
from storage.models import Topic

TOPICS_PER_PAGE = 20
LINES_PER_PAGE = 20

Render = Callable[
    [discord.Interaction[Any], int], Awaitable[tuple[list[discord.Embed], discord.ui.View]]
]


def nav_buttons(kind: str, page: int, pages: int, *, row: int = 0) -> list[discord.ui.Button[Any]]:
    """Previous / page n of m / Next buttons for one listing."""
    return [
        PageButton(kind, page - 1, label="◀ Previous", disabled=page <= 1, row=row).item,
        discord.ui.Button(label=f"{page} / {pages}", disabled=True, row=row),
        PageButton(kind, page + 1, label="Next ▶", disabled=page >= pages, row=row).item,
    ]


def view_of(items: Sequence[discord.ui.Item[Any]]) -> discord.ui.View:
    """A view holding ``items`` that never times out (its buttons are persistent: they work
    after a restart)."""
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view


_PAGE_RENDERERS: dict[str, Render] = {}


def page_renderer(kind: str) -> Callable[[Render], Render]:
    """Register how a listing renders one of its pages (``kind`` appears in the custom id)."""

    def register(render: Render) -> Render:
        _PAGE_RENDERERS[kind] = render
        return render

    return register


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"tb:page:(?P<kind>[a-z]+):(?P<page>-?\d+)",
):
    """A button that re-renders its listing at another page, editing the message in place."""

    def __init__(
        self,
        kind: str,
        page: int,
        *,
        label: str = "",
        disabled: bool = False,
        row: int | None = None,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or str(page),
                custom_id=f"tb:page:{kind}:{page}",
                disabled=disabled,
                row=row,
                style=discord.ButtonStyle.secondary,
            )
        )
        self.kind = kind
        self.page = page

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> PageButton:
        """Rebuild the button from its custom id (one whose number is out of range does
        nothing: the bot answers it as a button that no longer works)."""
        if not in_range(match["page"]):
            unread = cls(match["kind"], 0)
            unread.kind = ""
            return unread
        return cls(match["kind"], int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Show the page asked for."""
        if not self.kind:
            return
        render = _PAGE_RENDERERS.get(self.kind)
        if render is None:  # a listing of another version
            await send_private(interaction, stale_reply(f"tb:page:{self.kind}:"))
            return
        try:
            await show_in_place(interaction, render(interaction, self.page))
        except Exception as error:
            await report_error(interaction, error, f"page button {self.kind}")


async def show_in_place(
    interaction: discord.Interaction[Any],
    rendering: Awaitable[tuple[list[discord.Embed], discord.ui.View]],
) -> None:
    """The page ``rendering`` makes, shown in place of the message whose button was pressed."""
    embeds, view = await _rendered_in_time(interaction, rendering)
    if interaction.response.is_done():
        await interaction.edit_original_response(content=None, embeds=embeds, view=view)
    else:
        await interaction.response.edit_message(content=None, embeds=embeds, view=view)


async def _rendered_in_time(
    interaction: discord.Interaction[Any],
    rendering: Awaitable[tuple[list[discord.Embed], discord.ui.View]],
) -> tuple[list[discord.Embed], discord.ui.View]:
    """The page ``rendering`` makes; the press acknowledged (the message to be updated) if it
    takes longer than ``ANSWER_WITHIN_S``."""
    page = asyncio.ensure_future(rendering)
    done, _ = await asyncio.wait({page}, timeout=ANSWER_WITHIN_S)
    if not done:
        await interaction.response.defer()
    return await page


def topics_page(topics: list[Topic], page: int, pages: int, total: int) -> discord.Embed:
    """One page of /topics."""
    lines = [
        f"**{plain(t.name, 80)}** — {t.article_count} article{'s' if t.article_count != 1 else ''}"
        for t in topics
    ]
    embed = discord.Embed(
        title="Topics",
        description=fit_lines(lines, LISTING_CHARACTERS)[0] if lines else "No topics yet.",
        colour=BRAND_COLOUR,
    )
    embed.set_footer(text=f"{total} topics · page {page} of {pages} · /subscribe to follow one")
    return embed


def pack_pages(
    lines: Sequence[str], *, per_page: int = LINES_PER_PAGE, limit: int = LISTING_CHARACTERS
) -> list[list[str]]:
    """``lines`` in pages of at most ``per_page`` lines and ``limit`` characters joined by
    newlines, in order; a line alone over ``limit`` is cut. Always at least one (empty) page.
    The same lines always give the same pages, so a page button can rebuild its page."""
    pages: list[list[str]] = []
    page: list[str] = []
    size = 0
    for line in lines:
        if len(line) > limit:
            line = clip(line, limit)
        if page and (len(page) == per_page or size + 1 + len(line) > limit):
            pages.append(page)
            page, size = [], 0
        size += len(line) + (1 if page else 0)
        page.append(line)
    if page or not pages:
        pages.append(page)
    return pages


@dataclass(frozen=True)
class LinesPage:
    """One page of a listing made of lines: its text, where it is, and how to move."""

    text: str
    number: int
    pages: int
    buttons: list[discord.ui.Button[Any]]


def lines_page(kind: str, lines: Sequence[str], page: int) -> LinesPage:
    """Page ``page`` (clamped to the pages there are) of ``lines``, with Previous / Next
    buttons when there is more than one page."""
    pages = pack_pages(lines)
    number = min(max(page, 1), len(pages))
    buttons = nav_buttons(kind, number, len(pages)) if len(pages) > 1 else []
    return LinesPage("\n".join(pages[number - 1]), number, len(pages), buttons)
