"""The semantic prototype's mixing (bench/related/semantic.py): what its figures rest on."""

from bench.related.semantic import Mix

ENGINE = {"filler": 1.0, "event": 0.8, "same kind": 0.6}
COSINE = {"filler": 0.05, "event": 0.6, "same kind": 0.7}


def test_alpha_zero_keeps_the_engines_order() -> None:
    for mode in ("add", "rrf", "gate", "veto"):
        assert Mix(mode, 0.0, 0.2, 10.0).order(ENGINE, COSINE) == ["filler", "event", "same kind"]


def test_veto_demotes_only_what_says_next_to_nothing_of_the_story() -> None:
    assert Mix("veto", 1.0, 0.2, 10.0).order(ENGINE, COSINE) == ["event", "same kind", "filler"]


def test_a_linear_mix_can_put_a_near_topic_above_the_event() -> None:
    assert Mix("add", 0.9, 0.2, 10.0).order(ENGINE, COSINE)[0] == "same kind"
