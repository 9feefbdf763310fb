"""The news register's hand-written paraphrases (bot/domain/headlinese.txt): how a line is
read, and what /related finds with it, through a real store of either engine."""

from __future__ import annotations

import pytest

from bot.config import RelatedSettings
from bot.domain.lexicon import headlinese, parse
from bot.domain.related import RelatedService
from bot.domain.terms import story_terms
from tests.bot.domain.news_store import GUILD, add


def associates(title: str, excerpt: str = "") -> set[str]:
    lexicon = headlinese()
    sources = story_terms(title, excerpt) + lexicon.phrases(title, excerpt)
    return {a.associate for a in lexicon.associations(sources, strength=1.0)}


def test_a_line_s_marks_say_what_is_read_from_a_story_and_what_is_searched():
    (line,) = parse("walkout/walkouts | on strike | ~strike/strikes | >16 year old")
    walkout, on_strike, strike, age = line
    assert walkout.forms == ("walkout", "walkouts") and walkout.source and walkout.searched
    assert on_strike.key == "on strike" and on_strike.source
    assert strike.searched and not strike.source
    assert age.source and not age.searched


def test_a_line_of_one_item_is_refused():
    with pytest.raises(ValueError, match="two items"):
        parse("walkout/walkouts")


def test_the_package_lexicon_is_a_few_hundred_senses():
    assert len(headlinese()) >= 300


def test_a_story_s_word_or_phrase_calls_up_the_other_ways_of_writing_it():
    assert {"resign", "step down", "stand down"} <= associates("Finance minister quits")
    assert {"quit", "resign"} <= associates("Ilse Varga steps down as treasury chief")
    assert "finance minister" in associates("Ilse Varga steps down as treasury chief")
    assert "behind bars" in associates("Fraudster jailed for eight years")
    assert "live facial recognition" in associates("Police to use LFR at the derby")


def test_a_word_of_several_senses_calls_up_none_of_them():
    # `strike` is a walkout or a missile: only `on strike`, `walkout` and the like call up
    # the walkout line, and only `air strike` the military one
    assert not {"walkout", "industrial action"} & associates("Strike hits fuel depot")
    assert "walkout" in associates("Dock workers go on strike")
    assert "walkout" not in associates("Air strike hits fuel depot")
    assert "administration" not in associates("Trump administration reviews tariffs")


async def titles(store, story: str, settings: RelatedSettings) -> list[str]:
    _, results = await RelatedService(store, settings).for_story(GUILD, story, limit=5)
    return [r.article.title for r in results]


async def test_coverage_sharing_only_news_register_synonyms_with_the_story_is_found(store):
    story = await add(
        store,
        "steps-down",
        "Treasury chief steps down",
        "Bexmoor's Ilse Varga leaves the post after four years.",
        "2026-11-20T09:00:00Z",
        outlet="valley",
    )
    coverage = "Finance minister quits"
    await add(
        store,
        "quits",
        coverage,
        "The kingdom's top economic official resigned on Friday.",
        "2026-11-20T11:00:00Z",
        outlet="current",
    )
    assert coverage in await titles(store, story, RelatedSettings())
    assert coverage not in await titles(store, story, RelatedSettings(lexicon_weight=0))


async def test_a_lexicon_line_does_not_drag_in_a_word_s_other_sense(store):
    story = await add(
        store,
        "depot",
        "Missile strike hits fuel depot near Korvel",
        "Fires burned through the night after the attack on the depot.",
        "2026-11-20T09:00:00Z",
        outlet="valley",
    )
    walkout = "Dock workers stage walkout over pay"
    await add(
        store,
        "walkout",
        walkout,
        "Union members downed tools at dawn in a row over wages.",
        "2026-11-20T10:00:00Z",
        outlet="current",
    )
    assert walkout not in await titles(store, story, RelatedSettings())
