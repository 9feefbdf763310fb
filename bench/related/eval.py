"""Score the related-coverage engine on the written evaluation set (bench/related/written/).

    python -m bench.related.eval [--set written|written2|...|written8|written9|heldout|all]
                                 [--json] [--config FILE] [--workdir DIR] [--filler N] [--seed S]
                                 [--backend sqlite|postgresql]

`--set heldout` scores the held-out set (bench/related/heldout/) instead, with its own filler;
`--set written2`, `--set written3`, `--set written4`, `--set written5`, `--set written6`,
`--set written7`, `--set written8` and `--set written9` the second to ninth written sets
likewise; `--set all` every set in turn, printed as one table (precision@k, uncurated,
recall@5, wrong results, queries, the story itself or a URL twice, grouping), or with `--json`
their figures by set.
`--backend postgresql` asks the engine on PostgreSQL: the store built on SQLite is copied into
a new database on the server `$TOPICBOT_DATABASE_URL` names (dropped after; see
`bench/pg_copy.py`), and associations are learned and searched there.

Builds a fresh store from the set through the real ingest (article files written to a
temporary folder, `ingest_paths` as `topicbot ingest` runs it), then asks the engine what
`topicbot related --story` asks (`RelatedService.for_story`, as a server that added and decided
nothing) for every article of every event, and what `--query` asks for the 15 queries.

Figures (each story is one query; means over stories, overall and for uncurated events):
- precision@k, k = min(5, R), R = the other articles of the story's event: the share of the
  first k results that belong to the event (the README benchmark's "precision@5");
- precision@5: relevant results in the top 5 divided by 5 (at most R/5 when R < 5; the
  ceiling is printed beside it);
- recall@5: the share of the event's other articles found in the top 5.
Queries: the event is answered when one of its articles is in the top 5.
Grouping at ingest, over pairs of articles: recall = pairs of one event put in one story /
all pairs of one event; precision = those / all pairs in one story that involve an event or
distractor article (pairs of two filler articles are counted apart).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.pg_copy import mirrored, scratch_database
from bench.related.written import SETS, WrittenSet, load, write_files
from bot.articles.article_file import ParseLimits
from bot.articles.urls import canonical_url
from bot.config import Settings, load_settings
from bot.domain.associations import AssociationLearner
from bot.domain.related import RelatedService
from bot.ingest.writer import ingest_paths
from bot.stores import open_store
from storage import Store

TOP = 5
ALL = "all"  # --set all: every labelled set, a table of their figures
SHELL_GUILD = 0  # what `topicbot related` sees: a server that added and decided nothing


# --- what each article of the set is ------------------------------------------------------


class Labels:
    """The set's ground truth keyed by canonical URL."""

    def __init__(self, written: WrittenSet) -> None:
        self.written = written
        self.event_urls = {
            e.id: [canonical_url(u) for u in e.urls] for e in written.events.values()
        }
        self.event_of = {u: eid for eid, urls in self.event_urls.items() for u in urls}
        self.distractor = {canonical_url(u): d for u, d in written.distractors.items()}
        self.filler = {canonical_url(a["webUrl"]) for a in written.filler}
        self.title = {canonical_url(a["webUrl"]): a["title"] for a in written.all_articles()}

    def kind(self, url: str, event: str) -> str:
        """What a result is, seen from a story of `event`."""
        if self.event_of.get(url) == event:
            return "same event"
        if url in self.distractor:
            d = self.distractor[url]
            return f"distractor: {d.kind}" if d.event == event else "another event's distractor"
        if url in self.event_of:
            return "another event's coverage"
        return "filler" if url in self.filler else "not in the set"

    def detail(self, url: str, event: str) -> str:
        kind = self.kind(url, event)
        if kind == "another event's distractor":
            d = self.distractor[url]
            return f"distractor of {d.event} ({d.kind})"
        if kind == "another event's coverage":
            return f"coverage of {self.event_of[url]}"
        return kind


# --- scores --------------------------------------------------------------------------------


@dataclass
class Result:
    url: str
    title: str
    reason: str
    kind: str  # what it is, by kind (for the tallies)
    what: str  # what it is, naming the other event when it belongs to one
    relevant: bool
    close: bool = True  # not shown as "less closely related"


@dataclass
class StoryScore:
    event: str
    url: str
    title: str
    curated: bool
    others: int  # R: the other articles of the event
    results: list[Result]
    missed: list[str]  # titles of the event's other articles not in the top 5

    @property
    def k(self) -> int:
        return min(TOP, self.others)

    @property
    def precision_at_k(self) -> float:
        return sum(r.relevant for r in self.results[: self.k]) / self.k

    @property
    def precision_at_5(self) -> float:
        return sum(r.relevant for r in self.results[:TOP]) / TOP

    @property
    def recall_at_5(self) -> float:
        return sum(r.relevant for r in self.results[:TOP]) / self.others


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else 0.0


def story_figures(scores: Sequence[StoryScore]) -> dict[str, Any]:
    first_k = [r for s in scores for r in s.results[: s.k]]
    close = [r for r in first_k if r.close]
    return {
        "stories": len(scores),
        "events": len({s.event for s in scores}),
        "precision_at_k": _mean(s.precision_at_k for s in scores),
        "precision_at_5": _mean(s.precision_at_5 for s in scores),
        "precision_at_5_ceiling": _mean(s.k / TOP for s in scores),
        "recall_at_5": _mean(s.recall_at_5 for s in scores),
        # of the first k results, those not shown as "less closely related": how many of
        # them are right (what a member is told is related), and their share
        "close_precision": round(sum(r.relevant for r in close) / max(len(close), 1), 4),
        "close_share": round(len(close) / max(len(first_k), 1), 4),
    }


def wrong_by_kind(scores: Sequence[StoryScore]) -> dict[str, int]:
    """Wrong results among the first k of each story, by what they are (and empty places,
    when the engine gave fewer than k results)."""
    counts = Counter(r.kind for s in scores for r in s.results[: s.k] if not r.relevant)
    empty = sum(s.k - len(s.results[: s.k]) for s in scores)
    if empty:
        counts["no result"] = empty
    return dict(counts.most_common())


# --- building the store --------------------------------------------------------------------


async def build_store(written: WrittenSet, settings: Settings, folder: Path) -> tuple[Store, int]:
    files = write_files(written, folder / "articles")
    store = await open_store(settings)
    # The set is always built on SQLite (settings from ``_settings``); PostgreSQL gets a copy.
    assert isinstance(store, Store)
    report = await ingest_paths(
        store,
        [folder / "articles"],
        limits=ParseLimits(max_file_bytes=settings.ingest.max_file_bytes),
        batch_size=settings.ingest.batch_size,
    )
    if report.rejected or report.new != files:
        await store.close()
        problems = "; ".join(f"{r.path}: {r.error}" for r in report.rejected[:5])
        raise SystemExit(f"ingest refused part of the set ({report.new}/{files} new): {problems}")
    return store, files


async def learn_associations(store: Store) -> list[list[Any]]:
    """What housekeeping does after an ingest: learn term associations from the stories the
    store holds (its files' `related` lists and grouping at ingest; never from the labels).
    The associations learned, strongest first, as [term, associate, strength]."""
    await AssociationLearner(store).run()
    learned = await store.associations.all()
    return [[a.term, a.associate, a.strength] for a in learned]


async def article_ids(store: Store, urls: Iterable[str]) -> dict[str, str]:
    ids = {}
    for url in urls:
        article = await store.articles.get_by_url(url)
        if article is None:
            raise SystemExit(f"not in the store after ingest: {url}")
        ids[url] = article.id
    return ids


# --- asking the engine ---------------------------------------------------------------------


async def score_stories(
    service: RelatedService, labels: Labels, ids: dict[str, str]
) -> list[StoryScore]:
    scores = []
    for event in labels.written.events.values():
        urls = labels.event_urls[event.id]
        for url in urls:
            _, found = await service.for_story(SHELL_GUILD, ids[url], limit=TOP)
            results = [
                Result(
                    url=r.article.canonical_url,
                    title=r.article.title,
                    reason=r.reason,
                    kind=labels.kind(r.article.canonical_url, event.id),
                    what=labels.detail(r.article.canonical_url, event.id),
                    relevant=labels.event_of.get(r.article.canonical_url) == event.id,
                    close=r.close,
                )
                for r in found
            ]
            shown = {r.url for r in results}
            missed = [labels.title[u] for u in urls if u != url and u not in shown]
            scores.append(
                StoryScore(
                    event.id, url, labels.title[url], event.curated, len(urls) - 1, results, missed
                )
            )
    return scores


@dataclass
class QueryScore:
    query: str
    event: str
    rank: int | None  # 1-based rank of the event's first article, None when not in the top 5
    results: list[str] = field(default_factory=list)  # "title (what it is)"


async def score_queries(service: RelatedService, labels: Labels) -> list[QueryScore]:
    scores = []
    for query in labels.written.queries:
        found = await service.for_query(SHELL_GUILD, query.text, limit=TOP)
        urls = [r.article.canonical_url for r in found]
        rank = next(
            (n for n, u in enumerate(urls, 1) if labels.event_of.get(u) == query.event), None
        )
        shown = [
            f"{r.article.title} ({labels.detail(u, query.event)})"
            for r, u in zip(found, urls, strict=True)
        ]
        scores.append(QueryScore(query.text, query.event, rank, shown))
    return scores


def violations(scores: Sequence[StoryScore]) -> dict[str, int]:
    """What the engine promises never to do: list the story itself, or one URL twice."""
    itself = sum(any(r.url == s.url for r in s.results) for s in scores)
    twice = sum(len({r.url for r in s.results}) != len(s.results) for s in scores)
    return {"story_itself": itself, "url_twice": twice}


# --- story grouping at ingest --------------------------------------------------------------


def _ratio(part: int, whole: int, empty: float) -> float:
    return round(part / whole, 4) if whole else empty


async def score_grouping(store: Store, labels: Labels, ids: dict[str, str]) -> dict[str, Any]:
    story = {url: await store.stories.story_of(article_id) for url, article_id in ids.items()}
    members: dict[int | None, list[str]] = defaultdict(list)
    for url, story_id in story.items():
        members[story_id].append(url)
    labelled = set(labels.event_of) | set(labels.distractor)

    def one_event(a: str, b: str) -> bool:
        return a in labels.event_of and labels.event_of[a] == labels.event_of.get(b)

    pairs_in_stories = [
        pair for urls in members.values() for pair in itertools.combinations(sorted(urls), 2)
    ]
    together = [(a, b) for a, b in pairs_in_stories if a in labelled or b in labelled]
    wrong = [(a, b) for a, b in together if not one_event(a, b)]
    uncurated = {e.id for e in labels.written.events.values() if not e.curated}
    same_event = [
        (event, pair)
        for event, urls in labels.event_urls.items()
        for pair in itertools.combinations(urls, 2)
    ]
    grouped = [(event, (a, b)) for event, (a, b) in same_event if story[a] == story[b]]
    return {
        "same_event_pairs": len(same_event),
        "grouped_same_event_pairs": len(grouped),
        "recall": _ratio(len(grouped), len(same_event), 0.0),
        "recall_uncurated": _ratio(
            sum(event in uncurated for event, _ in grouped),
            sum(event in uncurated for event, _ in same_event),
            0.0,
        ),
        "pairs_in_one_story": len(together),
        "precision": _ratio(len(together) - len(wrong), len(together), 1.0),
        "wrong_pairs": [[labels.title[a], labels.title[b]] for a, b in wrong],
        "filler_pairs_in_one_story": len(pairs_in_stories) - len(together),
    }


# --- the run -------------------------------------------------------------------------------


def _settings(config: Path | None, db: Path) -> Settings:
    base = load_settings(config) if config is not None else Settings()
    storage = base.storage.model_copy(update={"path": db, "backend": "sqlite"})
    return base.model_copy(update={"storage": storage})


async def evaluate(
    written: WrittenSet,
    settings: Settings,
    folder: Path,
    name: str = "written",
    postgresql_url: str | None = None,
) -> dict[str, Any]:
    labels = Labels(written)
    started = time.perf_counter()
    sqlite, files = await build_store(written, settings, folder)
    try:
        if postgresql_url is None:
            built = time.perf_counter() - started
            return await _evaluate(sqlite, written, settings, labels, name, files, built)
        async with scratch_database(postgresql_url) as url, mirrored(sqlite, url) as store:
            built = time.perf_counter() - started
            return await _evaluate(store, written, settings, labels, name, files, built)
    finally:
        await sqlite.close()


async def _evaluate(
    store: Any,
    written: WrittenSet,
    settings: Settings,
    labels: Labels,
    name: str,
    files: int,
    built: float,
) -> dict[str, Any]:
    associations = await learn_associations(store)
    ids = await article_ids(store, labels.title)
    service = RelatedService(store, settings.related)
    started = time.perf_counter()
    stories = await score_stories(service, labels, ids)
    queries = await score_queries(service, labels)
    asked = time.perf_counter() - started
    grouping = await score_grouping(store, labels, ids)
    uncurated = [s for s in stories if not s.curated]
    return {
        "set": {
            "name": name,
            "events": len(written.events),
            "curated_events": sum(e.curated for e in written.events.values()),
            "event_articles": len(labels.event_of),
            "distractors": len(labels.distractor),
            "filler": len(written.filler),
            "files": files,
            "queries": len(queries),
        },
        "seconds": {"build": round(built, 2), "engine": round(asked, 2)},
        "story": {
            "all": story_figures(stories),
            "uncurated": story_figures(uncurated),
            "wrong_by_kind": wrong_by_kind(stories),
            "wrong_by_kind_uncurated": wrong_by_kind(uncurated),
            "violations": violations(stories),
        },
        "query": {
            "answered": sum(q.rank is not None for q in queries),
            "total": len(queries),
            "queries": [asdict(q) for q in queries],
        },
        "grouping": grouping,
        "associations": associations,
        "stories": [
            {**asdict(s), "precision_at_k": s.precision_at_k, "recall_at_5": s.recall_at_5}
            for s in stories
        ],
    }


# --- printing ------------------------------------------------------------------------------


def miss_lines(report: dict[str, Any], summaries: dict[str, str]) -> list[str]:
    """Per event: every story with a wrong result (title, what it is, the engine's reason) or a
    missed article of its event."""
    by_event: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for story in report["stories"]:
        by_event[story["event"]].append(story)
    lines = []
    for event, stories in by_event.items():
        bad = [s for s in stories if s["precision_at_k"] < 1 or s["missed"]]
        if not bad:
            continue
        curated = "curated" if stories[0]["curated"] else "uncurated"
        p = _mean(s["precision_at_k"] for s in stories)
        r = _mean(s["recall_at_5"] for s in stories)
        lines += ["", f"{event} ({curated}) {summaries[event]}"]
        lines.append(f"  precision@k {p:.2f}, recall@5 {r:.2f}")
        for s in bad:
            lines.append(f"  story: {s['title']}")
            lines += [
                f"    #{rank} wrong: {res['title']}  [{res['what']}]  engine: {res['reason']}"
                for rank, res in enumerate(s["results"], 1)
                if not res["relevant"]
            ]
            lines += [f"    missed: {title}" for title in s["missed"]]
    return lines


def query_lines(report: dict[str, Any]) -> list[str]:
    lines = ["", "/related query"]
    for q in report["query"]["queries"]:
        verdict = f"rank {q['rank']}" if q["rank"] else "MISSED, the top 5 were:"
        lines.append(f"  {q['query']!r} -> {q['event']}: {verdict}")
        if q["rank"] is None:
            lines += [f"      #{n} {shown}" for n, shown in enumerate(q["results"], 1)]
    return lines


FIGURES = (
    ("precision_at_k", "precision@k, k = min(5, R)"),
    ("precision_at_5", "precision@5 (hits / 5)"),
    ("precision_at_5_ceiling", "  its ceiling (mean of k / 5)"),
    ("recall_at_5", "recall@5"),
    ("close_share", "first k not 'less closely related'"),
    ("close_precision", "  of them right"),
)


def summary_lines(report: dict[str, Any]) -> list[str]:
    st, secs = report["set"], report["seconds"]
    all_, unc = report["story"]["all"], report["story"]["uncurated"]
    lines = [
        "",
        f"{st['name']} set: {st['events']} events ({st['curated_events']} with curated links), "
        f"{st['event_articles']} event articles, {st['distractors']} distractors, "
        f"{st['filler']} filler",
        f"store built from {st['files']} files in {secs['build']} s; engine asked in "
        f"{secs['engine']} s",
        f"{'/related story, top 5':38} {'all':>10} {'uncurated':>10}",
        f"{'  stories':38} {all_['stories']:>10} {unc['stories']:>10}",
        f"{'  events':38} {all_['events']:>10} {unc['events']:>10}",
    ]
    lines += [f"  {name:36} {all_[key]:>10.3f} {unc[key]:>10.3f}" for key, name in FIGURES]
    lines.append("  wrong results in the first k, by kind:")
    lines += [f"    {kind}: {n}" for kind, n in report["story"]["wrong_by_kind"].items()]
    v = report["story"]["violations"]
    lines.append(f"  the story itself listed: {v['story_itself']}, one URL twice: {v['url_twice']}")
    q = report["query"]
    lines.append(f"/related query: the event in the top 5 for {q['answered']} of {q['total']}")
    learned = report["associations"]
    lines.append(f"term associations learned from the store's stories: {len(learned)}")
    lines += [f"  {a} ~ {b} ({strength:.2f})" for a, b, strength in learned[:12]]
    return lines + grouping_lines(report["grouping"])


def grouping_lines(g: dict[str, Any]) -> list[str]:
    lines = [
        "story grouping at ingest, over pairs of articles:",
        f"  recall    {g['recall']:.3f} ({g['grouped_same_event_pairs']} of "
        f"{g['same_event_pairs']} pairs of one event in one story; uncurated events "
        f"{g['recall_uncurated']:.3f})",
        f"  precision {g['precision']:.3f} ({len(g['wrong_pairs'])} of {g['pairs_in_one_story']} "
        f"pairs in one story are not of one event)",
        f"  pairs of two filler articles in one story: {g['filler_pairs_in_one_story']}",
    ]
    lines += [f"  wrongly together: {a!r} + {b!r}" for a, b in g["wrong_pairs"][:20]]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.related.eval", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument(
        "--config", type=Path, help="a topicbot configuration (its related settings)"
    )
    parser.add_argument(
        "--workdir", type=Path, help="build here and keep it (default: a temporary folder)"
    )
    parser.add_argument(
        "--set",
        choices=[*sorted(SETS), ALL],
        default="written",
        help="which labelled set (written); all: every set, one line each",
    )
    parser.add_argument("--filler", type=int, help="filler articles (default: the set's)")
    parser.add_argument("--seed", type=int, help="filler seed (default: the set's)")
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the engine asked (postgresql: a scratch database on $TOPICBOT_DATABASE_URL's server)",
    )
    args = parser.parse_args(argv)
    postgresql_url = None
    if args.backend == "postgresql":
        postgresql_url = os.environ.get("TOPICBOT_DATABASE_URL", "").strip()
        if not postgresql_url:
            parser.error("--backend postgresql needs $TOPICBOT_DATABASE_URL (a server to use)")
    if args.set == ALL:
        reports = [run_set(name, args, postgresql_url)[1] for name in sorted(SETS)]
        if args.json:
            print(json.dumps({r["set"]["name"]: overview(r) for r in reports}))
        else:
            print("\n".join(table_lines(reports)))
        return 0
    written, report = run_set(args.set, args, postgresql_url)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    summaries = {e.id: e.summary for e in written.events.values()}
    lines = miss_lines(report, summaries) + query_lines(report) + summary_lines(report)
    print("\n".join(lines))
    return 0


def run_set(
    name: str, args: argparse.Namespace, postgresql_url: str | None
) -> tuple[WrittenSet, dict[str, Any]]:
    """One set and its report, its store built in ``--workdir``/NAME when several are run."""
    written = load(SETS[name], filler_count=args.filler, seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="topicbot-eval-") as tmp:
        folder = args.workdir or Path(tmp)
        if args.workdir and args.set == ALL:
            folder = args.workdir / name
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / "store.db").exists():
            raise SystemExit(f"{folder / 'store.db'} exists: give an empty --workdir")
        settings = _settings(args.config, folder / "store.db")
        return written, asyncio.run(evaluate(written, settings, folder, name, postgresql_url))


def overview(report: dict[str, Any]) -> dict[str, Any]:
    """A set's headline figures (``--set all``)."""
    story, query, grouping = report["story"], report["query"], report["grouping"]
    return {
        "precision_at_k": story["all"]["precision_at_k"],
        "uncurated_precision_at_k": story["uncurated"]["precision_at_k"],
        "recall_at_5": story["all"]["recall_at_5"],
        "wrong": sum(story["wrong_by_kind"].values()),
        "close_precision": story["all"]["close_precision"],
        "close_share": story["all"]["close_share"],
        "violations": story["violations"],
        "queries": [query["answered"], query["total"]],
        "grouping": [grouping["recall"], grouping["precision"]],
    }


def table_lines(reports: list[dict[str, Any]]) -> list[str]:
    """Every set's headline figures, one line each (``--set all``)."""
    lines = [
        "| set | precision@k | uncurated | recall@5 | wrong in the first k "
        "| not loose / of them right | queries | story itself / URL twice "
        "| grouping recall / precision |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for report in reports:
        o = overview(report)
        v = o["violations"]
        lines.append(
            f"| {report['set']['name']} | {o['precision_at_k']:.3f} "
            f"| {o['uncurated_precision_at_k']:.3f} | {o['recall_at_5']:.3f} | {o['wrong']} "
            f"| {o['close_share']:.3f} / {o['close_precision']:.3f} "
            f"| {o['queries'][0]} of {o['queries'][1]} | {v['story_itself']} / {v['url_twice']} "
            f"| {o['grouping'][0]:.3f} / {o['grouping'][1]:.3f} |"
        )
    return lines


if __name__ == "__main__":
    sys.exit(main())
