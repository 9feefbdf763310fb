"""A community moves its store to PostgreSQL, as docs/operating.md says: the bot on SQLite
builds a store through its commands and jobs (feeds, subscriptions, settings, decisions,
posts and DMs sent, one dead-lettered, some still pending), it stops, `topicbot
migrate-store --to-postgresql` copies the store, and the bot on PostgreSQL answers every
command as before; then it sends what was pending exactly once and nothing already sent."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.app import TopicBot
from storage import Store
from storage.api import StoreApi
from storage.postgresql.store import PgStore
from tests.bot.harness import FakeClock, Harness, seed_examples, settings_for
from tests.bot.test_alerts import follow, route, story
from tests.discord_double import DiscordDouble
from tests.discord_double.client import running_bot
from tests.discord_double.plugin import GuildWorld, build_world
from tests.discord_double.state import Message

TOPICBOT = Path(sys.executable).with_name("topicbot")  # the installed entry point
MESSAGES = r"^/channels/(\d+)/messages$"
RIVERTON = "https://www.riverton-ledger.example/news/2026/11/20/council-bans-face-scanning"
SECTIONS: dict[str, dict[str, Any]] = {
    "delivery": {"max_attempts": 2},
    # one member asks many times here; cooldowns are tested elsewhere
    "commands": {"related_per_minute": 600, "autocomplete_per_10s": 1000},
}


def harness_for(double: DiscordDouble, world: Any, store: StoreApi, bot: TopicBot) -> Harness:
    async def no_reopen() -> StoreApi:
        raise NotImplementedError

    assert isinstance(bot.clock, FakeClock)
    return Harness(double, world, store, bot, bot.clock, no_reopen)


def shown(message: Message | None) -> dict[str, Any] | None:
    """What a member sees of a message."""
    if message is None:
        return None
    return {
        "content": message.content,
        "embeds": message.embeds,
        "components": [_without_random_ids(row) for row in message.components],
        "flags": message.flags,
    }


def _without_random_ids(component: dict[str, Any]) -> dict[str, Any]:
    """A component, the custom id discord.py draws at random for a button that leads nowhere
    (a page counter) left out: it differs from one reply to the next on either engine."""
    kept = {k: v for k, v in component.items() if k != "components"}
    if not str(kept.get("custom_id", "tb:")).startswith("tb:"):
        del kept["custom_id"]
    if "components" in component:
        kept["components"] = [_without_random_ids(c) for c in component["components"]]
    return kept


async def answer(harness: Harness, guild: GuildWorld, user: int, command: str, **options: Any):
    result = await harness.slash(guild, user, command, options or None)
    return {"reply": shown(result.message), "followups": [shown(m) for m in result.followups]}


@dataclass
class Cast:
    """Who does what in the scene."""

    first: GuildWorld
    second: GuildWorld

    @property
    def members(self) -> list[int]:
        return [self.instant, self.daily, self.closed]

    @property
    def instant(self) -> int:
        return self.first.members[0].id

    @property
    def daily(self) -> int:
        return self.first.members[1].id

    @property
    def closed(self) -> int:
        """A member who does not accept DMs."""
        return self.first.members[2].id


async def everything_shown(harness: Harness, cast: Cast) -> dict[str, Any]:
    """Every command's answer in the scene, each as its asker sees it, and what the store
    reports that no command shows (the audit log, the counts of `topicbot stats`)."""
    seen: dict[str, Any] = {}
    for guild in (cast.first, cast.second):
        mod, member = guild.moderator.id, guild.members[0].id
        at = f"{guild.guild.name}:"
        for command in ("feed list", "settings", "queue"):
            seen[at + command] = await answer(harness, guild, mod, command)
        for who in guild.members:
            seen[f"{at}subscriptions:{who.id}"] = await answer(
                harness, guild, who.id, "subscriptions"
            )
        seen[at + "topics"] = await answer(harness, guild, member, "topics")
        seen[at + "latest"] = await answer(harness, guild, member, "latest")
        seen[at + "latest Transport"] = await answer(
            harness, guild, member, "latest", topic="Transport"
        )
        for words in ("face scanning police", "ferry islands"):
            seen[f"{at}related {words}"] = await answer(
                harness, guild, member, "related", query=words
            )
        for typed in ("council", "ferry"):
            choices = await harness.autocomplete(
                guild, member, "related", {"story": typed}, "story"
            )
            seen[f"{at}related story {typed}"] = choices
            for choice in choices[:3]:
                seen[f"{at}related story {choice['value']}"] = await answer(
                    harness, guild, member, "related", story=choice["value"]
                )
        seen[at + "subscribe topic t"] = await harness.autocomplete(
            guild, member, "subscribe", {"topic": "t"}, "topic"
        )
        for command in ("publish", "unpublish"):
            seen[f"{at}{command} article"] = await harness.autocomplete(
                guild, mod, command, {"article": ""}, "article"
            )
        seen[at + "audit"] = await harness.store.audit.recent(guild.id)
    # every article whole (secured values included), as the bot loads them
    seen["articles"] = await harness.store.articles.load(range(1, 100))
    # the size is each engine's own (a file's pages, a database's)
    seen["stats"] = replace(await harness.store.stats(), size=None)
    return seen


async def build_on_sqlite(harness: Harness, cast: Cast) -> None:
    """The scene, through commands and the delivery jobs: see the module's docstring."""
    first, second = cast.first, cast.second
    harness.double.world.users[cast.closed].accepts_dms = False
    # the topic exists; no two stories tie in /related (tie-breaking is each engine's own)
    await story(harness, 0, published=False, title="Tram tenders open", quality=65)
    result = await harness.slash(
        first, first.moderator.id, "settings",
        {"min_quality": 10, "timezone": "Europe/Zurich", "digest_time": "07:30"},
    )  # fmt: skip
    assert result.content == "Saved."
    await route(harness, first, first.alerts.id, topic="Transport")
    await route(harness, first, first.general.id)  # every topic: Discord will refuse it
    await route(harness, second, second.alerts.id, topic="Transport", min_quality=50)
    await follow(harness, first, cast.instant, "Transport")
    await follow(harness, first, cast.daily, "Transport", delivery="daily")
    await follow(harness, first, cast.closed, "Transport")
    await follow(harness, second, second.members[0].id, "Privacy", min_quality=60)

    queue = await harness.store.publication.pending(first.id, limit=10)
    publish = queue[0]
    retract = await harness.store.articles.get_by_url(RIVERTON)
    assert retract is not None and retract.secured  # a secured value, moved with its article
    decided = await harness.slash(
        first, first.moderator.id, "publish", {"article": publish.article.id}
    )
    assert decided.content.startswith("Published")
    decided = await harness.slash(first, first.moderator.id, "unpublish", {"article": retract.id})
    assert decided.content.startswith("Retracted")
    added = await harness.slash(
        second, second.moderator.id, "article add",
        {"url": "https://harbour.example/added", "title": "Ferry timetable, by hand",
         "topics": "Transport, Harbour", "quality": 80, "publish": True},
    )  # fmt: skip
    assert added.content.endswith("and published it."), added.content

    general = rf"^/channels/{first.general.id}/messages$"
    refusing = harness.double.fail_next("POST", general, 503, times=100)
    await story(harness, 1, title="Ferry pilot expands to the islands", quality=70)
    await harness.deliver()
    harness.clock.advance(hours=1)
    await harness.send()  # the second attempt: dead
    refusing.times = 0  # Discord is well again: nothing dead is asked again all the same
    # A channel post that Discord fails once: pending, to be retried later.
    harness.double.fail_next("POST", rf"^/channels/{second.alerts.id}/messages$", 503)
    await story(harness, 2, title="Island ferries add a night crossing", quality=90)
    await harness.deliver()
    # Published after the last planning run: not yet planned.
    await story(harness, 3, title="Ferry fares frozen for the winter", quality=60)

    outbox = (await harness.store.stats()).deliveries
    assert outbox.get("dead", 0) >= 1 and outbox.get("failed", 0) >= 1, outbox
    assert outbox.get("pending", 0) >= 3 and outbox.get("sent", 0) >= 3, outbox


def migrate_store(folder: Path, url: str) -> subprocess.CompletedProcess[str]:
    """`topicbot migrate-store --to-postgresql` as an operator runs it."""
    env = {**os.environ, "TOPICBOT_DATABASE_URL": url}
    return subprocess.run(
        [str(TOPICBOT), "migrate-store", "--to-postgresql", "--config", "topicbot.yaml"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def posted(double: DiscordDouble) -> list[tuple[str, Any, int]]:
    """Every message POST the bot made: (path, nonce, the double's status)."""
    return [
        (r.path, (r.json or {}).get("nonce"), r.status)
        for r in double.requests("POST")
        if r.path.startswith("/channels/") and r.path.endswith("/messages")
    ]


async def test_a_bot_moved_to_postgresql_answers_the_same_and_sends_what_was_pending_once(
    discord_double: DiscordDouble, start_bot, tmp_path, postgresql_database_url
):
    world = build_world(discord_double, guilds=2, members=3)
    cast = Cast(world.first, world.second)
    settings = settings_for(tmp_path, **SECTIONS)
    clock = FakeClock()

    sqlite = await Store.open(settings.storage.path)
    await seed_examples(sqlite)
    bot = TopicBot(
        settings=settings, store=sqlite, run_jobs=False, clock=clock, guild_ready_timeout=0.05
    )
    try:
        async with running_bot(discord_double, bot):
            await discord_double.wait_for_commands("subscribe", guild_id=None)
            on_sqlite = harness_for(discord_double, world, sqlite, bot)
            await build_on_sqlite(on_sqlite, cast)
            before = await everything_shown(on_sqlite, cast)
    finally:
        await sqlite.close()
    sent_before = posted(discord_double)
    # What is compared holds every state: dead (the refused channel), failed (closed DMs),
    # pending (a daily digest, a retry) and sent.
    assert "sent 1 · pending 0 · failed 2" in _description(before, "guild1:feed list")
    assert "sent 2 · pending 1 · failed 0" in _description(before, "guild2:feed list")
    subscriptions = [_description(before, f"guild1:subscriptions:{m}") for m in cast.members]
    assert [line.split("\n")[1] for line in subscriptions] == [
        "  sent 3 · pending 0 · failed 0",
        "  sent 0 · pending 3 · failed 0",
        "  sent 0 · pending 0 · failed 3",
    ]

    (tmp_path / "topicbot.yaml").write_text(f"storage:\n  path: {settings.storage.path}\n")
    copied = await asyncio.to_thread(migrate_store, tmp_path, postgresql_database_url)
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout.splitlines()[-1].endswith("every count and checksum matches")

    postgresql = await PgStore.open(postgresql_database_url, pool_size=4, source="$TEST")
    bot = TopicBot(
        settings=settings, store=postgresql, run_jobs=False, clock=clock, guild_ready_timeout=0.05
    )
    try:
        await start_bot(bot)
        on_postgresql = harness_for(discord_double, world, postgresql, bot)
        after = await everything_shown(on_postgresql, cast)
        assert after == before

        clock.advance(minutes=10)  # the failed channel post is due again
        for _ in range(2):
            await on_postgresql.deliver()
        clock.advance(days=1, minutes=1)  # the daily digest is due
        await bot.dispatcher.send_digests()
        await on_postgresql.deliver()
        stats = await postgresql.stats()
    finally:
        await bot.close()
        await postgresql.close()

    sent_after = posted(discord_double)[len(sent_before) :]
    assert stats.deliveries.get("pending", 0) == 0, stats.deliveries
    first, second = cast.first, cast.second
    # Asked again: only the channel post Discord failed once (pending, its retry due); never
    # one Discord accepted, nor a dead-lettered or refused one.
    (retried,) = [(p, n) for p, n, status in sent_before if status == 503 and
                  p == f"/channels/{second.alerts.id}/messages"]  # fmt: skip
    asked_again = {(p, n) for p, n, _ in sent_after} & {(p, n) for p, n, _ in sent_before}
    assert asked_again == {retried}
    assert None not in {n for _, n, _ in sent_before + sent_after}
    (digest,) = discord_double.dms_to(cast.daily)
    assert digest.embeds[0]["title"] == "Your daily digest from guild1"
    titles = {
        name: [m.embeds[0]["title"] for m in messages]
        for name, messages in (
            ("first alerts", _posts(discord_double, first.alerts.id)),
            ("first general", _posts(discord_double, first.general.id)),
            ("second alerts", _posts(discord_double, second.alerts.id)),
            ("instant", discord_double.dms_to(cast.instant)),
        )
    }
    stories = ["Ferry pilot expands to the islands", "Island ferries add a night crossing"]
    planned_on_postgresql = "Ferry fares frozen for the winter"
    assert titles == {
        "first alerts": ["Tram tenders open", *stories, planned_on_postgresql],
        # the first two dead-lettered on SQLite
        "first general": [stories[1], planned_on_postgresql],
        # planned in one run with the pilot story, published an hour before it was added
        "second alerts": [
            stories[0],
            "Ferry timetable, by hand",
            stories[1],
            planned_on_postgresql,
        ],
        "instant": ["Tram tenders open", *stories, planned_on_postgresql],
    }
    assert discord_double.dms_to(cast.closed) == []


def _description(seen: dict[str, Any], key: str) -> str:
    return str(seen[key]["reply"]["embeds"][0]["description"])


def _posts(double: DiscordDouble, channel_id: int) -> list[Message]:
    return [m for m in double.messages_in(channel_id, include_ephemeral=False) if m.embeds]
