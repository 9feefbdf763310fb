"""REST route handlers. Add more with ``double.add_route(method, template, handler)``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from . import payloads
from .faults import DiscordError, Reply
from .interactions import APPLICATION_COMMAND, InteractionResult
from .state import (
    DM,
    MANAGE_MESSAGES,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Channel,
    CommandDef,
    Guild,
    Message,
)

if TYPE_CHECKING:
    from .server import ApiRequest, DiscordDouble

EPHEMERAL = 1 << 6
LOADING = 1 << 7
CHAT_INPUT_COMMAND_MESSAGE = 20


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """A successful JSON reply."""
    return Reply(status, body, headers or {})


NO_CONTENT = Reply(204)


# -- lookups -------------------------------------------------------------------------------


def _guild(double: DiscordDouble, req: ApiRequest) -> Guild:
    guild = double.world.guilds.get(int(req.params["guild_id"]))
    if guild is None:
        raise DiscordError(404, 10004, "Unknown Guild")
    if double.world.bot_user.id not in guild.members:
        raise DiscordError(403, 50001)  # a server the bot is not in (kicked, banned)
    return guild


def _channel(double: DiscordDouble, req: ApiRequest) -> Channel:
    channel = double.world.channel(int(req.params["channel_id"]))
    if channel is None:
        raise DiscordError(404, 10003)
    return channel


def _bot_can(double: DiscordDouble, channel: Channel, permission: int) -> None:
    """Discord's refusals for a guild channel: 50001 when the bot cannot see it, 50013 when it
    lacks another permission."""
    if channel.guild_id is None:
        return
    if double.world.bot_user.id not in double.world.guilds[channel.guild_id].members:
        raise DiscordError(403, 50001)  # a channel of a server the bot is not in
    granted = double.world.channel_permissions(channel, double.world.bot_user.id)
    if not granted & VIEW_CHANNEL:
        raise DiscordError(403, 50001)
    if not granted & permission:
        raise DiscordError(403, 50013)


def _message(double: DiscordDouble, channel: Channel, message_id: str) -> Message:
    message = double.world.messages.get(int(message_id))
    if message is None or message.deleted or message.channel_id != channel.id:
        raise DiscordError(404, 10008)
    return message


def _own_app(double: DiscordDouble, req: ApiRequest) -> None:
    if int(req.params["application_id"]) != double.world.application_id:
        raise DiscordError(403, 50001)


# -- identity, gateway -----------------------------------------------------------------------


async def get_me(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET /users/@me."""
    return ok(payloads.user(double.world.bot_user))


async def get_user(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET /users/{user_id}."""
    user = double.world.users.get(int(req.params["user_id"]))
    if user is None:
        raise DiscordError(404, 10013, "Unknown User")
    return ok(payloads.user(user))


async def get_application(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET /applications/@me and /oauth2/applications/@me."""
    return ok(payloads.application(double.world, double.owner))


async def get_gateway(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET /gateway."""
    return ok({"url": double.gateway_url})


async def get_gateway_bot(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET /gateway/bot."""
    return ok(
        {
            "url": double.gateway_url,
            "shards": double.recommended_shards,
            "session_start_limit": double.gateway.limiter.session_start_limit(),
        }
    )


# -- application commands ----------------------------------------------------------------


def _scope(double: DiscordDouble, req: ApiRequest) -> int | None:
    """Global (None) or a guild's commands; like Discord, a guild the bot is not in (or no
    guild at all) is Missing Access."""
    if "guild_id" not in req.params:
        return None
    guild = double.world.guilds.get(int(req.params["guild_id"]))
    if guild is None or double.world.bot_user.id not in guild.members:
        raise DiscordError(403, 50001)
    return guild.id


def _store_command(double: DiscordDouble, scope: int | None, body: dict[str, Any]) -> CommandDef:
    """Create or update a command; like Discord, the id is kept for the same name and type."""
    world = double.world
    kind = int(body.get("type") or 1)
    existing = next(
        (c for c in world.commands_for(scope) if c.name == body["name"] and c.type == kind), None
    )
    if existing is not None:
        existing.payload = body
        existing.version += 1
        return existing
    command = CommandDef(
        id=world.ids.next(),
        application_id=world.application_id,
        name=body["name"],
        payload=body,
        guild_id=scope,
    )
    world.commands[command.id] = command
    return command


async def put_commands(double: DiscordDouble, req: ApiRequest) -> Reply:
    """PUT (bulk overwrite) global or guild commands."""
    _own_app(double, req)
    scope = _scope(double, req)
    ids = [_store_command(double, scope, body).id for body in req.body or []]
    for command in double.world.commands_for(scope):
        if command.id not in ids:
            del double.world.commands[command.id]
    double.commands_changed()
    return ok([payloads.command(double.world.commands[i]) for i in ids])


async def get_commands(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET global or guild commands."""
    _own_app(double, req)
    return ok([payloads.command(c) for c in double.world.commands_for(_scope(double, req))])


async def post_command(double: DiscordDouble, req: ApiRequest) -> Reply:
    """POST (upsert) one command."""
    _own_app(double, req)
    command = _store_command(double, _scope(double, req), req.json_object())
    double.commands_changed()
    return ok(payloads.command(command), 201 if command.version == 1 else 200)


def _command(double: DiscordDouble, req: ApiRequest) -> CommandDef:
    command = double.world.commands.get(int(req.params["command_id"]))
    if command is None or command.guild_id != _scope(double, req):
        raise DiscordError(404, 10063, "Unknown application command")
    return command


async def get_command(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET one command."""
    return ok(payloads.command(_command(double, req)))


async def patch_command(double: DiscordDouble, req: ApiRequest) -> Reply:
    """PATCH one command."""
    command = _command(double, req)
    command.payload = {**command.payload, **req.json_object()}
    command.name = command.payload["name"]
    command.version += 1
    double.commands_changed()
    return ok(payloads.command(command))


async def delete_command(double: DiscordDouble, req: ApiRequest) -> Reply:
    """DELETE one command."""
    del double.world.commands[_command(double, req).id]
    double.commands_changed()
    return NO_CONTENT


async def get_command_permissions(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET guild command permissions (none configured)."""
    return ok([])


# -- channels & messages -----------------------------------------------------------------------


async def get_channel(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET /channels/{channel_id}."""
    channel = _channel(double, req)
    _bot_can(double, channel, VIEW_CHANNEL)
    return ok(payloads.channel(double.world, channel))


async def create_message(double: DiscordDouble, req: ApiRequest) -> Reply:
    """POST /channels/{channel_id}/messages (honours enforce_nonce and DM refusal)."""
    channel = _channel(double, req)
    _bot_can(double, channel, SEND_MESSAGES)
    body = req.json_object()
    headers: dict[str, str] = {}
    if double.rate_limiter is not None:
        limited, headers = double.rate_limiter.check_channel(channel.id)
        if limited is not None:
            return limited
    duplicate = _nonce_duplicate(double, channel, body)
    if duplicate is not None:
        return ok(payloads.message(double.world, duplicate), headers=headers)
    if channel.type == DM:
        recipient = double.world.users.get(channel.recipient_id or 0)
        if (
            recipient is None
            or not recipient.accepts_dms
            or not double.world.shares_a_guild(recipient.id)
        ):
            raise DiscordError(403, 50007)  # closed DMs, or no server in common with the bot
    if body.get("flags") and body["flags"] & EPHEMERAL:
        raise DiscordError(400, 50035, "Invalid Form Body: ephemeral only exists on interactions")
    message = await double.create_message(channel, double.world.bot_user.id, body, files=req.files)
    return ok(payloads.message(double.world, message), headers=headers)


def _nonce_duplicate(
    double: DiscordDouble, channel: Channel, body: dict[str, Any]
) -> Message | None:
    if not body.get("enforce_nonce") or body.get("nonce") is None:
        return None
    horizon = time.monotonic() - 5 * 60
    return next(
        (
            m
            for m in double.world.messages_in(channel.id)
            if m.nonce == body["nonce"]
            and m.author_id == double.world.bot_user.id
            and m.created_at >= horizon
        ),
        None,
    )


async def list_messages(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET /channels/{channel_id}/messages (newest first, ``limit`` honoured)."""
    channel = _channel(double, req)
    limit = int(req.query.get("limit", 50))
    messages = [m for m in double.world.messages_in(channel.id) if not m.ephemeral]
    newest = list(reversed(messages))[:limit]
    return ok([payloads.message(double.world, m) for m in newest])


async def get_message(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET one message."""
    message = _message(double, _channel(double, req), req.params["message_id"])
    return ok(payloads.message(double.world, message))


async def edit_message(double: DiscordDouble, req: ApiRequest) -> Reply:
    """PATCH a message the bot sent."""
    message = _message(double, _channel(double, req), req.params["message_id"])
    if message.author_id != double.world.bot_user.id:
        raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
    message.apply_edit(req.json_object())
    return ok(payloads.message(double.world, message))


async def delete_message(double: DiscordDouble, req: ApiRequest) -> Reply:
    """DELETE /channels/{channel_id}/messages/{message_id}: 204, as Discord answers. A channel
    the bot cannot see is 50001 (403), a message not there (deleted already) 10008 (404);
    the bot deletes its own messages freely, another's only with Manage Messages (50013), and
    never in a DM (50003)."""
    channel = _channel(double, req)
    _bot_can(double, channel, VIEW_CHANNEL)
    message = _message(double, channel, req.params["message_id"])
    if message.author_id != double.world.bot_user.id:
        if channel.guild_id is None:
            raise DiscordError(403, 50003)
        _bot_can(double, channel, MANAGE_MESSAGES)
    await double.delete_message(channel, message)
    return NO_CONTENT


async def trigger_typing(double: DiscordDouble, req: ApiRequest) -> Reply:
    """POST /channels/{channel_id}/typing."""
    _channel(double, req)
    return NO_CONTENT


async def create_dm(double: DiscordDouble, req: ApiRequest) -> Reply:
    """POST /users/@me/channels: the same DM channel id every time for a user."""
    user_id = int(req.json_object().get("recipient_id", 0))
    if user_id not in double.world.users:
        raise DiscordError(400, 50033, "Invalid Recipient(s)")
    return ok(payloads.channel(double.world, double.world.dm_channel_for(user_id)))


# -- guilds ----------------------------------------------------------------------------------


async def get_guild(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET /guilds/{guild_id}."""
    guild = _guild(double, req)
    data = payloads.guild(double.world, guild, full=False)
    if req.query.get("with_counts") in ("true", "True", "1"):
        data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
    return ok(data)


async def get_guild_channels(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET /guilds/{guild_id}/channels."""
    guild = _guild(double, req)
    return ok([payloads.channel(double.world, c) for c in guild.channels.values()])


async def get_guild_roles(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET /guilds/{guild_id}/roles."""
    return ok([payloads.role(r) for r in _guild(double, req).roles.values()])


async def get_member(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET /guilds/{guild_id}/members/{user_id}."""
    member = _guild(double, req).members.get(int(req.params["user_id"]))
    if member is None:
        raise DiscordError(404, 10007, "Unknown Member")
    return ok(payloads.member(double.world, member))


async def list_members(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET /guilds/{guild_id}/members."""
    guild = _guild(double, req)
    limit = int(req.query.get("limit", 1))
    members = list(guild.members.values())[:limit]
    return ok([payloads.member(double.world, m) for m in members])


# -- interactions & webhooks -----------------------------------------------------------------


def _unknown_interaction() -> DiscordError:
    return DiscordError(404, 10062)


async def interaction_callback(double: DiscordDouble, req: ApiRequest) -> Reply:
    """POST /interactions/{id}/{token}/callback (``?with_response=1`` answers 200 + JSON)."""
    result = double.interactions.get(int(req.params["interaction_id"]))
    if result is None or result.token != req.params["interaction_token"]:
        raise _unknown_interaction()
    if result.acknowledged:
        raise DiscordError(400, 40060)
    if time.monotonic() - result.dispatched_at > double.ack_deadline:
        result.late_ack = True
        result.notify()
        raise _unknown_interaction()
    body = req.json_object()
    callback_type = int(body["type"])
    message = await _apply_callback(double, result, callback_type, body.get("data") or {}, req)
    result.callback_type, result.callback_body = callback_type, body
    result.acked_at = time.monotonic()
    result.notify()
    if req.query.get("with_response") not in ("1", "true", "True"):
        return NO_CONTENT
    return ok(_callback_response(double, result, callback_type, message))


async def _apply_callback(
    double: DiscordDouble,
    result: InteractionResult,
    callback_type: int,
    data: dict[str, Any],
    req: ApiRequest,
) -> Message | None:
    channel = double.world.channel(result.channel_id)
    assert channel is not None
    message_type = CHAT_INPUT_COMMAND_MESSAGE if result.type == APPLICATION_COMMAND else 0
    if callback_type in (4, 5):
        flags = int(data.get("flags") or 0)
        if callback_type == 5:
            flags = (flags & EPHEMERAL) | LOADING
        result.original = await double.create_message(
            channel,
            double.world.bot_user.id,
            data if callback_type == 4 else {},
            files=req.files,
            interaction_id=result.id,
            message_type=message_type,
            flags=flags,
        )
    elif callback_type in (6, 7):
        if result.source_message is None:
            raise DiscordError(400, 40004, "Interaction has no message to update")
        result.original = result.source_message
        if callback_type == 7:
            result.source_message.apply_edit(data)
    elif callback_type == 8:
        result.choices = list(data.get("choices") or [])
    elif callback_type == 9:
        result.modal = data
    return result.original if callback_type in (4, 5, 7) else None


def _callback_response(
    double: DiscordDouble, result: InteractionResult, callback_type: int, message: Message | None
) -> dict[str, Any]:
    interaction: dict[str, Any] = {
        "id": str(result.id),
        "type": result.type,
        "response_message_loading": callback_type == 5,
        "response_message_ephemeral": bool(message and message.ephemeral),
    }
    response: dict[str, Any] = {"interaction": interaction}
    if message is not None:
        interaction["response_message_id"] = str(message.id)
        response["resource"] = {
            "type": callback_type,
            "message": payloads.message(double.world, message),
        }
    return response


def _webhook_interaction(double: DiscordDouble, req: ApiRequest) -> InteractionResult:
    result = double.interaction_by_token(req.params["webhook_token"])
    if int(req.params["webhook_id"]) != double.world.application_id or result is None:
        raise DiscordError(404, 10015, "Unknown Webhook")
    if not result.acknowledged:
        # Discord refuses followups/edits before the interaction was acknowledged.
        raise DiscordError(404, 10015, "Unknown Webhook")
    return result


def _webhook_message(double: DiscordDouble, result: InteractionResult, message_id: str) -> Message:
    if message_id == "@original":
        if result.original is None or result.original_deleted:
            raise DiscordError(404, 10008)
        return result.original
    message = next((m for m in result.followups if str(m.id) == message_id), None)
    if message is None and result.original is not None and str(result.original.id) == message_id:
        message = result.original
    if message is None or message.deleted:
        raise DiscordError(404, 10008)
    return message


async def execute_webhook(double: DiscordDouble, req: ApiRequest) -> Reply:
    """POST /webhooks/{app_id}/{token}: an interaction followup."""
    result = _webhook_interaction(double, req)
    channel = double.world.channel(result.channel_id)
    assert channel is not None
    message = await double.create_message(
        channel,
        double.world.bot_user.id,
        req.json_object(),
        files=req.files,
        interaction_id=result.id,
    )
    result.followups.append(message)
    result.notify()
    if req.query.get("wait") in ("true", "True", "1"):
        return ok(payloads.message(double.world, message))
    return NO_CONTENT


async def get_webhook_message(double: DiscordDouble, req: ApiRequest) -> Reply:
    """GET /webhooks/{app_id}/{token}/messages/{message_id|@original}."""
    result = _webhook_interaction(double, req)
    return ok(
        payloads.message(double.world, _webhook_message(double, result, req.params["message_id"]))
    )


async def edit_webhook_message(double: DiscordDouble, req: ApiRequest) -> Reply:
    """PATCH /webhooks/{app_id}/{token}/messages/{message_id|@original}."""
    result = _webhook_interaction(double, req)
    message = _webhook_message(double, result, req.params["message_id"])
    message.apply_edit(req.json_object())
    if message is result.original:
        result.edits.append(req.json_object())
    result.notify()
    return ok(payloads.message(double.world, message))


async def delete_webhook_message(double: DiscordDouble, req: ApiRequest) -> Reply:
    """DELETE /webhooks/{app_id}/{token}/messages/{message_id|@original}."""
    result = _webhook_interaction(double, req)
    message = _webhook_message(double, result, req.params["message_id"])
    message.deleted = True
    if message is result.original:
        result.original_deleted = True
    result.notify()
    return NO_CONTENT


_BOT_ROUTES = [
    ("GET", "/users/@me", get_me),
    ("GET", "/users/{user_id}", get_user),
    ("POST", "/users/@me/channels", create_dm),
    ("GET", "/applications/@me", get_application),
    ("GET", "/oauth2/applications/@me", get_application),
    ("GET", "/gateway/bot", get_gateway_bot),
    ("PUT", "/applications/{application_id}/commands", put_commands),
    ("GET", "/applications/{application_id}/commands", get_commands),
    ("POST", "/applications/{application_id}/commands", post_command),
    ("GET", "/applications/{application_id}/commands/{command_id}", get_command),
    ("PATCH", "/applications/{application_id}/commands/{command_id}", patch_command),
    ("DELETE", "/applications/{application_id}/commands/{command_id}", delete_command),
    ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", put_commands),
    ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", get_commands),
    ("POST", "/applications/{application_id}/guilds/{guild_id}/commands", post_command),
    ("GET", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}", get_command),
    (
        "PATCH",
        "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
        patch_command,
    ),
    (
        "DELETE",
        "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
        delete_command,
    ),
    (
        "GET",
        "/applications/{application_id}/guilds/{guild_id}/commands/permissions",
        get_command_permissions,
    ),
    ("GET", "/channels/{channel_id}", get_channel),
    ("POST", "/channels/{channel_id}/messages", create_message),
    ("GET", "/channels/{channel_id}/messages", list_messages),
    ("GET", "/channels/{channel_id}/messages/{message_id}", get_message),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}", edit_message),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}", delete_message),
    ("POST", "/channels/{channel_id}/typing", trigger_typing),
    ("GET", "/guilds/{guild_id}", get_guild),
    ("GET", "/guilds/{guild_id}/channels", get_guild_channels),
    ("GET", "/guilds/{guild_id}/roles", get_guild_roles),
    ("GET", "/guilds/{guild_id}/members", list_members),
    ("GET", "/guilds/{guild_id}/members/{user_id}", get_member),
]

# Interaction callbacks and webhooks authenticate with the token in the URL, not a bot token.
_TOKEN_ROUTES = [
    ("GET", "/gateway", get_gateway),
    ("POST", "/interactions/{interaction_id}/{interaction_token}/callback", interaction_callback),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}", execute_webhook),
    ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", get_webhook_message),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", edit_webhook_message),
    (
        "DELETE",
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        delete_webhook_message,
    ),
]


def register_default_routes(double: DiscordDouble) -> None:
    """Install every route above on ``double``."""
    for method, template, handler in _BOT_ROUTES:
        double.add_route(method, template, handler)
    for method, template, handler in _TOKEN_ROUTES:
        double.add_route(method, template, handler, bot_auth=False)
