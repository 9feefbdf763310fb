"""A deployment after months: the harness's fake clock runs a bot through half a year of daily
news with retention on, digests in three time zones across daylight-saving changes and a year
end, restarts, a month-old backup restored, changing quality bars and routes, and a store
upgraded from an older schema. Each test asserts what members, moderators and the operator
see then."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from bot.app import TopicBot
from bot.articles.article_file import parse_article
from bot.sending.pacing import Pacer
from storage.api import StoreApi
from tests.bot.harness import FakeClock, Harness, settings_for
from tests.clocks import FakeMonotonic
from tests.discord_double import DiscordDouble
from tests.discord_double.plugin import GuildWorld, StartBot, build_world
from tests.factories import article_text
from tests.test_cli import topicbot

ZONES = ("America/New_York", "Europe/Paris", "Australia/Sydney")
# Topics that come and go: the news of a season is not that of the next.
SEASONS = (
    ("Winter Storms", "Ski Season", "Budget Talks"),
    ("Spring Floods", "Elections", "Pollen"),
    ("Heatwave", "Festivals", "Wildfires"),
)

MakeDeployment = Callable[..., Awaitable["Deployment"]]


async def _unset() -> None:
    raise AssertionError("set by make_deployment")


@dataclass
class Deployment:
    """A harness with three servers (one per zone in ``ZONES``), a fake clock, and the jobs
    driven by the test, as a long-running ``topicbot run`` would run them."""

    harness: Harness
    counter: int = 0
    digests: list[tuple[int, str, datetime]] = field(default_factory=list)
    seen_dms: dict[int, int] = field(default_factory=dict)
    restart: Callable[[], Awaitable[None]] = field(default=lambda: _unset())
    before_start: Callable[[], None] | None = None
    settings: Any = None

    @property
    def clock(self) -> FakeClock:
        return self.harness.clock

    @property
    def store(self) -> StoreApi:
        return self.harness.store

    @property
    def guilds(self) -> list[GuildWorld]:
        return self.harness.world.guilds

    async def ingest(self, count: int = 1, **fields: Any) -> list[str]:
        """Store ``count`` articles dated an hour ago, ingested now (the fake clock's now)."""
        drafts = []
        for _ in range(count):
            self.counter += 1
            n = self.counter
            values: dict[str, Any] = {
                "title": f"Dispatch {n}: harbour council weighs plan {n * 7919 % 10007}",
                "excerpt": f"Report number {n} on the matter.",
                "webUrl": f"https://harbour-times.example/news/{n}",
                "originalUrl": ...,
                "publishedDateTime": (self.clock.now - timedelta(hours=1)).isoformat(),
                "published": True,
                "quality": 70,
                "topics": ["Transport"],
                "related": [],
            }
            values.update(fields)
            text = article_text(**values)
            drafts.append(parse_article(text.encode(), source=f"day/{n}.md"))
        await self.store.articles.upsert_batch(drafts, self.clock.now)
        return [d.canonical_url for d in drafts]

    async def jobs(self) -> None:
        """One round of the jobs at the clock's now: planning, sending, digests."""
        await self.harness.bot.planner.plan()
        await self.harness.bot.dispatcher.send_due()
        await self.send_digests()

    async def send_digests(self) -> None:
        await self.harness.bot.dispatcher.send_digests()
        for g in self.guilds:
            for member in g.members:
                dms = self.harness.double.dms_to(member.id)
                for message in dms[self.seen_dms.get(member.id, 0) :]:
                    if message.embeds and "digest" in message.embeds[0].get("title", ""):
                        self.digests.append((member.id, message.embeds[0]["title"], self.clock.now))
                self.seen_dms[member.id] = len(dms)

    async def until(self, moment: datetime) -> None:
        """Move the clock to ``moment``, sending each digest at its own moment on the way."""
        while True:
            due = await self.store.deliveries.next_digest_due()
            if due is None or due > moment:
                break
            self.clock.now = max(self.clock.now, due)
            await self.send_digests()
        self.clock.now = moment

    async def slash(self, g: GuildWorld, user_id: int, command: str, **options: Any) -> Any:
        result = await self.harness.reply(g, user_id, command, options)
        return result

    async def say(self, g: GuildWorld, user_id: int, command: str, **options: Any) -> str:
        """What the member reads in the reply: its content and embeds' text."""
        result = await self.slash(g, user_id, command, **options)
        message = result.followups[0] if result.callback_type == 5 else result
        parts = [message.content or ""]
        for embed in message.embeds:
            parts.append(embed.get("title", ""))
            parts.append(embed.get("description", ""))
            for f in embed.get("fields", []):
                parts.append(f"{f.get('name', '')}\n{f.get('value', '')}")
        return "\n".join(p for p in parts if p)


@pytest_asyncio.fixture
async def make_deployment(
    discord_double: DiscordDouble, start_bot: StartBot, tmp_path, engine
) -> AsyncIterator[MakeDeployment]:
    opened: list[tuple[TopicBot, StoreApi]] = []

    async def make(start: datetime, **sections: dict[str, Any]) -> Deployment:
        world = build_world(discord_double, guilds=3, members=3)
        settings = settings_for(tmp_path, **sections)
        store = await engine(settings)
        clock = FakeClock(start)
        bot = TopicBot(
            settings=settings, store=store, run_jobs=False, clock=clock, guild_ready_timeout=0.05
        )
        # Discord's per-channel limit is paced on a clock of its own: months of posts to one
        # channel would otherwise take real minutes.
        fake = FakeMonotonic()
        bot.dispatcher._pacer = Pacer(clock=fake, sleep=fake.sleep)
        opened.append((bot, store))
        await start_bot(bot)
        await discord_double.wait_for_commands("subscribe", guild_id=None)
        harness = Harness(discord_double, world, store, bot, clock, lambda: engine(settings))
        deployment = Deployment(harness)

        async def restart() -> None:
            """Stop the bot and close the store, then open it again and start a new bot on
            it at the same moment (``deployment.before_start`` runs between)."""
            old = deployment.harness
            await old.bot.close()
            await old.store.close()
            if deployment.before_start is not None:
                deployment.before_start()
            store = await engine(settings)
            bot = TopicBot(
                settings=settings, store=store, run_jobs=False, clock=old.clock,
                guild_ready_timeout=0.05,
            )  # fmt: skip
            fake = FakeMonotonic()
            bot.dispatcher._pacer = Pacer(clock=fake, sleep=fake.sleep)
            opened.append((bot, store))
            await start_bot(bot)
            deployment.harness = Harness(
                discord_double, world, store, bot, old.clock, old.reopen
            )

        deployment.restart = restart
        deployment.settings = settings
        return deployment

    yield make
    for bot, store in opened:
        await bot.close()
        await store.close()


async def set_up_servers(d: Deployment, topics: tuple[str, ...] = ("Transport",)) -> None:
    """Each server in its zone, its alerts channel fed the topics, and three members
    following them: instantly, daily, weekly."""
    for g, zone in zip(d.guilds, ZONES, strict=True):
        said = await d.say(g, g.moderator.id, "settings", timezone=zone)
        assert said.startswith("Saved."), said
        for topic in topics:
            said = await d.say(g, g.moderator.id, "feed add", channel=g.alerts.id, topic=topic)
            assert said.startswith("Added"), said
            for member, mode in zip(g.members, ("instant", "daily", "weekly"), strict=True):
                said = await d.say(g, member.id, "subscribe", topic=topic, delivery=mode)
                assert said.startswith("Subscribed"), said


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


# A Monday; the day's news comes in at 03:00 UTC, apart from every server's digest minute.
START = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
RETENTION = {
    "deliveries_days": 30,
    "articles_days": 45,
    "published_articles_days": 60,
    "audit_days": 90,
}


async def months_of_news(d: Deployment, days: int) -> list[tuple[int, int]]:
    """``days`` days of news, the jobs run and housekeeping at midday UTC; the live rows
    (articles, outbox rows) counted at the end of each month."""
    live = []
    for day in range(days):
        season = SEASONS[day // 35 % len(SEASONS)]
        # the day's news: one on Transport, some on the season's topics, one nobody published
        await d.ingest(1)
        await d.ingest(2, topics=[season[day % 3]])
        await d.ingest(1, topics=[season[(day + 1) % 3]], published=False)
        await d.jobs()
        await d.until(d.clock.now + timedelta(hours=12))
        await d.harness.bot.housekeeper.run()
        await d.until(d.clock.now + timedelta(hours=12))
        if day % 30 == 29:
            live.append(
                (
                    int(await d.store._db.scalar("SELECT count(*) FROM articles") or 0),
                    int(await d.store._db.scalar("SELECT count(*) FROM deliveries") or 0),
                )
            )
    return live


async def test_six_months_of_daily_news_with_retention_on(make_deployment: MakeDeployment):
    d = await make_deployment(START, retention=RETENTION)
    await d.ingest(1, published=False)  # makes the topic known
    await set_up_servers(d)
    days = 100
    live = await months_of_news(d, days)

    # the store stays bounded: the last months hold what the retention windows keep, not
    # everything since January
    # (three published a day kept 60 days, one never published kept 45)
    assert all(articles <= 3 * 60 + 45 + 1 for articles, _ in live), live
    oldest = await d.store._db.scalar(
        "SELECT min(CASE WHEN sent_at > created_at THEN sent_at ELSE created_at END) "
        "FROM deliveries"
    )
    assert d.clock.now - datetime.fromtimestamp(int(oldest), UTC) < timedelta(days=33)

    for g, zone in zip(d.guilds, ZONES, strict=True):
        # every server's channel got each Transport story once, and the commands count them
        # all, the pruned ones included
        posted = [m for m in d.harness.double.messages_in(g.alerts.id) if m.embeds]
        assert len(posted) == days
        feeds = await d.say(g, g.moderator.id, "feed list")
        assert f"sent {days} · pending 0 · failed 0" in feeds, feeds
        instant, daily, weekly = g.members
        said = await d.say(g, instant.id, "subscriptions")
        assert f"sent {days} · pending 0 · failed 0" in said, said
        # one daily digest a day at 08:00 on the server's clock, winter and summer time alike
        moments = [local(at, zone) for who, title, at in d.digests if who == daily.id]
        assert {(m.hour, m.minute) for m in moments} == {(8, 0)}
        dates = [m.date() for m in moments]
        every = {dates[0] + timedelta(days=i) for i in range((dates[-1] - dates[0]).days + 1)}
        assert sorted(every - set(dates)) == [], zone
        assert len(set(dates)) == len(dates) == (dates[-1] - dates[0]).days + 1 >= days - 1
        moments = [local(at, zone) for who, title, at in d.digests if who == weekly.id]
        assert {(m.weekday(), m.hour, m.minute) for m in moments} == {(0, 8, 0)}
        assert len(moments) >= days // 7

        # what members read now: this season's topics, the newest story, its coverage
        topics = await d.say(g, instant.id, "topics")
        assert "Winter Storms" not in topics and "Ski Season" not in topics, topics
        assert "Transport" in topics and "Heatwave" in topics, topics
        latest = await d.say(g, instant.id, "latest", topic="Transport")
        assert f"Dispatch {d.counter - 3}:" in latest, latest

    stats = await d.store.stats()
    assert stats.topics == int(await d.store._db.scalar("SELECT count(*) FROM topics") or 0)
    # Transport and the topics of the last two months' seasons; January's are gone
    assert stats.topics == 1 + 3 + 3
    assert [await d.store.topics.get(topic) for topic in SEASONS[0]] == [None] * 3
    # a quiet month later, pruning a month of rows changes none of the figures shown
    await d.until(d.clock.now + timedelta(days=31))
    before = await d.store.stats()
    run = await d.harness.bot.housekeeper.run()
    after = await d.store.stats()
    assert run.deliveries > 0
    assert after.deliveries == before.deliveries
    assert after.deliveries["pending"] == 0
    assert after.deliveries["sent"] >= 6 * days


async def offered_topics(d: Deployment, g: GuildWorld, typed: str) -> list[str]:
    choices = await d.harness.autocomplete(
        g, g.members[0].id, "subscribe", {"topic": typed}, "topic"
    )
    return [c["value"] for c in choices]


async def test_a_topic_nobody_carries_or_follows_any_more_is_no_longer_offered(
    make_deployment: MakeDeployment,
):
    # January's storm coverage: a member follows it, a moderator routes it; by spring the
    # articles have been pruned and both have let it go
    d = await make_deployment(START, retention=RETENTION)
    g = d.guilds[0]
    await d.ingest(3, topics=["Winter Storms"])
    await d.ingest(1, topics=["Ski Season"])
    await d.jobs()
    said = await d.say(g, g.members[0].id, "subscribe", topic="Winter Storms")
    assert said.startswith("Subscribed"), said
    said = await d.say(g, g.moderator.id, "feed add", channel=g.alerts.id, topic="Ski Season")
    assert said.startswith("Added"), said
    assert await offered_topics(d, g, "Winter") == ["Winter Storms"]

    d.clock.advance(days=70)
    await d.ingest(1, topics=["Spring Floods"])
    await d.harness.bot.housekeeper.run()  # the January articles go; the topics are in use
    assert await offered_topics(d, g, "Winter") == ["Winter Storms"]
    said = await d.say(g, g.members[0].id, "unsubscribe", topic="Winter Storms")
    assert said.startswith("Unsubscribed"), said
    said = await d.say(g, g.moderator.id, "feed remove", channel=g.alerts.id)
    assert said.startswith("Removed"), said

    d.clock.advance(days=1)
    await d.harness.bot.housekeeper.run()
    # no article carries them, nobody follows or routes them: they are not news any more
    assert await offered_topics(d, g, "Winter") == []
    assert await offered_topics(d, g, "Ski") == []
    assert await offered_topics(d, g, "") == ["Spring Floods"]
    assert (await d.store.stats()).topics == 1


async def test_a_topic_an_updated_file_dropped_goes_once_nothing_uses_it(
    make_deployment: MakeDeployment,
):
    d = await make_deployment(START, retention=RETENTION)
    g = d.guilds[0]
    (url,) = await d.ingest(1, topics=["Elections 2025"])
    d.clock.advance(hours=1)
    # the newsroom re-tags the article: the old tag is carried by nothing now
    text = article_text(
        title="Dispatch 1: harbour council weighs plan 7919",
        excerpt="Report number 1 on the matter.",
        webUrl=url,
        originalUrl=...,
        publishedDateTime=(START - timedelta(hours=1)).isoformat(),
        published=True,
        quality=70,
        topics=["Elections"],
        related=[],
    )
    await d.store.articles.upsert_batch([parse_article(text.encode(), source="a.md")], d.clock.now)
    d.clock.advance(days=1)
    await d.harness.bot.housekeeper.run()
    assert await offered_topics(d, g, "Elections") == ["Elections"]
    assert (await d.store.stats()).topics == 1


def messages_seen(d: Deployment) -> dict[int, int]:
    """How many messages each channel and member has from the bot."""
    seen = {}
    for g in d.guilds:
        seen[g.alerts.id] = len(d.harness.double.messages_in(g.alerts.id))
        for member in g.members:
            seen[member.id] = len(d.harness.double.dms_to(member.id))
    return seen


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
async def test_a_backup_restored_a_month_later_sends_members_nothing_old(
    make_deployment: MakeDeployment, tmp_path: Path
):
    d = await make_deployment(START, retention=RETENTION)
    await d.ingest(1, published=False)
    await set_up_servers(d)
    await months_of_news(d, 10)
    # the nightly backup, taken while the bot runs: the day's digests still wait in it
    await d.until(d.clock.now + timedelta(hours=1))
    await d.ingest(2)
    await d.jobs()
    config = tmp_path / "topicbot.yaml"
    config.write_text(f"storage:\n  path: {d.settings.storage.path}\n")
    done = topicbot("backup", str(tmp_path / "month-old.db"), "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    await months_of_news(d, 31)

    # the disk fails; the operator restores last month's backup as docs/operating.md says
    store_path = Path(d.settings.storage.path)

    def restore() -> None:
        for companion in ("-wal", "-shm"):
            Path(f"{store_path}{companion}").unlink(missing_ok=True)
        store_path.write_bytes((tmp_path / "month-old.db").read_bytes())

    d.before_start = restore
    await d.restart()
    before = messages_seen(d)
    await d.jobs()
    await d.until(d.clock.now + timedelta(days=8))
    # nothing of a month ago reaches anyone again: it went out then
    assert messages_seen(d) == before
