"""The experiments' dumps (bench/related/dumps.py) run the engine's own story path: each
experiment's per-story record is made from a real store, so a change to the engine's API
breaks these tests, not a later experiment."""

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bench.related import reference, rerank, semantic
from bench.related.dumps import dump_set
from bench.related.written import SETS
from bot.domain.rerank import judged

StoryDump = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def small_set(monkeypatch: pytest.MonkeyPatch) -> str:
    """written2 without its filler: a real set, quick to build."""
    monkeypatch.setitem(SETS, "written2", dataclasses.replace(SETS["written2"], filler_count=0))
    return "written2"


@pytest.mark.parametrize(
    "story",
    [rerank._story, reference._story, semantic._story],
    ids=["rerank", "reference", "semantic"],
)
async def test_a_dump_keeps_every_event_article_with_its_coverage_and_never_the_story(
    small_set: str, story: StoryDump
) -> None:
    dumped = await dump_set(small_set, story)
    stories = dumped["stories"]
    assert len(stories) == sum(len(urls) for urls in dumped["events"].values())
    for record in stories:
        assert record["url"] not in record["coverage"]
    curated = [r for r in stories if dumped["curated"][r["event"]]]
    assert any(r["coverage"] for r in curated)


async def test_the_experiments_re_rank_of_a_dump_is_what_the_engine_lists(small_set: str) -> None:
    """``learn`` fits the weights on dumped pools: its re-rank must be the engine's, or the
    weights it prints would be fit to another ranking than the one they ship in."""
    dumped = await dump_set(small_set, rerank._story)
    reordered = 0
    for record in dumped["stories"]:
        again = rerank.reranked_story(record, dumped["articles"], judged)
        assert again == record["engine"]
        searched = rerank.reranked_story(record, dumped["articles"], lambda row: row[1])
        reordered += searched != record["engine"]
    assert reordered  # the re-rank changed some story's list: the comparison above is not idle
