"""Article files at the edges an earlier audit left open, through ``topicbot ingest`` as an
operator runs it: numbers YAML 1.1 reads otherwise than written (in the article and in its
entries), a related entry that is the article itself, files in a folder that are not articles,
and text too long for one engine's indexes (the same outcome on both)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import test_cli as cli
from tests.factories import article_text

SQLITE_CONFIG = "storage:\n  path: topicbot.db\n"


def written(name: str, field: str, value: str, **overrides: Any) -> str:
    """An article whose ``field`` is written as ``value`` exactly (unquoted, as exporters do)."""
    url = f"https://harbour-times.example/{name}"
    fields = {"published": True, field: "PLACEHOLDER", "webUrl": url, "related": [], **overrides}
    text = article_text(**fields)
    return text.replace(f"{field}: PLACEHOLDER", f"{field}: {value}", 1)


def ingest_json(tmp_path: Path, *paths: str) -> tuple[int, dict[str, Any]]:
    (tmp_path / "topicbot.yaml").write_text(SQLITE_CONFIG)
    result = cli.topicbot("ingest", *paths, "--json", cwd=tmp_path)
    assert result.stderr == "", result.stderr
    return result.returncode, json.loads(result.stdout)


def related_json(tmp_path: Path, *args: str) -> list[dict[str, Any]]:
    result = cli.topicbot("related", *args, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout)["results"])


# --- 1. numbers and dates YAML 1.1 reads otherwise ------------------------------------------

# Written unquoted, refused with what YAML read and what to write.
REFUSED = {
    "quality-sexagesimal": (
        "quality",
        "1:10",
        "quality: 1:10 is read by YAML as the base-60 number 70: write the number meant in"
        " plain digits",
    ),
    "heat-sexagesimal": (
        "heat",
        "1:10",
        "heat: 1:10 is read by YAML as the base-60 number 70: write the number meant in plain"
        " digits",
    ),
    "heat-negative-sexagesimal": (
        "heat",
        "-1:10",
        "heat: -1:10 is read by YAML as the base-60 number -70: write the number meant in"
        " plain digits",
    ),
    "quality-hex": (
        "quality",
        "0x1F",
        "quality: 0x1F is read by YAML as the hexadecimal number 31: write 31",
    ),
    "quality-binary": (
        "quality",
        "0b101",
        "quality: 0b101 is read by YAML as the binary number 5: write 5",
    ),
    "quality-octal-1.2": (
        "quality",
        "0o17",
        "quality: 0o17 is read by YAML as text, not a number (YAML 1.1, which topicbot reads,"
        " has no 0o octal): write 15",
    ),
    "quality-octal": (
        "quality",
        "070",
        "quality: 070 is read by YAML as the octal number 56: write 70, without the leading zero",
    ),
    "quality-infinite": (
        "quality",
        ".inf",
        "quality: .inf is read by YAML as infinity: write the number meant in plain digits",
    ),
    "heat-nan": (
        "heat",
        ".nan",
        "heat: .nan is read by YAML as not-a-number (.nan): write the number meant in plain digits",
    ),
    "date-sexagesimal": (
        "publishedDateTime",
        "1:10",
        "publishedDateTime: 1:10 is read by YAML as the base-60 number 70, not an ISO 8601 date"
        " and time",
    ),
}
# Written unquoted, meaning what the writer meant: the quality members see.
ACCEPTED = {
    "quality-plus": ("quality", "+12", 12),
    "quality-grouped": ("quality", "0_7", 7),  # 07 is 7 in either base
    "quality-padded-not-octal": ("quality", "085", 85),
    "quality-whole-float": ("quality", "12.0", 12),
    "heat-grouped": ("heat", "1_000", 64),  # heat is not shown; the article is stored
}


def test_a_number_yaml_reads_otherwise_than_written_is_refused_saying_what_to_write(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, (field, value, _) in {**REFUSED, **ACCEPTED}.items():
        title = f"Numbers {name.replace('-', ' ')}"
        (folder / f"{name}.md").write_text(written(name, field, value, title=title))

    code, report = ingest_json(tmp_path, "in")

    assert code == 1
    reasons = {Path(r["path"]).stem: r["error"] for r in report["rejected"]}
    assert reasons == {name: reason for name, (_, _, reason) in REFUSED.items()}
    assert (report["new"], report["warnings"]) == (len(ACCEPTED), [])
    found = {
        r["url"].rsplit("/", 1)[1]: r["quality"]
        for r in related_json(tmp_path, "--query", "numbers", "--limit", "20")
    }
    assert found == {name: quality for name, (_, _, quality) in ACCEPTED.items()}


def test_yes_no_and_quoted_false_mean_what_the_writer_meant_for_published(tmp_path):
    """``published: yes`` (a YAML 1.1 yes/no value) publishes; ``"false"`` in quotes is text
    that reads as false, not as a non-empty (true) string."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name, value in {"yes": "yes", "on": "on", "no": "no", "quoted-false": '"false"'}.items():
        (folder / f"{name}.md").write_text(written(name, "published", value, title=f"Flag {name}"))

    code, report = ingest_json(tmp_path, "in")
    stats = cli.topicbot("stats", "--json", cwd=tmp_path)

    assert (code, report["new"], report["rejected"]) == (0, 4, [])
    counts = json.loads(stats.stdout)
    assert (counts["published"], counts["pending"]) == (2, 2)


# --- 2. the same inside related entries and images ------------------------------------------

ENTRIES = """\
images:
  - {url: "https://harbour-times.example/a.jpg", width: 0x10, height: 900}
  - {url: "https://harbour-times.example/b.jpg", width: 1_600, height: 900}
related:
  - title: Coverage with a hex quality
    webUrl: "https://coastwire.example/hex"
    publishedDateTime: 2026-11-01
    quality: 0x1F
  - title: Coverage with base-60 date and octal quality
    webUrl: "https://coastwire.example/sexagesimal"
    publishedDateTime: 1:10
    quality: 070
    images: [{url: "https://coastwire.example/c.jpg", height: .inf}]
"""


def test_a_misread_number_in_an_entry_costs_that_field_or_image_with_a_warning(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    text = article_text(title="Entries misread", published=True, images=..., related=...)
    head, _, body = text.rpartition("---\n")  # the entries go before the closing line
    (folder / "entries.md").write_text(head + ENTRIES + "---\n" + body)

    code, report = ingest_json(tmp_path, "in")

    assert (code, report["new"], report["rejected"]) == (0, 1, [])
    assert [w["warning"] for w in report["warnings"]] == [
        "images[0].width: 0x10 is read by YAML as the hexadecimal number 16: write 16 (image"
        " skipped)",
        "related[0].quality: 0x1F is read by YAML as the hexadecimal number 31: write 31 (left"
        " out)",
        "related[1].images[0].height: .inf is read by YAML as infinity: write the number meant"
        " in plain digits (image skipped)",
        "related[1].publishedDateTime: 1:10 is read by YAML as the base-60 number 70, not an"
        " ISO 8601 date and time (entry kept, date unknown)",
        "related[1].quality: 070 is read by YAML as the octal number 56: write 70, without the"
        " leading zero (left out)",
    ]
    story = "https://harbour-times.example/transport/driverless-ferries"
    listed = {
        r["url"]: (r["quality"], r["published"]) for r in related_json(tmp_path, "--story", story)
    }
    assert listed == {
        "https://coastwire.example/hex": (0, "2026-11-01T00:00:00+00:00"),
        "https://coastwire.example/sexagesimal": (0, None),
    }


# --- 3. a related entry that is the article itself ------------------------------------------

OWN = "https://harbour-times.example/transport/ferries"
SPELLINGS = [
    "http://harbour-times.example/transport/ferries",  # the scheme
    "https://harbour-times.example/transport/ferries/",  # a trailing slash
    "https://harbour-times.example/transport/ferries?utm_source=feed",  # tracking
    "https://www.harbour-times.example/transport/ferries",  # the www. edition
    "https://m.harbour-times.example/transport/ferries",  # the mobile edition
    "https://harbour-times.example/transport/ferries/amp",  # the AMP edition
]


def entry(title: str, url: str) -> dict[str, Any]:
    return {"title": title, "webUrl": url, "publishedDateTime": "2026-11-01T09:00:00Z"}


def test_a_related_entry_linking_to_the_article_itself_or_listed_twice_is_skipped_saying_so(
    tmp_path,
):
    folder = tmp_path / "in"
    folder.mkdir()
    other = "https://coastwire.example/ferries"
    related = [entry("Coast Wire's", other)] + [
        entry(f"Self {n}", u) for n, u in enumerate(SPELLINGS)
    ]
    related.append(entry("Coast Wire's again", other + "/"))
    (folder / "own.md").write_text(
        article_text(title="Own link", published=True, webUrl=OWN, originalUrl=..., related=related)
    )

    code, report = ingest_json(tmp_path, "in")

    assert (code, report["new"], report["rejected"]) == (0, 1, [])
    assert [w["warning"] for w in report["warnings"]] == [
        "related[1]: is this article's own link (entry skipped)",
        "related[2]: is this article's own link (entry skipped)",
        "related[3]: is this article's own link (entry skipped)",
        "related[4]: is this article's own link (its www., mobile or AMP edition) (entry skipped)",
        "related[5]: is this article's own link (its www., mobile or AMP edition) (entry skipped)",
        "related[6]: is this article's own link (its www., mobile or AMP edition) (entry skipped)",
        "related[7]: is the same link as related[0] (entry skipped)",
    ]
    assert [r["url"] for r in related_json(tmp_path, "--story", OWN)] == [other]


# --- 4. files in a folder that are not articles ---------------------------------------------


def test_files_in_a_folder_that_are_not_articles_are_listed_as_skipped(tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    names = [
        "story.markdown",
        "STORY.MD",
        "b.txt",
        "data.json",
        "feed.yaml",
        "README",
        "sub/page.html",
    ]
    for n, name in enumerate(names):
        (folder / name).write_text(article_text(webUrl=f"https://harbour-times.example/{n}"))
    (folder / ".hidden.json").write_text("{}")  # hidden entries are skipped in silence
    (tmp_path / "topicbot.yaml").write_text(SQLITE_CONFIG)

    text = cli.topicbot("ingest", "in", cwd=tmp_path)
    code, report = ingest_json(tmp_path, "in")

    reads = "topicbot reads .md, .markdown and .txt"
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == [
        "3 files: 3 new, 0 updated, 0 unchanged, 0 rejected; 4 skipped (not article files)",
        f"skipped in/README: not an article file (no suffix); {reads}",
        f"skipped in/data.json: not an article file (.json); {reads}",
        f"skipped in/feed.yaml: not an article file (.yaml); {reads}",
        f"skipped in/sub/page.html: not an article file (.html); {reads}",
    ]
    assert (code, report["unchanged"]) == (0, 3)
    assert report["skipped"] == [
        {"path": "in/README", "reason": f"not an article file (no suffix); {reads}"},
        {"path": "in/data.json", "reason": f"not an article file (.json); {reads}"},
        {"path": "in/feed.yaml", "reason": f"not an article file (.yaml); {reads}"},
        {"path": "in/sub/page.html", "reason": f"not an article file (.html); {reads}"},
    ]


# --- 5. text too long for one engine's indexes: one rule on both ----------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The environment and configuration of ``topicbot`` on each engine."""
    clean = {k: v for k, v in os.environ.items() if k != "TOPICBOT_DATABASE_URL"}
    if request.param == "sqlite":
        (tmp_path / "topicbot.yaml").write_text(SQLITE_CONFIG)
        return clean
    url = request.getfixturevalue("postgresql_database_url")
    (tmp_path / "topicbot.yaml").write_text("storage:\n  backend: postgresql\n")
    return {**clean, "TOPICBOT_DATABASE_URL": url}


def run(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_huge_excerpt_is_cut_with_a_warning_the_same_on_both_engines(tmp_path, engine_env):
    """A megabyte of distinct words in an excerpt: PostgreSQL's full-text index of one article
    (1 MiB) refused it where SQLite took it; now both store it cut, and say so."""
    folder = tmp_path / "in"
    folder.mkdir()
    words = " ".join(f"w{n}" for n in range(120_000))  # 0.9 MB
    coverage = " ".join(f"c{n}" for n in range(3_000))
    related = [{**entry("Coverage", "https://coastwire.example/long"), "excerpt": coverage}]
    (folder / "long.md").write_text(
        article_text(title="Long excerpt", published=True, excerpt=words, related=related)
    )

    ingested = run(tmp_path, engine_env, "ingest", "in", "--json")
    found = run(tmp_path, engine_env, "related", "--query", "w1000", "--json")
    beyond = run(tmp_path, engine_env, "related", "--query", "w100000", "--json")

    assert ingested.returncode == 0, ingested.stderr
    report = json.loads(ingested.stdout)
    assert (report["new"], report["rejected"]) == (1, [])
    kept = (
        len(words[: words.rindex(" ", 0, 10_000)]),
        len(coverage[: coverage.rindex(" ", 0, 10_000)]),
    )
    assert [w["warning"] for w in report["warnings"]] == [
        f"excerpt: is {len(words):,} characters, over the 10,000 an excerpt may hold (stored cut"
        f" to its first {kept[0]:,} characters; the full text belongs in the body)",
        f"related[0].excerpt: is {len(coverage):,} characters, over the 10,000 an excerpt may"
        f" hold (stored cut to its first {kept[1]:,} characters; the full text belongs in the"
        " body)",
    ]
    assert [r["title"] for r in json.loads(found.stdout)["results"]] == ["Long excerpt"]
    assert json.loads(beyond.stdout)["results"] == []  # cut: not stored, not searched


def test_a_link_too_long_for_postgresqls_index_is_refused_the_same_on_both_engines(
    tmp_path, engine_env
):
    """2,048 characters outside ASCII passed the length check and broke PostgreSQL's index of
    links (2,704 bytes a row), failing the whole run; now a link is at most 2,048 bytes on
    both engines: the file or the entry is refused, the rest stored."""
    folder = tmp_path / "in"
    folder.mkdir()
    path = "".join(chr(0x4E00 + n * 7 % 20_000) for n in range(1_000))  # 3,000 bytes
    long_url = f"https://harbour-times.example/{path}"
    (folder / "own.md").write_text(
        article_text(title="Long own link", webUrl=long_url, originalUrl=...)
    )
    related = [entry("Long link", f"https://coastwire.example/{path}")]
    (folder / "entry.md").write_text(
        article_text(
            title="Long entry link", webUrl="https://harbour-times.example/e", related=related
        )
    )

    ingested = run(tmp_path, engine_env, "ingest", "in", "--json")

    assert ingested.returncode == 1, ingested.stderr
    report = json.loads(ingested.stdout)
    too_long = "URL is longer than 2,048 bytes (a character outside ASCII counts 2 to 4)"
    assert report["new"] == 1
    assert [(Path(r["path"]).name, r["error"]) for r in report["rejected"]] == [
        ("own.md", f"webUrl: {too_long}")
    ]
    assert [w["warning"] for w in report["warnings"]] == [
        f"related[0].webUrl: {too_long} (entry skipped)"
    ]


# --- nearby: text YAML reads as a number of another spelling -------------------------------

TEXT_READ_AS_NUMBERS = {
    "title-sexagesimal": (
        "title",
        "1:10",
        'title: is text that YAML reads as the number 70: put it in quotes, as in "1:10"',
    ),
    "topic-hex": (
        "topics",
        "[Transport, 0x1F]",
        'topics[1]: is text that YAML reads as the number 31: put it in quotes, as in "0x1F"',
    ),
    "category-octal": (
        "category",
        "070",
        'category: is text that YAML reads as the number 56: put it in quotes, as in "070"',
    ),
    "topic-year": (  # read as written: the advice was right already
        "topics",
        "[Transport, 2026]",
        'topics[1]: is text that YAML reads as the number 2026: put it in quotes, as in "2026"',
    ),
}


def test_text_yaml_reads_as_a_number_is_told_to_be_quoted_as_it_was_written(tmp_path):
    """Quoting "70" for a headline written `1:10` would store another headline: the advice
    quotes what the file wrote."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name, (field, value, _) in TEXT_READ_AS_NUMBERS.items():
        (folder / f"{name}.md").write_text(written(name, field, value))

    code, report = ingest_json(tmp_path, "in")

    assert code == 1
    reasons = {Path(r["path"]).stem: r["error"] for r in report["rejected"]}
    assert reasons == {name: reason for name, (_, _, reason) in TEXT_READ_AS_NUMBERS.items()}


# --- the last edges: every number field, however a file writes it ----------------------------

WIRE = '"https://coastwire.example/{}"'
# The article's own fields, written unquoted (or quoted, or apart) as exporters do: refused
# saying what was written and what to write, never in the validation library's words.
OWN_FIELDS_REFUSED = {
    "published-sexagesimal": (
        "published",
        "1:10",
        "published: 1:10 is read by YAML as the base-60 number 70, not a yes/no value: write"
        " true or false",
    ),
    "published-hex": (
        "published",
        "0x1F",
        "published: 0x1F is read by YAML as the hexadecimal number 31, not a yes/no value:"
        " write true or false",
    ),
    "published-number": (
        "published",
        "70",
        "published: 70 is a number, not a yes/no value: write true or false",
    ),
    "published-word": (
        "published",
        "maybe",
        "published: 'maybe' is not a yes/no value: write true or false",
    ),
    "quality-quoted-hex": (
        "quality",
        '"0x1F"',
        "quality: '0x1F' is not a number written in decimal: write 31",
    ),
    "heat-quoted-sexagesimal": (
        "heat",
        '"1:10"',
        "heat: '1:10' is not a number written in decimal: write the number meant in plain digits",
    ),
    "quality-quoted-nan": (
        "quality",
        '"nan"',
        "quality: 'nan' is not a number written in decimal: write the number meant in plain digits",
    ),
    "quality-fraction": (
        "quality",
        "12.5",
        "quality: 12.5 is not a whole number: write a whole number",
    ),
    "quality-yes": (
        "quality",
        "yes",
        "quality: is a yes/no value to YAML (true), not a number: write the number in plain digits",
    ),
    "quality-next-line": (
        "quality",
        "\n  070",
        "quality: 070 is read by YAML as the octal number 56: write 70, without the leading zero",
    ),
    "quality-after-comment": (
        "quality",
        "# 0-100\n  070",
        "quality: 070 is read by YAML as the octal number 56: write 70, without the leading zero",
    ),
    "quality-anchored": (
        "quality",
        "&q 070",
        "quality: 070 is read by YAML as the octal number 56: write 70, without the leading zero",
    ),
}


def test_every_number_and_yes_no_field_is_told_in_the_files_terms(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, (field, value, _) in OWN_FIELDS_REFUSED.items():
        (folder / f"{name}.md").write_text(written(name, field, value))

    code, report = ingest_json(tmp_path, "in")

    assert (code, report["new"]) == (1, 0)
    reasons = {Path(r["path"]).stem: r["error"] for r in report["rejected"]}
    assert reasons == {name: reason for name, (_, _, reason) in OWN_FIELDS_REFUSED.items()}


ENTRIES_WRITTEN_OTHERWISE = f"""\
images: [{{"url":"https://harbour-times.example/a.jpg","width":0x10}},
         {{url: "https://harbour-times.example/b.jpg", isCached: 1:10}}]
related:
  - {{"title":"JSON style","webUrl":{WIRE.format("json")},"quality":070}}
  - {{title: 1:10, webUrl: {WIRE.format("title")}}}
  - title: Quoted hex quality
    webUrl: {WIRE.format("quoted")}
    quality: "0x1F"
    provider: {{name: 0x1F, domain: coastwire.example}}
    images: [{{url: 0b11}}]
  - title: Quality apart
    webUrl: {WIRE.format("apart")}
    quality:
      070
"""


def test_an_entry_written_otherwise_is_told_in_the_files_terms(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    text = article_text(title="Entries otherwise", published=True, images=..., related=...)
    head, _, body = text.rpartition("---\n")  # the entries go before the closing line
    (folder / "entries.md").write_text(head + ENTRIES_WRITTEN_OTHERWISE + "---\n" + body)

    code, report = ingest_json(tmp_path, "in")

    assert (code, report["new"], report["rejected"]) == (0, 1, [])
    undated = "publishedDateTime: is missing (entry kept, date unknown)"
    assert [w["warning"] for w in report["warnings"]] == [
        "images[0].width: 0x10 is read by YAML as the hexadecimal number 16: write 16 (image"
        " skipped)",
        "images[1].isCached: 1:10 is read by YAML as the base-60 number 70, not a yes/no value:"
        " write true or false (image skipped)",
        "related[0].quality: 070 is read by YAML as the octal number 56: write 70, without the"
        " leading zero (left out)",
        f"related[0].{undated}",
        'related[1].title: is text that YAML reads as the number 70: put it in quotes, as in "1:10"'
        " (entry skipped)",
        "related[2].images[0].url: is text that YAML reads as the number 3: put it in quotes, as"
        ' in "0b11" (image skipped)',
        "related[2].quality: '0x1F' is not a number written in decimal: write 31 (left out)",
        "related[2].provider.name: is text that YAML reads as the number 31: put it in quotes, as"
        ' in "0x1F" (left out)',
        f"related[2].{undated}",
        "related[3].quality: 070 is read by YAML as the octal number 56: write 70, without the"
        " leading zero (left out)",
        f"related[3].{undated}",
    ]
    story = "https://harbour-times.example/transport/driverless-ferries"
    listed = {r["url"]: r["quality"] for r in related_json(tmp_path, "--story", story)}
    assert listed == {
        "https://coastwire.example/json": 0,
        "https://coastwire.example/quoted": 0,
        "https://coastwire.example/apart": 0,
    }


EMPTY_AND_SINGLE = {
    "quality-empty": ("quality", "", "quality: is empty: write a number, or leave the field out"),
    "heat-empty": ("heat", "", "heat: is empty: write a number, or leave the field out"),
    "published-empty": (
        "published",
        "",
        "published: is empty: write true or false, or leave the field out",
    ),
    "topic-alone-hex": (  # a single topic given as a string is tolerated: as a number, quoted
        "topics",
        "0x1F",
        'topics: is text that YAML reads as the number 31: put it in quotes, as in "0x1F"',
    ),
}


def test_an_empty_number_or_a_lone_topic_read_as_a_number_is_told_what_to_write(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, (field, value, _) in EMPTY_AND_SINGLE.items():
        (folder / f"{name}.md").write_text(written(name, field, value))

    code, report = ingest_json(tmp_path, "in")

    assert (code, report["new"]) == (1, 0)
    reasons = {Path(r["path"]).stem: r["error"] for r in report["rejected"]}
    assert reasons == {name: reason for name, (_, _, reason) in EMPTY_AND_SINGLE.items()}
