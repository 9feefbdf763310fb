"""The close spellings offered back for a topic typed slightly wrong."""

from __future__ import annotations

from bot.domain.topic_names import edits, near_names


def test_edits_count_a_swap_of_neighbours_as_one():
    assert edits("climte", "climate") == 1
    assert edits("cliamte", "climate") == 1
    assert edits("theatre", "theater") == 1
    assert edits("", "abc") == 3
    assert edits("same", "same") == 0


def test_only_the_closest_names_are_offered_in_the_order_given():
    assert near_names("ecoomy", ["Ecology", "Economy"]) == ["Economy"]
    assert near_names("ecolomy", ["Ecology", "Economy"]) == ["Ecology", "Economy"]
    assert near_names("ZURCH", ["Zürich"]) == ["Zürich"]  # accents and case aside


def test_short_or_far_names_offer_nothing():
    assert near_names("ai", ["AI", "EU"]) == []  # two letters: any slip is another word
    assert near_names("gardening", ["Climate"]) == []
    assert near_names("eu", ["EU"]) == []  # folding alike is not a misspelling's business


def test_at_most_three_are_offered():
    assert near_names("cat", ["Bat", "Cab", "Car", "Cut", "Hat"]) == ["Bat", "Cab", "Car"]
