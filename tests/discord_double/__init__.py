"""A fake Discord (REST + gateway) that the real discord.py client connects to in tests."""

from .client import patch_discord, patch_for, running_bot
from .faults import DiscordError, FaultRule, RateLimiter, Reply
from .interactions import CommandNotRegistered, CommandNotVisible, InteractionResult
from .plugin import DoubleWorld, GuildWorld, build_guild, build_world
from .server import ApiRequest, DiscordDouble, RequestRecord
from .spec import ALLOW_LIST, SpecValidator, load_spec_validator
from .state import Channel, Guild, Member, Message, Role, User, World

__all__ = [
    "ALLOW_LIST",
    "ApiRequest",
    "Channel",
    "CommandNotRegistered",
    "CommandNotVisible",
    "DiscordDouble",
    "DiscordError",
    "DoubleWorld",
    "FaultRule",
    "Guild",
    "GuildWorld",
    "InteractionResult",
    "Member",
    "Message",
    "RateLimiter",
    "Reply",
    "RequestRecord",
    "Role",
    "SpecValidator",
    "User",
    "World",
    "build_guild",
    "build_world",
    "load_spec_validator",
    "patch_discord",
    "patch_for",
    "running_bot",
]
