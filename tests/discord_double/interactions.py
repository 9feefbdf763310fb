"""Build INTERACTION_CREATE payloads and track what the bot answered."""

from __future__ import annotations

import asyncio
import secrets
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import payloads, stalls
from .state import Channel, CommandDef, Guild, Message, Role, User, World

APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4

SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
USER, CHANNEL, ROLE, MENTIONABLE = 6, 7, 8, 9

CONTEXT_GUILD, CONTEXT_BOT_DM = 0, 1


# How long a test waits for the bot's answer. A quiet machine answers in milliseconds; CI runs
# eight test processes beside a PostgreSQL server on a few cores, where an answer once took
# over five seconds (2026-12-05: twice in one run, each a /related query, not reproduced).
ANSWER_TIMEOUT_S = 15.0
# Past this a wait notes what the process was doing (see ``InteractionResult.wait_for``).
SLOW_ANSWER_S = 3.0


class SlowAnswerWarning(UserWarning):
    """The bot answered, but only after ``SLOW_ANSWER_S``."""


class CommandNotRegistered(LookupError):
    """The test invoked a command the bot never synced."""


class CommandNotVisible(PermissionError):
    """Discord would not let this member see/invoke the command (pass ``force=True``)."""


@dataclass
class InteractionResult:
    """Everything the bot did in answer to one interaction."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    channel_id: int
    dispatched_at: float = field(default_factory=time.monotonic)
    source_message: Message | None = None
    callback_type: int | None = None
    callback_body: dict[str, Any] | None = None
    acked_at: float | None = None
    original: Message | None = None
    followups: list[Message] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    choices: list[dict[str, Any]] | None = None
    modal: dict[str, Any] | None = None
    original_deleted: bool = False
    late_ack: bool = False
    # the shard whose session the interaction was dispatched to, (shard_id, shard_count)
    shard: tuple[int, int] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    # -- convenient views -----------------------------------------------------------

    @property
    def acknowledged(self) -> bool:
        """Whether the bot answered the interaction callback."""
        return self.callback_type is not None

    @property
    def ack_latency(self) -> float | None:
        """Seconds from dispatch to the first acknowledgement."""
        return None if self.acked_at is None else self.acked_at - self.dispatched_at

    @property
    def message(self) -> Message | None:
        """The response message (created by type 4/5, or the component message for 6/7); a
        deferred one's first follow-up once it came (``shown``)."""
        return self.shown

    @property
    def shown(self) -> Message | None:
        """The answer the member sees: the response message, or once a deferred one
        ("thinking…", type 5) is followed up, the first follow-up, which Discord shows in its
        place."""
        if self.callback_type == 5 and self.followups:
            return self.followups[0]
        return self.original

    @property
    def content(self) -> str | None:
        """Current content of the answer the member sees (``shown``)."""
        return None if self.shown is None else self.shown.content

    @property
    def embeds(self) -> list[dict[str, Any]]:
        """Current embeds of the answer the member sees (``shown``)."""
        return [] if self.shown is None else self.shown.embeds

    @property
    def ephemeral(self) -> bool:
        """Whether the answer the member sees is ephemeral (flag 64)."""
        return self.shown is not None and self.shown.ephemeral

    # -- waiting ------------------------------------------------------------------

    def notify(self) -> None:
        """Wake up waiters (called by the server on every change)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(
        self, predicate: Callable[[InteractionResult], bool], timeout_s: float = ANSWER_TIMEOUT_S
    ) -> InteractionResult:
        """Wait until ``predicate(self)`` holds; raise TimeoutError after ``timeout_s``.

        A wait past ``SLOW_ANSWER_S`` notes what the process was doing then (``stalls``): the
        timeout's message carries it, and a wait that ends well after it is a warning in the
        run's summary, so that a slow answer is seen before it is a failure."""
        started = time.monotonic()
        deadline = started + timeout_s
        snapshot = ""
        while not predicate(self):
            now = time.monotonic()
            if not snapshot and now - started >= SLOW_ANSWER_S:
                snapshot = stalls.report()
            remaining = deadline - now
            if remaining <= 0:
                raise TimeoutError(
                    f"interaction {self.id}: condition not met in {timeout_s}s "
                    f"(acknowledged: {self.acknowledged}); after {SLOW_ANSWER_S}s:\n{snapshot}"
                )
            event = self._changed
            wake = remaining if snapshot else min(remaining, SLOW_ANSWER_S - (now - started))
            try:
                await asyncio.wait_for(event.wait(), max(wake, 0.001))
            except TimeoutError:
                continue
        if snapshot:
            waited = time.monotonic() - started
            warnings.warn(
                SlowAnswerWarning(
                    f"interaction {self.id} took {waited:.1f}s; after {SLOW_ANSWER_S}s:\n{snapshot}"
                ),
                stacklevel=2,
            )
        return self

    async def wait_ack(self, timeout_s: float = ANSWER_TIMEOUT_S) -> InteractionResult:
        """Wait for the interaction callback."""
        return await self.wait_for(lambda r: r.acknowledged, timeout_s)

    async def wait_followups(
        self, count: int = 1, timeout_s: float = ANSWER_TIMEOUT_S
    ) -> list[Message]:
        """Wait until at least ``count`` followup messages exist."""
        await self.wait_for(lambda r: len(r.followups) >= count, timeout_s)
        return self.followups

    async def wait_edits(
        self, count: int = 1, timeout_s: float = ANSWER_TIMEOUT_S
    ) -> list[dict[str, Any]]:
        """Wait until the original response was edited ``count`` times."""
        await self.wait_for(lambda r: len(r.edits) >= count, timeout_s)
        return self.edits


def _as_id(value: Any) -> str:
    """Accept ints, digit strings and state objects for snowflake options."""
    if isinstance(value, User | Channel | Role | Guild):
        return str(value.id)
    if isinstance(value, Message):
        return str(value.id)
    return str(value)


@dataclass
class InvocationContext:
    """Who invokes where, with what permissions."""

    world: World
    user_id: int
    channel: Channel
    guild: Guild | None
    permissions: int | None = None
    locale: str = "en-US"

    def member_permissions(self) -> int:
        """Effective member permissions (crafted override wins)."""
        if self.permissions is not None:
            return self.permissions
        if self.guild is None:
            return 0
        return self.world.member_permissions(self.guild, self.user_id)


class InteractionBuilder:
    """Creates interaction payloads that discord.py 2.7.1 accepts."""

    def __init__(self, world: World) -> None:
        self.world = world

    def base(self, ctx: InvocationContext, type: int, data: dict[str, Any]) -> dict[str, Any]:
        """Common interaction fields (member or user, channel, guild, permissions...)."""
        world = self.world
        interaction_id = world.ids.next()
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(world.application_id),
            "type": type,
            "data": data,
            "channel_id": str(ctx.channel.id),
            "channel": self._channel(ctx),
            "token": f"itok-{interaction_id}-{secrets.token_urlsafe(16)}",
            "version": 1,
            "locale": ctx.locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": payloads.ATTACHMENT_SIZE_LIMIT,
        }
        if ctx.guild is not None:
            self._add_guild_fields(payload, ctx)
        else:
            payload["user"] = payloads.user(world.users[ctx.user_id])
            payload["context"] = CONTEXT_BOT_DM
            payload["authorizing_integration_owners"] = {"0": "0"}
            payload["app_permissions"] = str(payloads_dm_app_permissions())
        return payload

    def _add_guild_fields(self, payload: dict[str, Any], ctx: InvocationContext) -> None:
        guild = ctx.guild
        assert guild is not None
        member = guild.members.get(ctx.user_id)
        if member is None:
            raise LookupError(f"user {ctx.user_id} is not a member of guild {guild.id}")
        member_data = payloads.member(self.world, member)
        member_data["permissions"] = str(ctx.member_permissions())
        bot_perms = self.world.member_permissions(guild, self.world.bot_user.id)
        payload.update(
            guild_id=str(guild.id),
            guild={"id": str(guild.id), "locale": guild.locale, "features": []},
            guild_locale=guild.locale,
            member=member_data,
            context=CONTEXT_GUILD,
            authorizing_integration_owners={"0": str(guild.id)},
            app_permissions=str(bot_perms),
        )

    def _channel(self, ctx: InvocationContext) -> dict[str, Any]:
        data = payloads.channel(self.world, ctx.channel)
        data["permissions"] = str(ctx.member_permissions())
        return data

    # -- options --------------------------------------------------------------------

    def command_data(
        self,
        command: CommandDef,
        path: list[str],
        options: Mapping[str, Any],
        ctx: InvocationContext,
        *,
        focused: str | None = None,
        raw_options: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The ``data`` of an application-command (or autocomplete) interaction."""
        definitions, wrap = self._walk(command, path)
        if raw_options is not None:
            leaf = raw_options
        else:
            leaf = [
                self._option(definitions, name, value, focused) for name, value in options.items()
            ]
        data: dict[str, Any] = {
            "id": str(command.id),
            "name": command.name,
            "type": command.type,
            "options": wrap(leaf),
        }
        resolved = self.resolve(leaf, ctx)
        if resolved:
            data["resolved"] = resolved
        if command.guild_id is not None:
            data["guild_id"] = str(command.guild_id)
        return data

    @staticmethod
    def _walk(
        command: CommandDef, path: list[str]
    ) -> tuple[list[dict[str, Any]], Callable[[list[dict[str, Any]]], list[dict[str, Any]]]]:
        """Follow ``path`` (subcommand group / subcommand names) through the definition."""
        definitions: list[dict[str, Any]] = command.payload.get("options") or []
        chain: list[tuple[str, int]] = []
        for name in path:
            match = next(
                (
                    o
                    for o in definitions
                    if o["name"] == name and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)
                ),
                None,
            )
            if match is None:
                raise CommandNotRegistered(f"/{command.name}: no subcommand {name!r}")
            chain.append((name, match["type"]))
            definitions = match.get("options") or []

        def wrap(leaf: list[dict[str, Any]]) -> list[dict[str, Any]]:
            for name, kind in reversed(chain):
                leaf = [{"name": name, "type": kind, "options": leaf}]
            return leaf

        return definitions, wrap

    @staticmethod
    def _option(
        definitions: list[dict[str, Any]], name: str, value: Any, focused: str | None
    ) -> dict[str, Any]:
        definition = next((o for o in definitions if o["name"] == name), None)
        if definition is None:
            known = sorted(o["name"] for o in definitions)
            raise CommandNotRegistered(f"no option {name!r} (known: {known})")
        kind = definition["type"]
        option: dict[str, Any] = {"name": name, "type": kind}
        if name == focused:
            option.update(value=str(value), focused=True)
        elif kind in (USER, CHANNEL, ROLE, MENTIONABLE):
            option["value"] = _as_id(value)
        else:
            option["value"] = value
        return option

    def resolve(self, leaf: list[dict[str, Any]], ctx: InvocationContext) -> dict[str, Any]:
        """The ``resolved`` map for snowflake options (ids from any guild are resolved)."""
        resolved: dict[str, dict[str, Any]] = {}
        for option in leaf:
            if option.get("focused") or option.get("type") not in (
                USER,
                CHANNEL,
                ROLE,
                MENTIONABLE,
            ):
                continue
            try:
                snowflake = int(option["value"])
            except (KeyError, TypeError, ValueError):
                continue
            self._resolve_one(resolved, option["type"], snowflake, ctx)
        return resolved

    def _resolve_one(
        self, resolved: dict[str, dict[str, Any]], kind: int, snowflake: int, ctx: InvocationContext
    ) -> None:
        world = self.world
        key = str(snowflake)
        if kind in (USER, MENTIONABLE) and snowflake in world.users:
            resolved.setdefault("users", {})[key] = payloads.user(world.users[snowflake])
            member = ctx.guild.members.get(snowflake) if ctx.guild else None
            if member is not None and ctx.guild is not None:
                data = payloads.member(world, member, with_user=False)
                data["permissions"] = str(world.member_permissions(ctx.guild, snowflake))
                resolved.setdefault("members", {})[key] = data
        if kind in (ROLE, MENTIONABLE) and (role := world.role(snowflake)) is not None:
            resolved.setdefault("roles", {})[key] = payloads.role(role)
        if kind == CHANNEL and (channel := world.channel(snowflake)) is not None:
            data = payloads.channel(world, channel)
            data["permissions"] = str(ctx.member_permissions())
            resolved.setdefault("channels", {})[key] = data

    # -- visibility -----------------------------------------------------------------

    @staticmethod
    def check_visible(command: CommandDef, ctx: InvocationContext) -> None:
        """Raise CommandNotVisible where Discord's client would not offer the command."""
        payload = command.payload
        if ctx.guild is None:
            contexts = payload.get("contexts")
            if payload.get("dm_permission") is False or (
                contexts is not None and CONTEXT_BOT_DM not in contexts
            ):
                raise CommandNotVisible(f"/{command.name} is not available in DMs")
            return
        required = payload.get("default_member_permissions")
        if required is None:
            return
        required = int(required)
        if ctx.member_permissions() & required != required:
            raise CommandNotVisible(
                f"/{command.name} needs permissions {required} (member has "
                f"{ctx.member_permissions()}); pass force=True to invoke it anyway"
            )


def payloads_dm_app_permissions() -> int:
    """What Discord reports as the app's permissions in a bot DM."""
    return (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 18)


def find_component(components: list[dict[str, Any]], custom_id: str) -> dict[str, Any] | None:
    """Depth-first search for a component by ``custom_id``."""
    for component in components:
        if component.get("custom_id") == custom_id:
            return component
        found = find_component(component.get("components") or [], custom_id)
        if found is not None:
            return found
        accessory = component.get("accessory")
        if isinstance(accessory, dict) and accessory.get("custom_id") == custom_id:
            return accessory
    return None
