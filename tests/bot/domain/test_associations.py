"""Term associations learned from the store's stories: what is learned (pairs of different
outlets' coverage of one event, seen in more than one story, more often than chance) and
what /related finds with them, through a real store."""

from __future__ import annotations

from datetime import timedelta

from bot.config import RelatedSettings, RetentionSettings
from bot.domain.associations import AssociationLearner, associated_terms, learn
from bot.domain.related import RelatedService
from bot.domain.retention import Housekeeper
from bot.domain.terms import story_terms
from bot.jobs import housekeeping_job
from storage import Store
from storage.associations import Association, StoryMember
from tests.bot.domain.news_store import GUILD, add

WINDOW = timedelta(hours=72)


def member(story: int, title: str, excerpt: str, outlet: str) -> StoryMember:
    return StoryMember(story, title, excerpt, outlet)


FACE_STORIES = [
    member(1, "Police trial facial recognition at Brenton station", "", "a.example"),
    member(1, "Face cameras to watch Brenton commuters", "", "b.example"),
    member(2, "Facial recognition vans scan Delford crowds", "", "c.example"),
    member(2, "Delford officers deploy face cameras at festival", "", "d.example"),
]


def pairs(learned: list[Association]) -> set[tuple[str, str]]:
    return {(a.term, a.associate) for a in learned}


def test_paraphrases_seen_in_two_stories_are_learned_both_ways():
    learned = pairs(learn(FACE_STORIES))
    assert {("facial", "camera"), ("camera", "facial"), ("recognition", "face")} <= learned


def test_one_story_s_own_words_are_not_a_paraphrase():
    learned = pairs(learn(FACE_STORIES[:2]))
    assert learned == set()  # all of it seen in one story only


def test_words_both_sides_share_and_one_outlet_s_follow_ups_teach_nothing():
    same_outlet = [
        member(1, "Facial recognition at Brenton station", "", "a.example"),
        member(1, "Face cameras at Brenton station", "", "a.example"),
        member(2, "Facial recognition in Delford", "", "c.example"),
        member(2, "Face cameras in Delford", "", "c.example"),
    ]
    assert learn(same_outlet) == []
    learned = pairs(learn(FACE_STORIES))
    assert not {("brenton", "brenton"), ("delford", "delford")} & learned
    assert all(a != b for a, b in learned)


def test_an_associate_weighs_its_term_times_strength_and_scale():
    terms = story_terms("Council ends facial recognition pilot", "")
    found = [
        Association("facial", "camera", ("cameras", "camera"), 0.5),
        Association("recognition", "camera", ("cameras", "camera"), 0.5),
        Association("facial", "council", ("council",), 1.0),  # the story has it already
    ]
    (camera,) = associated_terms(terms, found, scale=0.5, limit=4)
    weight = {t.key: t.weight for t in terms}
    assert camera.key == "camera" and camera.forms == ("cameras", "camera")
    assert camera.weight == (weight["facial"] + weight["recognition"]) * 0.5 * 0.5


async def add_face_history(store: Store) -> None:
    """Two earlier events whose files list other outlets' coverage of them."""
    await add(
        store,
        "brenton-cameras",
        "Face cameras to watch Brenton commuters",
        "",
        "2026-07-01T10:00:00Z",
        outlet="bee",
    )
    await add(
        store,
        "brenton",
        "Police trial facial recognition at Brenton station",
        "",
        "2026-07-01T09:00:00Z",
        outlet="ayy",
        related=("https://bee.example/brenton-cameras",),
    )
    await add(
        store,
        "delford-cameras",
        "Delford officers deploy face cameras at festival",
        "",
        "2026-07-20T10:00:00Z",
        outlet="dee",
    )
    await add(
        store,
        "delford",
        "Facial recognition vans scan Delford crowds",
        "",
        "2026-07-20T09:00:00Z",
        outlet="cee",
        related=("https://dee.example/delford-cameras",),
    )


async def test_coverage_sharing_no_word_with_the_story_is_found_by_what_the_store_learned(store):
    await add_face_history(store)
    story = await add(
        store,
        "grayport",
        "Grayport ends facial recognition pilot",
        "Councillors voted to stop the scheme after complaints.",
        "2026-11-20T09:00:00Z",
        outlet="valley",
    )
    await add(
        store,
        "switched-off",
        "Face cameras switched off after wrongful stops",
        "Fourteen shoppers were wrongly stopped since the scanning began.",
        "2026-11-20T12:00:00Z",
        outlet="current",
    )
    service = RelatedService(store, RelatedSettings())

    async def titles() -> list[str]:
        _, results = await service.for_story(GUILD, story, limit=5)
        return [r.article.title for r in results]

    assert "Face cameras switched off after wrongful stops" not in await titles()
    assert await AssociationLearner(store).run() > 0
    assert "Face cameras switched off after wrongful stops" in await titles()
    off = RelatedService(store, RelatedSettings(association_weight=0))
    _, results = await off.for_story(GUILD, story, limit=5)
    assert "Face cameras switched off after wrongful stops" not in [
        r.article.title for r in results
    ]


async def test_housekeeping_relearns_the_associations(store):
    await add_face_history(store)
    job = housekeeping_job(store, Housekeeper(store, RetentionSettings(), story_window=WINDOW))
    said = await job()
    learned = await store.associations.associates(["facial"])
    assert {"camera", "face"} <= {a.associate for a in learned}
    assert f"learned {len(await store.associations.all())} term associations" in said
