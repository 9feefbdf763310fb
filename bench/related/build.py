"""Build a store from a generated corpus with bulk SQL (the million-article benchmark store).

The real ingest parses files, which at a million articles takes tens of minutes and measures
the parser, not the related engine. This writes the same rows the ingest would (articles with
their FTS rows through the schema's triggers, topics, related links, stories joined by
curated links) with ``executemany`` in large transactions on a plain ``sqlite3`` connection.
Near-identical-headline grouping is left to the real ingest (measured by ``bench_grouping``).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from bench.related.corpus import GenArticle
from storage.database import OUTSIDE_A_TRANSACTION, migration_scripts
from storage.prepare import short_id
from storage.topics import topic_fold, topic_key

CHUNK = 20_000


def build_store(path: Path, articles: Sequence[GenArticle], *, log: bool = True) -> float:
    """Create ``path`` (removed first) holding ``articles``; return the seconds it took."""
    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    for version, script in migration_scripts():
        if script.startswith(OUTSIDE_A_TRANSACTION):  # VACUUM and PRAGMAs that refuse one
            db.executescript(f"{script}\nPRAGMA user_version = {version};")
        else:
            db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")
    stories = _stories(articles)
    topic_ids = _write_topics(db, articles)
    for n, chunk in enumerate(_chunks(articles, CHUNK)):
        db.execute("BEGIN")
        _write_articles(db, chunk, stories)
        db.executemany(
            "INSERT INTO article_topics (topic_id, article_pk, position) VALUES (?,?,?)",
            [
                (topic_ids[topic_key(t)], a.index + 1, p)
                for a in chunk
                if not a.coverage_only
                for p, t in enumerate(a.topics)
            ],
        )
        db.executemany(
            "INSERT INTO related_links (parent_pk, child_pk, position) VALUES (?,?,?)",
            [(a.index + 1, r + 1, p) for a in chunk for p, r in enumerate(a.related)],
        )
        db.execute("COMMIT")
        if log and n % 10 == 9:
            print(f"  {(n + 1) * CHUNK} rows, {time.perf_counter() - started:.0f}s", flush=True)
    db.execute("PRAGMA optimize")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.perf_counter() - started


def _chunks(items: Sequence[GenArticle], size: int) -> Iterator[Sequence[GenArticle]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _stories(articles: Sequence[GenArticle]) -> list[int]:
    """Story pk per article: connected by curated links, the smallest pk names the story."""
    parent = list(range(len(articles)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for article in articles:
        for other in article.related:
            a, b = root(article.index), root(other)
            parent[max(a, b)] = min(a, b)
    return [root(i) + 1 for i in range(len(articles))]


def _write_topics(db: sqlite3.Connection, articles: Sequence[GenArticle]) -> dict[str, int]:
    names: dict[str, str] = {}
    for article in articles:
        for name in article.topics:
            names.setdefault(topic_key(name), name)
    db.executemany(
        "INSERT INTO topics (key, name, folded) VALUES (?, ?, ?)",
        [(key, name, topic_fold(name)) for key, name in names.items()],
    )
    return {row[0]: row[1] for row in db.execute("SELECT key, id FROM topics")}


def _write_articles(
    db: sqlite3.Connection, chunk: Sequence[GenArticle], stories: list[int]
) -> None:
    rows = []
    for a in chunk:
        stamp = int(a.published_at.timestamp())
        rows.append(
            (
                a.index + 1, short_id(a.url), a.url, a.url, a.title, a.excerpt, stamp,
                a.quality, int(a.published and not a.coverage_only), a.outlet.name,
                a.outlet.domain, "" if a.coverage_only else ", ".join(a.topics),
                int(a.coverage_only), hashlib.sha256(a.url.encode()).hexdigest()[:32],
                stories[a.index], stamp, stamp,
            )
        )  # fmt: skip
    db.executemany(
        "INSERT INTO articles (pk, id, canonical_url, web_url, title, excerpt, published_at, "
        "quality, published, provider_name, provider_domain, topics_text, coverage_only, "
        "content_hash, story_id, ingested_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
