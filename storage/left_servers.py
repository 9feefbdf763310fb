"""Deleting the data of servers that removed the bot long enough ago
(``retention.left_server_days``): every row keyed by such a server, in short steps. One
repository for both engines (``storage.sql.Statements``): the statements are plain SQL both
read alike.

What goes, in this order: its outbox rows (any state), the kept counts of its feeds and
subscriptions, the DM channel ids of its subscribers who follow nothing in another server, its
subscriptions, its feeds, what Discord said of its members (``member_checks``), its
publication decisions, its audit log, the articles its
moderators added for it alone (``origin_guild_id``: no other server ever sees them), its
settings, and last its ``guilds_left`` row. Articles shared by every server stay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.models import LeftServer
from storage.outbox.rows import ANY_PENDING, WHENEVER
from storage.sql import Statements
from storage.timestamps import from_timestamp, to_timestamp

DM_CHANNELS = "DM channel ids"
# The step's subscriptions, in their unique index's order (one order, so the DM channels'
# statement and the subscriptions' name the same rows; no sort of the server's rows).
_SUBSCRIPTIONS = (
    "SELECT id FROM subscriptions WHERE guild_id = :guild ORDER BY user_id, topic_id LIMIT :limit"
)
# Each names the first :limit of the server's rows of one table, in its index's order, and
# deletes exactly those: one statement, a bounded step.
_GUILD_ROWS: tuple[tuple[str, str], ...] = (
    (
        "deliveries",
        "DELETE FROM deliveries WHERE (article_pk, guild_id, target_kind, target_id) IN ("
        "SELECT article_pk, guild_id, target_kind, target_id FROM deliveries {by_guild} "
        "WHERE guild_id = :guild AND state != 'pending' LIMIT :limit)",
    ),
    (
        "delivery counts",
        "DELETE FROM delivery_counts WHERE (guild_id, target_kind, target_id, source_id, state) "
        "IN (SELECT guild_id, target_kind, target_id, source_id, state FROM delivery_counts "
        "WHERE guild_id = :guild LIMIT :limit)",
    ),
    # A DM channel id is a member's, not a server's (one per member, whatever the server):
    # it goes only with the last server where that member follows something.
    (
        DM_CHANNELS,
        "DELETE FROM dm_channels WHERE user_id IN (SELECT s.user_id FROM subscriptions s "
        f"WHERE s.id IN ({_SUBSCRIPTIONS})) AND NOT EXISTS (SELECT 1 FROM subscriptions o "
        "WHERE o.user_id = dm_channels.user_id AND o.guild_id <> :guild)",
    ),
    (
        "subscriptions",
        f"DELETE FROM subscriptions WHERE id IN ({_SUBSCRIPTIONS})",
    ),
    (
        "feeds",
        "DELETE FROM feeds WHERE id IN (SELECT id FROM feeds WHERE guild_id = :guild "
        "ORDER BY id LIMIT :limit)",
    ),
    (
        "member checks",
        "DELETE FROM member_checks WHERE guild_id = :guild AND user_id IN ("
        "SELECT user_id FROM member_checks WHERE guild_id = :guild ORDER BY user_id "
        "LIMIT :limit)",
    ),
    (
        "re-plans",
        "DELETE FROM replans WHERE guild_id = :guild AND (target_kind, target_id) IN ("
        "SELECT target_kind, target_id FROM replans WHERE guild_id = :guild "
        "ORDER BY target_kind, target_id LIMIT :limit)",
    ),
    (
        "publication decisions",
        "DELETE FROM guild_publication WHERE guild_id = :guild AND article_pk IN ("
        "SELECT article_pk FROM guild_publication WHERE guild_id = :guild "
        "ORDER BY article_pk LIMIT :limit)",
    ),
    (
        "audit entries",
        "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE guild_id = :guild "
        "ORDER BY at LIMIT :limit)",
    ),
    # Leaving the server cancelled its pending rows; one planned in the same moment may be
    # left. Read from the pending queue's own indexes (the rows by server are only the final
    # ones'), last, so that only a server's last steps read it. ``+guild_id`` (the same value)
    # keeps SQLite from skip-scanning the key by article for the server instead.
    (
        "deliveries",
        "DELETE FROM deliveries WHERE (article_pk, guild_id, target_kind, target_id) IN ("
        "SELECT article_pk, guild_id, target_kind, target_id FROM deliveries "
        f"WHERE +guild_id = :guild AND {ANY_PENDING} LIMIT :limit)",
    ),
)
# The server's own articles, a few per step: each takes its topics, images, links, story keys
# and index entries with it. PostgreSQL's tables of those have no foreign key to the article
# (its migrations 0006 and 0008), so they are deleted by name (on SQLite the cascades would).
_OWN_ARTICLES = "SELECT pk FROM articles WHERE origin_guild_id = :guild ORDER BY pk LIMIT :limit"
_ARTICLE_ROWS = (
    "DELETE FROM story_title_keys WHERE article_pk IN ({pks})",
    "DELETE FROM article_topics WHERE article_pk IN ({pks})",
    "DELETE FROM images WHERE article_pk IN ({pks})",
    "DELETE FROM related_links WHERE parent_pk IN ({pks}) OR child_pk IN ({pks})",
    "DELETE FROM articles WHERE pk IN ({pks})",
)
OWN_ARTICLES = "articles of its own"
SETTINGS = "settings"
# An article carries a few dozen rows of other tables: a step takes this many fewer articles.
ROWS_PER_ARTICLE = 10


# SQLite's planner, given statistics of an outbox whose servers are few, would rather skip-scan
# the key (article first) than read the index by server: a seek per article in the outbox.
SQLITE_BY_GUILD = "INDEXED BY deliveries_history"


class LeftServersRepository:
    """The servers that removed the bot, and deleting their data once it is due.
    ``by_guild`` is what the engine needs said to read the outbox by server."""

    def __init__(self, db: Statements, *, by_guild: str = "") -> None:
        self._db = db
        self._statements = tuple(
            (name, statement.replace("{by_guild}", by_guild)) for name, statement in _GUILD_ROWS
        )

    async def waiting(self) -> list[LeftServer]:
        """Every server the bot was removed from and not invited back to, longest gone
        first."""
        rows = await self._db.fetch_all(
            "SELECT guild_id, left_at FROM guilds_left ORDER BY left_at, guild_id"
        )
        return [LeftServer(int(row[0]), from_timestamp(int(row[1]))) for row in rows]

    async def due(self, cutoff: datetime, *, limit: int) -> list[LeftServer]:
        """Up to ``limit`` servers that removed the bot before ``cutoff``, longest gone
        first."""
        rows = await self._db.fetch_all(
            "SELECT guild_id, left_at FROM guilds_left WHERE left_at < :cutoff "
            "ORDER BY left_at, guild_id LIMIT :limit",
            {"cutoff": to_timestamp(cutoff), "limit": limit},
        )
        return [LeftServer(int(row[0]), from_timestamp(int(row[1]))) for row in rows]

    async def delete_data(
        self, guild_id: int, cutoff: datetime, *, limit: int
    ) -> dict[str, int] | None:
        """One step (one transaction) of deleting the data of a server that removed the bot
        before ``cutoff``: up to about ``limit`` rows, table by table; once none is left, its
        settings and its ``guilds_left`` row go too (``"servers": 1`` in the result). How
        many rows of each went; None when the server is not (or no longer) due: invited back
        meanwhile, or its data already gone."""
        async with self._db.transaction():
            # A write to the server's row: on PostgreSQL it holds the row until the step
            # commits, so an invitation back (which deletes it) waits for the step and the
            # next step then finds the server back and stops.
            still_gone = await self._db.execute(
                "UPDATE guilds_left SET left_at = left_at "
                "WHERE guild_id = :guild AND left_at < :cutoff",
                {"guild": guild_id, "cutoff": to_timestamp(cutoff)},
            )
            if not still_gone:
                return None
            return await self._step(guild_id, limit)

    async def _step(self, guild_id: int, limit: int) -> dict[str, int]:
        deleted: dict[str, int] = {}
        budget = limit
        for name, statement in self._statements:
            params: dict[str, Any] = {"guild": guild_id, "limit": budget}
            if ":whenever" in statement:
                params["whenever"] = WHENEVER
            count = await self._db.execute(statement, params)
            if count:
                deleted[name] = deleted.get(name, 0) + count
            if name == DM_CHANNELS:
                continue  # a member's cache, counted apart: the subscriptions bound the step
            budget -= count
            if budget <= 0:
                return deleted
        articles = await self._own_articles(guild_id, max(budget // ROWS_PER_ARTICLE, 1))
        if articles:
            deleted[OWN_ARTICLES] = articles
            return deleted
        params = {"guild": guild_id}
        if await self._db.execute("DELETE FROM guild_settings WHERE guild_id = :guild", params):
            deleted[SETTINGS] = 1
        await self._db.execute("DELETE FROM guilds_left WHERE guild_id = :guild", params)
        deleted["servers"] = 1
        return deleted

    async def _own_articles(self, guild_id: int, limit: int) -> int:
        """Delete up to ``limit`` of the articles the server's moderators added for it alone;
        how many went."""
        rows = await self._db.fetch_all(_OWN_ARTICLES, {"guild": guild_id, "limit": limit})
        if not rows:
            return 0
        # pks read from the store in this transaction: integers, written into the statement
        pks = ",".join(str(int(row[0])) for row in rows)
        for statement in _ARTICLE_ROWS:
            await self._db.execute(statement.format(pks=pks))
        return len(rows)
