"""Articles on PostgreSQL: batched upserts, reads, related links and text search (the SQLite
twin: ``storage.articles``; what a batch writes is planned by the shared
``storage.ingest_plan``).

A batch is a few set-based statements whatever its size: the article rows are COPYed into a
temporary table and written from there by one INSERT and one UPDATE; topics, images, links
and title keys go in as arrays (``unnest``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from storage.errors import TextIndexTooLarge
from storage.grouping import GroupingRules, assign_stories
from storage.ingest_plan import (
    EXISTING,
    WRITTEN_COLUMNS,
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
    linked_stories,
    plan_batch,
    related_links,
    rewritten_pks,
    topic_links,
    with_unique_ids,
)
from storage.models import Article, RelatedArticle, UpsertOutcome
from storage.postgresql.database import PgDatabase, holdable
from storage.postgresql.grouping import PgGrouping
from storage.prepare import CONTENT_COLUMNS, PreparedFile
from storage.timestamps import to_timestamp
from storage.topics import topic_fold

ARTICLE = article_columns(
    "(SELECT coalesce(json_agg(t.name ORDER BY at.position), '[]')::text "
    "FROM article_topics at JOIN topics t ON t.id = at.topic_id WHERE at.article_pk = a.pk)",
    "(SELECT coalesce(json_agg(json_build_array(i.url, i.width, i.height, i.is_cached) "
    "ORDER BY i.position), '[]')::text FROM images i WHERE i.article_pk = a.pk)",
)
_PK = ARTICLE.index("pk")

_INTEGERS = {
    "published_at", "quality", "heat", "published", "coverage_only", "source_published_at",
    "ingested_at", "updated_at", "origin_guild_id",
}  # fmt: skip
# Wider than ``articles``' columns (bigint for every number), so a value out of range is
# refused by the INSERT with the column's name, not by the COPY.
_STAGED_COLUMNS = (*WRITTEN_COLUMNS, "replan", "pk", "is_new", "story_id")
_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS staged_articles ("
    + ", ".join(f"{c} {'bigint' if c in _INTEGERS else 'text'}" for c in WRITTEN_COLUMNS)
    + ", replan boolean, pk bigint, is_new boolean, story_id bigint) ON COMMIT DELETE ROWS"
)
# New rows come with their pk (drawn beforehand) and their story by the batch's links: an
# UPDATE of the story afterwards would write each row twice (its search columns and every
# index again).
_INSERT_STAGED = (
    f"INSERT INTO articles (pk, story_id, {', '.join(WRITTEN_COLUMNS)}) "
    f"SELECT pk, story_id, {', '.join(WRITTEN_COLUMNS)} FROM staged_articles WHERE is_new"
)
# A batch's articles' keys that another writer may take first: the URL and the id made of it.
_ARTICLE_KEYS = frozenset({"articles_canonical_url_key", "articles_id_key"})
# Tries of a batch that keeps meeting other writers' new articles before it is refused.
_ATTEMPTS = 4
_NEW_PKS = "SELECT nextval('articles_pk_seq') FROM generate_series(1, $1)"
_UPDATE_STAGED = (
    f"UPDATE articles SET {', '.join(f'{c} = s.{c}' for c in CONTENT_COLUMNS)}, "
    "source_published_at = s.source_published_at, "
    "planned_at = CASE WHEN s.replan THEN NULL ELSE articles.planned_at END, "
    "updated_at = s.updated_at, origin_guild_id = s.origin_guild_id "
    "FROM staged_articles s WHERE NOT s.is_new AND articles.pk = s.pk"
)
# ts_rank's weights are {D, C, B, A}: excerpt (C) 1, topics (B) 2, title (A) 4, as SQLite's
# bm25(articles_fts, 4.0, 1.0, 2.0).
_RANK_WEIGHTS = "'{0.0, 0.25, 0.5, 1.0}'"


def _holdable_row(row: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(holdable(value) if isinstance(value, str) else value for value in row)


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows as one list per column (for ``unnest``), text made holdable."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*map(_holdable_row, rows), strict=True)]


def _query(terms: Sequence[str], any_term: bool) -> tuple[str, list[str]]:
    """A tsquery expression over parameters $1..$n, one phrase per distinct term (nothing a
    member types is read as query syntax), all of them required or, with ``any_term``, one."""
    distinct = list(dict.fromkeys(term for term in terms if term))
    joiner = " || " if any_term else " && "
    sql = joiner.join(
        f"phraseto_tsquery('topicbot_text', ${n})" for n in range(1, len(distinct) + 1)
    )
    return sql, distinct


_ADD_TOPICS = (
    "INSERT INTO topics (key, name, folded) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) "
    "ON CONFLICT (key) DO NOTHING"
)
_HOLD_TOPICS = "SELECT key, id FROM topics WHERE key = ANY($1::text[]) ORDER BY key FOR KEY SHARE"


class PgArticleRepository(DraftUpserts):
    """Named queries over articles, topics, images and related links."""

    def __init__(self, db: PgDatabase, grouping: GroupingRules | None = None) -> None:
        self._db = db
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
        each one's outcome, as ``storage.articles.ArticleRepository.upsert_prepared`` does.
        Text PostgreSQL cannot hold (a NUL) is stored as U+FFFD."""
        check_unique_urls(files)
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                return await self._upsert_prepared(files, now, origin_guild_id)
            except asyncpg.ProgramLimitExceededError as error:
                raise too_large_to_index(error) from None
            except asyncpg.UniqueViolationError as error:
                # Another writer stored a URL this batch planned as new, and committed: planned
                # again, the batch finds it stored (read committed) and updates it instead.
                # Inside a caller's transaction the whole of it is spoiled: theirs to retry.
                raced = error.constraint_name in _ARTICLE_KEYS and not self._db.in_transaction
                if not raced or attempt == _ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    async def _upsert_prepared(
        self, files: Sequence[PreparedFile], now: datetime, origin_guild_id: int | None
    ) -> list[UpsertOutcome]:
        stamp = to_timestamp(now)
        async with self._db.transaction():
            existing = await self._existing(all_urls(files))
            plan = plan_batch(files, existing)
            pks = {url: row.pk for url, row in existing.items()}
            rows = article_rows(plan, existing, stamp, origin_guild_id)
            inserts = await self._with_unique_ids(rows.inserts)
            pks |= await self._new_pks(inserts)
            stories = linked_stories(plan, existing, pks)
            await self._write_article_rows(inserts, rows.updates, pks, stories)
            rewritten = {row.pk for row in existing.values()}
            await self._replace_children(plan, pks, rewritten)
            await assign_stories(
                PgGrouping(self._db),
                for_grouping(plan, existing, pks),
                self._grouping,
                rewritten=rewritten,
            )
        return plan.outcomes

    async def _existing(self, urls: Sequence[str]) -> dict[str, Existing]:
        as_stored = {holdable(url): url for url in urls}
        rows = await self._db.fetch_all(
            f"SELECT canonical_url, {EXISTING.select} FROM articles "
            "WHERE canonical_url = ANY($1::text[])",
            list(as_stored),
        )
        return {as_stored[row[0]]: EXISTING.from_row(tuple(row), start=1) for row in rows}

    async def _with_unique_ids(self, inserts: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        if not inserts:
            return inserts
        taken = await self._db.fetch_all(
            "SELECT id FROM articles WHERE id = ANY($1::text[])", [i[0] for i in inserts]
        )
        return with_unique_ids(inserts, {row[0] for row in taken})

    async def _new_pks(self, inserts: list[tuple[Any, ...]]) -> dict[str, int]:
        """A pk for each new row, by canonical URL, in order."""
        if not inserts:
            return {}
        drawn = await self._db.fetch_all(_NEW_PKS, len(inserts))
        return {str(i[1]): int(row[0]) for i, row in zip(inserts, drawn, strict=True)}

    async def _write_article_rows(
        self,
        inserts: list[tuple[Any, ...]],
        updates: list[tuple[Any, ...]],
        pks: dict[str, int],
        stories: dict[int, int],
    ) -> None:
        """Write the plan's article rows: the new ones with their pks and stories."""
        if not inserts and not updates:
            return
        staged = []
        for row in inserts:
            pk = pks[str(row[1])]
            staged.append((*_holdable_row(row), None, pk, True, stories[pk]))
        staged += [(*_holdable_row(u), False, None) for u in updates]
        await self._db.execute(_STAGING)
        await self._db.copy_records("staged_articles", _STAGED_COLUMNS, staged)
        if inserts:
            await self._db.execute(_INSERT_STAGED)
        if updates:
            await self._db.execute(_UPDATE_STAGED)
        # the rows go at commit (ON COMMIT DELETE ROWS); a later batch of this transaction
        # must not meet them
        await self._db.execute("TRUNCATE staged_articles")

    async def _replace_children(
        self, plan: BatchPlan, pks: dict[str, int], rewritten: set[int]
    ) -> None:
        parents, imaged = rewritten_pks(plan, pks, rewritten)
        if parents:
            await self._db.execute(
                "DELETE FROM article_topics WHERE article_pk = ANY($1::bigint[])", parents
            )
            await self._db.execute(
                "DELETE FROM related_links WHERE parent_pk = ANY($1::bigint[])", parents
            )
        if imaged:
            await self._db.execute(
                "DELETE FROM images WHERE article_pk = ANY($1::bigint[])", imaged
            )
        topic_ids = await self._ensure_topics(plan.parents)
        if links := topic_links(plan, topic_ids, pks):
            await self._db.execute(
                "INSERT INTO article_topics (topic_id, article_pk, position) "
                "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::integer[])",
                *_columns(links, 3),
            )
        if images := image_rows(plan, pks):
            await self._db.execute(
                "INSERT INTO images (article_pk, position, url, width, height, is_cached) "
                "SELECT * FROM unnest($1::bigint[], $2::integer[], $3::text[], $4::integer[], "
                "$5::integer[], $6::smallint[])",
                *_columns(images, 6),
            )
        if related := related_links(plan, pks):
            await self._db.execute(
                "INSERT INTO related_links (parent_pk, child_pk, position) "
                "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::integer[])",
                *_columns(related, 3),
            )

    async def _ensure_topics(self, files: Sequence[PreparedFile]) -> dict[str, int]:
        first_seen = first_seen_topics(files)
        if not first_seen:
            return {}
        # in key order, so two writers adding the same new topics wait rather than deadlock
        keys, names = _columns(sorted(first_seen.items()), 2)
        wanted = {holdable(key) for key in keys}
        folds = [topic_fold(name) for name in names]
        ids: dict[str, int] = {}
        while not wanted <= ids.keys():
            await self._db.execute(_ADD_TOPICS, keys, names, folds)
            # Held (FOR KEY SHARE) until this batch commits, so that housekeeping, which
            # deletes topics nothing holds, passes these over; one it deleted after the
            # INSERT above met it is not found, and is added again on the next turn.
            rows = await self._db.fetch_all(_HOLD_TOPICS, keys)
            ids = {row[0]: int(row[1]) for row in rows}
        return {key: ids[holdable(key)] for key in first_seen}

    # --- reading -------------------------------------------------------------------------

    async def get(self, article_id: str) -> Article | None:
        """The article with this short id, or None."""
        return await self._one("WHERE a.id = $1", article_id.strip().lower())

    async def get_by_url(self, canonical_url: str) -> Article | None:
        """The article stored under this canonical URL, or None."""
        return await self._one("WHERE a.canonical_url = $1", canonical_url)

    async def count(self) -> int:
        """How many articles (including coverage-only ones) are stored."""
        return int(await self._db.scalar("SELECT count(*) FROM articles") or 0)

    async def related(self, article_id: str) -> list[RelatedArticle]:
        """Curated coverage linked to the article, in both directions, listed order first."""
        sql = (
            "SELECT l.child_pk, true, l.position FROM related_links l "
            "JOIN articles a ON a.pk = l.parent_pk WHERE a.id = $1 "
            "UNION ALL "
            "SELECT l.parent_pk, false, 1000000 + l.parent_pk FROM related_links l "
            "JOIN articles a ON a.pk = l.child_pk WHERE a.id = $1 "
            "ORDER BY 3"
        )
        links = [
            (int(r[0]), bool(r[1]))
            for r in await self._db.fetch_all(sql, article_id.strip().lower())
        ]
        articles = await self.load([pk for pk, _ in links])
        return [
            RelatedArticle(articles[pk], "listed_by_story" if listed else "lists_story")
            for pk, listed in links
            if pk in articles
        ]

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

        Each term is one phrase (``phraseto_tsquery``), so nothing a member types is read as
        query syntax. With ``any_term`` one term suffices. Articles another guild's moderators
        added are left out. No index serves it here (migration 0008): it reads every article,
        which is fine for the tests that call it and nothing in the bot does."""
        query, distinct = _query(terms, any_term)
        if not distinct:
            return []
        n = len(distinct)
        sql = (
            f"SELECT a.pk FROM articles a, ({'SELECT ' + query}) AS q(query) "
            f"WHERE a.search @@ q.query AND (a.origin_guild_id IS NULL "
            f"OR a.origin_guild_id = ${n + 1}::bigint) AND NOT (a.id = ANY(${n + 2}::text[])) "
            f"ORDER BY ts_rank({_RANK_WEIGHTS}, a.search, q.query) DESC, a.pk LIMIT ${n + 3}"
        )
        excluded = [holdable(i) for i in list(exclude_ids)[:500]]
        rows = await self._db.fetch_all(sql, *distinct, guild_id, excluded, limit)
        pks = [int(row[0]) for row in rows]
        loaded = await self.load(pks)
        return [loaded[pk] for pk in pks if pk in loaded]

    async def _one(self, where: str, *args: Any) -> Article | None:
        row = await self._db.fetch_one(f"SELECT {ARTICLE.select} FROM articles a {where}", *args)
        return ARTICLE.from_row(tuple(row)) if row is not None else None

    async def load(self, pks: Sequence[int]) -> dict[int, Article]:
        """Read whole articles (with topics and images) for these primary keys, in one
        statement."""
        rows = await self._db.fetch_all(
            f"SELECT {ARTICLE.select} FROM articles a WHERE a.pk = ANY($1::bigint[])",
            sorted(set(pks)),
        )
        return {int(row[_PK]): ARTICLE.from_row(tuple(row)) for row in rows}


_TSVECTOR_TOO_LONG = re.compile(r"string is too long for tsvector \((\d+) bytes, max (\d+) bytes\)")


def index_overflow(error: asyncpg.ProgramLimitExceededError) -> tuple[int, int] | None:
    """When ``error`` says a row's ``search`` column would pass the tsvector limit (1 MiB:
    many distinct words, each costing the index several bytes more than its text), the bytes
    it needed and the most it may hold."""
    found = _TSVECTOR_TOO_LONG.search(str(error))
    if found is None:
        return None
    needed, most = found.groups()
    return int(needed), int(most)


def too_large_to_index(error: asyncpg.ProgramLimitExceededError) -> Exception:
    """The error a batch raises when a row is too large to index: the batch is refused as for
    any refused row (``ROW_REFUSED``), saying why; any other limit as it came."""
    overflow = index_overflow(error)
    if overflow is None:
        return error
    needed, most = overflow
    return TextIndexTooLarge(
        "its title, topics and excerpt hold more distinct words than PostgreSQL's full-text "
        f"index of one article can ({needed:,} bytes, at most {most:,}); shorten its excerpt"
    )
