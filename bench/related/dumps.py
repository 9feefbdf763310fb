"""What the related-coverage experiments share (``bench.related.reference`` and
``bench.related.semantic``): a written set's store built once through the real ingest and
dumped with what each experiment keeps per story, and the eval's figures over any ranking
of the dumped stories."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.related.eval import (
    Labels,
    _settings,
    article_ids,
    build_store,
    learn_associations,
)
from bench.related.written import SETS, load
from bot.articles.urls import canonical_url
from bot.domain.related import RelatedService

TOP = 5

# What an experiment keeps of one story: (service, article id, URL, event id) -> its record.
StoryDump = Callable[[RelatedService, str, str, str], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Commands:
    """An experiment's command line: ``dump --set S --out FILE`` and ``score --dump FILE...``,
    each to be given the experiment's own options (``subcommands`` takes more commands)."""

    parser: argparse.ArgumentParser
    subcommands: Any
    dump: argparse.ArgumentParser
    score: argparse.ArgumentParser


def commands(module: str, *, dump_help: str, score_help: str) -> Commands:
    """The command line every experiment on dumped stores starts from."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}")
    sub = parser.add_subparsers(dest="command", required=True)
    dump = sub.add_parser("dump", help=dump_help)
    dump.add_argument("--set", choices=sorted(SETS), required=True)
    dump.add_argument("--out", type=Path, required=True)
    score = sub.add_parser("score", help=score_help)
    score.add_argument("--dump", type=Path, nargs="+", required=True)
    return Commands(parser, sub, dump, score)


def time_of(iso: str) -> float:
    """An article's ``publishedDateTime`` in Unix seconds."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


async def dump_set(
    set_name: str,
    story: StoryDump,
    *,
    prepare: Callable[[RelatedService], None] | None = None,
) -> dict[str, Any]:
    """Build the set's store as ``bench.related.eval`` does (associations learned as
    housekeeping would), ``prepare`` the service, and dump every event article's ``story``
    record with the set's articles, events and curation."""
    written = load(SETS[set_name])
    labels = Labels(written)
    with tempfile.TemporaryDirectory(prefix="topicbot-dump-") as tmp:
        folder = Path(tmp)
        settings = _settings(None, folder / "store.db")
        store, _ = await build_store(written, settings, folder)
        try:
            await learn_associations(store)
            ids = await article_ids(store, labels.title)
            service = RelatedService(store, settings.related)
            if prepare is not None:
                prepare(service)
            stories = [
                await story(service, ids[url], url, event.id)
                for event in written.events.values()
                for url in labels.event_urls[event.id]
            ]
        finally:
            await store.close()
    articles: dict[str, dict[str, Any]] = {}
    for a in written.all_articles():
        articles.setdefault(  # one URL once: the first article written under it
            canonical_url(a["webUrl"]),
            {
                "title": a["title"],
                "excerpt": a.get("excerpt", ""),
                "time": a["publishedDateTime"],
                "outlet": a["provider"].get("domain") or a["provider"]["name"],
                "topics": list(a.get("topics", [])),
            },
        )
    return {
        "set": set_name,
        "stories": stories,
        "articles": articles,
        "events": labels.event_urls,
        "curated": {e.id: e.curated for e in written.events.values()},
    }


def figures(
    data: dict[str, Any], results: Iterable[tuple[dict[str, Any], list[str]]]
) -> dict[str, Any]:
    """precision@k, uncurated precision@k, recall@5 and wrong results in the first k, as
    ``bench.related.eval`` counts them; ``misses``: every story not all right."""
    event_of = {u: e for e, us in data["events"].items() for u in us}
    precision, uncurated, recall, wrong, misses = [], [], [], 0, []
    for story, found in results:
        event = story["event"]
        others = len(data["events"][event]) - 1
        k = min(TOP, others)
        hits = [event_of.get(u) == event for u in found[:TOP]]
        p = sum(hits[:k]) / k
        precision.append(p)
        recall.append(sum(hits) / others)
        if not data["curated"][event]:
            uncurated.append(p)
        wrong += k - sum(hits[:k])
        if p < 1:
            titles = data["articles"]
            misses.append(f"{event}: {titles[story['url']]['title']}")
            misses += [
                f"   {'+' if hit else '-'} {titles[u]['title']}"
                for u, hit in zip(found[:k], hits, strict=False)
            ]
    return {
        "precision_at_k": round(sum(precision) / len(precision), 3),
        "uncurated": round(sum(uncurated) / max(len(uncurated), 1), 3),
        "recall_at_5": round(sum(recall) / len(recall), 3),
        "wrong": wrong,
        "misses": misses,
    }
