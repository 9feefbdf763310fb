"""What /settings shows: the server's settings and its next digests."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import discord

from bot.domain.digests import utc_offset
from bot.domain.guild_settings import NextDigests
from bot.ui.embeds import BRAND_COLOUR
from storage.models import GuildSettings


def _moment(moment: datetime, zone: str) -> str:
    """A digest moment on the server's clock, and (for each reader) how far off it is."""
    local = moment.astimezone(ZoneInfo(zone))
    relative = f"<t:{int(moment.timestamp())}:R>"
    return f"{local:%a} {local.day} {local:%b %H:%M} {local.tzname()} · {relative}"


def settings_embed(settings: GuildSettings, bar: int, digests: NextDigests) -> discord.Embed:
    """The server's settings as they now stand, with its next digests."""
    role = (
        f"<@&{settings.moderator_role_id}>"
        if settings.moderator_role_id
        else "none (Manage Server only)"
    )
    embed = discord.Embed(title="Server settings", colour=BRAND_COLOUR)
    embed.add_field(name="Moderator role", value=role)
    default = " (default)" if settings.min_quality is None else ""
    embed.add_field(name="Quality bar", value=f"{bar}{default}")
    schedule = digests.schedule

    def unless_own(setting: str) -> str:
        return "" if setting in schedule.own else " (default)"

    zone = schedule.zone
    embed.add_field(
        name="Time zone",
        value=f"{zone} ({utc_offset(zone, digests.daily)}){unless_own('timezone')}",
        inline=False,
    )
    embed.add_field(
        name="Daily digest",
        value=f"{schedule.daily_time}{unless_own('digest_time')}\n"
        f"next: {_moment(digests.daily, zone)}",
    )
    embed.add_field(
        name="Weekly digest",
        value=f"{schedule.weekly_day.capitalize()}s{unless_own('digest_day')}\n"
        f"next: {_moment(digests.weekly, zone)}",
    )
    return embed
