"""How a slash command answers: in time, whatever its work costs.

Discord forgets an interaction not acknowledged within 3 seconds (the member sees "The
application did not respond", and the late reply fails with "Unknown interaction"). So every
application command runs under ``answered_in_time``: one not answered within
``ANSWER_WITHIN_S`` is acknowledged privately (the member sees "thinking…"), and its reply,
when ready, replaces that. Every reply goes through ``reply`` (errors through
``bot.errors.send_private``), which sends the response itself or, once acknowledged, the
follow-up. Every command answers privately, so the acknowledgement is private too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import discord

log = logging.getLogger(__name__)

# Within Discord's 3 s with room for a loaded machine's delays on either side of the wire.
ANSWER_WITHIN_S = 2.0

_LOCK = "topicbot_answer_lock"


def _answering(interaction: discord.Interaction[Any]) -> asyncio.Lock:
    """The interaction's own lock: the guard and a reply ready at the same moment would
    otherwise both see it unanswered while the other's request is on its way (Discord
    refuses the second: "already acknowledged")."""
    lock = interaction.extras.get(_LOCK)
    if lock is None:
        lock = interaction.extras[_LOCK] = asyncio.Lock()
    return lock


async def reply(
    interaction: discord.Interaction[Any],
    content: str | None = None,
    *,
    embeds: Sequence[discord.Embed] = (),
    view: discord.ui.View | None = None,
    allowed_mentions: discord.AllowedMentions | None = None,
) -> None:
    """Answer privately: the response, or the follow-up once the interaction was
    acknowledged (by the guard, a command that defers itself, or an earlier reply)."""
    options: dict[str, Any] = {"ephemeral": True}
    if content is not None:
        options["content"] = content
    if embeds:
        options["embeds"] = list(embeds)
    if view is not None:
        options["view"] = view
    if allowed_mentions is not None:
        options["allowed_mentions"] = allowed_mentions
    async with _answering(interaction):
        if interaction.response.is_done():
            await interaction.followup.send(**options)
        else:
            await interaction.response.send_message(**options)


async def acknowledge(interaction: discord.Interaction[Any]) -> None:
    """Show the member "thinking…" (privately) unless the interaction was answered already."""
    async with _answering(interaction):
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=True, thinking=True)


async def _acknowledge_after(interaction: discord.Interaction[Any], seconds: float) -> None:
    await asyncio.sleep(seconds)
    try:
        await acknowledge(interaction)
    except discord.HTTPException:
        # too late already (a loaded machine): the reply will fail the same way, and say so
        log.warning("could not acknowledge a slow command in time", exc_info=True)


@asynccontextmanager
async def answered_in_time(interaction: discord.Interaction[Any]) -> AsyncIterator[None]:
    """Run a command's checks, work and reply; acknowledged if not answered within
    ``ANSWER_WITHIN_S``."""
    guard = asyncio.create_task(_acknowledge_after(interaction, ANSWER_WITHIN_S))
    try:
        yield
    finally:
        guard.cancel()
        await asyncio.wait({guard})
