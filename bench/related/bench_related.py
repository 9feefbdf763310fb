"""Related-coverage benchmark: engine and autocomplete latency next to the raw SQL, and
precision@5 of same-story results on a labelled corpus.

    python -m bench.related.bench_related --articles 100000 [--workdir DIR] [--queries 500]
                                          [--backend sqlite|postgresql]
                                          [--pg-template NAME] [--config FILE]

The store is built with bulk SQL (``bench.related.build``: minutes at a million articles; the
real ingest would spend that time parsing YAML). Precision is scored on the same store:
for sampled stories with at least two articles, the share of the first five results that
belong to the same story (ground truth from the generator), counting only stories whose
other articles number at least five or capping the denominator at what exists.

``--backend postgresql`` copies the store into a scratch database on the server
``$TOPICBOT_DATABASE_URL`` names (``bench.pg_copy``; dropped after) and asks the engine there;
title autocomplete is then PostgreSQL's (``storage.postgresql.titles``). With
``--pg-template NAME`` the copy is kept as database NAME (made on the first run, remade with
``--rebuild`` or when the SQLite store differs, migrated in place to the code's schema) and each
run measures on a fresh ``CREATE DATABASE ... TEMPLATE NAME`` copy of it: seconds, not the
minutes of copying a million articles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bench.pg_copy import mirrored, mirrored_from_template, scratch_database
from bench.related.build import build_store
from bench.related.corpus import CorpusSpec, GenArticle, generate
from bench.servers import postgresql_url
from bot.config import RelatedSettings, load_settings
from bot.domain.associations import AssociationLearner
from bot.domain.related import RelatedService, significant_terms
from bot.domain.terms import story_terms
from storage import Store
from storage.prepare import short_id

GUILD = 1


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"p50_ms": round(statistics.median(ordered), 2), "p99_ms": round(p99, 2)}


async def _timed(calls: list[Callable[[], Awaitable[Any]]]) -> list[float]:
    samples = []
    for call in calls:
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def _raw_best(
    store: Store, service: RelatedService, article: GenArticle
) -> tuple[float, float]:
    """The SQL the engine relies on: its planned and scored candidate searches (the
    story's terms probed, the heaviest chosen, the matches scored; then the same with its
    feedback's terms), exactly as the engine runs them for this story; and, for reference,
    the last search's scoring alone, with its window and counts given. Neither the story
    lookup nor its coverage is timed."""
    found = await store.related.story(short_id(article.url), None, GUILD, coverage=10)
    assert found is not None
    terms = story_terms(found.article.title, found.article.excerpt)
    started = time.perf_counter()
    search = await service.similar(found, terms, GUILD, 40)
    whole = (time.perf_counter() - started) * 1000
    if search.window is None:
        return whole, 0.0
    started = time.perf_counter()
    await store.related.candidates(search.planned(), service.weights(False))
    return whole, (time.perf_counter() - started) * 1000


def _precision(results: dict[str, list[str]], truth: dict[str, set[str]]) -> tuple[float, int]:
    scores = []
    for url, found in results.items():
        others = truth[url]
        if not others:
            continue
        top = found[:5]
        denominator = min(5, len(others))
        scores.append(min(sum(1 for u in top if u in others), denominator) / denominator)
    return (statistics.mean(scores) if scores else 0.0), len(scores)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(args.workdir)
    path = workdir / f"related-{args.articles}-{args.seed}.db"
    started = time.perf_counter()
    articles = generate(CorpusSpec(articles=args.articles, seed=args.seed))
    generated = time.perf_counter() - started
    build_seconds = build_store(path, articles) if args.rebuild or not path.exists() else 0.0
    truth = {}
    stories: dict[int, set[str]] = {}
    for a in articles:
        stories.setdefault(a.story, set()).add(a.url)
    truth = {a.url: stories[a.story] - {a.url} for a in articles}
    rng = random.Random(args.seed)
    # Members ask about stories they can pick: full articles, published.
    askable = [a for a in articles if not a.coverage_only and a.published]
    # What a member of the guild may be offered: coverage-only or published articles.
    offered = {a.url for a in articles if a.coverage_only or a.published}
    truth = {url: others & offered for url, others in truth.items()}
    sample = rng.sample(askable, k=min(args.queries, len(askable)))
    multi = [a for a in askable if truth[a.url]]
    eval_sample = rng.sample(multi, k=min(args.queries, len(multi)))
    async with await Store.open(path) as sqlite, _engine(sqlite, args) as store:
        # What housekeeping does: learn term associations from the stories (curated links).
        learning_started = time.perf_counter()
        associations = await AssociationLearner(store).run()
        learning = time.perf_counter() - learning_started
        settings = load_settings(args.config).related if args.config else RelatedSettings()
        service = RelatedService(store, settings)
        for a in sample[:50]:  # warm the page cache
            await service.for_story(GUILD, short_id(a.url), limit=10)
        engine = await _timed(
            [lambda a=a: service.for_story(GUILD, short_id(a.url), limit=10) for a in sample]
        )
        raw_pairs = [await _raw_best(store, service, a) for a in sample]
        raw = [whole for whole, _ in raw_pairs]
        scoring = [alone for _, alone in raw_pairs if alone]
        typed = [significant_terms(a.title)[0][: rng.randint(2, 6)] for a in sample]
        words = [" ".join(significant_terms(a.title)[:2]) for a in sample]
        query = await _timed([lambda w=w: service.for_query(GUILD, w, limit=10) for w in words])
        suggest = store.postgresql.publication.suggest if args.backend == "postgresql" else None
        titles = await _timed(
            [
                lambda t=t: (suggest or store.publication.suggest)(GUILD, [t], "published")
                for t in typed
            ]
        )
        # topics: SQLite's on both backends (the mirror serves only the related engine)
        topics = await _timed([lambda t=t: store.topics.suggest(GUILD, t[:3]) for t in typed])
        found: dict[str, list[str]] = {}
        for a in eval_sample:
            _, results = await service.for_story(GUILD, short_id(a.url), limit=10)
            found[a.url] = [r.article.canonical_url for r in results]
    precision, scored = _precision(found, truth)
    report = {
        "articles": args.articles,
        "generate_s": round(generated, 1),
        "build_s": round(build_seconds, 1),
        "associations_learned": associations,
        "associations_learning_s": round(learning, 2),
        "engine_story": _percentiles(engine),
        "engine_query": _percentiles(query),
        "raw_candidate_sql": _percentiles(raw),
        "raw_scoring_alone": _percentiles(scoring),
        "autocomplete_titles": _percentiles(titles),
        "autocomplete_topics": _percentiles(topics),
        "precision_at_5": round(precision, 3),
        "stories_scored": scored,
    }
    engine_p50 = report["engine_story"]["p50_ms"]
    engine_p99 = report["engine_story"]["p99_ms"]
    report["engine_over_raw_p50"] = round(engine_p50 / report["raw_candidate_sql"]["p50_ms"], 2)
    report["engine_over_raw_p99"] = round(engine_p99 / report["raw_candidate_sql"]["p99_ms"], 2)
    return report


@asynccontextmanager
async def _engine(sqlite: Store, args: argparse.Namespace) -> AsyncIterator[Any]:
    """The store the engine is asked on: the SQLite file, or its copy on PostgreSQL."""
    if args.backend == "sqlite":
        yield sqlite
        return
    url = postgresql_url()
    copying = time.perf_counter()
    if args.pg_template:
        kept = mirrored_from_template(sqlite, url, args.pg_template, rebuild=args.rebuild)
        async with kept as store:
            print(f"copied to PostgreSQL in {time.perf_counter() - copying:.1f} s", file=sys.stderr)
            yield store
        return
    async with scratch_database(url) as scratch, mirrored(sqlite, scratch) as store:
        print(f"copied to PostgreSQL in {time.perf_counter() - copying:.1f} s", file=sys.stderr)
        yield store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--config", type=Path, help="a topicbot configuration (its related settings; else defaults)"
    )
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--workdir", default="/tmp/topicbot-bench")
    parser.add_argument("--rebuild", action="store_true", help="build the store even if present")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--pg-template",
        metavar="NAME",
        help="with --backend postgresql: keep the copied store as database NAME and measure"
        " on a copy of it (made when missing or built from another store; migrated in place)",
    )
    args = parser.parse_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    report = asyncio.run(run(args))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
