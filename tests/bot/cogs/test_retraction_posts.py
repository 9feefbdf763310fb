"""A moderator retracts a story (wrong, defamatory, a hoax) and takes the bot's own posts of it
down with one button on the `/unpublish` reply, instead of hunting through the channels. Each
test plays it through the Discord double, on both engines, and checks what the moderator reads
and what is left in the channels."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from bot.app import TopicBot
from storage.models import Article
from tests.bot.cogs.test_moderation_audit import MEMBER_PERMISSIONS, NOT_A_MODERATOR, button
from tests.bot.conftest import MakeHarness
from tests.bot.harness import Harness
from tests.bot.test_alerts import follow, posts, route, story
from tests.discord_double.interactions import InteractionResult
from tests.discord_double.plugin import GuildWorld, StartBot
from tests.discord_double.state import VIEW_CHANNEL, Message, Overwrite

TITLE = "Harbour bridge collapses"
DELETE_ROUTE = "/channels/{channel_id}/messages/{message_id}"


@pytest.fixture
async def bare(make_harness: MakeHarness) -> Harness:
    """No example articles: only the story each test adds."""
    return await make_harness(seed=False)


def link(guild: GuildWorld, post: Message) -> str:
    return f"https://discord.com/channels/{guild.id}/{post.channel_id}/{post.id}"


async def posted_in_both_channels(harness: Harness, guild: GuildWorld) -> Article:
    """The story posted in #general and #alerts of ``guild``."""
    await route(harness, guild, guild.general.id)
    await route(harness, guild, guild.alerts.id)
    article = await story(harness, 1, title=TITLE)
    await harness.deliver()
    assert len(posts(harness, guild.general.id)) == len(posts(harness, guild.alerts.id)) == 1
    return article


async def retract(harness: Harness, guild: GuildWorld, article: Article, **kw: Any):
    result = await harness.slash(
        guild, guild.moderator.id, "unpublish", {"article": article.id}, **kw
    )
    assert result.ephemeral
    return result


async def press(
    harness: Harness, reply: InteractionResult, label: str, user_id: int, **kw: Any
) -> InteractionResult:
    """Press the button labelled ``label`` on the reply and wait for what it says once done
    (the bot first acknowledges by editing the reply, then edits it again with the outcome)."""
    assert reply.message is not None
    pressed = await harness.double.click(
        reply.message, button(reply.message, label)["custom_id"], user_id, **kw
    )
    if pressed.callback_type == 7:
        await pressed.wait_edits(1)
    return pressed


def deletes(harness: Harness) -> list[str]:
    """The DELETE requests the bot made for channel messages (accepted or refused)."""
    return [r.path for r in harness.double.requests("DELETE", DELETE_ROUTE)]


def labels(message: Message | None) -> list[str]:
    assert message is not None
    return [c.get("label", "") for row in message.components for c in row["components"]]


async def audit_lines(harness: Harness, guild: GuildWorld) -> list[str]:
    shown = await harness.slash(guild, guild.moderator.id, "audit")
    return [
        re.sub(r"^<t:\d+:f> ", "", line) for line in shown.embeds[0]["description"].splitlines()
    ]


async def test_the_button_deletes_the_posts_of_a_retracted_story_and_leaves_the_dms(
    bare: Harness,
):
    # Posted in two channels and DMed to a member; the moderator retracts it and presses the
    # button: both posts are gone from the channels, the DM stays (a digest holds other
    # articles too), the other server's post stays, and /audit says who removed what.
    harness, g, other = bare, bare.first, bare.second
    await story(harness, 0, published=False, topics=["Transport"])  # a topic to follow
    await follow(harness, g, g.members[0].id, "Transport")
    await route(harness, other, other.alerts.id)
    article = await posted_in_both_channels(harness, g)
    general, alerts = posts(harness, g.general.id)[0], posts(harness, g.alerts.id)[0]

    reply = await retract(harness, g, article)
    assert reply.content == (
        f"Retracted “{TITLE}” (`{article.id}`) here. Already sent: the post {link(g, general)}, "
        f"the post {link(g, alerts)} and 1 direct message. Press “Delete 2 posts” to take "
        "the posts down; direct messages stay."
    )
    assert labels(reply.message) == ["Delete 2 posts"]

    pressed = await press(harness, reply, "Delete 2 posts", g.moderator.id)
    assert pressed.content == f"Deleted 2 posts of “{TITLE}”."
    assert labels(pressed.message) == []
    assert posts(harness, g.general.id) == posts(harness, g.alerts.id) == []
    assert harness.double.deleted_in(g.alerts.id) == [alerts]
    assert len(harness.double.dms_to(g.members[0].id)) == 1
    assert len(posts(harness, other.alerts.id)) == 1
    assert len(deletes(harness)) == 2
    assert (await audit_lines(harness, g))[:2] == [
        f"<@{g.moderator.id}> removed 2 posts of “{TITLE}” (`{article.id}`)",
        f"<@{g.moderator.id}> retracted “{TITLE}” (`{article.id}`)",
    ]


async def test_a_post_deleted_by_hand_first_counts_as_gone_and_is_said_so(bare: Harness):
    harness, g = bare, bare.first
    article = await posted_in_both_channels(harness, g)
    by_hand = posts(harness, g.alerts.id)[0]
    await harness.double.delete_message(g.alerts, by_hand)  # a moderator was quicker

    reply = await retract(harness, g, article)
    pressed = await press(harness, reply, "Delete 2 posts", g.moderator.id)
    assert pressed.content == (
        f"Deleted 1 post of “{TITLE}”.\n"
        f"The post in <#{g.alerts.id}> had already been deleted (by hand, it seems): it is gone."
    )
    assert labels(pressed.message) == []
    assert posts(harness, g.general.id) == []
    (line, *_) = await audit_lines(harness, g)
    assert line == (
        f"<@{g.moderator.id}> removed 1 post of “{TITLE}” (`{article.id}`) "
        "(1 more already deleted by hand)"
    )


async def test_a_channel_the_bot_can_no_longer_see_is_named_to_delete_by_hand(bare: Harness):
    # The bot lost access to #alerts since it posted there: its post there stays, the reply
    # names the channel with the post's link, and the button stays for that post: pressed
    # again once access is back, it deletes it.
    harness, g = bare, bare.first
    article = await posted_in_both_channels(harness, g)
    stuck = posts(harness, g.alerts.id)[0]
    g.alerts.overwrites.append(Overwrite(id=g.bot_role.id, deny=VIEW_CHANNEL))
    await harness.double.update_channel(g.alerts)

    reply = await retract(harness, g, article)
    pressed = await press(harness, reply, "Delete 2 posts", g.moderator.id)
    assert pressed.content == (
        f"Deleted 1 post of “{TITLE}”.\n"
        f"The post in <#{g.alerts.id}> stays: I can no longer see that channel. Delete it by "
        f"hand ({link(g, stuck)}), or give me access and press the button again."
    )
    assert labels(pressed.message) == ["Delete 1 post"]
    assert posts(harness, g.alerts.id) == [stuck]
    assert posts(harness, g.general.id) == []

    g.alerts.overwrites.clear()
    await harness.double.update_channel(g.alerts)
    again = await press(harness, pressed, "Delete 1 post", g.moderator.id)
    assert again.content == f"Deleted 1 post of “{TITLE}”."
    assert posts(harness, g.alerts.id) == []


async def test_a_member_pressing_the_button_is_refused_and_nothing_is_deleted(bare: Harness):
    harness, g = bare, bare.first
    article = await posted_in_both_channels(harness, g)
    reply = await retract(harness, g, article)
    refused = await harness.double.click(
        reply.message,
        button(reply.message, "Delete 2 posts")["custom_id"],
        g.members[0].id,
        permissions=MEMBER_PERMISSIONS,
    )
    assert refused.content == NOT_A_MODERATOR and refused.ephemeral
    assert deletes(harness) == []
    assert len(posts(harness, g.general.id)) == len(posts(harness, g.alerts.id)) == 1
    assert labels(reply.message) == ["Delete 2 posts"]


def left_to_the_other_press() -> tuple[str, str]:
    """What the press that found every post taken by the other says: depending on whether
    Discord confirmed them by then, they were deleted, or are being deleted."""
    return (
        f"No post of “{TITLE}” is left to delete here: they were deleted already.",
        f"The posts of “{TITLE}” still up are being deleted by another press. If they are "
        "still up in a few minutes, press again.",
    )


async def test_pressing_twice_deletes_once_and_says_so(bare: Harness):
    # A double click: two presses of the same button reach the bot before its first answer.
    harness, g = bare, bare.first
    article = await posted_in_both_channels(harness, g)
    reply = await retract(harness, g, article)
    both = await asyncio.gather(
        press(harness, reply, "Delete 2 posts", g.moderator.id),
        press(harness, reply, "Delete 2 posts", g.moderator.id),
    )
    deleted, other = sorted(result.edits[-1]["content"] for result in both)
    assert deleted == f"Deleted 2 posts of “{TITLE}”."
    assert other in left_to_the_other_press()
    assert len(deletes(harness)) == 2
    # nor does a later /unpublish count them: the article is retracted, nothing is up
    again = await harness.slash(g, g.moderator.id, "unpublish", {"article": article.id})
    assert again.content == f"“{TITLE}” is already not published here."
    assert labels(again.message) == []
    lines = await audit_lines(harness, g)
    assert sum("removed" in line for line in lines) == 1


async def test_two_moderators_pressing_at_once_delete_each_post_once(bare: Harness):
    # A second moderator, shown the retraction by /unpublish (it is already retracted, with
    # its posts still up), presses at the same moment as the first.
    harness, g = bare, bare.first
    second = g.members[0]
    harness.double.world.guilds[g.id].members[second.id].roles.append(g.moderator_role.id)
    article = await posted_in_both_channels(harness, g)
    first_reply = await retract(harness, g, article)
    second_reply = await harness.slash(g, second.id, "unpublish", {"article": article.id})
    assert second_reply.content == (
        f"“{TITLE}” is already not published here. Still up: the post "
        f"{link(g, posts(harness, g.general.id)[0])} and the post "
        f"{link(g, posts(harness, g.alerts.id)[0])}. Press “Delete 2 posts” to take the "
        "posts down."
    )

    both = await asyncio.gather(
        press(harness, first_reply, "Delete 2 posts", g.moderator.id),
        press(harness, second_reply, "Delete 2 posts", second.id),
    )
    deleted, other = sorted(result.edits[-1]["content"] for result in both)
    assert deleted == f"Deleted 2 posts of “{TITLE}”."
    assert other in left_to_the_other_press()
    assert len(deletes(harness)) == 2
    assert posts(harness, g.general.id) == posts(harness, g.alerts.id) == []


async def test_the_button_works_after_a_restart_between_the_reply_and_the_press(
    bare: Harness, start_bot: StartBot
):
    harness, g = bare, bare.first
    article = await posted_in_both_channels(harness, g)
    reply = await retract(harness, g, article)

    await harness.bot.close()
    store = await harness.reopen()
    restarted = TopicBot(
        settings=harness.bot.settings,
        store=store,
        run_jobs=False,
        clock=harness.clock,
        guild_ready_timeout=0.05,
    )
    try:
        await start_bot(restarted)
        pressed = await press(harness, reply, "Delete 2 posts", g.moderator.id)
        assert pressed.content == f"Deleted 2 posts of “{TITLE}”."
        assert posts(harness, g.general.id) == posts(harness, g.alerts.id) == []
    finally:
        await restarted.close()
        await store.close()


async def test_another_servers_posts_and_articles_are_out_of_reach(bare: Harness):
    # A button in the second server carrying the first server's article ids (its own article,
    # added there by hand; a story retracted only there) deletes nothing; the same story
    # retracted in the second server too has a button with the very same custom id as the
    # first server's, and it deletes the second server's post only: the posts are read from
    # the store for the server the button is pressed in, never from the custom id.
    harness, a, b = bare, bare.first, bare.second
    await route(harness, b, b.alerts.id)
    article = await posted_in_both_channels(harness, a)
    (b_post,) = posts(harness, b.alerts.id)
    added = await harness.slash(
        a,
        a.moderator.id,
        "article add",
        {"url": "https://harbour.example/own", "title": "Our own scoop", "topics": "Transport",
         "quality": 80, "publish": True},
    )  # fmt: skip
    own = await harness.store.articles.get_by_url("https://harbour.example/own")
    assert own is not None and own.id in (added.content or "")
    await harness.deliver()
    a_reply = await retract(harness, a, article)
    await retract(harness, a, own)
    a_posts = posts(harness, a.general.id) + posts(harness, a.alerts.id)
    assert len(a_posts) == 4

    elsewhere = await harness.slash(b, b.moderator.id, "audit")  # a message in server b
    assert elsewhere.message is not None
    for article_id, said in (
        (own.id, "No such article here. Nothing was deleted."),
        (article.id, f"“{TITLE}” is published here, so its posts stay. Nothing was deleted."),
    ):
        custom_id = f"tb:retract:delete:{article_id}"
        elsewhere.message.components = [
            {"type": 1, "components": [{"type": 2, "style": 4, "label": "x",
                                        "custom_id": custom_id}]}
        ]  # fmt: skip
        crafted = await harness.double.click(elsewhere.message, custom_id, b.moderator.id)
        await crafted.wait_edits(1)
        assert crafted.content == said
    assert deletes(harness) == []
    assert posts(harness, a.general.id) + posts(harness, a.alerts.id) == a_posts

    b_reply = await retract(harness, b, article)
    a_button = button(a_reply.message, "Delete 2 posts")["custom_id"]
    assert button(b_reply.message, "Delete 1 post")["custom_id"] == a_button
    pressed = await press(harness, b_reply, "Delete 1 post", b.moderator.id)
    assert pressed.content == f"Deleted 1 post of “{TITLE}”."
    assert harness.double.deleted_in(b.alerts.id) == [b_post]
    assert posts(harness, a.general.id) + posts(harness, a.alerts.id) == a_posts


async def test_republished_then_retracted_offers_only_the_new_posts(bare: Harness):
    # Retracted and its posts deleted, then published again (corrected): it is posted afresh,
    # and retracted again only those new posts are offered and deleted.
    harness, g = bare, bare.first
    await route(harness, g, g.alerts.id)
    article = await story(harness, 1, title=TITLE)
    await harness.deliver()
    first = await retract(harness, g, article)
    await press(harness, first, "Delete 1 post", g.moderator.id)
    assert posts(harness, g.alerts.id) == []

    published = await harness.slash(g, g.moderator.id, "publish", {"article": article.id})
    assert published.content.startswith("Published")
    await harness.deliver()
    (fresh,) = posts(harness, g.alerts.id)
    second = await retract(harness, g, article)
    assert second.content == (
        f"Retracted “{TITLE}” (`{article.id}`) here. Already sent: the post {link(g, fresh)}. "
        "Press “Delete 1 post” to take the post down."
    )
    pressed = await press(harness, second, "Delete 1 post", g.moderator.id)
    assert pressed.content == f"Deleted 1 post of “{TITLE}”."
    assert posts(harness, g.alerts.id) == []
    assert len(deletes(harness)) == 2


async def test_a_story_published_again_before_the_press_keeps_its_posts(bare: Harness):
    harness, g = bare, bare.first
    article = await posted_in_both_channels(harness, g)
    reply = await retract(harness, g, article)
    await harness.slash(g, g.moderator.id, "publish", {"article": article.id})
    pressed = await press(harness, reply, "Delete 2 posts", g.moderator.id)
    assert pressed.content == (
        f"“{TITLE}” is published here, so its posts stay. Nothing was deleted."
    )
    assert deletes(harness) == []


async def test_a_post_whose_channel_was_deleted_is_gone_with_it(bare: Harness):
    harness, g = bare, bare.first
    article = await posted_in_both_channels(harness, g)
    await harness.double.delete_channel(g.general)
    reply = await retract(harness, g, article)
    pressed = await press(harness, reply, "Delete 2 posts", g.moderator.id)
    assert pressed.content == (
        f"Deleted 1 post of “{TITLE}”.\n"
        f"The post in <#{g.general.id}> is gone with its channel, which was deleted."
    )
    assert labels(pressed.message) == []
    assert posts(harness, g.alerts.id) == []


async def test_unpublish_offers_a_retracted_story_whose_posts_are_still_up(bare: Harness):
    """A moderator whose reply (and its button) is gone finds the story again by typing its
    title in /unpublish, marked not published, for as long as posts of it are up; the
    button then takes them down, and the story is no longer offered."""
    harness, g = bare, bare.first
    article = await posted_in_both_channels(harness, g)
    quiet = await story(harness, 2, title="Harbour ferry timetable changes")
    await harness.slash(g, g.moderator.id, "unpublish", {"article": quiet.id})  # nothing posted

    await retract(harness, g, article)
    offered = await harness.autocomplete(
        g, g.moderator.id, "unpublish", {"article": "harbour"}, "article"
    )
    assert {c["value"]: c["name"] for c in offered} == {
        article.id: f"{TITLE} — Harbour Times · not published"
    }
    again = await retract(harness, g, article)
    assert "Delete 2 posts" in labels(again.message)
    await press(harness, again, "Delete 2 posts", g.moderator.id)
    assert len(deletes(harness)) == 2
    offered = await harness.autocomplete(
        g, g.moderator.id, "unpublish", {"article": "harbour"}, "article"
    )
    assert offered == []
