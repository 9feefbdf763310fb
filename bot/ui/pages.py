"""Paginated listings with buttons that keep working after a restart (dynamic custom ids)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.errors import report_error
from bot.ui.embeds import BRAND_COLOUR, fit_lines, plain
from storage.models import Topic

TOPICS_PER_PAGE = 20

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
        """Rebuild the button from its custom id."""
        return cls(match["kind"], int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Show the page asked for."""
        render = _PAGE_RENDERERS.get(self.kind)
        if render is None:
            return
        try:
            embeds, view = await render(interaction, self.page)
            await interaction.response.edit_message(content=None, embeds=embeds, view=view)
        except Exception as error:
            await report_error(interaction, error, f"page button {self.kind}")


def topics_page(topics: list[Topic], page: int, pages: int, total: int) -> discord.Embed:
    """One page of /topics."""
    lines = [
        f"**{plain(t.name, 80)}** — {t.article_count} article{'s' if t.article_count != 1 else ''}"
        for t in topics
    ]
    embed = discord.Embed(
        title="Topics",
        description=fit_lines(lines, 4000)[0] if lines else "No topics yet.",
        colour=BRAND_COLOUR,
    )
    embed.set_footer(text=f"{total} topics · page {page} of {pages} · /subscribe to follow one")
    return embed
