"""Would re-ranking the engine's pool by what the candidates say of themselves pay? An
experiment, not part of the engine.

    python -m bench.related.rerank dump --set S --out FILE
    python -m bench.related.rerank score --dump FILE... [--explained A...] [--power P...]
                                         [--coherence C...] [--top M...]
                                         [--scale HOURS...] [--grace HOURS...]
                                         [--dump-scale HOURS] [--dump-grace HOURS] [--misses]
    python -m bench.related.rerank learn --dump FILE... [--judge FILE...]

``dump`` builds the set's store through the real ingest (as ``bench.related.eval`` does) and
keeps, per story of an event, its own coverage, the engine's top 5 (``for_story``) and the
engine's pool: the 30 best of ``RelatedService.similar`` with their scores.

``score`` re-ranks each pool and prints the eval's figures. The engine's score is multiplied
by ``(A + (1 - A) * explained) ** P``, where ``explained`` is the share of the candidate's
own term weight (``bot.domain.terms`` weights times rarity in the set's store, as the engine
weighs rarity) that the story or its own coverage also holds: an article that shares one
word with the story but is about something else explains little of itself. ``--coherence
C`` then adds ``C`` times the candidate's mean similarity (cosine of those weights) to the
``M`` best others of the pool, weighted by their scores: one event's coverage agrees with
itself, a filler matching one word agrees with nothing. ``--scale`` and ``--grace`` reshape
closeness in time: each score is divided by the engine's time factor of the dump (give its
``related.time_scale_hours`` and ``time_grace_hours`` as ``--dump-scale``, ``--dump-grace``)
and multiplied by the factor of ``--scale`` hours past ``--grace`` hours (the additive
topics and quality terms, 0.05 each at most, are scaled with it: an approximation; the
engine's own figures are the eval's). Each combination is one line.

``learn`` fits the engine's re-rank (``bot.domain.rerank``: a logistic regression over its
``FEATURES`` of each story's first ``RERANK_POOL`` pool results past its coverage), scores
each dump left out of the fit (one set out at a time), then each ``--judge`` with the fit on
all dumps, and prints the weights to ship as ``WEIGHTS``. It needs ``numpy`` and
``scikit-learn``, which the project does not install.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.related.dumps import TOP, commands, dump_set, figures, time_of
from bench.related.eval import SHELL_GUILD
from bot.domain.related import RelatedService
from bot.domain.rerank import FEATURES, RERANK_POOL, WEIGHTS, Piece, cosine, features, judged
from bot.domain.terms import story_terms
from storage.related import RARITY_POWER

POOL = 30
MAX_PER_OUTLET = 2
WEIGHT_TIME = 0.97  # related.weights.time
CLOSE_SCORE = 0.1  # related.close_score


async def _story(service: RelatedService, article_id: str, url: str, event: str) -> dict[str, Any]:
    found = await service._story(SHELL_GUILD, article_id, coverage=TOP)
    coverage = service.own_coverage(found)
    article = found.article
    terms = story_terms(article.title, article.excerpt)
    search = await service.similar(found, terms, SHELL_GUILD, POOL)
    _, engine = await service.for_story(SHELL_GUILD, article_id, limit=TOP)
    return {
        "url": url,
        "event": event,
        "coverage": [r.article.canonical_url for r in coverage],
        "engine": [r.article.canonical_url for r in engine],
        "pool": [[c.canonical_url, c.score, c.outlet] for c in search.candidates],
    }


def vectors(articles: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Every article's terms, weighed as the engine weighs them, times rarity in the set."""
    raw = {
        url: {t.key: t.weight for t in story_terms(a["title"], a["excerpt"])}
        for url, a in articles.items()
    }
    df = Counter(key for terms in raw.values() for key in terms)
    n = len(raw)
    return {
        url: {k: w * math.log((n + 2.0) / df[k]) ** RARITY_POWER for k, w in terms.items()}
        for url, terms in raw.items()
    }


def time_factor(hours: float, scale: float, grace: float) -> float:
    """The engine's closeness in time: 1 within ``grace`` hours, half the time-dependent
    share ``scale`` hours past it."""
    apart = max(hours - grace, 0.0) / scale
    return 1 - WEIGHT_TIME + WEIGHT_TIME / (1 + apart * apart)


def hours_apart(articles: dict[str, dict[str, Any]], a: str, b: str) -> float:
    return abs(time_of(articles[a]["time"]) - time_of(articles[b]["time"])) / 3600


@dataclass(frozen=True)
class Shape:
    """A re-rank's knobs (see the module's docstring)."""

    explained_floor: float = 1.0
    power: float = 1.0
    coherence: float = 0.0
    top: int = 5
    scale: float = 24.0
    grace: float = 6.0
    dump_scale: float = 24.0
    dump_grace: float = 6.0


def rerank(
    story: dict[str, Any],
    articles: dict[str, dict[str, Any]],
    vec: dict[str, dict[str, float]],
    shape: Shape,
) -> list[str]:
    explained_floor, power, coherence, top = (
        shape.explained_floor, shape.power, shape.coherence, shape.top
    )  # fmt: skip
    known = set(vec[story["url"]])
    for url in story["coverage"]:
        known |= set(vec.get(url, {}))
    pool = story["pool"]
    scored: list[tuple[float, str, str]] = []
    for url, score, outlet in pool:
        own = vec.get(url, {})
        total = sum(own.values())
        share = sum(w for k, w in own.items() if k in known) / total if total else 0.0
        factor = (explained_floor + (1 - explained_floor) * share) ** power
        hours = hours_apart(articles, story["url"], url)
        factor *= time_factor(hours, shape.scale, shape.grace) / time_factor(
            hours, shape.dump_scale, shape.dump_grace
        )
        scored.append((score * factor, url, outlet))
    if coherence:
        best = sorted(scored, reverse=True)[:top]
        again = []
        for s, url, outlet in scored:
            others = [(b, u) for b, u, _ in best if u != url]
            mass = sum(b for b, _ in others)
            agree = sum(b * cosine(vec.get(url, {}), vec.get(u, {})) for b, u in others)
            again.append((s * (1 + coherence * (agree / mass if mass else 0.0)), url, outlet))
        scored = again
    scored.sort(key=lambda x: -x[0])
    return diverse(story, scored)


def diverse(story: dict[str, Any], scored: list[tuple[float, str, str]]) -> list[str]:
    """The story's coverage first, then ``scored`` in its order with the engine's per-outlet
    rule, and what scores under ``related.close_score`` after the rest, as the engine lists
    them."""
    seen = {story["url"], *story["coverage"]}
    results = list(story["coverage"])
    first: list[tuple[float, str]] = []
    later: list[tuple[float, str]] = []
    per: Counter[str] = Counter()
    for score, url, outlet in scored:
        if url in seen:
            continue
        seen.add(url)
        per[outlet] += 1
        (later if outlet and per[outlet] > MAX_PER_OUTLET else first).append((score, url))
    ordered = first + later
    close = [url for score, url in ordered if score >= CLOSE_SCORE]
    loose = [url for score, url in ordered if score < CLOSE_SCORE]
    return (results + close + loose)[:TOP]


# --- learn: the weights of ``bot.domain.rerank`` ---------------------------------------------


def piece(articles: dict[str, dict[str, Any]], url: str) -> Piece:
    a = articles[url]
    return Piece.of(a["title"], a["excerpt"], int(time_of(a["time"])), a["outlet"], a["topics"])


def pool_rows(
    story: dict[str, Any], articles: dict[str, dict[str, Any]]
) -> list[tuple[str, str, list[float]]]:
    """(url, outlet, ``bot.domain.rerank.features``) of the story's first ``RERANK_POOL``
    pool results past its own coverage, as the engine re-ranks them."""
    seen = {story["url"], *story["coverage"]}
    pool = [c for c in story["pool"] if c[0] not in seen][:RERANK_POOL]
    rows = features(
        piece(articles, story["url"]),
        [piece(articles, url) for url in story["coverage"]],
        [(score, piece(articles, url)) for url, score, _ in pool],
    )
    return [(url, outlet, row) for (url, _, outlet), row in zip(pool, rows, strict=True)]


def reranked(data: dict[str, Any], judge: Callable[[list[float]], float]) -> dict[str, Any]:
    """The eval's figures of the set's pools re-ranked by ``judge`` (a row's logit), the rest
    of each pool after in the search's order and scores kept, as the engine lists them."""
    return figures(
        data, ((st, reranked_story(st, data["articles"], judge)) for st in data["stories"])
    )


def reranked_story(
    story: dict[str, Any],
    articles: dict[str, dict[str, Any]],
    judge: Callable[[list[float]], float],
) -> list[str]:
    """The story's results with its pool re-ranked by ``judge``, as the engine lists them."""
    score_of = {url: score for url, score, _ in story["pool"]}
    rows = pool_rows(story, articles)
    first = sorted(rows, key=lambda r: -judge(r[2]))
    taken = {url for url, _, _ in first}
    ordered = [(score_of[url], url, outlet) for url, outlet, _ in first]
    ordered += [(c[1], c[0], c[2]) for c in story["pool"] if c[0] not in taken]
    return diverse(story, ordered)


def learn(dumps: list[dict[str, Any]], judges: list[dict[str, Any]]) -> None:
    """Fit on ``dumps``, each left out of its own fit in turn, then on all of them for the
    ``judges``; print the figures, then the weights to ship."""
    # not dependencies of the project: imported only here
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    def samples(data: dict[str, Any]) -> list[tuple[list[float], int]]:
        event_of = {u: e for e, us in data["events"].items() for u in us}
        return [
            (row, int(event_of.get(url) == story["event"]))
            for story in data["stories"]
            for url, _, row in pool_rows(story, data["articles"])
        ]

    samples_of = {data["set"]: samples(data) for data in dumps}

    def fit(sets: list[dict[str, Any]]) -> list[float]:
        rows = [s for data in sets for s in samples_of[data["set"]]]
        model = LogisticRegression(max_iter=5000).fit(
            np.array([r for r, _ in rows]), np.array([y for _, y in rows])
        )
        return [float(w) for w in model.coef_[0]]

    def by(weights: list[float]) -> Callable[[list[float]], float]:
        return lambda row: judged(row, weights)

    def line(label: str, sets: list[dict[str, Any]], judge_of: Any) -> None:
        parts = [label]
        for data in sets:
            engine = figures(data, ((st, st["engine"]) for st in data["stories"]))
            fig = reranked(data, judge_of(data))
            parts.append(
                f"{data['set']} {engine['precision_at_k']:.3f}->{fig['precision_at_k']:.3f}"
                f" ({engine['wrong']}->{fig['wrong']})"
            )
        print("  ".join(parts), flush=True)

    if len(WEIGHTS) == len(FEATURES):  # else the features changed: the weights are to be fit
        line("shipped weights:", [*dumps, *judges], lambda _: judged)
    line("one set left out:", dumps, lambda held: by(fit([d for d in dumps if d is not held])))
    weights = fit(dumps)
    if judges:
        line("fit on all, judges:", judges, lambda _: by(weights))
    shipped = ", ".join(f"{w:.4f}" for w in weights)
    print(f"WEIGHTS = ({shipped})  # fit on {', '.join(d['set'] for d in dumps)}")


def main(argv: Sequence[str] | None = None) -> int:
    cli = commands(
        "bench.related.rerank",
        dump_help="the engine's pool of every story of a set, to JSON",
        score_help="re-rank the dumped pools and print the figures",
    )
    parser, s = cli.parser, cli.score
    s.add_argument("--explained", type=float, nargs="+", default=[1.0])
    s.add_argument("--power", type=float, nargs="+", default=[1.0])
    s.add_argument("--coherence", type=float, nargs="+", default=[0.0])
    s.add_argument("--top", type=int, nargs="+", default=[5])
    s.add_argument("--scale", type=float, nargs="+", default=[24.0])
    s.add_argument("--grace", type=float, nargs="+", default=[6.0])
    s.add_argument("--dump-scale", type=float, default=24.0, help="the dump's time_scale_hours")
    s.add_argument("--dump-grace", type=float, default=6.0, help="the dump's time_grace_hours")
    s.add_argument("--misses", action="store_true")
    learning = cli.subcommands.add_parser(
        "learn", help="fit a classifier of the pools (needs scikit-learn)"
    )
    learning.add_argument("--dump", type=Path, nargs="+", required=True)
    learning.add_argument("--judge", type=Path, nargs="*", default=[])
    args = parser.parse_args(argv)
    if args.command == "dump":
        args.out.write_text(json.dumps(asyncio.run(dump_set(args.set, _story))))
        return 0
    dumps = [json.loads(p.read_text()) for p in args.dump]
    if args.command == "learn":
        learn(dumps, [json.loads(p.read_text()) for p in args.judge])
        return 0
    vecs = [vectors(data["articles"]) for data in dumps]
    for data in dumps:
        engine = figures(data, ((st, st["engine"]) for st in data["stories"]))
        print(f"{data['set']:9} engine {engine['precision_at_k']:.3f} wrong {engine['wrong']}")
    grid = itertools.product(
        args.explained, args.power, args.coherence, args.top, args.scale, args.grace
    )
    for a, p, c, m, scale, grace in grid:
        shape = Shape(a, p, c, m, scale, grace, args.dump_scale, args.dump_grace)
        line = [f"explained {a} power {p} coherence {c} top {m} scale {scale} grace {grace}:"]
        for data, vec in zip(dumps, vecs, strict=True):
            results = [(st, rerank(st, data["articles"], vec, shape)) for st in data["stories"]]
            fig = figures(data, results)
            line.append(f"{data['set']} {fig['precision_at_k']:.3f} ({fig['wrong']})")
            if args.misses:
                print("\n".join(fig["misses"]))
        print("  ".join(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
