"""The re-rank of a story's best similar stories (bot/domain/rerank.py): what each candidate
says of itself moves it, the search's order stands where nothing tells them apart."""

from __future__ import annotations

from bot.domain.rerank import FEATURES, WEIGHTS, Piece, features, reorder, words

HOUR = 3600
NOON = 1_790_000_000


def piece(title: str, excerpt: str, hours: float | None, outlet: str, *topics: str) -> Piece:
    at = None if hours is None else NOON + int(hours * HOUR)
    return Piece.of(title, excerpt, at, outlet, topics or ("Health",))


STORY = piece(
    "Microplastics found in every placenta tested",
    "University of Carrow researchers found plastic particles in all 62 placentas.",
    0,
    "sciencedesk",
)
PARAPHRASE = piece(
    "Plastic pollution reaches the womb, researchers warn",
    "Tiny plastic particles turned up in all 62 placentas donated to the Carrow study.",
    5,
    "meridian",
)
EARLIER_CHAPTER = piece(
    "University of Carrow begins study of microplastics in placentas",
    "Researchers will test placentas donated by expectant mothers; results due in summer.",
    -24 * 50,
    "sciencedesk",
)


def test_every_feature_has_a_weight() -> None:
    assert len(WEIGHTS) == len(FEATURES)
    assert len(features(STORY, [], [(0.5, PARAPHRASE)])[0]) == len(FEATURES)


def test_an_earlier_chapter_from_the_story_s_outlet_goes_below_another_outlet_s_take() -> None:
    # the search scored the chapter higher: it holds more of the story's headline words
    assert reorder(STORY, [], [(0.62, EARLIER_CHAPTER), (0.48, PARAPHRASE)]) == [1, 0]


def test_the_search_s_order_stands_between_candidates_nothing_tells_apart() -> None:
    twin = piece(PARAPHRASE.title, PARAPHRASE.excerpt, 5, "meridian")
    assert reorder(STORY, [], [(0.5, PARAPHRASE), (0.5, twin)]) == [0, 1]
    assert reorder(STORY, [], []) == []


def test_the_story_s_own_coverage_tells_what_its_event_is_called_elsewhere() -> None:
    coverage = piece(
        "Ostmark's reserve bank trims borrowing costs",
        "The ORB brought its benchmark down to 1.75 per cent.",
        2,
        "current",
    )
    story = piece("Central bank cuts key rate", "A quarter-point cut.", 0, "valley")
    echo = piece("ORB trims borrowing costs again", "Benchmark now 1.75 per cent.", 3, "post")
    other = piece("Central bank governor warns on key rate", "Inflation sticky.", 3, "post2")
    own_words_known = features(story, [coverage], [(0.3, echo), (0.3, other)])
    alone = features(story, [], [(0.3, echo), (0.3, other)])
    held = FEATURES.index("share of its words the story holds")
    assert own_words_known[0][held] > alone[0][held]


def test_an_unknown_date_counts_a_day_apart() -> None:
    undated = piece(PARAPHRASE.title, PARAPHRASE.excerpt, None, "meridian")
    day_later = piece(PARAPHRASE.title, PARAPHRASE.excerpt, 24, "meridian")
    apart = FEATURES.index("days apart")
    assert features(STORY, [], [(0.5, undated)])[0][apart] == 1.0
    assert features(STORY, [], [(0.5, undated)]) == features(STORY, [], [(0.5, day_later)])


def test_words_are_read_by_their_first_letters_without_stopwords_headline_first() -> None:
    found = words("Protesters fill the square", "The protest grew; police protested too.")
    assert found == {"protes": 2.0, "fill": 2.0, "square": 2.0, "grew": 1.0, "police": 1.0}


def test_an_outlet_already_listed_above_counts_against_its_next_candidate() -> None:
    again = piece("Fenwick blaze: ferries run all night", "Boats kept coming.", 6, "meridian")
    unknown = piece("Fire latest", "Crews at work.", 6, "")
    rows = features(STORY, [], [(0.5, PARAPHRASE), (0.4, again), (0.3, unknown), (0.2, unknown)])
    above = FEATURES.index("same outlet as a candidate above it")
    assert [row[above] for row in rows] == [0.0, 1.0, 0.0, 0.0]
