"""The feed repository: which topics a guild routes to which channels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.columns import Column, Columns
from storage.models import Feed
from storage.sql import Statements
from storage.timestamps import to_timestamp

FEED = Columns(
    Feed,
    Column("id", "f.id"),
    Column("guild_id", "f.guild_id"),
    Column("channel_id", "f.channel_id"),
    Column("topic_key", "t.key"),
    Column("topic_name", "t.name"),
    Column("min_quality", "f.min_quality"),
    Column("mention_role_id", "f.mention_role_id"),
    Column("created_by", "f.created_by"),
    Column("disabled_reason", "f.disabled_reason"),
)
# A route is (guild, channel, topic), the topic NULL for every topic: IS NOT DISTINCT FROM
# (SQLite's ``IS``, under the name both engines know) matches it either way.
_SELECT = f"SELECT {FEED.select} FROM feeds f LEFT JOIN topics t ON t.id = f.topic_id "
_ROUTE = (
    "f.guild_id = :guild AND f.channel_id = :channel AND f.topic_id IS NOT DISTINCT FROM :topic"
)


class FeedCapReached(Exception):
    """The guild already has as many feeds as allowed."""

    def __init__(self, cap: int, count: int | None = None) -> None:
        self.cap = cap
        self.count = cap if count is None else count  # more when the cap was lowered since
        super().__init__(f"at most {cap} feeds per guild")


@dataclass(frozen=True, slots=True)
class FeedSaved:
    """The stored feed and whether it is new."""

    feed: Feed
    previous: Feed | None = None  # before this save (None: it is new)

    @property
    def created(self) -> bool:
        """Whether the save added the feed."""
        return self.previous is None


class FeedRepository:
    """Named queries over feeds, on either engine (``storage.sql.Statements``)."""

    def __init__(self, db: Statements) -> None:
        self._db = db

    async def save(
        self,
        *,
        guild_id: int,
        channel_id: int,
        topic_id: int | None,
        min_quality: int | None,
        mention_role_id: int | None,
        created_by: int,
        now: datetime,
        cap: int,
    ) -> FeedSaved:
        """Create or update (re-enabling) the route from the topic to the channel."""
        route = {"guild": guild_id, "channel": channel_id, "topic": topic_id}
        settings = {"quality": min_quality, "role": mention_role_id}
        async with self._db.transaction():
            # the cap is counted, then a row added: two saves at once must not both pass it
            await self._db.hold_lock(f"feeds:{guild_id}")
            existing = await self._find(route)
            if existing is None:
                count = await self.count(guild_id)
                if count >= cap:
                    raise FeedCapReached(cap, count)
                await self._db.execute(
                    "INSERT INTO feeds (guild_id, channel_id, topic_id, min_quality, "
                    "mention_role_id, created_by, created_at) "
                    "VALUES (:guild, :channel, :topic, :quality, :role, :by, :at)",
                    {**route, **settings, "by": created_by, "at": to_timestamp(now)},
                )
            else:
                await self._db.execute(
                    "UPDATE feeds SET min_quality = :quality, mention_role_id = :role, "
                    "disabled_reason = NULL, failure_count = 0, notified_at = NULL "
                    "WHERE id = :id",
                    {**settings, "id": existing.id},
                )
            saved = await self._find(route)
        assert saved is not None
        return FeedSaved(saved, previous=existing)

    async def remove(self, guild_id: int, channel_id: int, topic_id: int | None) -> int:
        """Remove the channel's route for one topic, or (``topic_id`` None) for every-topic."""
        return await self._db.execute(
            f"DELETE FROM feeds AS f WHERE {_ROUTE}",
            {"guild": guild_id, "channel": channel_id, "topic": topic_id},
        )

    async def remove_channel(self, guild_id: int, channel_id: int) -> int:
        """Remove every route to the channel."""
        return await self._db.execute(
            "DELETE FROM feeds WHERE guild_id = :guild AND channel_id = :channel",
            {"guild": guild_id, "channel": channel_id},
        )

    async def drop_mention_role(self, guild_id: int, role_id: int) -> int:
        """The role was deleted: the guild's feeds that mentioned it mention no one now."""
        return await self._db.execute(
            "UPDATE feeds SET mention_role_id = NULL "
            "WHERE guild_id = :guild AND mention_role_id = :role",
            {"guild": guild_id, "role": role_id},
        )

    async def mention_roles(
        self, guild_id: int, channel_id: int, article_pk: int, *, default_bar: int
    ) -> list[int]:
        """The roles that the channel's live feeds taking the article mention (every topic or
        one of its topics, and a bar it passes: the feed's, else the guild's, else
        ``default_bar``), each once, oldest feed first: one post in the channel pings each
        role a feed asked for."""
        rows = await self._db.fetch_all(
            "SELECT f.mention_role_id FROM feeds f JOIN articles a ON a.pk = :article "
            "LEFT JOIN guild_settings gs ON gs.guild_id = f.guild_id "
            "WHERE f.guild_id = :guild AND f.channel_id = :channel "
            "AND f.mention_role_id IS NOT NULL AND f.disabled_reason IS NULL "
            "AND (f.topic_id IS NULL OR f.topic_id IN "
            "(SELECT topic_id FROM article_topics WHERE article_pk = :article)) "
            "AND a.quality >= coalesce(f.min_quality, gs.min_quality, :bar) ORDER BY f.id",
            {"guild": guild_id, "channel": channel_id, "article": article_pk, "bar": default_bar},
        )
        return list(dict.fromkeys(int(row[0]) for row in rows))

    async def for_guild(self, guild_id: int) -> list[Feed]:
        """The guild's feeds by channel, every-topic feeds first."""
        rows = await self._db.fetch_all(
            _SELECT + "WHERE f.guild_id = :guild ORDER BY f.channel_id, t.key IS NOT NULL, t.key",
            {"guild": guild_id},
        )
        return [FEED.from_row(row) for row in rows]

    async def every(self) -> list[Feed]:
        """Every guild's feeds, by guild and channel."""
        rows = await self._db.fetch_all(_SELECT + "ORDER BY f.guild_id, f.channel_id, f.id")
        return [FEED.from_row(row) for row in rows]

    async def claim_pause_notice(self, feed_id: int, now: datetime) -> bool:
        """Take the telling of the feed's moderator that it is paused; False when it was taken
        (by this or another process) for this pause."""
        return (
            await self._db.execute(
                "UPDATE feeds SET notified_at = :now "
                "WHERE id = :id AND notified_at IS NULL AND disabled_reason IS NOT NULL",
                {"now": to_timestamp(now), "id": feed_id},
            )
            > 0
        )

    async def release_pause_notice(self, feed_id: int) -> None:
        """The moderator could not be told for now (Discord did not answer): free the notice,
        for a later sending run to try again."""
        await self._db.execute(
            "UPDATE feeds SET notified_at = NULL WHERE id = :id", {"id": feed_id}
        )

    async def paused_untold(self, limit: int) -> list[Feed]:
        """Paused feeds whose moderator was not told yet, of servers the bot is still in."""
        rows = await self._db.fetch_all(
            _SELECT + "WHERE f.disabled_reason IS NOT NULL AND f.notified_at IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM guilds_left g WHERE g.guild_id = f.guild_id) "
            "ORDER BY f.id LIMIT :limit",
            {"limit": limit},
        )
        return [FEED.from_row(row) for row in rows]

    async def count(self, guild_id: int) -> int:
        """How many feeds the guild has."""
        counted = await self._db.scalar(
            "SELECT count(*) FROM feeds WHERE guild_id = :guild", {"guild": guild_id}
        )
        return int(counted or 0)

    async def _find(self, route: dict[str, int | None]) -> Feed | None:
        row = await self._db.fetch_one(_SELECT + f"WHERE {_ROUTE}", route)
        return FEED.from_row(row) if row else None
