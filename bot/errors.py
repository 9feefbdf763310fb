"""The one place where command errors become replies.

In order:
1. ``UserError`` (raised by a service): its message, privately.
2. Not in a server: "this command works in a server".
3. A failed check (not a moderator): what permission is needed, privately.
4. An option Discord should have refused (a channel or role from elsewhere, a bad value):
   what to type, privately.
5. A cooldown: when to try again, privately.
6. Anything else: logged with its traceback under a short error id; the member gets an
   apology carrying that id.
"""

from __future__ import annotations

import logging
import math
import secrets

import discord
from discord import app_commands

from bot.answers import answered_in_time, reply
from bot.domain.errors import UserError
from storage.errors import ConnectionLost

log = logging.getLogger(__name__)


def user_error_of(error: BaseException) -> UserError | None:
    """The UserError behind an app-command error, if that is what it is."""
    original = getattr(error, "original", None)
    if isinstance(error, UserError):
        return error
    if isinstance(original, UserError):
        return original
    return None


def reply_for(error: app_commands.AppCommandError) -> str | None:
    """The private reply for an error a member can act on; None for a real failure."""
    mistake = user_error_of(error)
    if mistake is not None:
        return mistake.message
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works in a server, not in direct messages."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {math.ceil(error.retry_after)} s."
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You can't use this command here."
    if isinstance(error, app_commands.TransformerError):
        kind = error.type.name.lower()
        return f"That value for `{kind}` isn't usable here. Pick one from the list."
    if isinstance(error, app_commands.CommandNotFound):
        return "I don't know that command any more. Discord may still be updating its list."
    return None


async def send_private(interaction: discord.Interaction, text: str) -> None:
    """Answer privately, whether or not the interaction was already acknowledged."""
    try:
        await reply(interaction, text, allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException:
        log.warning("could not tell the member about an error", exc_info=True)


async def report_error(interaction: discord.Interaction, error: BaseException, where: str) -> None:
    """Reply privately to an error; log the unexpected ones with an id the member is given."""
    text = reply_for(error) if isinstance(error, app_commands.AppCommandError) else None
    if text is None and isinstance(error, UserError):
        text = error.message
    lost = getattr(error, "original", error)
    if text is None and isinstance(lost, ConnectionLost):
        log.warning("%s could not be answered: %s", where, lost)
        text = STORE_LOST
    if text is None:
        error_id = secrets.token_hex(4)
        log.error(
            "error %s in %s (guild %s, user %s)",
            error_id,
            where,
            interaction.guild_id,
            interaction.user.id,
            exc_info=error,
            extra={
                "guild": interaction.guild_id,
                "channel": interaction.channel_id,
                "user": interaction.user.id,
            },
        )
        text = f"Sorry, something went wrong on my side. (error id `{error_id}`)"
    await send_private(interaction, text)


# A member's command met a database session that had just ended; the next command takes a
# new session.
STORE_LOST = "I lost my connection to the database just then. Please try again."

SLOW_DOWN = app_commands.Choice(
    name="⏳ Too many requests: pause a moment, then type again", value=""
)


# Where a command's interaction carries how many of the member's subscriptions it resumed.
RESUMED = "resumed_subscriptions"


def welcome_back(resumed: int) -> str:
    """What a member who came back to a server is told, once, under their command's reply."""
    these = "your subscription" if resumed == 1 else f"your {resumed} subscriptions"
    return (
        f"Welcome back: {these} here, paused when you left the server, "
        f"{'is' if resumed == 1 else 'are'} on again, with what is published from now on. "
        "`/subscriptions` lists them, `/unsubscribe` stops one."
    )


async def note_member(interaction: discord.Interaction) -> None:
    """A command used in a server shows its member is in it: the store remembers that (no
    need to ask Discord before their next alert from there), and subscriptions paused because
    they had left resume (``interaction.extras[RESUMED]`` says how many). A lost database
    session is the command's answer (it would meet the same); another failure here is logged
    and the command still runs."""
    services = getattr(interaction.client, "services", None)
    if interaction.guild_id is None or services is None:
        return
    guild_id, user_id = interaction.guild_id, interaction.user.id
    try:
        resumed = await services.subscriptions.member_seen(guild_id, user_id)
    except ConnectionLost as lost:
        log.warning("a command could not be answered: %s", lost)
        raise app_commands.CheckFailure(STORE_LOST) from lost
    except Exception:
        log.warning("could not note member %d as present", interaction.user.id, exc_info=True)
        return
    if resumed:
        interaction.extras[RESUMED] = resumed


async def tell_if_resumed(interaction: discord.Interaction) -> None:
    """After a command's reply: say so when it resumed the member's subscriptions."""
    resumed = interaction.extras.get(RESUMED)
    if resumed and interaction.response.is_done():
        await send_private(interaction, welcome_back(int(resumed)))


class TopicTree(app_commands.CommandTree[discord.Client]):
    """The command tree, with topicbot's error replies, an autocomplete throttle, members
    noted as present by the commands they use, and slow commands acknowledged in time."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Note a command's member as present in its server; answer an autocomplete burst past
        the member's limit with one "slow down" choice."""
        if interaction.type is discord.InteractionType.application_command:
            await note_member(interaction)
            return True
        if interaction.type is not discord.InteractionType.autocomplete:
            return True
        throttle = getattr(interaction.client, "autocomplete_throttle", None)
        if throttle is None or throttle.allow((interaction.guild_id, interaction.user.id)):
            return True
        await interaction.response.autocomplete([SLOW_DOWN])
        return False

    async def _call(self, interaction: discord.Interaction) -> None:
        """Run a command (its checks, its work, its reply or error reply) acknowledged in
        time when slow (``bot.answers``). discord.py has no public hook around all of that:
        errors raised before the command runs (a check, a command it does not know) are
        answered by its caller, so they are answered here, inside the guard, instead."""
        if interaction.type is not discord.InteractionType.application_command:
            await super()._call(interaction)
            return
        async with answered_in_time(interaction):
            try:
                await super()._call(interaction)
            except app_commands.AppCommandError as error:
                await self._dispatch_error(interaction, error)

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Turn a command's error into a private reply."""
        command = interaction.command.qualified_name if interaction.command else "?"
        await report_error(interaction, error, f"/{command}")
        await tell_if_resumed(interaction)
