"""A deployment after months: the harness's fake clock runs a bot through half a year of daily
news with retention on, digests in three time zones across daylight-saving changes and a year
end, restarts, a month-old backup restored, changing quality bars and routes, and a store
upgraded from an older schema. Each test asserts what members, moderators and the operator
see then."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from bot.app import TopicBot
from bot.articles.article_file import parse_article
from bot.domain.retention import Housekeeper
from bot.sending.pacing import Pacer
from storage import Store
from storage.api import StoreApi
from tests.bot.harness import FakeClock, Harness, settings_for
from tests.clocks import FakeMonotonic
from tests.discord_double import DiscordDouble
from tests.discord_double.plugin import GuildWorld, StartBot, build_world
from tests.factories import article_text
from tests.storage.legacy import add_article, store_at_version
from tests.test_cli import topicbot

ZONES = ("America/New_York", "Europe/Paris", "Australia/Sydney")
# Topics that come and go: the news of a season is not that of the next.
SEASONS = (
    ("Winter Storms", "Ski Season", "Budget Talks"),
    ("Spring Floods", "Elections", "Pollen"),
    ("Heatwave", "Festivals", "Wildfires"),
)

MakeDeployment = Callable[..., Awaitable["Deployment"]]
# The months-long runs take 5-15 s on SQLite and three times that on PostgreSQL, whose half
# runs with the slow suites (`pytest -m slow`).
LONG_RUN_ENGINES = pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)], indirect=True
)


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
    before_start: Callable[[], Awaitable[None] | None] | None = None
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
        return await self.harness.slash(g, user_id, command, options)

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
                started = deployment.before_start()
                if started is not None:
                    await started
            store = await engine(settings)
            bot = TopicBot(
                settings=settings, store=store, run_jobs=False, clock=old.clock,
                guild_ready_timeout=0.05,
            )  # fmt: skip
            fake = FakeMonotonic()
            bot.dispatcher._pacer = Pacer(clock=fake, sleep=fake.sleep)
            opened.append((bot, store))
            await start_bot(bot)
            deployment.harness = Harness(discord_double, world, store, bot, old.clock, old.reopen)

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


async def months_of_news(d: Deployment, days: int) -> list[tuple[int, int, int]]:
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
                    (await d.store.stats()).size.bytes,
                )
            )
    return live


@LONG_RUN_ENGINES
async def test_six_months_of_daily_news_with_retention_on(make_deployment: MakeDeployment):
    d = await make_deployment(START, retention=RETENTION)
    await d.ingest(1, published=False)  # makes the topic known
    await set_up_servers(d)
    days = 100
    live = await months_of_news(d, days)

    # the store stays bounded: the last months hold what the retention windows keep, not
    # everything since January
    # (three published a day kept 60 days, one never published kept 45)
    assert all(articles <= 3 * 60 + 45 + 1 for articles, _, _ in live), live
    if isinstance(d.store, Store):  # a SQLite file: its pages are reused, then given back
        assert live[-1][2] < 1.25 * live[-2][2], live
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


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
async def test_a_store_of_schema_11_with_four_months_of_alerts_upgrades_and_keeps_its_counts(
    make_deployment: MakeDeployment,
):
    # topicbot at schema 11 (before outbox retention) ran four months: one Transport story a
    # day, posted to a feed and DMed to a subscriber; then the operator upgrades
    now = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    d = await make_deployment(now, retention={"deliveries_days": 30})
    g = d.guilds[0]
    member = g.members[0].id
    path = Path(d.settings.storage.path)
    days = 120

    def remove_store() -> None:
        for companion in ("", "-wal", "-shm"):
            Path(f"{path}{companion}").unlink(missing_ok=True)

    async def legacy_store() -> None:
        remove_store()
        connection = await store_at_version(path, 11)
        try:
            at = int((now - timedelta(days=days)).timestamp())
            await connection.execute(
                "INSERT INTO topics (id, key, name) VALUES (1, 'transport', 'Transport')"
            )
            await connection.execute(
                "INSERT INTO feeds (id, guild_id, channel_id, topic_id, created_by, created_at) "
                "VALUES (1, ?, ?, 1, ?, ?)",
                (g.id, g.alerts.id, g.moderator.id, at),
            )
            await connection.execute(
                "INSERT INTO subscriptions (id, guild_id, user_id, topic_id, created_at, "
                "updated_at) VALUES (1, ?, ?, 1, ?, ?)",
                (g.id, member, at, at),
            )
            await connection.commit()
            for day in range(days):
                when = at + day * 86_400
                url = f"https://harbour-times.example/old/{day}"
                pk = await add_article(
                    connection, url, f"Old story {day} about the harbour", published_at=when
                )
                await connection.execute(
                    "UPDATE articles SET published = 1, quality = 70, planned_at = ? WHERE pk = ?",
                    (when, pk),
                )
                await connection.execute(
                    "INSERT INTO article_topics (topic_id, article_pk, position) VALUES (1, ?, 0)",
                    (pk,),
                )
                for kind, target, feed, subscription in (
                    ("channel", g.alerts.id, 1, None),
                    ("dm", member, None, 1),
                ):
                    await connection.execute(
                        "INSERT INTO deliveries (guild_id, target_kind, target_id, article_pk, "
                        "feed_id, subscription_id, state, next_attempt_at, created_at, sent_at, "
                        "message_id) VALUES (?, ?, ?, ?, ?, ?, 'sent', ?, ?, ?, ?)",
                        (g.id, kind, target, pk, feed, subscription, when, when, when + 5, day),
                    )
            await connection.commit()
        finally:
            await connection.close()

    d.before_start = legacy_store
    await d.restart()  # this version opens it: the schema is brought up to date

    feeds = await d.say(g, g.moderator.id, "feed list")
    assert f"sent {days} · pending 0 · failed 0" in feeds, feeds
    said = await d.say(g, member, "subscriptions")
    assert f"sent {days} · pending 0 · failed 0" in said, said
    before = await d.store.stats()
    assert before.deliveries["sent"] == 2 * days
    assert before.topics == 1 and before.published == days

    run = await d.harness.bot.housekeeper.run()
    assert run.deliveries > 2 * 80
    assert await d.say(g, g.moderator.id, "feed list") == feeds
    assert await d.say(g, member, "subscriptions") == said
    assert (await d.store.stats()).deliveries == before.deliveries

    # and the upgraded store goes on alerting as before: today's story once to each
    await d.ingest(1)
    await d.jobs()
    assert len([m for m in d.harness.double.messages_in(g.alerts.id) if m.embeds]) == 1
    assert len(d.harness.double.dms_to(member)) == 1
    latest = await d.say(g, member, "latest")
    assert "Dispatch 1:" in latest and "Old story 119" in latest, latest


# A Monday, the week Sydney puts its clocks forward; Paris and New York put theirs back in
# the weeks after, and the run ends past the year's end.
AUTUMN = datetime(2026, 9, 28, 3, 0, tzinfo=UTC)
TIMES = ("07:00", "21:30", "08:15", "06:45", "23:59", "00:00", "12:00")


def in_effect(changes: list[tuple[datetime, str]], moment: datetime) -> str:
    """The digest time set last before ``moment``."""
    return [at for when, at in changes if when <= moment][-1]


@LONG_RUN_ENGINES
async def test_digests_through_autumn_clock_changes_a_quiet_week_and_the_year_end(
    make_deployment: MakeDeployment,
):
    d = await make_deployment(AUTUMN)
    await d.ingest(1, published=False)
    await set_up_servers(d)
    paris = d.guilds[1]
    changes = [(AUTUMN, "08:00")]
    quiet = (datetime(2026, 12, 21).date(), datetime(2026, 12, 28).date())  # nothing published
    end = datetime(2027, 1, 12, 3, 0, tzinfo=UTC)
    while d.clock.now < end:
        today = d.clock.now.date()
        if not quiet[0] <= today <= quiet[1]:
            await d.ingest(1)
        if datetime(2026, 11, 2).date() <= today <= datetime(2026, 11, 15).date():
            # Paris's moderator cannot settle on a digest time: a new one every day for two
            # weeks (sometimes one already past today, sometimes one still to come)
            at = TIMES[today.toordinal() % len(TIMES)]
            said = await d.say(paris, paris.moderator.id, "settings", digest_time=at)
            assert said.startswith("Saved."), said
            changes.append((d.clock.now, at))
        await d.jobs()
        await d.until(d.clock.now + timedelta(days=1))
    await d.until(d.clock.now + timedelta(days=8))

    for g, zone in zip(d.guilds, ZONES, strict=True):
        _, daily, weekly = g.members
        digests = [(title, at) for who, title, at in d.digests if who in (daily.id, weekly.id)]
        for title, at in digests:
            expected = in_effect(changes, at) if g is paris else "08:00"
            assert f"{local(at, zone):%H:%M}" == expected, (zone, title, at)
        # weekly: every Monday but the one after the quiet week, the year's end included
        mondays = sorted(local(at, zone).date() for title, at in digests if "weekly" in title)
        assert all(day.weekday() == 0 for day in mondays), mondays
        first = mondays[0]
        every = {first + timedelta(weeks=n) for n in range((mondays[-1] - first).days // 7 + 1)}
        assert every - set(mondays) == {datetime(2026, 12, 28).date()}, zone
        # nothing lost, nothing twice: every story reached each reader once
        for member in (daily, weekly):
            said = await d.say(g, member.id, "subscriptions")
            sent = d.counter - 1
            assert f"sent {sent} · pending 0 · failed 0" in said, (zone, said)
        # and no DM at all for a week with nothing in it
        quiet_dms = [
            at
            for who, title, at in d.digests
            if who == daily.id
            and quiet[0] + timedelta(days=2) <= local(at, zone).date() <= quiet[1]
        ]
        assert quiet_dms == [], zone


async def test_quality_bars_and_routes_changed_over_the_months_never_bring_back_old_news(
    make_deployment: MakeDeployment,
):
    d = await make_deployment(START, retention=RETENTION)
    g = d.guilds[0]
    await d.ingest(1, published=False)
    said = await d.say(g, g.moderator.id, "feed add", channel=g.alerts.id, topic="Transport")
    assert said.startswith("Added"), said
    said = await d.say(g, g.members[0].id, "subscribe", topic="Transport")
    assert said.startswith("Subscribed"), said
    posted: dict[int, list[str]] = {g.alerts.id: [], g.general.id: []}
    told: list[str] = []

    async def day(quality: int) -> None:
        (url,) = await d.ingest(1, quality=quality)
        article = await d.store.articles.get_by_url(url)
        assert article is not None
        before = {c: len(d.harness.double.messages_in(c)) for c in posted}
        dms = len(d.harness.double.dms_to(g.members[0].id))
        await d.jobs()
        for channel in posted:
            if len(d.harness.double.messages_in(channel)) > before[channel]:
                posted[channel].append(article.title)
        if len(d.harness.double.dms_to(g.members[0].id)) > dms:
            told.append(article.title)
        await d.until(d.clock.now + timedelta(days=1))
        await d.harness.bot.housekeeper.run()

    async def settings(**options: Any) -> None:
        said = await d.say(g, g.moderator.id, "settings", **options)
        assert said.startswith("Saved."), said

    # weeks at the default bar (20), then raised to 60, lowered to 10, raised to 90
    expected: dict[int, list[str]] = {g.alerts.id: [], g.general.id: []}
    for week, bar in enumerate((None, 60, 10, 90)):
        if bar is not None:
            await settings(min_quality=bar)
        for n in range(7):
            quality = (15, 35, 65, 95)[(week + n) % 4]
            await day(quality)
            if quality >= (bar or 20):
                expected[g.alerts.id].append(f"Dispatch {d.counter}:")
    # the route moves to #general, is removed, then comes back on #alerts
    said = await d.say(g, g.moderator.id, "feed remove", channel=g.alerts.id)
    assert said.startswith("Removed"), said
    said = await d.say(g, g.moderator.id, "feed add", channel=g.general.id, topic="Transport")
    assert said.startswith("Added"), said
    await settings(reset="min_quality")
    for _ in range(7):
        await day(70)
        expected[g.general.id].append(f"Dispatch {d.counter}:")
    said = await d.say(g, g.moderator.id, "feed remove", channel=g.general.id)
    assert said.startswith("Removed"), said
    for _ in range(3):
        await day(70)  # nobody routes Transport: no post
    said = await d.say(g, g.moderator.id, "feed add", channel=g.alerts.id, topic="Transport")
    assert said.startswith("Added"), said
    for _ in range(3):
        await day(70)
        expected[g.alerts.id].append(f"Dispatch {d.counter}:")

    for channel, titles in expected.items():
        assert [t.split(" harbour")[0] for t in posted[channel]] == [
            t.removesuffix(":") + ":" for t in titles
        ], channel
    # the member's own bar is 0: the server's bar alone decided, day by day
    assert len(told) == sum(len(t) for t in expected.values()) + 3


class Shutdown(Exception):
    """The process stopping in the middle of a housekeeping run."""


@LONG_RUN_ENGINES
async def test_a_restart_in_the_middle_of_pruning_loses_and_doubles_no_count(
    make_deployment: MakeDeployment,
):
    # housekeeping was off for two months; the first run after turning it on is stopped
    # after a few steps (an upgrade's restart), and the next run finishes the work
    d = await make_deployment(START, retention={"deliveries_days": 7})
    await d.ingest(1, published=False)
    await set_up_servers(d)
    for _ in range(60):
        await d.ingest(1)
        await d.jobs()
        await d.until(d.clock.now + timedelta(days=1))
    g = d.guilds[0]
    feeds = await d.say(g, g.moderator.id, "feed list")
    said = await d.say(g, g.members[0].id, "subscriptions")
    before = await d.store.stats()
    steps = 0

    async def stopping(seconds: float) -> None:
        nonlocal steps
        steps += 1
        if steps == 3:
            raise Shutdown

    cut = Housekeeper(
        d.store,
        d.harness.bot.settings.retention,
        story_window=timedelta(hours=72),
        clock=d.clock,
        sleep=stopping,
    )
    with contextlib.suppress(Shutdown):
        await cut.run()
    assert (await d.store.stats()).deliveries == before.deliveries
    await d.restart()
    stats = await d.store.stats()
    assert stats.last_pruning is not None and stats.last_pruning.finished_at is None
    run = await d.harness.bot.housekeeper.run()
    assert run.deliveries > 0 and run.finished_at is not None
    after = await d.store.stats()
    assert after.deliveries == before.deliveries
    assert await d.say(g, g.moderator.id, "feed list") == feeds
    assert await d.say(g, g.members[0].id, "subscriptions") == said


@pytest.mark.parametrize("away", [timedelta(hours=5), timedelta(days=3)], ids=["hours", "days"])
async def test_alerts_and_digests_waiting_through_a_downtime_go_out_only_while_still_news(
    make_deployment: MakeDeployment, away: timedelta
):
    # the bot stops (a host down for maintenance) right after planning the day's alerts: a
    # rate-limited post waiting for its retry, and the next digests
    d = await make_deployment(START)
    await d.ingest(1, published=False)
    await set_up_servers(d)
    g = d.guilds[0]
    await d.ingest(1)
    await d.harness.bot.planner.plan()
    await d.restart()
    d.clock.advance(seconds=away.total_seconds())
    before = messages_seen(d)
    await d.jobs()
    await d.until(d.clock.now + timedelta(days=8))
    stats = await d.store.stats()
    if away < timedelta(hours=48):  # late, but still news: sent once
        assert messages_seen(d)[g.alerts.id] == before[g.alerts.id] + 1
        assert messages_seen(d)[g.members[1].id] == before[g.members[1].id] + 1
        assert stats.deliveries["skipped"] == 0
    else:  # days old: recorded as skipped, as planning skips a publication that old
        sydney_weekly = d.guilds[2].members[2].id  # its Monday comes after the downtime
        assert messages_seen(d) == before | {sydney_weekly: before[sydney_weekly] + 1}
        assert stats.deliveries["skipped"] == 3 * 4 - 1
    assert stats.deliveries["pending"] == 0


async def test_the_audit_log_still_names_a_published_article_after_retention_pruned_it(
    make_deployment: MakeDeployment,
):
    # audit entries are kept 90 days, published articles 60: for a month the log outlives
    # the article it speaks of
    d = await make_deployment(START, retention=RETENTION)
    g = d.guilds[0]
    (url,) = await d.ingest(1, published=False, title="Harbour bridge closes for repairs")
    article = await d.store.articles.get_by_url(url)
    assert article is not None
    said = await d.say(g, g.moderator.id, "publish", article=article.id)
    assert said.startswith("Published"), said
    d.clock.advance(days=70)
    await d.ingest(1)
    run = await d.harness.bot.housekeeper.run()
    assert run.articles >= 1 and await d.store.articles.get_by_url(url) is None

    log = await d.say(g, g.moderator.id, "audit")
    assert f"published “Harbour bridge closes for repairs” (`{article.id}`, no longer stored)" in (
        log
    ), log
