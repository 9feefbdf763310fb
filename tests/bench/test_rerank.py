"""The re-rank experiment (bench/related/rerank.py): what its figures rest on."""

from typing import Any

from bench.related.rerank import Shape, rerank, time_factor, vectors

STORY = "https://a.example/rate-cut"
PARAPHRASE = "https://b.example/orb-trims"
FOOTBALL = "https://c.example/ostmark-football"
LINKED = "https://e.example/linked"
ARTICLES: dict[str, dict[str, Any]] = {
    STORY: {
        "title": "Ostmark central bank cuts key rate to 1.75%",
        "excerpt": "The Ostmark Reserve Bank lowered its benchmark rate by 25 basis points.",
        "time": "2026-10-01T12:00:00Z",
    },
    PARAPHRASE: {
        "title": "ORB trims borrowing costs",
        "excerpt": "Ostmark's reserve bank brought its rate down to 1.75 per cent.",
        "time": "2026-10-01T17:00:00Z",
    },
    FOOTBALL: {
        "title": "Ostmark football club signs striker for record fee",
        "excerpt": "The club paid a record fee for the forward from Lenz.",
        "time": "2026-10-01T12:30:00Z",
    },
    LINKED: {
        "title": "Markets shrug",
        "excerpt": "Shares were flat.",
        "time": "2026-10-01T13:00:00Z",
    },
}


def story(*pool: tuple[str, float, str]) -> dict[str, Any]:
    return {"url": STORY, "coverage": [LINKED], "pool": [list(p) for p in pool]}


def test_the_engines_own_shape_keeps_its_order_after_the_coverage() -> None:
    dumped = story((FOOTBALL, 0.5, "c"), (PARAPHRASE, 0.4, "b"), (STORY, 0.3, "a"))
    results = rerank(dumped, ARTICLES, vectors(ARTICLES), Shape())
    assert results == [LINKED, FOOTBALL, PARAPHRASE]


def test_time_reshaped_puts_the_nearer_first_where_the_grace_is_gone() -> None:
    dumped = story((PARAPHRASE, 0.5, "b"), (FOOTBALL, 0.45, "c"))
    within_grace = rerank(dumped, ARTICLES, vectors(ARTICLES), Shape())
    no_grace = rerank(dumped, ARTICLES, vectors(ARTICLES), Shape(scale=1.0, grace=0.0))
    assert within_grace[1:] == [PARAPHRASE, FOOTBALL]
    assert no_grace[1:] == [FOOTBALL, PARAPHRASE]
    assert time_factor(5.0, 24.0, 6.0) == 1.0


def test_an_article_about_something_else_loses_when_what_it_explains_counts() -> None:
    dumped = story((FOOTBALL, 0.5, "c"), (PARAPHRASE, 0.45, "b"))
    plain = rerank(dumped, ARTICLES, vectors(ARTICLES), Shape())
    explained = rerank(dumped, ARTICLES, vectors(ARTICLES), Shape(explained_floor=0.0))
    assert plain[1] == FOOTBALL
    assert explained[1] == PARAPHRASE
