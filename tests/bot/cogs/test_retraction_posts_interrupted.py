"""A moderator presses "Delete N posts" and the deletion is cut short: Discord does not answer
a DELETE (it hangs), the bot shuts down meanwhile, or the process is killed. A post counts as
removed only once Discord said it is gone; until then it is still up for the moderator: the
button (on a later /unpublish) and the /unpublish autocomplete offer it again, once the press
that hangs has held it for longer than its lease or the run that made it has ended, and
pressing again deletes it. Played through the Discord double on both engines."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.app import TopicBot
from bot.domain.moderation import REMOVAL_LEASE
from storage.api import StoreApi
from tests.bot.cogs.test_moderation_audit import button
from tests.bot.cogs.test_retraction_posts import (
    DELETE_ROUTE,
    TITLE,
    audit_lines,
    bare,  # noqa: F401  # the fixture
    deletes,
    labels,
    link,
    posted_in_both_channels,
    press,
    retract,
)
from tests.bot.harness import Harness
from tests.bot.test_alerts import posts
from tests.discord_double import DiscordDouble, Reply
from tests.discord_double.interactions import InteractionResult
from tests.discord_double.plugin import StartBot
from tests.discord_double.routes import delete_message
from tests.discord_double.server import ApiRequest
from tests.waiting import eventually


@dataclass
class HungDelete:
    """The first DELETE of a message in ``channel_id`` gets no answer until ``release``;
    every other DELETE is answered as Discord does."""

    channel_id: int
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def install(self, double: DiscordDouble) -> None:
        async def handler(double: DiscordDouble, req: ApiRequest) -> Reply:
            if int(req.params["channel_id"]) == self.channel_id and not self.arrived.is_set():
                self.arrived.set()
                await self.released.wait()
            return await delete_message(double, req)

        double.add_route("DELETE", DELETE_ROUTE, handler)

    def release(self) -> None:
        self.released.set()


async def press_and_hang(harness: Harness, reply: InteractionResult, hung: HungDelete) -> None:
    """Press "Delete 2 posts" on the reply: #general's post goes, #alerts' DELETE hangs."""
    assert reply.message is not None
    await harness.double.click(
        reply.message,
        button(reply.message, "Delete 2 posts")["custom_id"],
        harness.first.moderator.id,
    )
    await asyncio.wait_for(hung.arrived.wait(), 30)
    await eventually(lambda: posts(harness, harness.first.general.id) == [], "#general's post gone")


async def offered(harness: Harness) -> list[str]:
    """What /unpublish's autocomplete offers the moderator for "harbour"."""
    g = harness.first
    choices = await harness.autocomplete(
        g, g.moderator.id, "unpublish", {"article": "harbour"}, "article"
    )
    return [c["name"] for c in choices]


async def another_run(harness: Harness, start_bot: StartBot) -> tuple[TopicBot, StoreApi]:
    """A second topicbot on the store, connected last: the double hands it the interactions
    from now on, as Discord does to the process that took the session over."""
    store = await harness.reopen()
    bot = TopicBot(
        settings=harness.bot.settings,
        store=store,
        run_jobs=False,
        clock=harness.clock,
        guild_ready_timeout=0.05,
    )
    await start_bot(bot)
    return bot, store


async def test_a_post_left_claimed_by_a_frozen_run_is_offered_again_once_its_lease_ran_out(
    bare: Harness,  # noqa: F811
    start_bot: StartBot,
):
    # The run that pressed froze with Discord's answer outstanding (its DELETE of the post in
    # #alerts never answered) and another took over. The post is still up for the moderator:
    # /unpublish lists it with the button; pressed while the frozen press may yet delete it,
    # it is left to that press and the reply says so; a few minutes on (the claim's lease
    # ran out) the press deletes it, once, and /audit counts only what Discord confirmed.
    harness, g = bare, bare.first
    article = await posted_in_both_channels(harness, g)
    (stuck,) = posts(harness, g.alerts.id)
    hung = HungDelete(g.alerts.id)
    hung.install(harness.double)
    reply = await retract(harness, g, article)
    try:
        await press_and_hang(harness, reply, hung)
        taken_over, store = await another_run(harness, start_bot)

        still_up = (
            f"“{TITLE}” is already not published here. Still up: the post {link(g, stuck)}. "
            "Press “Delete 1 post” to take the post down."
        )
        meanwhile = await retract(harness, g, article)
        assert meanwhile.content == still_up
        assert await offered(harness) == [f"{TITLE} — Harbour Times · not published"]
        too_soon = await press(harness, meanwhile, "Delete 1 post", g.moderator.id)
        assert too_soon.content == (
            f"The posts of “{TITLE}” still up are being deleted by another press. If they are "
            "still up in a few minutes, press again."
        )
        assert labels(too_soon.message) == ["Delete 1 post"]
        assert len(deletes(harness)) == 2

        harness.clock.advance(seconds=REMOVAL_LEASE.total_seconds() + 1)
        assert await offered(harness) == [f"{TITLE} — Harbour Times · not published"]
        later = await retract(harness, g, article)
        assert later.content == still_up
        pressed = await press(harness, too_soon, "Delete 1 post", g.moderator.id)
        assert pressed.content == f"Deleted 1 post of “{TITLE}”."
        assert labels(pressed.message) == []
        assert posts(harness, g.alerts.id) == []
        assert harness.double.deleted_in(g.alerts.id) == [stuck]
        # each press's entry counts what Discord confirmed it deleted: the frozen press's
        # #general, the last press's #alerts
        assert (await audit_lines(harness, g))[:3] == [
            f"<@{g.moderator.id}> removed 1 post of “{TITLE}” (`{article.id}`)",
            f"<@{g.moderator.id}> removed 1 post of “{TITLE}” (`{article.id}`)",
            f"<@{g.moderator.id}> retracted “{TITLE}” (`{article.id}`)",
        ]
        assert await offered(harness) == []
        await taken_over.close()
        await store.close()
    finally:
        hung.release()


async def test_a_post_whose_delete_hung_until_shutdown_is_offered_again_after_the_restart(
    bare: Harness,  # noqa: F811
    start_bot: StartBot,
):
    harness, g = bare, bare.first
    article = await posted_in_both_channels(harness, g)
    (stuck,) = posts(harness, g.alerts.id)
    hung = HungDelete(g.alerts.id)
    hung.install(harness.double)
    reply = await retract(harness, g, article)
    await press_and_hang(harness, reply, hung)

    # as `topicbot run` stops on SIGTERM: the bot, then at once its store
    await harness.bot.close()
    await harness.store.close()
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
        assert await offered(harness) == [f"{TITLE} — Harbour Times · not published"]
        again = await retract(harness, g, article)
        assert again.content == (
            f"“{TITLE}” is already not published here. Still up: the post {link(g, stuck)}. "
            "Press “Delete 1 post” to take the post down."
        )
        pressed = await press(harness, again, "Delete 1 post", g.moderator.id)
        assert pressed.content == f"Deleted 1 post of “{TITLE}”."
        assert posts(harness, g.alerts.id) == []
        assert await offered(harness) == []
    finally:
        hung.release()
        await restarted.close()
        await store.close()
