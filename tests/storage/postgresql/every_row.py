"""A SQLite store holding every kind of row the bot writes, built as the bot builds it: article
files ingested, then moderators, members and the delivery jobs acting through the store API."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.articles.article_file import parse_article
from bot.config import DeliverySettings, DigestSettings
from bot.domain.delivery import DeliveryPlanner
from bot.ingest.writer import ingest_paths
from storage import Store
from storage.associations import Association
from storage.models import PruningRun
from tests.factories import article_fields, article_text, write_article

GUILD, OTHER_GUILD = 7_000_000_000_000_001, 7_000_000_000_000_002
CHANNEL, MODERATOR = 8_000_000_000_000_001, 9_000_000_000_000_001
READERS = (9_000_000_000_000_101, 9_000_000_000_000_102)
UNICODE_TITLE = "Zürich öffnet das Café „Ünïcödé“ — 東京の電車 ✓ 🚆"
SECURED = "c2VjcmV0LXRva2Vu;b3BhcXVl"
# A target database whose own trigger changes what is written: a copy must notice and roll back.
SHOUTING_META = """
CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN NEW.value := upper(NEW.value); RETURN NEW; END $$;
CREATE TRIGGER shout BEFORE INSERT ON meta FOR EACH ROW EXECUTE FUNCTION shout();
"""


def _recent(now: datetime, hours: float) -> str:
    return (now - timedelta(hours=hours)).isoformat()


def write_files(folder: Path, now: datetime) -> None:
    """Published articles on two topics (one with a unicode title and a secured value, one
    listing coverage of unknown date), and one the source has not published."""
    undated = {**article_fields()["related"][0], "publishedDateTime": ...}
    undated = {key: value for key, value in undated.items() if value is not ...}
    undated["webUrl"] = "https://undated.example/ferries"
    write_article(
        folder, "a.md", "Body one.", title=UNICODE_TITLE, published=True, secured=SECURED,
        publishedDateTime=_recent(now, 2), topics=["Transport", "Cities"],
    )  # fmt: skip
    write_article(
        folder, "b.md", "Body two.", title="Harbour ferries run without captains",
        webUrl="https://b.example/ferries", originalUrl=..., published=True,
        publishedDateTime=_recent(now, 1), related=[undated], topics=["Transport"],
    )  # fmt: skip
    write_article(
        folder, "c.md", title="Council weighs tram extension", webUrl="https://c.example/tram",
        originalUrl=..., published=False, publishedDateTime=_recent(now, 3), related=[],
        topics=["Cities"],
    )  # fmt: skip


async def _members_and_moderators(store: Store, now: datetime) -> None:
    transport = await store.topics.get("Transport")
    assert transport is not None
    await store.guild_settings.update(
        GUILD, now, moderator_role_id=MODERATOR, min_quality=10, timezone="Europe/Zurich",
        digest_time="07:30", digest_day="friday",
    )  # fmt: skip
    await store.feeds.save(
        guild_id=GUILD, channel_id=CHANNEL, topic_id=transport.id, min_quality=None,
        mention_role_id=None, created_by=MODERATOR, now=now, cap=50,
    )  # fmt: skip
    for reader in READERS:
        await store.subscriptions.save(
            guild_id=GUILD, user_id=reader, topic_id=transport.id, min_quality=0,
            delivery="instant", now=now, cap=25,
        )  # fmt: skip
    await store.deliveries.save_dm_channel(READERS[0], 8_000_000_000_000_900)
    unpublished = await store.articles.get_by_url("https://c.example/tram")
    assert unpublished is not None
    await store.publication.decide(OTHER_GUILD, unpublished.id, "published", MODERATOR, now)
    await store.audit.record(
        OTHER_GUILD, MODERATOR, "publish", now, article_id=unpublished.id, detail={"why": "é"}
    )
    await store.meta.put("commands_synced", "2026-12-05T04:00:00+00:00")
    await store.guild_settings.left(8_000_000_000_000_777, now)  # a server that removed the bot
    await store.members.record(GUILD, {READERS[0]: True}, now)  # Discord said: still there
    await store.retention.save_run(PruningRun(started_at=now, finished_at=now, deliveries=1))
    await store.associations.replace(
        [Association("ferry", "captain", ("captain", "captains"), 0.75)]
    )


async def _deliver_some(store: Store, now: datetime) -> None:
    """Plan, then: two rows sent, one of them pruned into the kept counts; one dead-lettered;
    one retried later; the rest pending."""
    planner = DeliveryPlanner(store, DeliverySettings(), DigestSettings(), clock=lambda: now)
    await planner.plan()
    due = await store.deliveries.due(now + timedelta(seconds=1), limit=100)
    assert len(due) >= 5, due
    await store.deliveries.mark_sent(due[:2], 555, now)
    assert await store.retention.prune_deliveries(now + timedelta(days=2), limit=1) == 1
    await store.deliveries.give_up(due[2:3], "dead", "403 Missing Access")
    await store.deliveries.retry_later(due[3:4], now + timedelta(minutes=5), "503 unavailable")


async def build_store_with_every_row(path: Path, articles: Path) -> None:
    """A store at ``path`` with at least one row in every table (the article files are
    written to ``articles``)."""
    now = datetime.now(UTC).replace(microsecond=0)
    write_files(articles, now)
    async with await Store.open(path) as store:
        report = await ingest_paths(store, [articles])
        assert report.rejected == []
        added = article_text(
            title="Added by a moderator",
            webUrl="https://d.example/added",
            originalUrl=...,
            related=[],
            publishedDateTime=_recent(now, 1),
        )
        draft = parse_article(added.encode(), source="added.md")
        await store.articles.upsert_batch([draft], now, origin_guild_id=OTHER_GUILD)
        await _members_and_moderators(store, now)
        await _deliver_some(store, now)
        # a feed's bar lowered since the last planning run: its re-plan waits
        await store.deliveries.request_replan(GUILD, "channel", CHANNEL, 40, now)
    empty = empty_tables(path)
    assert empty == [], f"the test store has no rows in {empty}: add some to this builder"


def empty_tables(path: Path) -> list[str]:
    """The store's tables without a row (the FTS5 index's own tables aside)."""
    with sqlite3.connect(path) as db:
        names = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if "_fts" not in name
        ]
        return [n for n in names if db.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] == 0]
