"""Rows the outbox tests plan from: articles ingested through the store's API, and topics,
feeds, subscriptions and guild decisions written with plain SQL that both engines run (the
rows as their repositories leave them, with what a test needs set directly). Statements take
named parameters (``:name``): SQLite binds them itself, PostgreSQL through
``storage.postgresql.params.bind``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.articles.article_file import parse_article
from storage.postgresql.params import bind
from storage.postgresql.store import PgStore
from storage.timestamps import to_timestamp
from tests.factories import article_text

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def sql(store: Any, statement: str, types: dict[str, str] | None = None, **params: Any):
    """Run one statement on either engine; its rows as tuples."""
    if isinstance(store, PgStore):
        bound, args = bind(statement, params, types)
        rows = await store._db.fetch_all(bound, *args)
        return [tuple(row) for row in rows]
    return await store._db.fetch_all(statement, params)


@dataclass
class Outbox:
    """Seeding and reading the outbox of ``store`` (either engine)."""

    store: Any

    topic_names: dict[int, str] = field(default_factory=dict)
    ids: dict[int, str] = field(default_factory=dict)  # article id by pk

    async def topic(self, name: str) -> int:
        """A topic members can follow before any article has it."""
        rows = await sql(
            self.store,
            "INSERT INTO topics (key, name) VALUES (:key, :name) RETURNING id",
            key=name.lower(),
            name=name,
        )
        self.topic_names[int(rows[0][0])] = name
        return int(rows[0][0])

    async def article(
        self,
        slug: str,
        topics: Sequence[int],
        *,
        quality: int = 60,
        published: bool = True,
        age: timedelta = HOUR,
        title: str | None = None,
        outlet: str = "news.example",
        origin_guild: int | None = None,
    ) -> int:
        """An article ingested (published by the source, unless ``published`` is False)
        dated ``age`` ago; its pk. The same ``slug`` again updates it."""
        url = f"https://{outlet}/{slug}"
        text = article_text(
            title=title or f"{slug.title()} in the news, {slug} report",
            webUrl=url,
            originalUrl=...,
            related=[],
            images=[],
            provider={"name": outlet, "domain": outlet},
            topics=[self.topic_names[topic] for topic in topics],
            quality=quality,
            published=published,
            publishedDateTime=(NOW - age).isoformat(),
        )
        draft = parse_article(text.encode(), source=f"{slug}.md")
        await self.store.articles.upsert_batch([draft], NOW, origin_guild_id=origin_guild)
        [(pk, article_id)] = await sql(
            self.store, "SELECT pk, id FROM articles WHERE web_url = :url", url=url
        )
        self.ids[pk] = article_id
        return int(pk)

    async def subscribe(
        self,
        guild: int,
        user: int,
        topic: int,
        *,
        delivery: str = "instant",
        min_quality: int = 0,
        disabled: str | None = None,
    ) -> int:
        rows = await sql(
            self.store,
            "INSERT INTO subscriptions (guild_id, user_id, topic_id, min_quality, delivery, "
            "disabled_reason, created_at, updated_at) "
            "VALUES (:guild, :user, :topic, :bar, :delivery, :disabled, 0, 0) RETURNING id",
            {"disabled": "text"},
            guild=guild,
            user=user,
            topic=topic,
            bar=min_quality,
            delivery=delivery,
            disabled=disabled,
        )
        return int(rows[0][0])

    async def feed(
        self, guild: int, channel: int, topic: int | None, *, min_quality: int | None = None
    ) -> int:
        rows = await sql(
            self.store,
            "INSERT INTO feeds (guild_id, channel_id, topic_id, min_quality, created_by, "
            "created_at) VALUES (:guild, :channel, :topic, :bar, 1, 0) RETURNING id",
            {"topic": "bigint", "bar": "bigint"},
            guild=guild,
            channel=channel,
            topic=topic,
            bar=min_quality,
        )
        return int(rows[0][0])

    async def decide(self, guild: int, pk: int, state: str, *, age: timedelta = HOUR) -> None:
        """A moderator's decision in ``guild``, ``age`` ago."""
        await sql(
            self.store,
            "INSERT INTO guild_publication (guild_id, article_pk, state, decided_by, decided_at) "
            "VALUES (:guild, :pk, :state, 1, :at)",
            guild=guild,
            pk=pk,
            state=state,
            at=to_timestamp(NOW - age),
        )

    async def settings(self, guild: int, **values: Any) -> None:
        await self.store.guild_settings.update(guild, NOW, **values)

    async def rows(self) -> list[tuple[Any, ...]]:
        """(guild, kind, target, article pk, mode, state, due) of every row, in key order."""
        return await sql(
            self.store,
            "SELECT guild_id, target_kind, target_id, article_pk, mode, state, next_attempt_at "
            "FROM deliveries ORDER BY guild_id, target_kind, target_id, article_pk",
        )

    async def add_row(
        self,
        guild: int,
        kind: str,
        target: int,
        pk: int,
        *,
        mode: str = "instant",
        state: str = "pending",
        due: datetime = NOW,
        created: datetime = NOW,
        feed: int | None = None,
        subscription: int | None = None,
        sent: datetime | None = None,
    ) -> None:
        """An outbox row as planning or sending left it."""
        await sql(
            self.store,
            "INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, feed_id, "
            "subscription_id, mode, state, next_attempt_at, created_at, sent_at) VALUES "
            "(:guild, :pk, :kind, :target, :feed, :subscription, :mode, :state, :due, "
            ":created, :sent)",
            {"feed": "bigint", "subscription": "bigint", "sent": "bigint"},
            guild=guild,
            pk=pk,
            kind=kind,
            target=target,
            feed=feed,
            subscription=subscription,
            mode=mode,
            state=state,
            due=to_timestamp(due),
            created=to_timestamp(created),
            sent=None if sent is None else to_timestamp(sent),
        )
