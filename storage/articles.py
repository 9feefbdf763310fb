"""The article repository: batched upserts, reads, related links and text search."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.database import Database
from storage.grouping import GroupingRules, assign_stories
from storage.grouping_sql import SqliteGrouping
from storage.ingest_plan import (
    EXISTING,
    WRITTEN_COLUMNS,
    ArticleRows,
    BatchPlan,
    DraftUpserts,
    Existing,
    all_urls,
    article_columns,
    article_rows,
    check_unique_urls,
    first_seen_topics,
    for_grouping,
    image_rows,
    plan_batch,
    related_links,
    rewritten_pks,
    topic_links,
    with_unique_ids,
)
from storage.models import Article, RelatedArticle, UpsertOutcome
from storage.prepare import CONTENT_COLUMNS, PreparedFile
from storage.sql import chunks, fts_match, placeholders
from storage.timestamps import to_timestamp
from storage.topics import topic_fold

# Whole articles (``a``) in one statement, with their topics' names and their images as JSON
# arrays (in their positions' order).
ARTICLE = article_columns(
    "(SELECT json_group_array(name) FROM (SELECT t.name FROM article_topics at "
    "JOIN topics t ON t.id = at.topic_id WHERE at.article_pk = a.pk ORDER BY at.position))",
    "(SELECT json_group_array(json_array(url, width, height, is_cached)) FROM (SELECT url, "
    "width, height, is_cached FROM images WHERE article_pk = a.pk ORDER BY position))",
)
_PK = ARTICLE.index("pk")

# A batch's article rows go to a staging table first and into ``articles`` by one statement.
# Row by row, every INSERT or UPDATE ran as a statement of its own, and FTS5 flushes its
# pending terms to a new segment at each statement's savepoint: one tiny segment per row, then
# the work of merging them (about 40 us per row). One statement flushes once.
_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS staged_articles "
    f"({', '.join(WRITTEN_COLUMNS)}, replan INTEGER, pk INTEGER)"
)
_STAGE = (
    f"INSERT INTO temp.staged_articles ({', '.join(WRITTEN_COLUMNS)}, replan, pk) "
    f"VALUES ({placeholders(len(WRITTEN_COLUMNS) + 2)})"
)
_INSERT_STAGED = (
    f"INSERT INTO articles ({', '.join(WRITTEN_COLUMNS)}) "
    f"SELECT {', '.join(WRITTEN_COLUMNS)} FROM temp.staged_articles WHERE pk IS NULL "
    "ORDER BY rowid RETURNING canonical_url, pk"
)
_UPDATE_STAGED = (
    f"UPDATE articles SET {', '.join(f'{c} = s.{c}' for c in CONTENT_COLUMNS)}, "
    "source_published_at = s.source_published_at, "
    "planned_at = CASE WHEN s.replan THEN NULL ELSE articles.planned_at END, "
    "updated_at = s.updated_at, origin_guild_id = s.origin_guild_id "
    "FROM temp.staged_articles s WHERE s.pk IS NOT NULL AND articles.pk = s.pk"
)


class ArticleRepository(DraftUpserts):
    """Named queries over articles, topics, images and related links."""

    def __init__(self, connection: Database, grouping: GroupingRules | None = None) -> None:
        self._db = connection
        self._grouping = grouping or GroupingRules()

    # --- writing -------------------------------------------------------------------------

    async def upsert_prepared(
        self,
        files: Sequence[PreparedFile],
        now: datetime,
        *,
        origin_guild_id: int | None = None,
    ) -> list[UpsertOutcome]:
        """Store a batch of prepared articles (``storage.prepare``) in one transaction; return
        each one's outcome.

        Canonical URLs must be unique within a batch (split batches on a repeat). Articles from
        files are everyone's; ``origin_guild_id`` marks new ones a moderator added for one guild.
        Every article written is put into its story (``storage.grouping``) in the same
        transaction.
        """
        check_unique_urls(files)
        stamp = to_timestamp(now)
        async with self._db.transaction():
            existing = await self._existing(all_urls(files))
            plan = plan_batch(files, existing)
            pks = {url: row.pk for url, row in existing.items()}
            rows = article_rows(plan, existing, stamp, origin_guild_id)
            pks |= await self._write_article_rows(rows)
            # rows that were there before have children (topics, images, keys) to replace
            rewritten = {row.pk for row in existing.values()}
            await self._replace_children(plan, pks, rewritten)
            await assign_stories(
                SqliteGrouping(self._db),
                for_grouping(plan, existing, pks),
                self._grouping,
                rewritten=rewritten,
            )
        return plan.outcomes

    async def _write_article_rows(self, rows: ArticleRows) -> dict[str, int]:
        """Write the plan's article rows; return the new ones' pks by canonical URL."""
        if not rows.inserts and not rows.updates:
            return {}
        inserts = rows.inserts
        if inserts:
            inserts = with_unique_ids(inserts, await self._taken_ids([i[0] for i in inserts]))
        await self._db.execute(_STAGING)
        await self._db.executemany(_STAGE, [(*i, None, None) for i in inserts] + rows.updates)
        new_pks: dict[str, int] = {}
        if inserts:
            new_pks = dict(await self._db.fetch_all(_INSERT_STAGED))
        if rows.updates:
            await self._db.execute(_UPDATE_STAGED)
        await self._db.execute("DELETE FROM temp.staged_articles")
        return new_pks

    async def _taken_ids(self, wanted: Sequence[str]) -> set[str]:
        taken: set[str] = set()
        for chunk in chunks(wanted):
            sql = f"SELECT id FROM articles WHERE id IN ({placeholders(len(chunk))})"
            taken.update(row[0] for row in await self._db.fetch_all(sql, chunk))
        return taken

    async def _replace_children(
        self, plan: BatchPlan, pks: dict[str, int], rewritten: set[int]
    ) -> None:
        parents, imaged = rewritten_pks(plan, pks, rewritten)
        parent_pks, imaged_pks = [(pk,) for pk in parents], [(pk,) for pk in imaged]
        await self._db.executemany("DELETE FROM article_topics WHERE article_pk = ?", parent_pks)
        await self._db.executemany("DELETE FROM related_links WHERE parent_pk = ?", parent_pks)
        await self._db.executemany("DELETE FROM images WHERE article_pk = ?", imaged_pks)
        topic_ids = await self._ensure_topics(plan.parents)
        await self._db.executemany(
            "INSERT OR IGNORE INTO article_topics (topic_id, article_pk, position) VALUES (?,?,?)",
            topic_links(plan, topic_ids, pks),
        )
        await self._db.executemany(
            "INSERT INTO images (article_pk, position, url, width, height, is_cached) "
            "VALUES (?,?,?,?,?,?)",
            image_rows(plan, pks),
        )
        await self._db.executemany(
            "INSERT OR IGNORE INTO related_links (parent_pk, child_pk, position) VALUES (?,?,?)",
            related_links(plan, pks),
        )

    async def _ensure_topics(self, files: Sequence[PreparedFile]) -> dict[str, int]:
        first_seen = first_seen_topics(files)
        if not first_seen:
            return {}
        await self._db.executemany(
            "INSERT OR IGNORE INTO topics (key, name, folded) VALUES (?, ?, ?)",
            [(key, name, topic_fold(name)) for key, name in first_seen.items()],
        )
        ids: dict[str, int] = {}
        for chunk in chunks(list(first_seen)):
            sql = f"SELECT key, id FROM topics WHERE key IN ({placeholders(len(chunk))})"
            ids.update({row[0]: row[1] for row in await self._db.fetch_all(sql, chunk)})
        return ids

    async def _existing(self, urls: Sequence[str]) -> dict[str, Existing]:
        found: dict[str, Existing] = {}
        for chunk in chunks(urls):
            sql = (
                f"SELECT canonical_url, {EXISTING.select} "
                f"FROM articles WHERE canonical_url IN ({placeholders(len(chunk))})"
            )
            for row in await self._db.fetch_all(sql, chunk):
                found[row[0]] = EXISTING.from_row(row, start=1)
        return found

    # --- reading -------------------------------------------------------------------------

    async def get(self, article_id: str) -> Article | None:
        """The article with this short id, or None."""
        return await self._one("WHERE a.id = ?", (article_id.strip().lower(),))

    async def get_by_url(self, canonical_url: str) -> Article | None:
        """The article stored under this canonical URL, or None."""
        return await self._one("WHERE a.canonical_url = ?", (canonical_url,))

    async def count(self) -> int:
        """How many articles (including coverage-only ones) are stored."""
        return int(await self._db.scalar("SELECT count(*) FROM articles") or 0)

    async def related(self, article_id: str) -> list[RelatedArticle]:
        """Curated coverage linked to the article, in both directions, listed order first."""
        sql = (
            "SELECT l.child_pk, 'listed_by_story', l.position FROM related_links l "
            "JOIN articles a ON a.pk = l.parent_pk WHERE a.id = ? "
            "UNION ALL "
            "SELECT l.parent_pk, 'lists_story', 1000000 + l.parent_pk FROM related_links l "
            "JOIN articles a ON a.pk = l.child_pk WHERE a.id = ? "
            "ORDER BY 3"
        )
        key = article_id.strip().lower()
        links = [(int(r[0]), str(r[1])) for r in await self._db.fetch_all(sql, (key, key))]
        articles = await self.load([pk for pk, _ in links])
        result: list[RelatedArticle] = []
        for pk, direction in links:
            if pk in articles:
                result.append(
                    RelatedArticle(
                        articles[pk],
                        "listed_by_story" if direction == "listed_by_story" else "lists_story",
                    )
                )
        return result

    async def search(
        self,
        terms: Sequence[str],
        *,
        any_term: bool = False,
        guild_id: int | None = None,
        exclude_ids: Sequence[str] = (),
        limit: int = 10,
    ) -> list[Article]:
        """Articles matching the terms in title, excerpt or topics, best first.

        Every term is quoted, so nothing a member types is read as FTS5 syntax. With
        ``any_term`` one term suffices. Articles another guild's moderators added are left out.
        """
        match = fts_match(terms, any_term=any_term)
        if not match:
            return []
        excluded = list(exclude_ids)[:500]
        sql = (
            "SELECT f.rowid FROM articles_fts f JOIN articles a ON a.pk = f.rowid "
            "WHERE articles_fts MATCH ? AND (a.origin_guild_id IS NULL OR a.origin_guild_id = ?) "
            f"AND a.id NOT IN ({placeholders(len(excluded))}) "
            "ORDER BY bm25(articles_fts, 4.0, 1.0, 2.0) LIMIT ?"
        )
        rows = await self._db.fetch_all(sql, (match, guild_id, *excluded, limit))
        pks = [int(row[0]) for row in rows]
        loaded = await self.load(pks)
        return [loaded[pk] for pk in pks if pk in loaded]

    async def _one(self, where: str, params: tuple[Any, ...]) -> Article | None:
        row = await self._db.fetch_one(f"SELECT {ARTICLE.select} FROM articles a {where}", params)
        return ARTICLE.from_row(row) if row is not None else None

    async def load(self, pks: Sequence[int]) -> dict[int, Article]:
        """Read whole articles (with topics and images) for these primary keys: one statement
        per 900 of them."""
        unique = sorted(set(pks))
        loaded: dict[int, Article] = {}
        for chunk in chunks(unique):
            marks = placeholders(len(chunk))
            sql = f"SELECT {ARTICLE.select} FROM articles a WHERE a.pk IN ({marks})"
            for row in await self._db.fetch_all(sql, chunk):
                loaded[int(row[_PK])] = ARTICLE.from_row(row)
        return loaded
