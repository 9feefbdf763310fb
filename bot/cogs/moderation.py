"""Moderators' commands: /publish, /unpublish (with a button that deletes the posts), /queue
(with buttons), /article add, /audit."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.answers import reply
from bot.app import TopicBot
from bot.checks import (
    NOT_A_MODERATOR,
    guild_id_of,
    member_is_moderator,
    moderator_only,
)
from bot.domain.errors import UserError
from bot.domain.moderation import (
    AuditPage,
    DeletePost,
    PostOutcome,
    PostRemoval,
    PostsBeingDeleted,
    QueuePage,
    Removal,
    Retraction,
)
from bot.domain.text import clip, headline
from bot.errors import report_error
from bot.ui.choices import article_choices
from bot.ui.embeds import BRAND_COLOUR, fit_lines, plain
from bot.ui.moderation import audit_embed, audit_span, queue_item_embed
from bot.ui.pages import PageButton, page_renderer, show_in_place, view_of
from storage.models import GuildArticle
from storage.publication import QueueWay

# A post's DELETE waits this long for Discord (its rate limits included), well within the
# claim a press holds on the post (bot.domain.moderation.REMOVAL_LEASE).
DELETE_TIMEOUT_SECONDS = 30
QUEUE_PAGE_SIZE = 4  # two buttons per item on its own row, plus a row for paging
AUDIT_PAGE_SIZE = 10


class QueueDecision(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=(
        r"tb:queue:(?P<action>publish|reject):(?P<article>[a-z0-9]{1,40}):"
        r"(?:(?P<page>\d{1,6})|@(?P<anchor>[a-z0-9]{1,40}))"
    ),
):
    """Publish or Reject one queued article; the queue message is updated in place, showing
    the page again from its first article (``anchor``; messages sent before pages were keyed
    name a page number instead)."""

    def __init__(self, action: str, article_id: str, place: int | str, *, index: int = 0) -> None:
        publish = action == "publish"
        where = place if isinstance(place, int) else f"@{place}"
        super().__init__(
            discord.ui.Button(
                label=f"{'Publish' if publish else 'Reject'} {index}".strip(),
                style=discord.ButtonStyle.success if publish else discord.ButtonStyle.danger,
                custom_id=f"tb:queue:{action}:{article_id}:{where}",
                row=index - 1 if index else None,
            )
        )
        self.action = action
        self.article_id = article_id
        self.place = place

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> QueueDecision:
        """Rebuild the button from its custom id."""
        place = match["anchor"] if match["anchor"] else int(match["page"])
        return cls(match["action"], match["article"], place)

    async def callback(  # type: ignore[override]  # registered on a TopicBot only
        self, interaction: discord.Interaction[TopicBot]
    ) -> None:
        """Record the decision, then show the queue page again with a note of what happened."""
        try:
            if not await member_is_moderator(interaction):
                raise app_commands.CheckFailure(NOT_A_MODERATOR)
            moderation = interaction.client.services.moderation
            guild_id, actor = guild_id_of(interaction), interaction.user.id
            try:
                if self.action == "publish":
                    decided = await moderation.publish(
                        guild_id, actor, self.article_id, queued=True
                    )
                    note = f"✅ Published “{plain(headline(decided.article.title), 150)}”."
                    note += await under_the_bar(interaction, decided)
                else:
                    decided = await moderation.reject(guild_id, actor, self.article_id)
                    note = f"🗑️ Rejected “{plain(headline(decided.article.title), 150)}”."
            except UserError as refused:
                # decided meanwhile (or gone): say so on the page, shown afresh
                note = clip(refused.message, 2000)
            if isinstance(self.place, int):
                embeds, view = await queue_page(interaction, page=self.place)
            else:
                embeds, view = await queue_page(interaction, anchor=("at", self.place))
            await interaction.response.edit_message(content=note, embeds=embeds, view=view)
        except Exception as error:
            await report_error(interaction, error, f"queue {self.action}")


async def under_the_bar(interaction: discord.Interaction[TopicBot], item: GuildArticle) -> str:
    """For an article just published here: a sentence when its quality is under the server's
    bar (so members will not see it), else nothing."""
    bar = await interaction.client.services.guild_settings.min_quality(guild_id_of(interaction))
    if item.article.quality >= bar:
        return ""
    return (
        f" Its quality ({item.article.quality}) is under this server's bar ({bar}), so it is "
        "not posted, alerted or listed in `/latest`, except by a feed with a lower "
        "`min_quality` of its own; `/settings min_quality` changes the bar."
    )


def post_link(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def delete_label(posts: int) -> str:
    """The label of the button that deletes a retracted article's posts."""
    return f"Delete {posts} post{'s' if posts != 1 else ''}"


def retraction_note(guild_id: int, retracted: Retraction) -> str:
    """What the retraction stopped, and what had gone out already: the posts, which the
    button below deletes, and the DMs, which stay."""
    note = ""
    if retracted.cancelled:
        many = retracted.cancelled != 1
        note += f" {retracted.cancelled} waiting alert{'s' if many else ''} cancelled."
    posts = len(retracted.posts)
    sent = [f"the post {post_link(guild_id, *post)}" for post in retracted.posts[:5]]
    if posts > 5:
        sent.append(f"{posts - 5} more posts")
    if retracted.messages:
        many = retracted.messages != 1
        sent.append(f"{retracted.messages} direct message{'s' if many else ''}")
    if not sent:
        return note
    listed = ", ".join(sent[:-1]) + (" and " if len(sent) > 1 else "") + sent[-1]
    if not posts:
        return f"{note} Already sent, and not taken back: {listed}."
    note += f" {'Still up' if retracted.already else 'Already sent'}: {listed}."
    them = "the posts" if posts != 1 else "the post"
    stay = "; direct messages stay" if retracted.messages else ""
    return f"{note} Press “{delete_label(posts)}” to take {them} down{stay}."


class DeletePosts(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"tb:retract:delete:(?P<article>[a-z0-9]{1,40})",
):
    """Delete the bot's posts of an article retracted here. The custom id names the article
    only: the server is the one pressed in, the presser must moderate it, and the posts are
    read from the store for it (``ModerationService.remove_posts``)."""

    def __init__(self, article_id: str, posts: int = 0) -> None:
        super().__init__(
            discord.ui.Button(
                label=delete_label(posts),
                style=discord.ButtonStyle.danger,
                custom_id=f"tb:retract:delete:{article_id}",
            )
        )
        self.article_id = article_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> DeletePosts:
        """Rebuild the button from its custom id."""
        return cls(match["article"])

    async def callback(  # type: ignore[override]  # registered on a TopicBot only
        self, interaction: discord.Interaction[TopicBot]
    ) -> None:
        """Say it is under way (deleting takes a request per post), delete, then say how it
        went in place of the reply, the button kept for the posts still up."""
        try:
            if not await member_is_moderator(interaction):
                raise app_commands.CheckFailure(NOT_A_MODERATOR)
            await interaction.response.edit_message(content="Deleting the posts…", view=None)
            guild_id = guild_id_of(interaction)
            try:
                removal = await interaction.client.services.moderation.remove_posts(
                    guild_id, interaction.user.id, self.article_id, post_deleter(interaction.client)
                )
            except PostsBeingDeleted as busy:  # the button stays, to press again later
                await interaction.edit_original_response(
                    content=clip(busy.message, 2000),
                    view=view_of([DeletePosts(self.article_id, busy.still_up)]),
                )
                return
            except UserError as refused:
                await interaction.edit_original_response(content=clip(refused.message, 2000))
                return
            view = view_of([DeletePosts(self.article_id, removal.still_up)])
            await interaction.edit_original_response(
                content=removal_note(guild_id, removal), view=view if removal.still_up else None
            )
        except Exception as error:
            await report_error(interaction, error, "delete posts")


def post_deleter(client: discord.Client) -> DeletePost:
    """Delete one of the bot's own posts (no Manage Messages needed) and say how it went."""

    async def delete(channel_id: int, message_id: int) -> PostRemoval:
        try:
            async with asyncio.timeout(DELETE_TIMEOUT_SECONDS):
                await client.http.delete_message(channel_id, message_id)
        except TimeoutError:
            detail = f"no answer within {DELETE_TIMEOUT_SECONDS} s"
            return PostRemoval(channel_id, message_id, "failed", detail)
        except discord.NotFound as error:
            gone: PostOutcome = "channel_gone" if error.code == 10003 else "gone"
            return PostRemoval(channel_id, message_id, gone)
        except discord.Forbidden:
            return PostRemoval(channel_id, message_id, "no_access")
        except discord.HTTPException as error:
            return PostRemoval(channel_id, message_id, "failed", f"HTTP {error.status}")
        except (discord.RateLimited, OSError) as error:
            return PostRemoval(channel_id, message_id, "failed", type(error).__name__)
        return PostRemoval(channel_id, message_id, "deleted")

    return delete


def removal_note(guild_id: int, removal: Removal) -> str:
    """How many posts went, and why each of the others is gone already or still up."""
    title = plain(headline(removal.article.title), 150)
    many = removal.deleted != 1
    lines = [
        f"Deleted {removal.deleted} post{'s' if many else ''} of “{title}”."
        if removal.deleted
        else f"No post of “{title}” was deleted."
    ]
    for result in removal.results:
        where = f"The post in <#{result.channel_id}>"
        link = post_link(guild_id, result.channel_id, result.message_id)
        if result.outcome == "gone":
            lines.append(f"{where} had already been deleted (by hand, it seems): it is gone.")
        elif result.outcome == "channel_gone":
            lines.append(f"{where} is gone with its channel, which was deleted.")
        elif result.outcome == "no_access":
            lines.append(
                f"{where} stays: I can no longer see that channel. Delete it by hand ({link}), "
                "or give me access and press the button again."
            )
        elif result.outcome == "failed":
            lines.append(
                f"{where} stays: Discord did not let me delete it ({result.detail}). Press the "
                f"button again, or delete it by hand ({link})."
            )
    return fit_lines(lines, 2000, "…and {n} more posts")[0]


class QueuePageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"tb:queue:(?P<way>older|newer):(?P<article>[a-z0-9]{1,40})",
):
    """Next (the articles just older than the last shown) or Previous (just newer than the
    first shown) in /queue, keyed by that article, so a decision or an arrival between
    presses makes no page skip or repeat an item."""

    def __init__(self, way: QueueWay, article_id: str, *, label: str, disabled: bool) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                custom_id=f"tb:queue:{way}:{article_id}",
                disabled=disabled,
                row=4,
                style=discord.ButtonStyle.secondary,
            )
        )
        self.way: QueueWay = way
        self.article_id = article_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> QueuePageButton:
        """Rebuild the button from its custom id."""
        way: QueueWay = "older" if match["way"] == "older" else "newer"
        return cls(way, match["article"], label="", disabled=False)

    async def callback(  # type: ignore[override]  # registered on a TopicBot only
        self, interaction: discord.Interaction[TopicBot]
    ) -> None:
        """Show the page asked for in place (acknowledged first when slow to render, as
        every page button)."""
        try:
            await show_in_place(
                interaction, queue_page(interaction, anchor=(self.way, self.article_id))
            )
        except Exception as error:
            await report_error(interaction, error, f"queue {self.way}")


@page_renderer("queue")
async def render_queue_page(
    interaction: discord.Interaction[TopicBot], page: int
) -> tuple[list[discord.Embed], discord.ui.View]:
    """Page ``page`` of the queue by position: the buttons of messages sent before pages were
    keyed by article."""
    return await queue_page(interaction, page=page)


async def queue_page(
    interaction: discord.Interaction[TopicBot],
    *,
    page: int = 1,
    anchor: tuple[QueueWay, str] | None = None,
) -> tuple[list[discord.Embed], discord.ui.View]:
    """One page of the review queue, with a Publish and a Reject button per article and
    Previous / Next keyed by the articles shown (``ModerationService.queue``)."""
    if not await member_is_moderator(interaction):
        raise app_commands.CheckFailure(NOT_A_MODERATOR)
    guild_id = guild_id_of(interaction)
    listing = await interaction.client.services.moderation.queue(
        guild_id, page_size=QUEUE_PAGE_SIZE, page=page, anchor=anchor
    )
    bar = await interaction.client.services.guild_settings.min_quality(guild_id)
    view = discord.ui.View(timeout=None)
    embeds = []
    top = listing.items[0].article.id if listing.items else ""
    for index, item in enumerate(listing.items, start=1):
        embeds.append(queue_item_embed(index, item, bar))
        for action in ("publish", "reject"):
            view.add_item(QueueDecision(action, item.article.id, top, index=index))
    if not embeds:
        embeds.append(
            discord.Embed(
                title="Review queue", description="Nothing is waiting. 🎉", colour=BRAND_COLOUR
            )
        )
    if listing.newer or listing.older:
        for button in queue_buttons(listing):
            view.add_item(button)
    span = f"{queue_span(listing)} of them, newest first" if listing.items else ""
    embeds[-1].set_footer(
        text=clip(
            f"{embeds[-1].footer.text + ' · ' if embeds[-1].footer.text else ''}"
            f"{listing.total} pending{' · ' + span if span else ''}",
            300,
        )
    )
    return embeds, view


def queue_span(listing: QueuePage) -> str:
    """Where the page's items are among all waiting, newest first: '5-8'."""
    return f"{listing.first}-{listing.first + len(listing.items) - 1}"


def queue_buttons(listing: QueuePage) -> list[discord.ui.Button[Any]]:
    """Previous (the items just newer than the first shown), where the page is among all,
    Next (those just older than the last shown)."""
    first, last = listing.items[0].article.id, listing.items[-1].article.id
    return [
        QueuePageButton("newer", first, label="◀ Previous", disabled=not listing.newer).item,
        discord.ui.Button(label=f"{queue_span(listing)} / {listing.total}", disabled=True, row=4),
        QueuePageButton("older", last, label="Next ▶", disabled=not listing.older).item,
    ]


async def audit_page(
    interaction: discord.Interaction[TopicBot], **where: int
) -> tuple[list[discord.Embed], discord.ui.View]:
    """A page of the server's audit log, newest first, with Previous and Next keyed by the
    entries it shows (``ModerationService.audit``)."""
    if not await member_is_moderator(interaction):
        raise app_commands.CheckFailure(NOT_A_MODERATOR)
    listing = await interaction.client.services.moderation.audit(
        guild_id_of(interaction), page_size=AUDIT_PAGE_SIZE, **where
    )
    view = discord.ui.View(timeout=None)
    if listing.newer or listing.older:
        for button in audit_buttons(listing):
            view.add_item(button)
    return [audit_embed(listing)], view


def audit_buttons(listing: AuditPage) -> list[discord.ui.Button[Any]]:
    """Previous (the entries just newer than the first shown), where the page is among all,
    Next (those just older than the last shown)."""
    first, last = listing.entries[0].id, listing.entries[-1].id
    return [
        PageButton("auditnewer", first, label="◀ Previous", disabled=not listing.newer).item,
        discord.ui.Button(label=f"{audit_span(listing)} / {listing.total}", disabled=True),
        PageButton("auditolder", last, label="Next ▶", disabled=not listing.older).item,
    ]


@page_renderer("audit")
async def render_audit_page(
    interaction: discord.Interaction[TopicBot], page: int
) -> tuple[list[discord.Embed], discord.ui.View]:
    """Page ``page`` of the audit log by position: the buttons of messages sent before pages
    were keyed by entry."""
    return await audit_page(interaction, page=page)


@page_renderer("auditolder")
async def render_older_audit(
    interaction: discord.Interaction[TopicBot], entry_id: int
) -> tuple[list[discord.Embed], discord.ui.View]:
    """Next: the entries written just before entry ``entry_id``."""
    return await audit_page(interaction, older_than=entry_id)


@page_renderer("auditnewer")
async def render_newer_audit(
    interaction: discord.Interaction[TopicBot], entry_id: int
) -> tuple[list[discord.Embed], discord.ui.View]:
    """Previous: the entries written just after entry ``entry_id``."""
    return await audit_page(interaction, newer_than=entry_id)


article_group = app_commands.Group(
    name="article",
    description="Add articles by hand",
    guild_only=True,
    default_permissions=discord.Permissions(manage_guild=True),
)


class Moderation(commands.Cog):
    """Publication decisions for the moderators of each server."""

    article = article_group

    def __init__(self, bot: TopicBot) -> None:
        self.bot = bot
        self.moderation = bot.services.moderation

    @app_commands.command(name="publish", description="Publish a pending article in this server")
    @app_commands.describe(article="A pending article (start typing its title)")
    @moderator_only()
    async def publish(self, interaction: discord.Interaction[TopicBot], article: str) -> None:
        """Publish an article here."""
        decided = await self.moderation.publish(
            guild_id_of(interaction), interaction.user.id, article
        )
        title = plain(headline(decided.article.title), 200)
        await reply(
            interaction,
            f"Published “{title}” (`{decided.article.id}`) here."
            f"{await under_the_bar(interaction, decided)}",
        )

    @publish.autocomplete("article")
    async def publish_article(
        self, interaction: discord.Interaction[TopicBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Articles not published in this server: waiting, or turned down or retracted (so a
        retraction can be undone by title)."""
        if interaction.guild_id is None or not await member_is_moderator(interaction):
            return []
        return article_choices(
            await self.moderation.suggest(interaction.guild_id, current, "unpublished"),
            mark_retracted=True,
        )

    @app_commands.command(name="unpublish", description="Retract an article in this server")
    @app_commands.describe(article="A published article (start typing its title)")
    @moderator_only()
    async def unpublish(self, interaction: discord.Interaction[TopicBot], article: str) -> None:
        """Retract an article here."""
        guild_id = guild_id_of(interaction)
        retracted = await self.moderation.unpublish(guild_id, interaction.user.id, article)
        title = plain(headline(retracted.article.title), 200)
        said = (
            f"“{title}” is already not published here."
            if retracted.already
            else f"Retracted “{title}” (`{retracted.article.id}`) here."
        )
        posts = len(retracted.posts)
        view = view_of([DeletePosts(retracted.article.id, posts)]) if posts else None
        await reply(interaction, f"{said}{retraction_note(guild_id, retracted)}", view=view)

    @unpublish.autocomplete("article")
    async def unpublish_article(
        self, interaction: discord.Interaction[TopicBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Articles published in this server, and retracted ones whose posts are still up
        (marked "not published": its reply offers to delete them)."""
        if interaction.guild_id is None or not await member_is_moderator(interaction):
            return []
        return article_choices(
            await self.moderation.suggest(interaction.guild_id, current, "retractable"),
            mark_retracted=True,
        )

    @app_commands.command(name="queue", description="Review pending articles")
    @moderator_only()
    async def queue(self, interaction: discord.Interaction[TopicBot]) -> None:
        """Pending articles, newest first, with Publish and Reject buttons."""
        embeds, view = await queue_page(interaction)
        await reply(interaction, embeds=embeds, view=view)

    @app_commands.command(name="audit", description="Who did what here: the moderators' log")
    @moderator_only()
    async def audit(self, interaction: discord.Interaction[TopicBot]) -> None:
        """The server's audit log, newest first, paged with buttons."""
        embeds, view = await audit_page(interaction)
        await reply(interaction, embeds=embeds, view=view)

    @article.command(name="add", description="Add an article by hand")
    @app_commands.describe(
        url="The article's link (https://...)",
        title="Its headline",
        topics="Topics, separated by commas",
        excerpt="A sentence or two about it (optional)",
        quality="0-100 (default 50)",
        publish="Publish it here at once (default no)",
        new_topic="Start a topic spelt close to one this server has (default no: asks)",
    )
    @moderator_only()
    async def article_add(
        self,
        interaction: discord.Interaction[TopicBot],
        url: app_commands.Range[str, 1, 2048],
        title: app_commands.Range[str, 1, 300],
        topics: app_commands.Range[str, 1, 1000],
        excerpt: app_commands.Range[str, 0, 2000] = "",
        quality: app_commands.Range[int, 0, 100] = 50,
        publish: bool = False,
        new_topic: bool = False,
    ) -> None:
        """StoreApi an article for this server only, optionally publishing it."""
        added = await self.moderation.add_article(
            guild_id_of(interaction),
            interaction.user.id,
            url=url,
            title=title,
            topics=topics,
            excerpt=excerpt,
            quality=quality,
            publish=publish,
            new_topic=new_topic,
        )
        state = "and published it" if added.state == "published" else "to the queue"
        await reply(
            interaction,
            f"Added “{plain(headline(added.article.title), 200)}” (`{added.article.id}`) {state}."
            f"{await under_the_bar(interaction, added) if added.state == 'published' else ''}",
        )


async def setup(bot: TopicBot) -> None:
    """Load the moderators' commands and their restart-proof buttons."""
    bot.add_dynamic_items(QueueDecision, QueuePageButton, DeletePosts)
    await bot.add_cog(Moderation(bot))
