"""The Discord double: an aiohttp server speaking Discord's REST API and gateway."""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
import socket
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from aiohttp import web

from . import payloads
from .faults import DiscordError, FaultRule, RateLimiter, Reply
from .gateway import DIRECT_MESSAGES, GUILD_MEMBERS, GUILD_MESSAGES, Gateway
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    CommandNotRegistered,
    InteractionBuilder,
    InteractionResult,
    InvocationContext,
    find_component,
)
from .limits import limit_issues
from .sharding import IdentifyLimiter
from .spec import SpecValidator, discord_error_body, load_spec_validator, template_regex
from .state import Channel, Guild, Message, Role, SnowflakeFactory, User, World

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gateway-ws"
NONCE_WINDOW_SECONDS = 5 * 60


@dataclass
class RequestRecord:
    """One HTTP request the bot made."""

    method: str
    path: str
    route: str | None
    json: Any
    query: dict[str, str]
    time: float
    status: int = 0


@dataclass
class ApiRequest:
    """What a route handler gets."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[dict[str, Any]] = field(default_factory=list)

    def json_object(self) -> dict[str, Any]:
        """The body as a dict (``{}`` for no body)."""
        return self.body if isinstance(self.body, dict) else {}


Handler = Callable[["DiscordDouble", ApiRequest], Awaitable[Reply]]


@dataclass
class RouteEntry:
    """A REST route the double implements."""

    method: str
    template: str
    handler: Handler
    bot_auth: bool = True
    regex: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        self.regex = template_regex(self.template)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters when this route serves ``method path``."""
        if method != self.method:
            return None
        if self.regex.match(path) is None:
            return None
        names = re.findall(r"\{([^}]+)\}", self.template)
        values = [
            p
            for p, t in zip(path.split("/"), self.template.split("/"), strict=True)
            if t.startswith("{")
        ]
        return dict(zip(names, values, strict=True))


class DiscordDouble:
    """A fake Discord (REST + gateway) on 127.0.0.1 for the real discord.py client."""

    def __init__(
        self,
        *,
        token: str = "double.bot.token",
        bot_name: str = "topicbot",
        validate: bool = True,
        spec_path: Path | None = None,
        heartbeat_interval_ms: int = 41_250,
        ack_deadline: float = 3.0,
        shards: int = 1,
        max_concurrency: int = 1,
    ) -> None:
        self.token = token
        # what GET /gateway/bot recommends
        self.recommended_shards = shards
        ids = SnowflakeFactory()
        bot = User(id=ids.next(), username=bot_name, bot=True, global_name=bot_name)
        self.world = World(bot_user=bot, application_id=bot.id, ids=ids)
        self.owner = self.world.add_user("app-owner")
        self.errors: list[str] = []
        self.request_log: list[RequestRecord] = []
        self.interactions: dict[int, InteractionResult] = {}
        self.ack_deadline = ack_deadline
        self.clock_offset_seconds = 0.0
        self.spec: SpecValidator | None = load_spec_validator(spec_path) if validate else None
        self.gateway = Gateway(
            self,
            heartbeat_interval_ms=heartbeat_interval_ms,
            limiter=IdentifyLimiter(max_concurrency=max_concurrency),
        )
        self.builder = InteractionBuilder(self.world)
        self.rate_limiter: RateLimiter | None = None
        self._faults: list[FaultRule] = []
        self._routes: list[RouteEntry] = []
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._commands_changed = asyncio.Event()
        from .routes import register_default_routes

        register_default_routes(self)

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> Self:
        """Bind an ephemeral port on 127.0.0.1 and start serving."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get(GATEWAY_PATH, self.gateway.handle)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle_http)
        app.router.add_route("*", "/{tail:.*}", self._handle_stray)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def stop(self) -> None:
        """Close sockets and stop the server."""
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Base HTTP URL, e.g. ``http://127.0.0.1:12345``."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return self.url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (wrap it in ``yarl.URL``)."""
        return f"ws://127.0.0.1:{self._port}{GATEWAY_PATH}"

    def env(self) -> dict[str, str]:
        """Environment for a bot subprocess (its config must apply these to discord.py)."""
        return {
            "DISCORD_TOKEN": self.token,
            "DISCORD_API_BASE": self.api_base,
            "DISCORD_GATEWAY_URL": self.gateway_url,
        }

    # -- routing --------------------------------------------------------------------

    def add_route(
        self, method: str, template: str, handler: Handler, *, bot_auth: bool = True
    ) -> None:
        """Implement (or override) ``method template`` (template as in Discord's docs)."""
        self._routes = [r for r in self._routes if (r.method, r.template) != (method, template)]
        self._routes.append(RouteEntry(method, template, handler, bot_auth))
        # Literal segments win over parameters (``/users/@me`` before ``/users/{user_id}``).
        self._routes.sort(
            key=lambda r: (-(r.template.count("/") - r.template.count("{")), r.template.count("{"))
        )

    def route(
        self, method: str, template: str, *, bot_auth: bool = True
    ) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`add_route`."""

        def decorate(handler: Handler) -> Handler:
            self.add_route(method, template, handler, bot_auth=bot_auth)
            return handler

        return decorate

    async def _handle_stray(self, request: web.Request) -> web.Response:
        self.errors.append(f"request outside the API prefix: {request.method} {request.path}")
        return _json_response(Reply(404, {"message": "404: Not Found", "code": 0}))

    async def _handle_http(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix(API_PREFIX)
        body, files = await _read_body(request)
        entry, params = self._match(request.method, path)
        record = RequestRecord(
            method=request.method,
            path=path,
            route=entry.template if entry else None,
            json=body,
            query=dict(request.query),
            time=time.monotonic(),
        )
        self.request_log.append(record)
        api_request = ApiRequest(request.method, path, params, dict(request.query), body, files)
        reply = await self._process(request, entry, api_request)
        record.status = reply.status
        response = _json_response(reply)
        if self.clock_offset_seconds:
            # Discord's clock as this machine would see it were one of them wrong.
            moment = time.time() + self.clock_offset_seconds
            response.headers["Date"] = email.utils.formatdate(moment, usegmt=True)
        return response

    def _match(self, method: str, path: str) -> tuple[RouteEntry | None, dict[str, str]]:
        for entry in self._routes:
            params = entry.match(method, path)
            if params is not None:
                return entry, params
        return None, {}

    async def _process(
        self, request: web.Request, entry: RouteEntry | None, req: ApiRequest
    ) -> Reply:
        if entry is None:
            self.errors.append(f"unimplemented endpoint: {req.method} {req.path}")
            return Reply(404, {"message": "404: Not Found", "code": 0})
        if entry.bot_auth and request.headers.get("Authorization") != f"Bot {self.token}":
            return Reply(401, {"message": "401: Unauthorized", "code": 0})
        refused = self._validate(req)
        if refused is not None:
            return refused
        injected = await self._injected_fault(req)
        if injected is not None:
            return injected
        if entry.bot_auth and self.rate_limiter is not None:
            limited = self.rate_limiter.check_global()
            if limited is not None:
                return limited
        try:
            return await entry.handler(self, req)
        except DiscordError as exc:
            return exc.reply()
        except Exception:
            self.errors.append(
                f"double crashed on {req.method} {req.path}:\n{traceback.format_exc()}"
            )
            return Reply(500, {"message": "500: Internal Server Error", "code": 0})

    def _validate(self, req: ApiRequest) -> Reply | None:
        if req.body is None:
            return None
        beyond = limit_issues(req.body)
        if beyond:
            details = "; ".join(beyond)
            self.errors.append(f"Discord's limits refused {req.method} {req.path}: {details}")
            return Reply(400, {"code": 50035, "message": f"Invalid Form Body: {details}"})
        if self.spec is None:
            return None
        operation = self.spec.operation(req.method, req.path)
        if operation is None:
            return None
        issues = self.spec.validate(operation, req.body)
        if not issues:
            return None
        details = "; ".join(str(i) for i in issues)
        self.errors.append(
            f"spec refused {req.method} {req.path} ({operation.operation_id}): {details}"
        )
        return Reply(400, discord_error_body(issues))

    async def _injected_fault(self, req: ApiRequest) -> Reply | None:
        for rule in self._faults:
            if rule.matches(req.method, req.path):
                if rule.after > 0:  # let this one through
                    rule.after -= 1
                    continue
                rule.times -= 1
                rule.hits += 1
                if rule.delay:
                    await asyncio.sleep(rule.delay)
                return rule.reply()
        return None

    # -- faults & rate limits -------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int | None,
        *,
        code: int | None = None,
        message: str = "",
        retry_after: float | None = None,
        times: int = 1,
        delay: float | None = None,
        is_global: bool = False,
        after: int = 0,
    ) -> FaultRule:
        """Answer the next ``times`` matching requests with ``status`` (after ``delay``),
        once the first ``after`` of them went through.

        ``path_regex`` is searched in the API path (e.g. ``r"^/users/@me/channels$"``);
        ``method`` may be ``"*"``. ``status=None`` with a ``delay`` only slows the request down.
        """
        rule = FaultRule(
            method=method.upper() if method != "*" else "*",
            path_regex=re.compile(path_regex),
            status=status,
            code=code,
            message=message,
            retry_after=retry_after,
            is_global=is_global,
            times=times,
            delay=delay,
            after=after,
        )
        self._faults.append(rule)
        return rule

    def enforce_rate_limits(
        self, per_channel: tuple[int, float] = (5, 5.0), global_per_second: int = 50
    ) -> RateLimiter:
        """Emulate Discord's message-create and global rate limits."""
        self.rate_limiter = RateLimiter(per_channel, global_per_second)
        return self.rate_limiter

    def enforce_identify_limit(self, max_concurrency: int | None = None) -> IdentifyLimiter:
        """Refuse, like Discord, a second identify in a rate-limit bucket within 5 s (the
        gateway answers INVALID_SESSION, which discord.py meets by identifying again later)."""
        limiter = self.gateway.limiter
        if max_concurrency is not None:
            limiter.max_concurrency = max_concurrency
        limiter.enforce = True
        return limiter

    @property
    def rate_limit_hits(self) -> int:
        """How many 429s the rate-limit emulation answered."""
        return 0 if self.rate_limiter is None else self.rate_limiter.rejected

    def requests(self, method: str | None = None, route: str | None = None) -> list[RequestRecord]:
        """Logged requests, filtered by method and route template."""
        return [
            r
            for r in self.request_log
            if (method is None or r.method == method) and (route is None or r.route == route)
        ]

    # -- messages ---------------------------------------------------------------------

    def messages_in(self, channel_id: int, *, include_ephemeral: bool = True) -> list[Message]:
        """Messages in a channel, oldest first."""
        return [
            m for m in self.world.messages_in(channel_id) if include_ephemeral or not m.ephemeral
        ]

    def dms_to(self, user_id: int) -> list[Message]:
        """Messages the bot sent to ``user_id`` in DMs."""
        channel = self.world.dm_channels.get(user_id)
        return [] if channel is None else self.world.messages_in(channel.id)

    async def create_message(
        self,
        channel: Channel,
        author_id: int,
        body: Mapping[str, Any],
        *,
        files: list[dict[str, Any]] | None = None,
        interaction_id: int | None = None,
        message_type: int = 0,
        flags: int | None = None,
    ) -> Message:
        """Store a message (and dispatch MESSAGE_CREATE if the bot subscribed)."""
        message = Message(
            id=self.world.ids.next(),
            channel_id=channel.id,
            author_id=author_id,
            content=body.get("content") or "",
            embeds=list(body.get("embeds") or []),
            components=list(body.get("components") or []),
            allowed_mentions=body.get("allowed_mentions"),
            flags=int(body.get("flags") or 0) if flags is None else flags,
            nonce=body.get("nonce"),
            enforce_nonce=bool(body.get("enforce_nonce")),
            attachments=files or [],
            guild_id=channel.guild_id,
            interaction_id=interaction_id,
            webhook_id=self.world.application_id if interaction_id else None,
            type=message_type,
        )
        self.world.messages[message.id] = message
        channel.last_message_id = message.id
        await self._dispatch_message_create(channel, message)
        return message

    async def delete_message(self, channel: Channel, message: Message) -> None:
        """Delete a message (it stays in ``world.messages``, marked deleted) and dispatch
        MESSAGE_DELETE if the bot subscribed."""
        message.deleted = True
        intent = DIRECT_MESSAGES if channel.guild_id is None else GUILD_MESSAGES
        if not message.ephemeral and self.gateway.wants(intent, channel.guild_id):
            data = {"id": str(message.id), "channel_id": str(channel.id)}
            if channel.guild_id is not None:
                data["guild_id"] = str(channel.guild_id)
            await self.gateway.dispatch("MESSAGE_DELETE", data)

    def deleted_in(self, channel_id: int) -> list[Message]:
        """Messages deleted from a channel (by the bot, or by hand in a test), oldest first."""
        return [m for m in self.world.messages_in(channel_id, include_deleted=True) if m.deleted]

    async def update_channel(self, channel: Channel) -> None:
        """Tell the bot a channel changed (its overwrites, say), as Discord does."""
        await self.gateway.dispatch("CHANNEL_UPDATE", payloads.channel(self.world, channel))

    # -- servers rearranged: what comes and goes, as Discord tells the bot ------------------

    async def remove_bot(self, guild: Guild) -> None:
        """The bot is kicked (or banned) from ``guild``: it is no longer a member, and its
        session gets GUILD_DELETE without ``unavailable`` (which would mean an outage)."""
        guild.members.pop(self.world.bot_user.id, None)
        await self._dispatch_to_guild(guild.id, "GUILD_DELETE", {"id": str(guild.id)})

    async def guild_outage(self, guild: Guild) -> None:
        """``guild`` becomes unavailable (a Discord outage): GUILD_DELETE with ``unavailable``;
        the bot stays a member."""
        data = {"id": str(guild.id), "unavailable": True}
        await self._dispatch_to_guild(guild.id, "GUILD_DELETE", data)

    async def add_bot(self, guild: Guild, roles: list[int] | None = None) -> None:
        """The bot is invited (back) to ``guild``: it is a member again (with ``roles``) and its
        session gets GUILD_CREATE with the whole server."""
        member = self.world.add_member(guild, self.world.bot_user)
        member.roles = list(roles or [])
        data = payloads.guild(self.world, guild, full=True)
        del data["unavailable"]  # a server joined, not one back from an outage
        await self._dispatch_to_guild(guild.id, "GUILD_CREATE", data)

    async def create_channel(self, channel: Channel) -> None:
        """Tell the bot of a channel added to its server since it connected (CHANNEL_CREATE)."""
        await self.gateway.dispatch("CHANNEL_CREATE", payloads.channel(self.world, channel))

    async def delete_channel(self, channel: Channel) -> None:
        """A moderator deletes ``channel``: it is gone (10003 from then on), CHANNEL_DELETE."""
        assert channel.guild_id is not None
        self.world.guilds[channel.guild_id].channels.pop(channel.id, None)
        await self.gateway.dispatch("CHANNEL_DELETE", payloads.channel(self.world, channel))

    async def create_role(self, guild: Guild, role: Role) -> None:
        """Tell the bot of a role added since it connected (GUILD_ROLE_CREATE)."""
        data = {"guild_id": str(guild.id), "role": payloads.role(role)}
        await self.gateway.dispatch("GUILD_ROLE_CREATE", data)

    async def delete_role(self, guild: Guild, role_id: int) -> None:
        """A moderator deletes a role: members lose it, GUILD_ROLE_DELETE."""
        guild.roles.pop(role_id, None)
        for member in guild.members.values():
            member.roles = [r for r in member.roles if r != role_id]
        data = {"guild_id": str(guild.id), "role_id": str(role_id)}
        await self.gateway.dispatch("GUILD_ROLE_DELETE", data)

    async def remove_member(self, guild: Guild, user_id: int) -> None:
        """A member leaves ``guild``; GUILD_MEMBER_REMOVE reaches only a session that asked for
        the (privileged) members intent."""
        guild.members.pop(user_id, None)
        if self.gateway.wants(GUILD_MEMBERS, guild.id):
            data = {"guild_id": str(guild.id), "user": payloads.user(self.world.users[user_id])}
            await self.gateway.dispatch("GUILD_MEMBER_REMOVE", data)

    async def _dispatch_to_guild(self, guild_id: int, event: str, data: dict[str, Any]) -> None:
        """An event about a whole server (its ``id``, no ``guild_id``) to the session of its
        shard."""
        session = self.gateway.session_for(guild_id)
        if session is None:
            raise RuntimeError(f"no client has identified on the shard of guild {guild_id}")
        await session.dispatch(event, data)

    async def _dispatch_message_create(self, channel: Channel, message: Message) -> None:
        if message.ephemeral:
            return
        intent = DIRECT_MESSAGES if channel.guild_id is None else GUILD_MESSAGES
        if self.gateway.wants(intent, channel.guild_id):
            await self.gateway.dispatch("MESSAGE_CREATE", payloads.message(self.world, message))

    async def user_message(self, channel_id: int, user_id: int, content: str) -> Message:
        """A guild member (or DM partner) posts a message; the bot gets MESSAGE_CREATE."""
        channel = self.world.channel(channel_id)
        if channel is None:
            raise LookupError(f"unknown channel {channel_id}")
        return await self.create_message(channel, user_id, {"content": content})

    # -- interactions -----------------------------------------------------------------

    async def slash(
        self,
        guild_id: int | None,
        user_id: int,
        command: str,
        options: Mapping[str, Any] | None = None,
        *,
        channel_id: int | None = None,
        raw_options: list[dict[str, Any]] | None = None,
        resolved: dict[str, Any] | None = None,
        permissions: int | None = None,
        force: bool = False,
        locale: str = "en-US",
        timeout_s: float | None = 5.0,
    ) -> InteractionResult:
        """Invoke ``/command`` (``"feed add"`` for subcommands) and wait for the acknowledgement.

        ``guild_id=None`` invokes it in the user's DM with the bot. ``raw_options`` replaces the
        generated leaf options verbatim (crafted types/values); ``resolved`` is merged into the
        resolved data; ``permissions`` overrides the member's permissions; ``force`` skips the
        visibility check Discord's client would apply. ``timeout_s=None`` returns without waiting.
        """
        ctx = self._context(guild_id, user_id, channel_id, permissions, locale)
        data = self._command_data(command, options or {}, ctx, raw_options, force, focused=None)
        if resolved:
            data.setdefault("resolved", {}).update(resolved)
        return await self._dispatch_interaction(ctx, APPLICATION_COMMAND, data, None, timeout_s)

    async def autocomplete(
        self,
        guild_id: int | None,
        user_id: int,
        command: str,
        options: Mapping[str, Any],
        focused: str,
        *,
        channel_id: int | None = None,
        permissions: int | None = None,
        timeout_s: float = 5.0,
    ) -> list[dict[str, Any]]:
        """Send an autocomplete interaction for option ``focused``; return the bot's choices."""
        ctx = self._context(guild_id, user_id, channel_id, permissions, "en-US")
        data = self._command_data(command, options, ctx, None, True, focused=focused)
        result = await self._dispatch_interaction(ctx, AUTOCOMPLETE, data, None, timeout_s)
        if result.callback_type != 8:
            raise AssertionError(f"autocomplete answered with callback type {result.callback_type}")
        return result.choices or []

    async def click(
        self,
        message: Message | int,
        custom_id: str,
        user_id: int,
        *,
        values: list[str] | None = None,
        permissions: int | None = None,
        force: bool = False,
        timeout_s: float | None = 5.0,
    ) -> InteractionResult:
        """Click a button (or pick ``values`` in a select) on a message the bot sent."""
        msg = message if isinstance(message, Message) else self.world.messages[message]
        component = find_component(msg.components, custom_id)
        if component is None and not force:
            raise LookupError(f"message {msg.id} has no component {custom_id!r}")
        if component is not None and component.get("disabled") and not force:
            raise PermissionError(f"component {custom_id!r} is disabled")
        ctx = self._context(msg.guild_id, user_id, msg.channel_id, permissions, "en-US")
        data: dict[str, Any] = {
            "custom_id": custom_id,
            "component_type": (component or {}).get("type", 2),
        }
        if values is not None:
            data["values"] = values
        return await self._dispatch_interaction(ctx, MESSAGE_COMPONENT, data, msg, timeout_s)

    def _context(
        self,
        guild_id: int | None,
        user_id: int,
        channel_id: int | None,
        permissions: int | None,
        locale: str,
    ) -> InvocationContext:
        guild: Guild | None = None
        if guild_id is None:
            channel = self.world.dm_channel_for(user_id)
        else:
            guild = self.world.guilds[guild_id]
            channel_id = channel_id or next(iter(guild.channels))
            found = self.world.channel(channel_id)
            if found is None:
                raise LookupError(f"unknown channel {channel_id}")
            channel = found
        return InvocationContext(self.world, user_id, channel, guild, permissions, locale)

    def _command_data(
        self,
        command: str,
        options: Mapping[str, Any],
        ctx: InvocationContext,
        raw_options: list[dict[str, Any]] | None,
        force: bool,
        *,
        focused: str | None,
    ) -> dict[str, Any]:
        name, *path = command.split()
        definition = self.world.find_command(name, ctx.guild.id if ctx.guild else None)
        if definition is None:
            synced = sorted(c.name for c in self.world.commands.values())
            raise CommandNotRegistered(f"/{name} was never synced (synced: {synced})")
        if not force:
            self.builder.check_visible(definition, ctx)
        return self.builder.command_data(
            definition, path, options, ctx, focused=focused, raw_options=raw_options
        )

    async def _dispatch_interaction(
        self,
        ctx: InvocationContext,
        type: int,
        data: dict[str, Any],
        source: Message | None,
        timeout_s: float | None,
    ) -> InteractionResult:
        payload = self.builder.base(ctx, type, data)
        if source is not None:
            payload["message"] = payloads.message(self.world, source)
        result = InteractionResult(
            id=int(payload["id"]),
            token=payload["token"],
            type=type,
            payload=payload,
            channel_id=ctx.channel.id,
            source_message=source,
        )
        self.interactions[result.id] = result
        result.dispatched_at = time.monotonic()
        session = await self.gateway.dispatch("INTERACTION_CREATE", payload)
        result.shard = session.shard
        if timeout_s is not None:
            await result.wait_ack(timeout_s)
        return result

    def interaction_by_token(self, token: str) -> InteractionResult | None:
        """The interaction a webhook token belongs to."""
        return next((r for r in self.interactions.values() if r.token == token), None)

    # -- commands ---------------------------------------------------------------------

    def commands_changed(self) -> None:
        """Wake :meth:`wait_for_commands` waiters."""
        self._commands_changed.set()
        self._commands_changed = asyncio.Event()

    async def wait_for_commands(
        self, *names: str, guild_id: int | None = None, timeout_s: float = 5.0
    ) -> None:
        """Wait until the bot synced commands named ``names`` (useful with a bot subprocess)."""
        deadline = time.monotonic() + timeout_s
        while not all(self.world.find_command(n, guild_id) for n in names):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"commands {names} not synced within {timeout_s}s")
            event = self._commands_changed
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                continue


async def _read_body(request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
    """JSON body, or ``payload_json`` plus file stubs for multipart requests."""
    if request.content_type == "multipart/form-data":
        form = await request.post()
        files = [
            {"filename": value.filename, "content_type": value.content_type, "field": name}
            for name, value in form.items()
            if isinstance(value, web.FileField)
        ]
        raw = form.get("payload_json")
        return (json.loads(raw) if isinstance(raw, str) else None), files
    text = await request.text()
    return (json.loads(text) if text else None), []


def _json_response(reply: Reply) -> web.Response:
    # Discord sits behind Google's LB; discord.py treats a 429 without ``Via`` as a Cloudflare ban.
    headers = {"Via": "1.1 google", **reply.headers}
    if reply.body is None and reply.status == 204:
        return web.Response(status=204, headers=headers)
    # Exactly "application/json": discord.py compares the header verbatim (no charset).
    headers["Content-Type"] = "application/json"
    return web.Response(status=reply.status, body=json.dumps(reply.body).encode(), headers=headers)
