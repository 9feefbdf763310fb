"""The written evaluation set for related coverage: hand-written events, distractors, queries.

`load()` reads the domain files (`*.yaml` beside this module, one list of articles each), the
labels (`labels.yaml`) and generates the filler (`filler.py`); `write_files(written, folder)`
writes every article that has a file of its own as an article file in the export format,
ready for the real ingest. `load(SETS["heldout"])` reads the held-out set
(bench/related/heldout/, same format, its own filler seed) instead. See bench/README.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bench.related.written.filler import anchors_from, filler_articles, load_yaml

HERE = Path(__file__).resolve().parent
LABELS_FILE = "labels.yaml"
NOT_ARTICLES = {LABELS_FILE, "filler_pieces.yaml"}
FILLER_COUNT = 2000
FILLER_SEED = 12
DISTRACTOR_KINDS = ("same-entity", "other-chapter", "same-kind", "shared-words")


@dataclass(frozen=True)
class SetSpec:
    """Where a labelled set lives and how much filler it gets, from which seed."""

    name: str
    folder: Path
    filler_count: int
    filler_seed: int


SETS = {
    "written": SetSpec("written", HERE, FILLER_COUNT, FILLER_SEED),
    # Written by another hand and never read by whoever tunes the engine (bench/README.md).
    "heldout": SetSpec("heldout", HERE.parent / "heldout", 1500, 2027),
    # Written after the engine was tuned on the first set, to check that tuning generalises.
    "written2": SetSpec("written2", HERE.parent / "written2", 800, 21),
    # Written by a helper who never read the engine, as an independent judge (issue 12).
    "written3": SetSpec("written3", HERE.parent / "written3", 2000, 31),
    # A fourth, by another helper who never read the engine, as a second independent judge.
    "written4": SetSpec("written4", HERE.parent / "written4", 2000, 41),
    # A fifth, by a third helper who read neither the engine nor the other sets' events.
    "written5": SetSpec("written5", HERE.parent / "written5", 2000, 51),
    # A sixth, by a fourth helper who read neither the engine nor the other sets' events.
    "written6": SetSpec("written6", HERE.parent / "written6", 2000, 61),
    # A seventh, by a fifth helper who read neither the engine nor the other sets' events.
    "written7": SetSpec("written7", HERE.parent / "written7", 2000, 71),
    # An eighth, by a sixth helper who read neither the engine nor the other sets' events.
    "written8": SetSpec("written8", HERE.parent / "written8", 2000, 81),
    # A ninth, by another helper who read neither the engine nor the other sets' events.
    "written9": SetSpec("written9", HERE.parent / "written9", 2000, 91),
    # A tenth, by another helper who read neither the engine nor the other sets' events.
    "written10": SetSpec("written10", HERE.parent / "written10", 2000, 101),
    # An eleventh, by another helper who read neither the engine nor the other sets' events.
    "written11": SetSpec("written11", HERE.parent / "written11", 2000, 111),
    # A twelfth, by another helper who read neither the engine nor the other sets' events.
    "written12": SetSpec("written12", HERE.parent / "written12", 2000, 121),
}


@dataclass(frozen=True)
class Distractor:
    url: str
    event: str
    kind: str


@dataclass(frozen=True)
class Event:
    id: str
    summary: str
    curated: bool
    urls: tuple[str, ...]
    distractors: tuple[Distractor, ...]


@dataclass(frozen=True)
class Query:
    text: str
    event: str


@dataclass
class WrittenSet:
    articles: list[dict[str, Any]]  # hand-written: events' coverage and distractors
    events: dict[str, Event]
    queries: list[Query]
    filler: list[dict[str, Any]] = field(default_factory=list)

    @property
    def distractors(self) -> dict[str, Distractor]:
        return {d.url: d for e in self.events.values() for d in e.distractors}

    def event_of(self, url: str) -> str | None:
        return self._event_by_url().get(url)

    def _event_by_url(self) -> dict[str, str]:
        return {url: e.id for e in self.events.values() for url in e.urls}

    def by_url(self) -> dict[str, dict[str, Any]]:
        return {a["webUrl"]: a for a in self.all_articles()}

    def all_articles(self) -> Iterator[dict[str, Any]]:
        yield from self.articles
        yield from self.filler


def domain_files(folder: Path = HERE) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.name not in NOT_ARTICLES)


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _read_articles(path: Path) -> list[dict[str, Any]]:
    articles = load_yaml(path.read_text(encoding="utf-8"))
    for article in articles:
        article["publishedDateTime"] = _iso(article["publishedDateTime"])
        article["domain_file"] = path.name
    return list(articles)


def _read_labels(folder: Path) -> tuple[dict[str, Event], list[Query]]:
    raw = load_yaml((folder / LABELS_FILE).read_text(encoding="utf-8"))
    events = {
        event_id: Event(
            id=event_id,
            summary=spec["summary"],
            curated=bool(spec["curated"]),
            urls=tuple(spec["articles"]),
            distractors=tuple(
                Distractor(d["url"], event_id, d["kind"]) for d in spec["distractors"]
            ),
        )
        for event_id, spec in raw["events"].items()
    }
    queries = [Query(q["query"], q["event"]) for q in raw["queries"]]
    return events, queries


def load(
    spec: SetSpec = SETS["written"], *, filler_count: int | None = None, seed: int | None = None
) -> WrittenSet:
    """The set `spec` names, with its own filler unless `filler_count` or `seed` are given."""
    articles = [a for path in domain_files(spec.folder) for a in _read_articles(path)]
    events, queries = _read_labels(spec.folder)
    by_url = {a["webUrl"]: a for a in articles}
    coverage = {e.id: [by_url[u] for u in e.urls if u in by_url] for e in events.values()}
    filler = filler_articles(
        anchors_from(coverage),
        count=spec.filler_count if filler_count is None else filler_count,
        seed=spec.filler_seed if seed is None else seed,
    )
    return WrittenSet(articles, events, queries, filler)


# --- article files -------------------------------------------------------------------------

_EXPORT_KEYS = ("title", "excerpt", "publishedDateTime", "webUrl", "provider", "quality")


def _related_entry(article: dict[str, Any]) -> dict[str, Any]:
    entry = {key: article[key] for key in _EXPORT_KEYS if key in article}
    entry["type"] = "article"
    return entry


def _front_matter(article: dict[str, Any], by_url: dict[str, dict[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = {"category": "news"}
    doc.update({key: article[key] for key in ("title", "excerpt", "publishedDateTime", "webUrl")})
    doc.update(type="article", quality=article["quality"], heat=-1, published=True)
    doc["provider"] = article["provider"]
    doc["topics"] = list(article.get("topics", []))
    doc["images"] = []
    if article.get("related"):
        doc["related"] = [_related_entry(by_url[url]) for url in article["related"]]
    return doc


def write_files(written: WrittenSet, folder: Path) -> int:
    """Write every article with a file of its own into `folder`, named in the order they were
    published (as an export is), and return how many."""
    folder.mkdir(parents=True, exist_ok=True)
    by_url = written.by_url()
    own_files = [a for a in written.all_articles() if not a.get("coverage_only")]
    own_files.sort(key=lambda a: (a["publishedDateTime"], a["webUrl"]))
    count = 0
    for article in own_files:
        doc = _front_matter(article, by_url)
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1000)
        (folder / f"{count:05d}.md").write_text(f"---\n{text}---\n", encoding="utf-8")
        count += 1
    return count
