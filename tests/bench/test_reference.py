"""The reference ranker (bench/related/reference.py): what its figures rest on."""

from typing import Any

from bench.related.reference import Index, Params, figures, reference_results, stem

STORY = "https://a.example/rate-cut"
ARTICLES: dict[str, dict[str, Any]] = {
    STORY: {
        "title": "Ostmark central bank cuts key rate to 1.75%",
        "excerpt": "The Ostmark Reserve Bank lowered its benchmark rate by 25 basis points.",
        "time": "2026-10-01T12:00:00Z",
        "outlet": "a.example",
        "topics": ["Central Banks"],
    },
    "https://b.example/orb-trims": {
        "title": "ORB trims borrowing costs",
        "excerpt": "Ostmark's reserve bank brought its rate down to 1.75 per cent.",
        "time": "2026-10-01T15:00:00Z",
        "outlet": "b.example",
        "topics": ["Central Banks"],
    },
    "https://c.example/ostmark-football": {
        "title": "Ostmark football club signs striker",
        "excerpt": "The club paid a record fee for the forward.",
        "time": "2026-10-01T13:00:00Z",
        "outlet": "c.example",
        "topics": ["Football"],
    },
    "https://d.example/old-rate-cut": {
        "title": "Ostmark Reserve Bank cuts rate to 1.75%",
        "excerpt": "The Ostmark Reserve Bank lowered its benchmark rate to 1.75%.",
        "time": "2026-03-01T12:00:00Z",
        "outlet": "d.example",
        "topics": ["Central Banks"],
    },
    "https://e.example/linked": {
        "title": "Markets shrug",
        "excerpt": "Shares were flat.",
        "time": "2026-10-01T12:30:00Z",
        "outlet": "e.example",
        "topics": [],
    },
}


def test_an_outlets_paraphrase_outranks_a_shared_name_and_an_earlier_chapter() -> None:
    index = Index(ARTICLES, "engine")
    ranked = index.rank(STORY, Params(), set())
    assert ranked[0] == "https://b.example/orb-trims"
    # The same words months earlier lose to the paraphrase of the same day.
    assert ranked.index("https://d.example/old-rate-cut") > 0
    assert STORY not in ranked


def test_own_coverage_comes_first_never_the_story_nor_a_url_twice() -> None:
    index = Index(ARTICLES, "plain")
    story = {"url": STORY, "coverage": ["https://e.example/linked", STORY]}
    results = reference_results(index, story, Params())
    assert results[0] == "https://e.example/linked"
    assert STORY not in results
    assert len(results) == len(set(results))


def test_the_lookup_budget_keeps_the_heaviest_terms_only() -> None:
    index = Index(ARTICLES, "engine")
    every = index.query(STORY, Params(engine_query=True))
    budget = index.query(STORY, Params(engine_query=True, max_terms=3))
    assert len(budget) == 3 < len(every)
    assert min(budget.values()) >= max(w for k, w in every.items() if k not in budget)


def test_figures_count_precision_over_the_first_min_5_r() -> None:
    data = {
        "events": {"cut": [STORY, "https://b.example/orb-trims"]},
        "curated": {"cut": False},
        "articles": ARTICLES,
    }
    story = {"url": STORY, "event": "cut"}
    right = figures(
        data, [(story, ["https://b.example/orb-trims", "https://c.example/ostmark-football"])]
    )
    wrong = figures(
        data, [(story, ["https://c.example/ostmark-football", "https://b.example/orb-trims"])]
    )
    assert (right["precision_at_k"], right["wrong"], right["recall_at_5"]) == (1.0, 0, 1.0)
    assert (wrong["precision_at_k"], wrong["wrong"], wrong["recall_at_5"]) == (0.0, 1, 1.0)


def test_the_plain_stemmer_joins_inflections_but_not_figures() -> None:
    assert stem("cuts") == stem("cut") == "cut"
    assert stem("lowered") == "lower"
    assert stem("agencies") == "agency"
    assert stem("1.75") == "1.75"
    assert stem("press") == "press"
