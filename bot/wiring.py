"""What commands and buttons reach through an interaction's client: the domain services and
the settings, built over one store. ``TopicBot`` is a ``ServiceBot``; checks and components
type their interactions ``discord.Interaction[ServiceBot]`` and need not know the app."""

from __future__ import annotations

from dataclasses import dataclass

import discord
from discord.ext import commands

from bot.config import Settings
from bot.domain.catalog import CatalogService
from bot.domain.feeds import FeedService
from bot.domain.guild_settings import GuildSettingsService
from bot.domain.moderation import ModerationService
from bot.domain.related import RelatedService
from bot.domain.replans import BarLowering
from bot.domain.servers import ServerService
from bot.domain.subscriptions import Clock, SubscriptionService, utc_now
from bot.sending.pacing import Throttle
from storage.api import StoreApi


@dataclass(frozen=True, slots=True)
class Services:
    """The domain services the cogs call."""

    subscriptions: SubscriptionService
    feeds: FeedService
    moderation: ModerationService
    guild_settings: GuildSettingsService
    related: RelatedService
    catalog: CatalogService
    servers: ServerService


def build_services(store: StoreApi, settings: Settings, clock: Clock = utc_now) -> Services:
    """Services over one store, configured from the settings."""
    lowering = BarLowering(
        store,
        max_age_hours=settings.delivery.max_age_hours,
        default_bar=settings.delivery.default_min_quality,
        clock=clock,
    )
    subscriptions = SubscriptionService(
        store,
        max_per_member=settings.commands.max_subscriptions_per_member,
        digests=settings.digests,
        lowering=lowering,
        clock=clock,
    )
    guild_settings = GuildSettingsService(
        store,
        default_min_quality=settings.delivery.default_min_quality,
        digests=settings.digests,
        lowering=lowering,
        clock=clock,
    )
    return Services(
        subscriptions=subscriptions,
        feeds=FeedService(
            store,
            subscriptions,
            max_per_guild=settings.commands.max_feeds_per_guild,
            lowering=lowering,
            clock=clock,
        ),
        moderation=ModerationService(store, clock=clock),
        guild_settings=guild_settings,
        related=RelatedService(store, settings.related),
        catalog=CatalogService(store, subscriptions, guild_settings),
        servers=ServerService(store, clock=clock),
    )


def intents() -> discord.Intents:
    """Only what topicbot needs: guilds (channels and roles). No privileged intents."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


class ServiceBot(commands.AutoShardedBot):
    """A bot that carries the services and settings its commands use. Sharded: the shards it
    connects are chosen at start (every shard Discord recommends, by default)."""

    settings: Settings
    store: StoreApi
    services: Services
    autocomplete_throttle: Throttle
