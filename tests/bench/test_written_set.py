"""The labelled evaluation sets for related coverage, the written one (bench/related/written/)
and the held-out one (bench/related/heldout/), hold together: enough events and distractors,
each event covered by 3-5 outlets, one URL per article, labels that agree with the articles,
and files the real parser accepts; the held-out set shares no article with the written one.
Scores are not tested here (`python -m bench.related.eval [--set heldout]` reports them)."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bench.related.written import DISTRACTOR_KINDS, SETS, SetSpec, WrittenSet, load, write_files
from bench.related.written.filler import (
    NEAR_EVENT_HOURS,
    anchors_from,
    domain_of,
    filler_articles,
    name_clashes,
)
from bot.articles.article_file import read_article_file
from bot.articles.urls import canonical_url


@dataclass(frozen=True)
class Expected:
    events: int
    distractors: int
    per_kind: int  # distractors of each kind, at least
    queries: int
    min_curated: int = 5  # events whose files list other coverage, at least
    kinds: tuple[str, ...] = DISTRACTOR_KINDS  # the kinds the set was written with, each per_kind


# The sets written to the issue's own specification: 40 events, one distractor of each of its
# three kinds per event, 15 queries.
TO_THE_SPECIFICATION = Expected(
    events=40,
    distractors=120,
    per_kind=40,
    queries=15,
    min_curated=8,
    kinds=("same-entity", "other-chapter", "same-kind"),
)

EXPECTED = {
    "written": Expected(events=40, distractors=120, per_kind=20, queries=15),
    "heldout": Expected(events=24, distractors=75, per_kind=15, queries=10),
    "written2": Expected(events=10, distractors=33, per_kind=3, queries=8, min_curated=3),
    "written3": Expected(events=40, distractors=120, per_kind=15, queries=15),
    "written4": Expected(events=40, distractors=120, per_kind=15, queries=15),
    "written5": Expected(events=41, distractors=128, per_kind=20, queries=15),
    "written6": Expected(events=43, distractors=172, per_kind=20, queries=15, min_curated=7),
    # Written to the three kinds, without shared-words distractors.
    "written7": replace(
        TO_THE_SPECIFICATION, events=44, distractors=132, per_kind=44, min_curated=7
    ),
    # Likewise the three kinds, one of each per event.
    "written8": replace(
        TO_THE_SPECIFICATION, events=42, distractors=126, per_kind=42, min_curated=7
    ),
    # Likewise written to the three kinds, one of each per event.
    "written9": replace(TO_THE_SPECIFICATION, min_curated=7),
    "written10": TO_THE_SPECIFICATION,
    "written11": TO_THE_SPECIFICATION,
    "written12": TO_THE_SPECIFICATION,
}


@pytest.fixture(scope="module", params=sorted(SETS))
def spec(request: pytest.FixtureRequest) -> SetSpec:
    return SETS[request.param]


@pytest.fixture(scope="module")
def expected(spec: SetSpec) -> Expected:
    return EXPECTED[spec.name]


@pytest.fixture(scope="module")
def written(spec: SetSpec) -> WrittenSet:
    return load(spec)


def when(article: dict) -> datetime:
    return datetime.fromisoformat(article["publishedDateTime"].replace("Z", "+00:00"))


def test_enough_events_each_covered_by_3_to_5_different_outlets(written, expected):
    by_url = written.by_url()
    assert len(written.events) >= expected.events
    for event in written.events.values():
        outlets = [by_url[url]["provider"]["domain"] for url in event.urls]
        assert 3 <= len(outlets) <= 5, event.id
        assert len(set(outlets)) == len(outlets), f"{event.id}: one outlet twice"


def test_coverage_of_one_event_is_paraphrased_and_spread_over_hours(written):
    by_url = written.by_url()
    for event in written.events.values():
        articles = [by_url[url] for url in event.urls]
        titles = [a["title"].lower() for a in articles]
        assert len(set(titles)) == len(titles), event.id
        span = max(map(when, articles)) - min(map(when, articles))
        assert timedelta(hours=1) <= span <= timedelta(hours=60), event.id


def test_at_least_3_distractors_per_event_of_known_kinds(written, expected):
    assert sum(len(e.distractors) for e in written.events.values()) >= expected.distractors
    for event in written.events.values():
        assert len(event.distractors) >= 3, event.id
        assert {d.kind for d in event.distractors} <= set(DISTRACTOR_KINDS), event.id
    kinds = Counter(d.kind for d in written.distractors.values())
    assert all(kinds[kind] >= expected.per_kind for kind in expected.kinds), kinds


def test_every_url_is_one_article(written):
    urls = [canonical_url(a["webUrl"]) for a in written.all_articles()]
    assert [u for u, n in Counter(urls).items() if n > 1] == []


def test_labels_and_articles_agree(written):
    written_urls = {a["webUrl"] for a in written.articles}
    event_urls = [url for e in written.events.values() for url in e.urls]
    distractor_urls = [d.url for e in written.events.values() for d in e.distractors]
    labelled = event_urls + distractor_urls
    assert [u for u, n in Counter(labelled).items() if n > 1] == []
    assert set(labelled) == written_urls


def test_curated_links_stay_inside_their_event_and_most_events_have_none(written, expected):
    by_url = written.by_url()
    listed = set()
    for event in written.events.values():
        related = [url for u in event.urls for url in by_url[u].get("related", [])]
        assert set(related) <= set(event.urls), event.id
        assert bool(related) == event.curated, event.id
        listed.update(related)
    coverage_only = {a["webUrl"] for a in written.articles if a.get("coverage_only")}
    assert coverage_only <= listed
    curated = sum(e.curated for e in written.events.values())
    assert expected.min_curated <= curated <= len(written.events) // 3


def test_articles_carry_what_an_export_carries(written):
    for article in written.all_articles():
        assert article["title"].strip() and article["excerpt"].strip(), article["webUrl"]
        assert article["webUrl"].startswith("https://")
        assert article["provider"]["domain"].endswith(".example")
        assert 40 <= article["quality"] <= 90, article["webUrl"]
        if not article.get("coverage_only"):
            assert 2 <= len(article["topics"]) <= 5, article["webUrl"]


def test_queries_each_after_a_known_event(written, expected):
    assert len(written.queries) == expected.queries
    assert {q.event for q in written.queries} <= set(written.events)
    assert len({q.text for q in written.queries}) == expected.queries


def test_filler_is_about_no_event_and_a_share_sits_near_events_with_their_topics(written, spec):
    assert len(written.filler) == spec.filler_count
    assert name_clashes(a["title"] + " " + a["excerpt"] for a in written.articles) == []
    by_url = written.by_url()
    anchors = [
        (
            min(when(by_url[u]) for u in e.urls),
            {t for u in e.urls for t in by_url[u].get("topics", [])},
        )
        for e in written.events.values()
    ]
    near = sum(
        any(
            abs(when(f) - start) <= timedelta(hours=NEAR_EVENT_HOURS) and topics & set(f["topics"])
            for start, topics in anchors
        )
        for f in written.filler
    )
    assert 0.25 <= near / len(written.filler) <= 0.5


def test_filler_is_the_same_for_the_same_seed(written, spec):
    by_url = written.by_url()
    anchors = anchors_from({e.id: [by_url[u] for u in e.urls] for e in written.events.values()})
    again = filler_articles(anchors, count=spec.filler_count, seed=spec.filler_seed)
    assert again == written.filler
    assert filler_articles(anchors, count=50, seed=3) != filler_articles(anchors, count=50, seed=4)


def test_the_real_parser_accepts_every_written_file(tmp_path: Path, written):
    small = WrittenSet(written.articles, written.events, written.queries, written.filler[:100])
    count = write_files(small, tmp_path)
    files = sorted(tmp_path.glob("*.md"))
    assert len(files) == count
    drafts = [read_article_file(path) for path in files]
    related = {r.canonical_url for d in drafts for r in d.related}
    stored = {d.canonical_url for d in drafts} | related
    assert stored >= {canonical_url(a["webUrl"]) for a in written.articles}


def test_no_two_filler_articles_share_a_headline_in_a_week(written):
    by_title = sorted(written.filler, key=lambda a: (a["title"], a["publishedDateTime"]))
    for a, b in itertools.pairwise(by_title):
        if a["title"] == b["title"]:
            assert when(b) - when(a) > timedelta(days=7), a["title"]


def test_the_held_out_set_is_other_events_by_other_outlets():
    """Held out means written apart: no article of the written set, its own seed, and the events'
    coverage mostly from outlets the written set never uses."""
    written, heldout = load(SETS["written"], filler_count=0), load(SETS["heldout"], filler_count=0)
    assert SETS["heldout"].folder != SETS["written"].folder
    assert SETS["heldout"].filler_seed != SETS["written"].filler_seed
    written_urls = {canonical_url(a["webUrl"]) for a in written.articles}
    shared = [a["webUrl"] for a in heldout.articles if canonical_url(a["webUrl"]) in written_urls]
    assert shared == []
    assert not set(heldout.events) & set(written.events)
    written_outlets = {a["provider"]["domain"] for a in written.articles}
    by_url = heldout.by_url()
    outlets = [by_url[u]["provider"]["domain"] for e in heldout.events.values() for u in e.urls]
    assert sum(o in written_outlets for o in outlets) <= len(outlets) // 10


def test_an_event_id_without_a_filler_domain_is_refused_saying_which_exist() -> None:
    assert domain_of("biz-71") == "biz"
    with pytest.raises(ValueError, match=r"'hlt-3': its prefix must name a filler domain \(.*biz-"):
        domain_of("hlt-3")
