"""A story's search terms: words, names and figures, their spellings and weights."""

from __future__ import annotations

import re
import sqlite3
from importlib import resources

import pytest

from bot.domain.terms import Term, query_terms, story_terms, tokens

SPELLING_MIGRATION = "0027_search_spells_out_letters.sql"


def by_key(terms: list[Term]) -> dict[str, Term]:
    return {t.key: t for t in terms}


def keys(text: str) -> list[str]:
    return [t.key for t in query_terms(text)]


@pytest.mark.parametrize(
    "written", ["$13K", "$13,000", "13,000", "13000", "13 thousand dollars", "$13k"]
)
def test_one_amount_written_any_way_is_one_term(written):
    (term,) = [t for t in query_terms(f"heat pump rebate of {written}") if t.key == "13000"]
    assert {"13k", "13 000", "13000", "13 thousand"} <= set(term.forms)


@pytest.mark.parametrize(
    ("written", "key", "form"),
    [
        ("$8.4bn", "8400000000", "8 4bn"),
        ("8.4 billion dollars", "8400000000", "8 4 billion"),
        ("$4.2M", "4200000", "4 2m"),
        ("4.2 million users", "4200000", "4 2 million"),
        ("1.75%", "1.75%", "1 75"),
        ("1.75 per cent", "1.75%", "1 75"),
        ("1.75 percent", "1.75%", "1 75"),
        ("2:00:28", "2:00:28", "2 00 28"),
        ("$41.50 a share", "41.5", "41 50"),
        ("1,337 seconds", "1337", "1 337"),
        ("a 150-million-year-old beast", "150000000", "150 million"),
        ("a $4-billion deal", "4000000000", "4bn"),
    ],
)
def test_figures_are_normalised_and_searched_as_outlets_spell_them(written, key, form):
    terms = by_key(query_terms(written))
    assert key in terms
    assert form in terms[key].forms


@pytest.mark.parametrize(
    "written",
    [
        "2:04:37",
        "2hr 4min 37sec",
        "2h 4m 37s",
        "2 hours, 4 minutes and 37 seconds",
        "two hours, four minutes and 37 seconds",
    ],
)
def test_a_race_time_written_any_way_is_one_term_searched_every_way(written):
    terms = by_key(query_terms(f"marathon won in {written}"))
    assert "marathon" in terms
    assert {"2 04 37", "2hr 4min 37sec", "2 hours 4 minutes and 37 seconds"} <= set(
        terms["2:04:37"].forms
    )
    assert not {"2", "4", "37"} & set(terms)  # its numbers are not read again as words


@pytest.mark.parametrize("text", ["at 2:18 pm", "ran 10 minutes late", "a 4m deal", "3 metres"])
def test_what_is_not_a_time_of_hours_and_minutes_is_not_read_as_one(text):
    forms = [form for t in query_terms(text) for form in t.forms]
    assert not any("min" in form and any(c.isdigit() for c in form) for form in forms)


@pytest.mark.parametrize("written", ["43.1C", "43.1°C", "43.1 °C", "109.6F", "109.6°F"])
def test_a_temperature_is_one_term_in_either_scale(written):
    terms = by_key(query_terms(f"hottest day on record: {written}"))
    assert {"43 1c", "43 1 c", "109 6f"} <= set(terms["43.1°c"].forms)


@pytest.mark.parametrize(("text", "key"), [("a -5.2C night", "-5.2°c"), ("minus 5.2C", "-5.2°c")])
def test_a_temperature_below_zero_is_not_the_one_above(text, key):
    assert key in by_key(query_terms(text))


@pytest.mark.parametrize("text", ["on 4F of the tower", "grade 3C pupils", "Vitamin C"])
def test_a_whole_number_with_a_bare_letter_is_not_a_temperature(text):
    assert not any(t.key.endswith("°c") for t in query_terms(text))


def test_a_figure_is_not_read_again_as_words():
    assert keys("$13,000 rebate") == ["13000", "rebate"]
    assert keys("4.2M runners") == ["4200000", "runner"]


@pytest.mark.parametrize("text", ["100m sprint", "ORCA-12 b", "the 12b planet"])
def test_a_letter_after_a_number_is_not_always_money(text):
    assert not any(t.key.endswith("000000") for t in query_terms(text))


@pytest.mark.parametrize(
    "text", ["9" * 100, "$" + "9" * 40 + "bn", "1." + "5" * 60 + "%", "999," * 12 + "999 dollars"]
)
def test_numbers_no_one_writes_are_read_as_words(text):
    found = query_terms(text)  # never a decimal's InvalidOperation
    assert found
    assert all(form.isalnum() for t in found for form in t.forms)  # words, not phrases


def test_small_bare_numbers_count_less_than_words():
    terms = by_key(query_terms("27 suspected species"))
    assert terms["27"].weight < terms["species"].weight


def test_possessives_and_contractions_leave_the_word():
    assert keys("Port Caldwell's vans can't stop") == ["port", "caldwell", "van", "stop"]


def test_hyphenated_words_are_their_parts_and_the_word_written_solid():
    assert keys("facial-recognition vans") == ["facial", "recognition", "van", "facialrecognition"]
    assert keys("face-scanning cameras") == ["face", "scanning", "camera", "facescanning"]
    assert {"sky", "lane", "skylane"} <= set(keys("Sky-Lane says sorry"))


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("rose to five-point-four per cent", "5.4%"),
        ("three point two five percent", "3.25%"),
        ("two point five million people", "2500000"),
    ],
)
def test_a_figure_in_words_with_a_point_is_the_figure(written, key):
    assert key in keys(written)


def test_a_point_without_digits_is_a_word():
    assert keys("at one point the crowd") == ["point", "crowd"]


def test_a_plural_and_its_singular_are_one_term_with_both_forms():
    (placentas,) = query_terms("placentas")
    (placenta,) = query_terms("placenta")
    assert placentas.key == placenta.key == "placenta"
    assert set(placentas.forms) == set(placenta.forms) == {"placenta", "placentas"}
    assert query_terms("batteries")[0].forms == ("batteries", "battery")


def test_names_and_acronyms_weigh_more_than_words():
    terms = by_key(story_terms("Regulator grounds jets", "The FAA told Corvan to stop flights."))
    assert terms["faa"].weight > terms["flight"].weight
    assert terms["corvan"].weight > terms["flight"].weight


def test_capitals_say_nothing_in_title_case_or_shouting():
    shouting = by_key(story_terms("PLASTIC IN THE WOMB: SHOCK STUDY", ""))
    title_case = by_key(story_terms("Microplastics Found In Every Placenta", ""))
    assert shouting["plastic"].weight == shouting["womb"].weight
    assert title_case["microplastic"].weight == title_case["placenta"].weight


def test_a_headline_term_weighs_more_and_a_term_in_both_counts_twice():
    terms = by_key(
        story_terms("Microplastics found in placentas", "Researchers tested 62 placentas.")
    )
    assert terms["placenta"].weight > terms["microplastic"].weight
    assert terms["microplastic"].weight > terms["researcher"].weight


def test_outlet_dressing_and_stop_words_are_not_terms():
    title = "Analysis: what the new study does and doesn't tell us | Meridian Times"
    assert [t.key for t in story_terms(title, "")] == ["study", "tell"]


def test_a_query_of_stop_words_only_searches_for_them():
    assert keys("The Who") == ["the", "who"]
    assert keys("🚓 *** ^^") == []


def test_labels_keep_the_story_s_own_spelling():
    terms = by_key(query_terms("$13K rebate for heat pumps"))
    assert terms["13000"].label == "$13K"
    assert terms["pump"].label == "pumps"
    in_a_headline = by_key(story_terms("Analysis: Buyers get $4.2M rebate | Outlet", ""))
    assert in_a_headline["4200000"].label == "$4.2M"


@pytest.mark.parametrize(
    "text",
    [
        "Zürich's café — naïve",
        "face-scanning",
        "$13,000 rebate",
        "Ärzte & Œuvres",
        "Tromsø, Łódź",
        "Горбачёв: российский фильм",
        "서울 시장 선거",
    ],
)
def test_tokens_are_what_the_full_text_index_makes_of_a_text(text):
    # the index as the store's schema makes it: FTS5 over the view of migration 0027
    view = re.search(
        r"CREATE VIEW searchable_articles AS .*?;",
        (resources.files("storage") / "migrations" / SPELLING_MIGRATION).read_text("utf-8"),
        re.DOTALL,
    )
    assert view is not None
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE articles (pk, title, excerpt, topics_text, coverage_only)")
    db.execute(view.group(0))
    db.execute(
        "CREATE VIRTUAL TABLE t USING fts5(title, excerpt, topics, content = 'searchable_articles',"
        " content_rowid = 'pk', tokenize = 'unicode61 remove_diacritics 2')"
    )
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
    db.execute("INSERT INTO articles VALUES (1, ?, '', '', 0)", (text,))
    db.execute("INSERT INTO t (t) VALUES ('rebuild')")
    indexed = {row[0] for row in db.execute("SELECT term FROM v")}
    assert set(tokens(text)) == indexed


@pytest.mark.parametrize(
    ("british", "american"),
    [
        ("colour", "color"),
        ("neighbourhood", "neighborhood"),
        ("organised", "organized"),
        ("organisation", "organization"),
        ("centre", "center"),
        ("defence", "defense"),
        ("travelled", "traveled"),
        ("programme", "program"),
        ("grey", "gray"),
    ],
)
def test_british_and_american_spellings_are_one_term(british, american):
    (uk,) = query_terms(british)
    (us,) = query_terms(american)
    assert uk.key == us.key == american
    assert {british, american} <= set(uk.forms) & set(us.forms)


@pytest.mark.parametrize("word", ["promise", "exercise", "size", "hour", "laboratory"])
def test_words_spelt_one_way_everywhere_keep_their_spelling(word):
    assert query_terms(word)[0].key in (word, word.rstrip("s"))
    assert all(form.startswith(word[:4]) for form in query_terms(word)[0].forms)


@pytest.mark.parametrize(
    ("words", "digits", "form"),
    [
        ("four million users", "4000000", "4m"),
        ("thirteen thousand dollars", "13000", "13 000"),
        ("three dead", "3", "3"),
        ("twenty-five per cent", "25%", "25"),
        ("ten percent", "10%", "ten per cent"),
    ],
)
def test_numbers_in_words_are_figures(words, digits, form):
    terms = by_key(query_terms(words))
    assert form in terms[digits].forms


def test_small_numbers_in_digits_are_searched_in_words_too():
    assert by_key(query_terms("3 dead"))["3"].forms == ("3", "three")
    assert "four million" in by_key(query_terms("4 million users"))["4000000"].forms


def test_a_name_written_out_is_searched_as_its_initials_too():
    terms = by_key(
        story_terms(
            "Regulator grounds jets",
            "The Federal Aviation Administration and the Reserve Bank of New Zealand agreed.",
        )
    )
    assert "faa" in terms and "rbnz" in terms
    assert terms["faa"].label == "FAA"


@pytest.mark.parametrize(
    "title",
    [
        "UPDATE 2-Regulator grounds jets",
        "LIVE: Regulator grounds jets",
        "EXCLUSIVE-Regulator grounds jets",
    ],
)
def test_wire_and_live_dressing_is_not_a_term(title):
    assert [t.key for t in story_terms(title, "")] == ["ground", "jet", "regulator"]
