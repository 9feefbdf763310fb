"""What an ingest batch writes, worked out before any SQL runs: the engines' shared logic.

Both engines' article repositories (``storage.articles``, ``storage.postgresql.articles``)
read the rows already stored under a batch's URLs (``EXISTING``), then plan with
``plan_batch`` and build their rows here; only the statements that write them differ.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import storage.prepare as prepared
from storage.columns import Column, Columns
from storage.grouping import Components, Written
from storage.models import Article, ArticleDraft, Image, Provider, UpsertOutcome
from storage.prepare import CONTENT_COLUMNS, SHORT_ID_LENGTH, PreparedArticle, PreparedFile
from storage.timestamps import UNKNOWN_TIME, from_stored_time, from_timestamp


def stored_article(*, pk: int, provider_name: str, provider_domain: str, **fields: Any) -> Article:
    """An article from its stored columns (``ARTICLE_COLUMNS``)."""
    # the pk is selected for the callers that key articles by it; an Article does not hold it
    return Article(provider=Provider(provider_name, provider_domain), **fields)


def topic_names(names: str) -> tuple[str, ...]:
    """An article's topics from their JSON array."""
    return tuple(json.loads(names))


def images_of(images: str) -> tuple[Image, ...]:
    """An article's images from their JSON array of [url, width, height, is_cached]."""
    return tuple(Image(i[0], i[1], i[2], bool(i[3])) for i in json.loads(images))


def _known_time(stamp: int | None) -> datetime | None:
    return from_timestamp(stamp) if stamp is not None else None


def article_columns(topics_sql: str, images_sql: str) -> Columns[Article]:
    """Whole articles (``a``) in one statement: their columns, then their topics' names and
    their images as JSON arrays, by each engine's SQL for them."""
    return Columns(
        stored_article,
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
        Column("topics", topics_sql, topic_names),
        Column("images", images_sql, images_of),
    )


@dataclass(frozen=True, slots=True)
class Existing:
    """What a batch needs to know of a row already stored under one of its URLs."""

    pk: int
    content_hash: str
    coverage_only: bool
    published: bool
    source_published_at: int | None
    origin_guild_id: int | None
    story_id: int | None
    dated: bool  # its date is known


EXISTING = Columns(
    Existing,
    Column("pk", "pk"),
    Column("content_hash", "content_hash"),
    Column("coverage_only", "coverage_only", bool),
    Column("published", "published", bool),
    Column("source_published_at", "source_published_at"),
    Column("origin_guild_id", "origin_guild_id"),
    Column("story_id", "story_id"),
    Column("dated", f"published_at <> {UNKNOWN_TIME}", bool),
)

# The article columns a batch writes, in the order of ``ArticleRows``' tuples.
WRITTEN_COLUMNS = (
    "id", "canonical_url", *CONTENT_COLUMNS, "source_published_at", "ingested_at", "updated_at",
    "origin_guild_id",
)  # fmt: skip


@dataclass(slots=True)
class BatchPlan:
    """What one batch will write."""

    outcomes: list[UpsertOutcome]
    parents: list[PreparedFile]
    coverage: list[PreparedArticle]

    @property
    def written(self) -> list[PreparedArticle]:
        """Every article row the plan writes: the files' own, then coverage entries."""
        return [f.article for f in self.parents] + self.coverage


class DraftUpserts(ABC):
    """``upsert_batch`` for either engine's article repository: drafts prepared, then
    stored by the engine's ``upsert_prepared``."""

    async def upsert_batch(
        self, drafts: Sequence[ArticleDraft], now: datetime, *, origin_guild_id: int | None = None
    ) -> list[UpsertOutcome]:
        """Store a batch of articles in one transaction; return each draft's outcome (see
        ``upsert_prepared``)."""
        return await self.upsert_prepared(
            [prepared.prepare(draft) for draft in drafts], now, origin_guild_id=origin_guild_id
        )

    @abstractmethod
    async def upsert_prepared(
        self,
        files: Sequence[PreparedFile],
        now: datetime,
        *,
        origin_guild_id: int | None = None,
    ) -> list[UpsertOutcome]:
        """Store a batch of prepared articles in one transaction; each one's outcome."""


def check_unique_urls(files: Sequence[PreparedFile]) -> None:
    """Refuse a batch that names one canonical URL twice (the writer splits batches there)."""
    urls = [f.article.url for f in files]
    if len(set(urls)) != len(urls):
        raise ValueError("a batch must not contain the same canonical URL twice")


def all_urls(files: Sequence[PreparedFile]) -> list[str]:
    """The files' URLs and those of the coverage they list, sorted, once each."""
    urls = {f.article.url for f in files}
    urls.update(entry.url for f in files for entry in f.related)
    return sorted(urls)


def plan_batch(files: Sequence[PreparedFile], existing: dict[str, Existing]) -> BatchPlan:
    """Each file's outcome, the files whose rows are written, and the coverage entries that
    are new or changed (never over a full article, never an undated take over a dated one)."""
    plan = BatchPlan(outcomes=[], parents=[], coverage=[])
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


@dataclass(slots=True)
class ArticleRows:
    """A plan's article rows: new ones (``WRITTEN_COLUMNS``) and updates (the same columns,
    then whether to plan the article afresh, then the pk; id and ingested_at are None)."""

    inserts: list[tuple[Any, ...]]
    updates: list[tuple[Any, ...]]


def article_rows(
    plan: BatchPlan, existing: dict[str, Existing], stamp: int, origin_guild_id: int | None
) -> ArticleRows:
    """The rows ``plan`` writes at time ``stamp``."""
    rows = ArticleRows([], [])
    for file in plan.parents:
        article = file.article
        row = existing.get(article.url)
        if row is None:
            published_at = stamp if article.published else None
            rows.inserts.append(_insert(article, published_at, stamp, origin_guild_id))
        else:
            # newly published at the source: stamp it, and plan it afresh
            newly = article.published and not (row.published and not row.coverage_only)
            published_at = stamp if newly else row.source_published_at
            rows.updates.append(_update(article, published_at, newly, stamp, None, row.pk))
    for entry in plan.coverage:
        known = existing.get(entry.url)
        if known is None:
            rows.inserts.append(_insert(entry, None, stamp, origin_guild_id))
        else:
            rows.updates.append(
                _update(
                    entry, known.source_published_at, False, stamp, known.origin_guild_id,
                    known.pk,
                )
            )  # fmt: skip
    return rows


def _insert(
    article: PreparedArticle, source_published_at: int | None, stamp: int, origin: int | None
) -> tuple[Any, ...]:
    return (
        article.article_id, article.url, *article.content, source_published_at, stamp, stamp,
        origin,
    )  # fmt: skip


def _update(
    article: PreparedArticle,
    source_published_at: int | None,
    replan: bool,
    stamp: int,
    origin_guild_id: int | None,
    pk: int,
) -> tuple[Any, ...]:
    # id, canonical_url and ingested_at are written but never updated
    return (
        None, article.url, *article.content, source_published_at, None, stamp, origin_guild_id,
        replan, pk,
    )  # fmt: skip


def with_unique_ids(
    inserts: list[tuple[Any, ...]], taken: Collection[str]
) -> list[tuple[Any, ...]]:
    """``inserts`` with the rare short id that collides with a stored one (``taken``) or
    another new one lengthened."""
    wanted = [params[0] for params in inserts]
    if not taken and len(set(wanted)) == len(wanted):
        return inserts
    used = set(taken)
    fixed: list[tuple[Any, ...]] = []
    for params in inserts:
        article_id, url = params[0], params[1]
        length = SHORT_ID_LENGTH
        while article_id in used:
            length += 3
            article_id = prepared.short_id(url, length)
        used.add(article_id)
        fixed.append((article_id, *params[1:]))
    return fixed


def rewritten_pks(
    plan: BatchPlan, pks: dict[str, int], rewritten: Collection[int]
) -> tuple[list[int], list[int]]:
    """The stored rows whose children go before the plan writes them again: files' (topics,
    links, images), and every written row's (images)."""
    parents = [pk for f in plan.parents if (pk := pks[f.article.url]) in rewritten]
    imaged = parents + [pk for entry in plan.coverage if (pk := pks[entry.url]) in rewritten]
    return parents, imaged


def first_seen_topics(files: Sequence[PreparedFile]) -> dict[str, str]:
    """Each topic key the files carry, with the display name it first appears under."""
    first_seen: dict[str, str] = {}
    for file in files:
        for key, name in file.topics:
            first_seen.setdefault(key, name)
    return first_seen


def topic_links(
    plan: BatchPlan, topic_ids: dict[str, int], pks: dict[str, int]
) -> list[tuple[int, int, int]]:
    """(topic id, article pk, position) for the plan's files; a topic a file names twice
    (in two spellings) keeps its first position."""
    links: dict[tuple[int, int], int] = {}
    for f in plan.parents:
        pk = pks[f.article.url]
        for position, (key, _) in enumerate(f.topics):
            links.setdefault((topic_ids[key], pk), position)
    return [(topic, pk, position) for (topic, pk), position in links.items()]


def image_rows(plan: BatchPlan, pks: dict[str, int]) -> list[tuple[Any, ...]]:
    """(article pk, position, url, width, height, is_cached) for every written row."""
    return [
        (pks[a.url], position, *image)
        for a in plan.written
        for position, image in enumerate(a.images)
    ]


def related_links(plan: BatchPlan, pks: dict[str, int]) -> list[tuple[int, int, int]]:
    """(parent pk, child pk, position) for the coverage the plan's files list; an entry a
    file lists twice keeps its first position."""
    links: dict[tuple[int, int], int] = {}
    for f in plan.parents:
        parent = pks[f.article.url]
        for position, entry in enumerate(f.related):
            if entry.url != f.article.url:
                links.setdefault((parent, pks[entry.url]), position)
    return [(parent, child, position) for (parent, child), position in links.items()]


def for_grouping(
    plan: BatchPlan, existing: dict[str, Existing], pks: dict[str, int]
) -> dict[int, Written]:
    """Every written row as story grouping needs it, by pk."""
    written: dict[int, Written] = {}
    for article in plan.written:
        before = existing.get(article.url)
        written[pks[article.url]] = Written(
            before.story_id if before is not None else None, article.published_at,
            article.provider_domain, article.title_words, article.title_keys,
        )  # fmt: skip
    return written


def linked_stories(
    plan: BatchPlan, existing: dict[str, Existing], pks: dict[str, int]
) -> dict[int, int]:
    """The story each new row will be in by the links the batch writes (the smallest pk of
    what they join), for an engine that writes a row's story with the row: story grouping
    then changes only the rows a headline or an older link moves. By pk of the new rows."""
    components = Components()
    for row in existing.values():
        components.join(row.pk, row.story_id or row.pk)
    for file in plan.parents:
        for entry in file.related:
            if entry.url != file.article.url:
                components.join(pks[file.article.url], pks[entry.url])
    known = {row.pk for row in existing.values()}
    return {
        pk: components.root(pk) for article in plan.written if (pk := pks[article.url]) not in known
    }
