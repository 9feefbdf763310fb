"""The article repository: batched upserts, reads, related links and text search."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import storage.prepare as prepared
from storage.columns import Column, Columns
from storage.database import Database
from storage.grouping import GroupingRules, Written, assign_stories
from storage.models import (
    Article,
    ArticleDraft,
    Image,
    Provider,
    RelatedArticle,
    UpsertOutcome,
)
from storage.prepare import (
    CONTENT_COLUMNS,
    SHORT_ID_LENGTH,
    PreparedArticle,
    PreparedFile,
    prepare,
)
from storage.sql import chunks, fts_match, placeholders
from storage.timestamps import UNKNOWN_TIME, from_stored_time, from_timestamp, to_timestamp


def _stored_article(*, pk: int, provider_name: str, provider_domain: str, **fields: Any) -> Article:
    # the pk is selected for the callers that key articles by it; an Article does not hold it
    return Article(provider=Provider(provider_name, provider_domain), **fields)


def _topics(names: str) -> tuple[str, ...]:
    return tuple(json.loads(names))


def _images(images: str) -> tuple[Image, ...]:
    return tuple(Image(i[0], i[1], i[2], bool(i[3])) for i in json.loads(images))


def _known_time(stamp: int | None) -> datetime | None:
    return from_timestamp(stamp) if stamp is not None else None


# Whole articles (``a``) in one statement: their columns, then their topics' names and their
# images as JSON arrays (in their positions' order).
ARTICLE = Columns(
    _stored_article,
    Column("pk", "a.pk"),
    Column("id", "a.id"),
    Column("canonical_url", "a.canonical_url"),
    Column("web_url", "a.web_url"),
    Column("original_url", "a.original_url"),
    Column("title", "a.title"),
    Column("excerpt", "a.excerpt"),
    Column("published_at", "a.published_at", from_stored_time),
    Column("category", "a.category"),
    Column("type", "a.type"),
    Column("quality", "a.quality"),
    Column("heat", "a.heat"),
    Column("published", "a.published", bool),
    Column("provider_name", "a.provider_name"),
    Column("provider_domain", "a.provider_domain"),
    Column("body", "a.body"),
    Column("extra", "a.extra_json", json.loads),
    Column("secured", "a.secured"),
    Column("coverage_only", "a.coverage_only", bool),
    Column("ingested_at", "a.ingested_at", from_timestamp),
    Column("updated_at", "a.updated_at", from_timestamp),
    Column("source_published_at", "a.source_published_at", _known_time),
    Column("origin_guild_id", "a.origin_guild_id"),
    Column(
        "topics",
        "(SELECT json_group_array(name) FROM (SELECT t.name FROM article_topics at "
        "JOIN topics t ON t.id = at.topic_id WHERE at.article_pk = a.pk ORDER BY at.position))",
        _topics,
    ),
    Column(
        "images",
        "(SELECT json_group_array(json_array(url, width, height, is_cached)) FROM (SELECT url, "
        "width, height, is_cached FROM images WHERE article_pk = a.pk ORDER BY position))",
        _images,
    ),
)
_PK = ARTICLE.index("pk")


@dataclass(frozen=True, slots=True)
class _Existing:
    pk: int
    content_hash: str
    coverage_only: bool
    published: bool
    source_published_at: int | None
    origin_guild_id: int | None
    story_id: int | None
    dated: bool  # its date is known


# What a batch needs to know of the rows already stored under its URLs (``?``: UNKNOWN_TIME).
_EXISTING = Columns(
    _Existing,
    Column("pk", "pk"),
    Column("content_hash", "content_hash"),
    Column("coverage_only", "coverage_only", bool),
    Column("published", "published", bool),
    Column("source_published_at", "source_published_at"),
    Column("origin_guild_id", "origin_guild_id"),
    Column("story_id", "story_id"),
    Column("dated", "published_at != ?", bool),
)


@dataclass(slots=True)
class _BatchPlan:
    """What one batch will write, worked out before any SQL runs."""

    outcomes: list[UpsertOutcome]
    parents: list[PreparedFile]
    coverage: list[PreparedArticle]

    @property
    def written(self) -> list[PreparedArticle]:
        """Every article row the plan writes: the files' own, then coverage entries."""
        return [f.article for f in self.parents] + self.coverage


# A batch's article rows go to a staging table first and into ``articles`` by one statement.
# Row by row, every INSERT or UPDATE ran as a statement of its own, and FTS5 flushes its
# pending terms to a new segment at each statement's savepoint: one tiny segment per row, then
# the work of merging them (about 40 us per row). One statement flushes once.
_WRITTEN_COLUMNS = (
    "id", "canonical_url", *CONTENT_COLUMNS, "source_published_at", "ingested_at", "updated_at",
    "origin_guild_id",
)  # fmt: skip
_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS staged_articles "
    f"({', '.join(_WRITTEN_COLUMNS)}, replan INTEGER, pk INTEGER)"
)
_STAGE = (
    f"INSERT INTO temp.staged_articles ({', '.join(_WRITTEN_COLUMNS)}, replan, pk) "
    f"VALUES ({placeholders(len(_WRITTEN_COLUMNS) + 2)})"
)
_INSERT_STAGED = (
    f"INSERT INTO articles ({', '.join(_WRITTEN_COLUMNS)}) "
    f"SELECT {', '.join(_WRITTEN_COLUMNS)} FROM temp.staged_articles WHERE pk IS NULL "
    "ORDER BY rowid RETURNING canonical_url, pk"
)
_UPDATE_STAGED = (
    f"UPDATE articles SET {', '.join(f'{c} = s.{c}' for c in CONTENT_COLUMNS)}, "
    "source_published_at = s.source_published_at, "
    "planned_at = CASE WHEN s.replan THEN NULL ELSE articles.planned_at END, "
    "updated_at = s.updated_at, origin_guild_id = s.origin_guild_id "
    "FROM temp.staged_articles s WHERE s.pk IS NOT NULL AND articles.pk = s.pk"
)


def _insert_values(
    article: PreparedArticle, source_published_at: int | None, stamp: int
) -> tuple[Any, ...]:
    return (article.article_id, article.url, *article.content, source_published_at, stamp, stamp)


def _update_values(
    article: PreparedArticle,
    source_published_at: int | None,
    replan: bool,
    stamp: int,
    origin_guild_id: int | None,
    pk: int,
) -> tuple[Any, ...]:
    # id, canonical_url and ingested_at are staged but never updated
    return (
        None, article.url, *article.content, source_published_at, None, stamp, origin_guild_id,
        int(replan), pk,
    )  # fmt: skip


def _for_grouping(article: PreparedArticle, before: _Existing | None) -> Written:
    return Written(
        before.story_id if before is not None else None, article.published_at,
        article.provider_domain, article.title_words, article.title_keys,
    )  # fmt: skip


class ArticleRepository:
    """Named queries over articles, topics, images and related links."""

    def __init__(self, connection: Database, grouping: GroupingRules | None = None) -> None:
        self._db = connection
        self._grouping = grouping or GroupingRules()

    # --- writing -------------------------------------------------------------------------

    async def upsert_batch(
        self, drafts: Sequence[ArticleDraft], now: datetime, *, origin_guild_id: int | None = None
    ) -> list[UpsertOutcome]:
        """Store a batch of articles in one transaction; return each draft's outcome (see
        ``upsert_prepared``)."""
        return await self.upsert_prepared(
            [prepare(draft) for draft in drafts], now, origin_guild_id=origin_guild_id
        )

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
        urls = [f.article.url for f in files]
        if len(set(urls)) != len(urls):
            raise ValueError("a batch must not contain the same canonical URL twice")
        stamp = to_timestamp(now)
        async with self._db.transaction():
            existing = await self._existing(self._all_urls(files))
            plan = self._plan(files, existing)
            pks = {url: row.pk for url, row in existing.items()}
            pks |= await self._write_article_rows(plan, existing, stamp, origin_guild_id)
            # rows that were there before have children (topics, images, keys) to replace
            rewritten = {row.pk for row in existing.values()}
            await self._replace_children(plan, pks, rewritten)
            await assign_stories(
                self._db,
                {pks[a.url]: _for_grouping(a, existing.get(a.url)) for a in plan.written},
                self._grouping,
                rewritten=rewritten,
            )
        return plan.outcomes

    @staticmethod
    def _all_urls(files: Sequence[PreparedFile]) -> list[str]:
        urls = {f.article.url for f in files}
        urls.update(entry.url for f in files for entry in f.related)
        return sorted(urls)

    @staticmethod
    def _plan(files: Sequence[PreparedFile], existing: dict[str, _Existing]) -> _BatchPlan:
        plan = _BatchPlan(outcomes=[], parents=[], coverage=[])
        parent_urls = {f.article.url for f in files}
        seen_coverage: set[str] = set()
        for file in files:
            row = existing.get(file.article.url)
            if row is not None and not row.coverage_only:
                if row.content_hash == file.article.fingerprint:
                    plan.outcomes.append("unchanged")
                    continue
                plan.outcomes.append("updated")
            else:
                plan.outcomes.append("new")
            plan.parents.append(file)
            for entry in file.related:
                if entry.url in parent_urls or entry.url in seen_coverage:
                    continue
                seen_coverage.add(entry.url)
                known = existing.get(entry.url)
                if known is not None and not known.coverage_only:
                    continue
                if known is not None and known.dated and not entry.dated:
                    continue  # what an earlier file said of it, with its date, stays
                if known is None or known.content_hash != entry.fingerprint:
                    plan.coverage.append(entry)
        return plan

    async def _write_article_rows(
        self,
        plan: _BatchPlan,
        existing: dict[str, _Existing],
        stamp: int,
        origin_guild_id: int | None,
    ) -> dict[str, int]:
        """Write the plan's article rows; return the new ones' pks by canonical URL."""
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        for file in plan.parents:
            article = file.article
            row = existing.get(article.url)
            if row is None:
                published_at = stamp if article.published else None
                inserts.append(_insert_values(article, published_at, stamp))
            else:
                # newly published at the source: stamp it, and plan it afresh
                newly = article.published and not (row.published and not row.coverage_only)
                published_at = stamp if newly else row.source_published_at
                updates.append(_update_values(article, published_at, newly, stamp, None, row.pk))
        for entry in plan.coverage:
            known = existing.get(entry.url)
            if known is None:
                inserts.append(_insert_values(entry, None, stamp))
            else:
                updates.append(
                    _update_values(
                        entry, known.source_published_at, False, stamp, known.origin_guild_id,
                        known.pk,
                    )
                )  # fmt: skip
        if not inserts and not updates:
            return {}
        if inserts:
            inserts = await self._with_unique_ids(inserts)
        await self._db.execute(_STAGING)
        await self._db.executemany(
            _STAGE, [(*i, origin_guild_id, None, None) for i in inserts] + updates
        )
        new_pks: dict[str, int] = {}
        if inserts:
            new_pks = dict(await self._db.fetch_all(_INSERT_STAGED))
        if updates:
            await self._db.execute(_UPDATE_STAGED)
        await self._db.execute("DELETE FROM temp.staged_articles")
        return new_pks

    async def _with_unique_ids(self, inserts: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Lengthen the rare short id that collides with another URL's."""
        wanted = [params[0] for params in inserts]
        taken: set[str] = set()
        for chunk in chunks(wanted):
            sql = f"SELECT id FROM articles WHERE id IN ({placeholders(len(chunk))})"
            taken.update(row[0] for row in await self._db.fetch_all(sql, chunk))
        if not taken and len(set(wanted)) == len(wanted):
            return inserts
        fixed: list[tuple[Any, ...]] = []
        for params in inserts:
            article_id, url = params[0], params[1]
            length = SHORT_ID_LENGTH
            while article_id in taken:
                length += 3
                article_id = prepared.short_id(url, length)
            taken.add(article_id)
            fixed.append((article_id, *params[1:]))
        return fixed

    async def _replace_children(
        self, plan: _BatchPlan, pks: dict[str, int], rewritten: set[int]
    ) -> None:
        parent_pks = [(pk,) for f in plan.parents if (pk := pks[f.article.url]) in rewritten]
        imaged_pks = parent_pks + [
            (pk,) for entry in plan.coverage if (pk := pks[entry.url]) in rewritten
        ]
        await self._db.executemany("DELETE FROM article_topics WHERE article_pk = ?", parent_pks)
        await self._db.executemany("DELETE FROM related_links WHERE parent_pk = ?", parent_pks)
        await self._db.executemany("DELETE FROM images WHERE article_pk = ?", imaged_pks)
        topic_ids = await self._ensure_topics(plan.parents)
        await self._db.executemany(
            "INSERT OR IGNORE INTO article_topics (topic_id, article_pk, position) VALUES (?,?,?)",
            [
                (topic_ids[key], pks[f.article.url], position)
                for f in plan.parents
                for position, (key, _) in enumerate(f.topics)
            ],
        )
        await self._db.executemany(
            "INSERT INTO images (article_pk, position, url, width, height, is_cached) "
            "VALUES (?,?,?,?,?,?)",
            [
                (pks[a.url], position, *image)
                for a in plan.written
                for position, image in enumerate(a.images)
            ],
        )
        await self._db.executemany(
            "INSERT OR IGNORE INTO related_links (parent_pk, child_pk, position) VALUES (?,?,?)",
            [
                (pks[f.article.url], pks[entry.url], position)
                for f in plan.parents
                for position, entry in enumerate(f.related)
                if entry.url != f.article.url
            ],
        )

    async def _ensure_topics(self, files: Sequence[PreparedFile]) -> dict[str, int]:
        first_seen: dict[str, str] = {}
        for file in files:
            for key, name in file.topics:
                first_seen.setdefault(key, name)
        if not first_seen:
            return {}
        await self._db.executemany(
            "INSERT OR IGNORE INTO topics (key, name) VALUES (?, ?)", list(first_seen.items())
        )
        ids: dict[str, int] = {}
        for chunk in chunks(list(first_seen)):
            sql = f"SELECT key, id FROM topics WHERE key IN ({placeholders(len(chunk))})"
            ids.update({row[0]: row[1] for row in await self._db.fetch_all(sql, chunk)})
        return ids

    async def _existing(self, urls: Sequence[str]) -> dict[str, _Existing]:
        found: dict[str, _Existing] = {}
        for chunk in chunks(urls):
            sql = (
                f"SELECT canonical_url, {_EXISTING.select} "
                f"FROM articles WHERE canonical_url IN ({placeholders(len(chunk))})"
            )
            for row in await self._db.fetch_all(sql, [UNKNOWN_TIME, *chunk]):
                found[row[0]] = _EXISTING.from_row(row, start=1)
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
