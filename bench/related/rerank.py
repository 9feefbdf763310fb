"""Would re-ranking the engine's pool by what the candidates say of themselves pay? An
experiment, not part of the engine.

    python -m bench.related.rerank dump --set S --out FILE
    python -m bench.related.rerank score --dump FILE... [--explained A...] [--power P...]
                                         [--coherence C...] [--top M...]
                                         [--scale HOURS...] [--grace HOURS...]
                                         [--dump-scale HOURS] [--dump-grace HOURS] [--misses]
    python -m bench.related.rerank learn --dump FILE... [--judge FILE...] [--top N]

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

``learn`` fits a classifier of (story, candidate) pairs on the dumps' first ``--top`` pool
results (features: the engine's score and rank, time apart, same outlet, shared topics,
shared term weight either way, cosines, coherence with the pool's best), scores each dump
left out of the fit (one set out at a time), then each ``--judge`` with the fit on all
dumps. It needs ``numpy`` and ``scikit-learn``, which the project does not install. It
tells how much any re-rank of the pool could take from these signals, not a model to ship.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.related.dumps import TOP, commands, dump_set, figures, time_of
from bench.related.eval import SHELL_GUILD
from bot.domain.related import RelatedService
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


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b.get(k, 0.0) for k, w in a.items())
    na = math.sqrt(sum(w * w for w in a.values()))
    nb = math.sqrt(sum(w * w for w in b.values()))
    return dot / (na * nb) if na and nb else 0.0


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
    """The story's coverage first, then the ranking with the engine's per-outlet rule, and
    what scores under ``related.close_score`` after the rest, as the engine lists them."""
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


# --- learn: how much a re-rank of the pool could take ----------------------------------------


def pair_features(
    story: dict[str, Any],
    articles: dict[str, dict[str, Any]],
    vec: dict[str, dict[str, float]],
    top: int,
) -> list[tuple[str, str, list[float]]]:
    """(url, outlet, features) of the story's first ``top`` pool results past its coverage."""
    url = story["url"]
    seen = {url, *story["coverage"]}
    pool = [c for c in story["pool"] if c[0] not in seen][:top]
    if not pool:
        return []
    known = dict(vec[url])
    for linked in story["coverage"]:
        for key, weight in vec.get(linked, {}).items():
            known[key] = max(known.get(key, 0.0), weight)
    topics = {t.lower() for t in articles[url]["topics"]}
    mass = sum(known.values()) or 1.0
    rows = []
    for rank, (other, score, outlet) in enumerate(pool):
        own = vec.get(other, {})
        own_mass = sum(own.values()) or 1.0
        hours = hours_apart(articles, url, other)
        shared_topics = topics & {t.lower() for t in articles[other]["topics"]}
        agree = [cosine(own, vec.get(o[0], {})) for o in pool[:5] if o[0] != other]
        features = [
            score / (pool[0][1] or 1.0),
            score,
            1 / (1 + rank),
            math.exp(-hours / 24),
            hours / 24,
            float(outlet == articles[url]["outlet"]),
            len(shared_topics) / max(len(topics), 1),
            sum(w for k, w in known.items() if k in own) / mass,
            sum(w for k, w in own.items() if k in known) / own_mass,
            cosine(known, own),
            sum(agree) / len(agree) if agree else 0.0,
        ]
        rows.append((other, outlet, features))
    return rows


def learn(dumps: list[dict[str, Any]], judges: list[dict[str, Any]], top: int) -> None:
    # not dependencies of the project: imported only here
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    def rows_of(data: dict[str, Any]) -> list[tuple[int, str, str, list[float], int]]:
        vec = vectors(data["articles"])
        event_of = {u: e for e, us in data["events"].items() for u in us}
        return [
            (i, url, outlet, f, int(event_of.get(url) == story["event"]))
            for i, story in enumerate(data["stories"])
            for url, outlet, f in pair_features(story, data["articles"], vec, top)
        ]

    def ranked(data: dict[str, Any], rows: list[Any], model: Any) -> dict[str, Any]:
        chance = model.predict_proba(np.array([r[3] for r in rows]))[:, 1]
        by_story: dict[int, list[tuple[float, str, str]]] = {}
        for row, p in zip(rows, chance, strict=True):
            by_story.setdefault(row[0], []).append((float(p), row[1], row[2]))
        results = []
        for i, story in enumerate(data["stories"]):
            first = sorted(by_story.get(i, []), key=lambda x: -x[0])
            taken = {u for _, u, _ in first}
            rest = [(-1.0, c[0], c[2]) for c in story["pool"] if c[0] not in taken]
            results.append((story, diverse(story, first + rest)))
        return figures(data, results)

    rows = {d["set"]: rows_of(d) for d in [*dumps, *judges]}
    models = {
        "logistic": lambda: LogisticRegression(max_iter=2000),
        "boosted trees": lambda: HistGradientBoostingClassifier(
            max_depth=3, max_iter=150, learning_rate=0.05
        ),
    }
    for name, make in models.items():
        line = [f"{name}, one set left out:"]
        for held in dumps:
            train = [r for d in dumps if d is not held for r in rows[d["set"]]]
            model = make().fit(np.array([r[3] for r in train]), np.array([r[4] for r in train]))
            engine = figures(held, ((st, st["engine"]) for st in held["stories"]))
            fig = ranked(held, rows[held["set"]], model)
            line.append(
                f"{held['set']} {engine['precision_at_k']:.3f}->{fig['precision_at_k']:.3f}"
            )
        print("  ".join(line), flush=True)
        if not judges:
            continue
        train = [r for d in dumps for r in rows[d["set"]]]
        model = make().fit(np.array([r[3] for r in train]), np.array([r[4] for r in train]))
        line = [f"{name}, fit on all, judges:"]
        for judge in judges:
            engine = figures(judge, ((st, st["engine"]) for st in judge["stories"]))
            fig = ranked(judge, rows[judge["set"]], model)
            line.append(
                f"{judge['set']} {engine['precision_at_k']:.3f}->{fig['precision_at_k']:.3f}"
                f" ({engine['wrong']}->{fig['wrong']} wrong)"
            )
        print("  ".join(line), flush=True)


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
    learning.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)
    if args.command == "dump":
        args.out.write_text(json.dumps(asyncio.run(dump_set(args.set, _story))))
        return 0
    dumps = [json.loads(p.read_text()) for p in args.dump]
    if args.command == "learn":
        learn(dumps, [json.loads(p.read_text()) for p in args.judge], args.top)
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
