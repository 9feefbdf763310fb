"""Readers' commands: /subscribe, /unsubscribe, /subscriptions, /topics, /related, /latest."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.answers import acknowledge, reply
from bot.app import TopicBot
from bot.checks import guild_id_of, in_guild, member_cooldown
from bot.domain.errors import StoryNotFound, UserError
from bot.domain.replans import now_passing
from bot.ui.choices import article_choices, subscription_choices, topic_choices
from bot.ui.embeds import BRAND_COLOUR, article_embed, plain
from bot.ui.pages import (
    TOPICS_PER_PAGE,
    PageButton,
    lines_page,
    nav_buttons,
    page_renderer,
    topics_page,
    view_of,
)
from bot.ui.readers import (
    describe_subscription,
    latest_embed,
    results_embed,
    story_not_found,
)
from storage.models import Subscription
from storage.outbox.health import HealthCounts

DeliveryChoice = Literal["instant", "daily", "weekly"]
RESULTS_SHOWN = 10
# Under a list cut at RESULTS_SHOWN: that more exist, and what finds them.
RELATED_MORE = (
    f"The {RESULTS_SHOWN} closest shown; more coverage is related. "
    "/related query: with the story's other words finds others."
)
QUERY_MORE = f"The {RESULTS_SHOWN} best matches shown; more match. Add words to narrow the search."


@page_renderer("topics")
async def render_topics_page(
    interaction: discord.Interaction[TopicBot], page: int
) -> tuple[list[discord.Embed], discord.ui.View]:
    """Page ``page`` of /topics with its navigation."""
    listing = await interaction.client.services.catalog.topics(
        guild_id_of(interaction), page, per_page=TOPICS_PER_PAGE
    )
    view = view_of(nav_buttons("topics", listing.number, listing.pages))
    return [topics_page(listing.topics, listing.number, listing.pages, listing.total)], view


NO_SUBSCRIPTIONS = "You don't follow any topics here yet. Try `/subscribe`."


@page_renderer("subscriptions")
async def render_subscriptions_page(
    interaction: discord.Interaction[TopicBot], page: int
) -> tuple[list[discord.Embed], discord.ui.View]:
    """Page ``page`` of the member's /subscriptions, with its navigation when there is more
    than one page (a member may follow up to ``commands.max_subscriptions_per_member``)."""
    guild_id, user_id = guild_id_of(interaction), interaction.user.id
    own = await interaction.client.services.subscriptions.of_member(guild_id, user_id)
    return await subscriptions_page(interaction, own, page)


async def subscriptions_page(
    interaction: discord.Interaction[TopicBot], own: list[Subscription], page: int
) -> tuple[list[discord.Embed], discord.ui.View]:
    """Page ``page`` of ``own``, the member's subscriptions here."""
    service = interaction.client.services.subscriptions
    guild_id, user_id = guild_id_of(interaction), interaction.user.id
    health = await service.health(guild_id, user_id) if own else {}
    lines = [describe_subscription(s, health.get(s.id, HealthCounts())) for s in own]
    shown = lines_page("subscriptions", lines, page)
    embed = discord.Embed(
        title="Your subscriptions",
        description=shown.text or NO_SUBSCRIPTIONS,
        colour=BRAND_COLOUR,
    )
    cap = service.max_per_member
    footer = (
        f"{len(own)} of the {cap} topics you may follow here"
        if len(own) <= cap
        else f"{len(own)} topics, more than the {cap} now allowed here"
    )
    if shown.pages > 1:
        footer += f" · page {shown.number} of {shown.pages}"
    embed.set_footer(text=footer)
    return [embed], view_of(shown.buttons)


# What becomes of the recent articles a member's lowered bar lets through, by delivery.
_COMING = {
    "instant": "will come by DM shortly",
    "daily": "will come in your next daily digest",
    "weekly": "will come in your next weekly digest",
}


class Readers(commands.Cog):
    """Commands every member can use."""

    def __init__(self, bot: TopicBot) -> None:
        self.bot = bot
        self.services = bot.services

    @app_commands.command(name="subscribe", description="Get alerts for a topic")
    @app_commands.describe(
        topic="The topic to follow (start typing to see suggestions)",
        min_quality="Only alert for articles at least this good (0-100, default 0)",
        delivery="Right away by DM, or a daily or weekly digest (default instant)",
    )
    @in_guild()
    async def subscribe(
        self,
        interaction: discord.Interaction[TopicBot],
        topic: str,
        min_quality: app_commands.Range[int, 0, 100] = 0,
        delivery: DeliveryChoice = "instant",
    ) -> None:
        """Follow a topic, or change how an existing subscription alerts."""
        subscribed = await self.services.subscriptions.subscribe(
            guild_id_of(interaction),
            interaction.user.id,
            topic,
            min_quality=min_quality,
            delivery=delivery,
        )
        saved = subscribed.saved
        if subscribed.moved and self.bot.jobs is not None:
            await self.bot.jobs.wake_when_wanted()  # waiting digest items may now be due sooner
        verb = "Subscribed to" if saved.created else "Updated your subscription to"
        passing = now_passing(subscribed.now_passing, _COMING[saved.subscription.delivery])
        await reply(
            interaction,
            f"{verb} {describe_subscription(saved.subscription)}."
            + (f"\n{passing}" if passing else ""),
        )

    @subscribe.autocomplete("topic")
    async def subscribe_topic(
        self, interaction: discord.Interaction[TopicBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Known topics matching what was typed, most-used first."""
        if interaction.guild_id is None:
            return []
        suggested = await self.services.subscriptions.suggest_topics(interaction.guild_id, current)
        return topic_choices(suggested)

    @app_commands.command(name="unsubscribe", description="Stop alerts for a topic")
    @app_commands.describe(topic="One of the topics you follow")
    @in_guild()
    async def unsubscribe(self, interaction: discord.Interaction[TopicBot], topic: str) -> None:
        """Stop following a topic."""
        name = await self.services.subscriptions.unsubscribe(
            guild_id_of(interaction), interaction.user.id, topic
        )
        await reply(interaction, f"Unsubscribed from **{plain(name, 80)}**.")

    @unsubscribe.autocomplete("topic")
    async def unsubscribe_topic(
        self, interaction: discord.Interaction[TopicBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """The member's own subscriptions in this server."""
        if interaction.guild_id is None:
            return []
        own = await self.services.subscriptions.suggest_own(
            interaction.guild_id, interaction.user.id, current
        )
        return subscription_choices(own)

    @app_commands.command(name="subscriptions", description="The topics you follow here")
    @in_guild()
    async def subscriptions(self, interaction: discord.Interaction[TopicBot]) -> None:
        """List the member's subscriptions in this server with their settings."""
        own = await self.services.subscriptions.of_member(
            guild_id_of(interaction), interaction.user.id
        )
        if not own:
            await reply(interaction, NO_SUBSCRIPTIONS)
            return
        embeds, view = await subscriptions_page(interaction, own, 1)
        await reply(interaction, embeds=embeds, view=view)

    @app_commands.command(name="topics", description="Known topics and how many articles each has")
    @in_guild()
    async def topics(self, interaction: discord.Interaction[TopicBot]) -> None:
        """Page through the topics, most-used first."""
        embeds, view = await render_topics_page(interaction, 1)
        await reply(interaction, embeds=embeds, view=view)

    @app_commands.command(name="related", description="Other outlets' coverage of a story")
    @app_commands.describe(
        story="A story (start typing its title)", query="Or: words to search for"
    )
    @in_guild()
    @member_cooldown(lambda settings: settings.related_per_minute)
    async def related(
        self,
        interaction: discord.Interaction[TopicBot],
        story: str | None = None,
        query: str | None = None,
    ) -> None:
        """A story's curated coverage then similar stories, or stories matching a query."""
        guild_id = guild_id_of(interaction)
        if bool(story) == bool(query):
            raise UserError("Give either `story` (pick one from the list) or `query` (some words).")
        await acknowledge(interaction)  # the engine often takes a while: say so at once
        if story:
            try:
                article, results = await self.services.related.for_story(
                    guild_id, story, limit=RESULTS_SHOWN, peek=True
                )
            except StoryNotFound as error:
                raise UserError(story_not_found(error)) from None
            more = RELATED_MORE if len(results) > RESULTS_SHOWN else None
            embeds = [
                article_embed(article, excerpt_limit=300),
                results_embed(
                    "Related coverage",
                    results[:RESULTS_SHOWN],
                    "No related coverage found yet.",
                    more,
                ),
            ]
        else:
            assert query is not None
            results = await self.services.related.for_query(
                guild_id, query, limit=RESULTS_SHOWN, peek=True
            )
            more = QUERY_MORE if len(results) > RESULTS_SHOWN else None
            embeds = [
                results_embed(
                    f"Stories matching “{plain(query, 100)}”",
                    results[:RESULTS_SHOWN],
                    "Nothing matches those words. Try fewer or different words.",
                    more,
                )
            ]
        await reply(interaction, embeds=embeds)

    @related.autocomplete("story")
    async def related_story(
        self, interaction: discord.Interaction[TopicBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Published stories in this server whose title matches what was typed, or the one
        a pasted link names."""
        if interaction.guild_id is None:
            return []
        return article_choices(await self.services.related.suggest(interaction.guild_id, current))

    @app_commands.command(name="latest", description="The newest published articles here")
    @app_commands.describe(topic="Only this topic (optional)")
    @in_guild()
    @member_cooldown(lambda settings: settings.latest_per_minute)
    async def latest(
        self, interaction: discord.Interaction[TopicBot], topic: str | None = None
    ) -> None:
        """The newest published articles above this server's quality bar."""
        latest = await self.services.catalog.latest(
            guild_id_of(interaction), topic, limit=RESULTS_SHOWN
        )
        embed = latest_embed(
            latest.articles,
            latest.topic_name,
            latest.quality_bar,
            under_bar=latest.under_bar,
            more=latest.more,
        )
        await reply(interaction, embeds=[embed])

    @latest.autocomplete("topic")
    async def latest_topic(
        self, interaction: discord.Interaction[TopicBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Known topics."""
        if interaction.guild_id is None:
            return []
        suggested = await self.services.subscriptions.suggest_topics(interaction.guild_id, current)
        return topic_choices(suggested)


async def setup(bot: TopicBot) -> None:
    """Load the readers' commands and the restart-proof page buttons."""
    bot.add_dynamic_items(PageButton)
    await bot.add_cog(Readers(bot))
