"""Does an exhaustive, plain lexical ranker beat the engine? A reference, not part of the engine.

    python -m bench.related.reference dump --set S --out FILE
    python -m bench.related.reference score --dump FILE... [--tokens engine|plain]
                                            [--k1 K...] [--b B...] [--title T...]
                                            [--query-title Q...] [--time W...]
                                            [--scale HOURS...] [--topics X...]
                                            [--outlet O...] [--idf-power P...]
                                            [--feedback N...] [--feedback-weight W...]
                                            [--max-terms M...] [--max-feedback-terms F...]
                                            [--pool N...] [--engine-query] [--diverse]
                                            [--misses]

``dump`` builds the set's store through the real ingest (as ``bench.related.eval`` does),
learns associations as housekeeping would, and keeps, per story of an event, its own coverage
(what ``RelatedService.for_story`` lists first: curated links and the story's group) and the
engine's top 5 (``for_story`` itself, as the eval asks it), with every article of the set.

``score`` ranks, for each story, EVERY other article of the set (no candidate search, no
term budget) by BM25F over its headline and excerpt with all the story's words, times a
closeness in time factor of the engine's shape (``1 - time + time / (1 + (dt / scale)^2)``),
times ``outlet`` for the story's own outlet, plus ``topics`` times the share of the story's
topics the article carries. The text score is the article's BM25 over the story's own (so
``topics`` weighs alike for every story). Its own coverage comes first, as the engine's does;
then the ranking, never the story itself nor a URL twice (``--diverse``: at most
``max_per_outlet`` from one outlet before the others, as the engine does). Words are
``--tokens engine``: the keys of ``bot.domain.terms`` (plurals and spellings one term,
figures normalised, names also as initials) or ``plain``: lowercase words, stopwords out,
a light suffix stemmer. Figures as ``bench.related.eval`` gives them: precision@k (k =
min(5, R)), uncurated events apart, recall@5, wrong results in the first k; the engine's,
from the dump (the same stores), beside them. ``--idf-power`` counts rarity that many times
over (the engine: 1.5); ``--feedback N`` ranks again with the words of the story's coverage,
else of the first ranking's best N (those at half the best or more), at ``--feedback-weight``;
``--engine-query`` weighs the story's words as ``bot.domain.terms`` does. To ablate the
engine's shortcuts: ``--max-terms`` (the story's heaviest terms looked up), ``--max-feedback-
terms`` (the feedback's heaviest new ones), ``--pool`` (the best by text alone scored for
time). Every numeric option takes several values: each combination is one line. See
docs/performance.md, "A reference lexical ranker".
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bench.related.dumps import TOP, commands, dump_set, figures, time_of
from bench.related.eval import SHELL_GUILD
from bot.domain.related import RelatedService
from bot.domain.terms import STOPWORDS, story_terms
from storage.titles import fold

MAX_PER_OUTLET = 2  # the engine's default (``related.max_per_outlet``)

# --- words ----------------------------------------------------------------------------------

_PLAIN_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_SUFFIXES = ("ingly", "edly", "ings", "ing", "ies", "ied", "es", "ed", "s")


def stem(word: str) -> str:
    """A light suffix stemmer: `cuts` / `cut`, `lowered` / `lower`, `rising` / `ris`, never
    below three letters, never a figure."""
    if not word.isalpha():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix in ("ies", "ied"):
                return word[: -len(suffix)] + "y"
            if suffix == "s" and word.endswith("ss"):
                return word
            return word[: -len(suffix)]
    return word


def plain_words(text: str) -> list[str]:
    words = _PLAIN_WORD.findall(fold(text).lower())
    return [stem(w) for w in words if w not in STOPWORDS]


def engine_words(text: str, *, headline: bool) -> list[str]:
    """The keys of ``bot.domain.terms`` for a headline or an excerpt (each once)."""
    terms = story_terms(text, "") if headline else story_terms("", text)
    return [t.key for t in terms]


def fields(title: str, excerpt: str, tokens: str) -> tuple[list[str], list[str]]:
    if tokens == "plain":
        return plain_words(title), plain_words(excerpt)
    return engine_words(title, headline=True), engine_words(excerpt, headline=False)


# --- the ranker -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    k1: float = 1.2
    b: float = 0.75
    title: float = 2.0  # a headline occurrence counts this many excerpt occurrences (BM25F)
    query_title: float = 2.0  # a story's headline word weighs this much in the query
    time: float = 0.97  # the share of the text score that depends on closeness in time
    scale_hours: float = 36.0
    topics: float = 0.05
    outlet: float = 0.3  # the story's own outlet keeps this share
    diverse: bool = False
    idf_power: float = 1.0  # the engine counts rarity 1.5 times over
    engine_query: bool = False  # the story's words weighed as the engine weighs its terms
    feedback: int = 0  # words of the coverage, else of the best first results, join the query
    feedback_weight: float = 0.8
    # The engine's lookup budget, to ablate: the story's heaviest terms (0: all) and the
    # feedback's heaviest new ones; the best ``pool`` by text alone scored for time (0: all).
    max_terms: int = 0
    max_feedback_terms: int = 0
    pool: int = 0

    def label(self) -> str:
        return (
            f"k1={self.k1:g} b={self.b:g} title={self.title:g} qtitle={self.query_title:g}"
            f" time={self.time:g} scale={self.scale_hours:g}h topics={self.topics:g}"
            f" outlet={self.outlet:g}{' diverse' if self.diverse else ''}"
            f" idf^{self.idf_power:g}{' engine-query' if self.engine_query else ''}"
            f" feedback={self.feedback}x{self.feedback_weight:g}"
            f" terms={self.max_terms or 'all'}+{self.max_feedback_terms or 'all'}"
            f" pool={self.pool or 'all'}"
        )


@dataclass(frozen=True)
class Doc:
    url: str
    title: Counter[str]
    excerpt: Counter[str]
    at: float
    outlet: str
    topics: frozenset[str]


class Index:
    """Every article of a set, by word: document frequencies and field lengths for BM25F."""

    def __init__(self, articles: dict[str, dict[str, Any]], tokens: str) -> None:
        self.tokens = tokens
        self.articles = articles
        self.docs: dict[str, Doc] = {}
        for url, a in articles.items():
            title, excerpt = fields(a["title"], a["excerpt"], tokens)
            self.docs[url] = Doc(
                url,
                Counter(title),
                Counter(excerpt),
                time_of(a["time"]),
                a["outlet"],
                frozenset(fold(t) for t in a["topics"]),
            )
        self.postings: dict[str, list[str]] = defaultdict(list)
        for url, doc in self.docs.items():
            for word in set(doc.title) | set(doc.excerpt):
                self.postings[word].append(url)
        n = len(self.docs)
        self.idf = {
            w: math.log(1 + (n - len(us) + 0.5) / (len(us) + 0.5))
            for w, us in self.postings.items()
        }
        self.mean_title = sum(d.title.total() for d in self.docs.values()) / n
        self.mean_excerpt = sum(d.excerpt.total() for d in self.docs.values()) / n

    def query(self, url: str, params: Params) -> dict[str, float]:
        """The story's words, each weighed by where it stands in the story (or, with
        ``engine_query``, as ``bot.domain.terms`` weighs them, a headline word at 2)."""
        if params.engine_query and self.tokens == "engine":
            a = self.articles[url]
            weights = {t.key: t.weight / 2 for t in story_terms(a["title"], a["excerpt"])}
        else:
            doc = self.docs[url]
            weights = dict.fromkeys(doc.excerpt, 1.0)
            for word in doc.title:
                weights[word] = max(weights.get(word, 0.0), params.query_title)
        return _heaviest(weights, params.max_terms)

    def expanded(
        self, query: dict[str, float], feedback: list[tuple[str, float]], params: Params
    ) -> dict[str, float]:
        """The query joined by the feedback articles' words, at ``feedback_weight`` times
        each article's strength."""
        whole = replace(params, max_terms=0)
        joined = dict(query)
        new: dict[str, float] = {}
        for url, strength in feedback:
            for word, weight in self.query(url, whole).items():
                added = weight * strength * params.feedback_weight
                if word in query:
                    joined[word] += added
                else:
                    new[word] = new.get(word, 0.0) + added
        return joined | _heaviest(new, params.max_feedback_terms)

    def bm25(self, query: dict[str, float], url: str, params: Params) -> float:
        doc = self.docs[url]
        b = params.b
        title_norm = 1 - b + b * doc.title.total() / max(self.mean_title, 1e-9)
        excerpt_norm = 1 - b + b * doc.excerpt.total() / max(self.mean_excerpt, 1e-9)
        score = 0.0
        for word, weight in query.items():
            tf = params.title * doc.title[word] / title_norm + doc.excerpt[word] / excerpt_norm
            if tf:
                score += (
                    weight
                    * self.idf[word] ** params.idf_power
                    * tf
                    * (params.k1 + 1)
                    / (params.k1 + tf)
                )
        return score

    def rank(
        self, url: str, params: Params, exclude: set[str], coverage: Sequence[str] = ()
    ) -> list[str]:
        """Every article sharing a word with the story (the others score 0 on text), best
        first: text (over the story's own) x time x outlet + topics; with ``feedback``, ranked
        again with the words of the story's coverage, else of the first ranking's best
        (those scoring at least half the best, each as strong as it scored)."""
        query = self.query(url, params)
        if not params.feedback:
            return [u for _, u in self._scored(url, query, params, exclude)]
        if coverage:
            chosen = [(u, 1.0) for u in coverage[: params.feedback]]
        else:
            first = self._scored(url, query, params, exclude)[: params.feedback]
            best = first[0][0] if first and first[0][0] > 0 else 1.0
            chosen = [(u, s / best) for s, u in first if s >= best / 2]
        query = self.expanded(query, chosen, params)
        return [u for _, u in self._scored(url, query, params, exclude)]

    def _scored(
        self, url: str, query: dict[str, float], params: Params, exclude: set[str]
    ) -> list[tuple[float, str]]:
        story = self.docs[url]
        own = self.bm25(query, url, params) or 1.0
        candidates = {u for w in query for u in self.postings[w]} - exclude - {url}
        texts = sorted(((self.bm25(query, u, params) / own, u) for u in candidates), reverse=True)
        if params.pool:
            texts = texts[: params.pool]
        scale = params.scale_hours * 3600
        scored = []
        for text, u in texts:
            doc = self.docs[u]
            dt = (doc.at - story.at) / scale
            near = 1 - params.time + params.time / (1 + dt * dt)
            text *= near
            if doc.outlet == story.outlet:
                text *= params.outlet
            shared = len(doc.topics & story.topics) / len(story.topics) if story.topics else 0
            scored.append((text + params.topics * shared, u))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return scored


def _heaviest(weights: dict[str, float], limit: int) -> dict[str, float]:
    """The ``limit`` heaviest (all when 0), the first written first among equals."""
    if not limit:
        return weights
    return dict(sorted(weights.items(), key=lambda kv: -kv[1])[:limit])


def diverse(ranked: Sequence[str], before: Sequence[str], outlets: dict[str, str]) -> list[str]:
    """The engine's rule: an outlet's results past ``MAX_PER_OUTLET`` (counting ``before``)
    move to the end."""
    per_outlet = Counter(outlets[u] for u in before)
    first: list[str] = []
    later: list[str] = []
    for u in ranked:
        per_outlet[outlets[u]] += 1
        (later if per_outlet[outlets[u]] > MAX_PER_OUTLET else first).append(u)
    return first + later


def reference_results(index: Index, story: dict[str, Any], params: Params) -> list[str]:
    """The story's own coverage, then the ranking; never the story, never a URL twice."""
    results: list[str] = []
    for u in story["coverage"]:
        if u != story["url"] and u not in results:
            results.append(u)
    ranked = index.rank(story["url"], params, set(results), results)
    if params.diverse:
        outlets = {u: d.outlet for u, d in index.docs.items()}
        ranked = diverse(ranked, results, outlets)
    return (results + ranked)[:TOP]


# --- figures --------------------------------------------------------------------------------


def engine_figures(data: dict[str, Any]) -> dict[str, Any]:
    return figures(data, ((s, s["engine"]) for s in data["stories"]))


def reference_figures(data: dict[str, Any], index: Index, params: Params) -> dict[str, Any]:
    return figures(data, ((s, reference_results(index, s, params)) for s in data["stories"]))


async def dump(set_name: str) -> dict[str, Any]:
    return await dump_set(set_name, _story)


async def _story(service: RelatedService, article_id: str, url: str, event: str) -> dict[str, Any]:
    found = await service._story(SHELL_GUILD, article_id, coverage=TOP)
    coverage = service.own_coverage(found)
    _, engine = await service.for_story(SHELL_GUILD, article_id, limit=TOP)
    return {
        "url": url,
        "event": event,
        "coverage": [r.article.canonical_url for r in coverage],
        "engine": [r.article.canonical_url for r in engine],
    }


# --- the command ----------------------------------------------------------------------------


def grid(args: argparse.Namespace) -> list[Params]:
    return [
        Params(k1, b, t, q, w, s, x, o, args.diverse, i, args.engine_query, f, fw, m, mf, p)
        for k1, b, t, q, w, s, x, o, i, f, fw, m, mf, p in itertools.product(
            args.k1, args.b, args.title, args.query_title, args.time, args.scale, args.topics,
            args.outlet, args.idf_power, args.feedback, args.feedback_weight, args.max_terms,
            args.max_feedback_terms, args.pool,
        )
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    cli = commands(
        "bench.related.reference",
        dump_help="the store's coverage and the engine's top 5, to JSON",
        score_help="rank every article by BM25 and print the figures",
    )
    parser, s = cli.parser, cli.score
    s.add_argument("--tokens", choices=("engine", "plain"), default="engine")
    s.add_argument("--k1", type=float, nargs="+", default=[Params.k1])
    s.add_argument("--b", type=float, nargs="+", default=[Params.b])
    s.add_argument("--title", type=float, nargs="+", default=[Params.title])
    s.add_argument("--query-title", type=float, nargs="+", default=[Params.query_title])
    s.add_argument("--time", type=float, nargs="+", default=[Params.time])
    s.add_argument("--scale", type=float, nargs="+", default=[Params.scale_hours])
    s.add_argument("--topics", type=float, nargs="+", default=[Params.topics])
    s.add_argument("--outlet", type=float, nargs="+", default=[Params.outlet])
    s.add_argument("--idf-power", type=float, nargs="+", default=[Params.idf_power])
    s.add_argument("--feedback", type=int, nargs="+", default=[Params.feedback])
    s.add_argument("--feedback-weight", type=float, nargs="+", default=[Params.feedback_weight])
    s.add_argument("--max-terms", type=int, nargs="+", default=[0], help="0: all")
    s.add_argument("--max-feedback-terms", type=int, nargs="+", default=[0], help="0: all")
    s.add_argument("--pool", type=int, nargs="+", default=[0], help="0: all")
    s.add_argument("--engine-query", action="store_true", help="the engine's term weights")
    s.add_argument("--diverse", action="store_true", help="the engine's per-outlet rule")
    s.add_argument("--misses", action="store_true", help="print every story not all right")
    args = parser.parse_args(argv)
    if args.command == "dump":
        args.out.write_text(json.dumps(asyncio.run(dump(args.set))))
        return 0
    dumps = [json.loads(p.read_text()) for p in args.dump]
    indexes = [Index(data["articles"], args.tokens) for data in dumps]
    print("engine: " + "  ".join(_line(data["set"], engine_figures(data)) for data in dumps))
    for params in grid(args):
        rows = [
            reference_figures(data, ix, params) for data, ix in zip(dumps, indexes, strict=True)
        ]
        print(
            f"{args.tokens} {params.label()}: "
            + "  ".join(_line(data["set"], r) for data, r in zip(dumps, rows, strict=True))
        )
        if args.misses:
            for r in rows:
                print("\n".join(r["misses"]))
    return 0


def _line(name: str, r: dict[str, Any]) -> str:
    return (
        f"{name} {r['precision_at_k']:.3f} (unc {r['uncurated']:.3f}, r@5 {r['recall_at_5']:.3f},"
        f" wrong {r['wrong']})"
    )


if __name__ == "__main__":
    sys.exit(main())
