"""What ``topicbot ingest`` tells a newsroom whose exporter writes what our docs never asked
for: a date as Unix time or as nothing, a year out of range, a field written twice. Each
reason must name the field and say, in the newsroom's terms, what to write instead (never a
Python type or ``repr``)."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

from tests import test_cli as cli
from tests.factories import article_text

# A file's own date, as its exporter wrote it (unquoted: YAML types it), and the reason.
DATES = {
    "epoch-seconds.md": (
        "1765015200",
        "publishedDateTime: is the number 1765015200, not an ISO 8601 date and time (read as"
        " Unix time in seconds it is 2025-12-06T10:00:00Z: write that)",
    ),
    "epoch-milliseconds.md": (
        "1765015200000",
        "publishedDateTime: is the number 1765015200000, not an ISO 8601 date and time (read as"
        " Unix time in milliseconds it is 2025-12-06T10:00:00Z: write that)",
    ),
    "epoch-quoted.md": (
        '"1765015200"',
        "publishedDateTime: '1765015200' is not an ISO 8601 date and time (read as Unix time in"
        " seconds it is 2025-12-06T10:00:00Z: write that)",
    ),
    "null.md": (
        "null",
        "publishedDateTime: is empty: an ISO 8601 date and time is required, such as"
        " 2026-11-20T16:05:00Z",
    ),
    "yes.md": (
        "yes",
        "publishedDateTime: is a yes/no value to YAML (true), not an ISO 8601 date and time",
    ),
    "huge-number.md": (
        "9" * 400,  # past a float: no Unix time to offer, and no crash working it out
        f"publishedDateTime: is the number {'9' * 57}..., not an ISO 8601 date and time",
    ),
    "quoted-huge-number.md": (
        '"' + "9" * 5000 + '"',  # past what int() reads from text
        f"publishedDateTime: '{'9' * 56}... is not an ISO 8601 date and time",
    ),
    "nan.md": (
        ".nan",
        "publishedDateTime: .nan is read by YAML as not-a-number (.nan), not an ISO 8601 date"
        " and time",
    ),
    "year-one.md": (
        "0001-01-01",
        "publishedDateTime: 0001-01-01 is outside the years 1900 to 2200",
    ),
    "year-9999.md": (
        "9999-12-31T23:59:59Z",
        "publishedDateTime: 9999-12-31T23:59:59+00:00 is outside the years 1900 to 2200",
    ),
}


def dated(date: str) -> str:
    text = article_text(publishedDateTime="PLACEHOLDER")
    return text.replace("publishedDateTime: PLACEHOLDER", f"publishedDateTime: {date}", 1)


def test_a_date_the_exporter_wrote_otherwise_is_refused_saying_what_to_write(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, (date, _) in DATES.items():
        (folder / name).write_text(dated(date), encoding="utf-8")
    (tmp_path / "topicbot.yaml").write_text("storage:\n  path: topicbot.db\n")

    result = cli.topicbot("ingest", "in", "--json", cwd=tmp_path)

    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    reasons = {Path(r["path"]).name: r["error"] for r in report["rejected"]}
    assert reasons == {name: reason for name, (_, reason) in DATES.items()}


# Numbers an exporter pads with zeros: YAML 1.1 (PyYAML's) reads 070 as octal 56, 085 (not
# octal) as 85; a newsroom would never guess, so an octal reading is refused saying what to
# write.
PADDED = {
    "quality-070.md": (
        "quality",
        "070",
        "quality: 070 is read by YAML as the octal number 56: write 70, without the leading zero",
    ),
    "heat-010.md": (
        "heat",
        "010",
        "heat: 010 is read by YAML as the octal number 8: write 10, without the leading zero",
    ),
    "quality-signed.md": (
        "quality",
        "+012  # padded",
        "quality: +012 is read by YAML as the octal number 10: write 12, without the leading zero",
    ),
}


def test_a_zero_padded_number_yaml_reads_as_octal_is_refused_saying_what_to_write(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, (field, written, _) in PADDED.items():
        text = article_text(**{field: 11}).replace(f"\n{field}: 11\n", f"\n{field}: {written}\n")
        (folder / name).write_text(text, encoding="utf-8")
    fine = article_text(
        quality=11,
        title="Zero Padded",
        published=True,
        webUrl="https://harbour-times.example/fine",
        related=[],
    )
    fine = fine.replace("quality: 11", "quality: 085").replace("heat: 12", "heat: 07")
    (folder / "quality-085.md").write_text(fine)  # 085 is no octal number; 07 is 7 either way
    (tmp_path / "topicbot.yaml").write_text("storage:\n  path: topicbot.db\n")

    result = cli.topicbot("ingest", "in", "--json", cwd=tmp_path)
    found = cli.topicbot("related", "--query", "padded", "--json", cwd=tmp_path)

    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    reasons = {Path(r["path"]).name: r["error"] for r in report["rejected"]}
    assert reasons == {name: reason for name, (_, _, reason) in PADDED.items()}
    assert report["new"] == 1
    assert [r["quality"] for r in json.loads(found.stdout)["results"]] == [85]


def test_a_utf32_export_is_named_as_such_and_a_doubled_byte_order_mark_is_tolerated(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    text = article_text(title="Café “quoted”")
    (folder / "utf32.md").write_bytes(text.encode("utf-32"))  # with its byte-order mark
    twice = article_text(title="Twice marked", webUrl="https://harbour-times.example/twice")
    (folder / "twice.md").write_bytes(codecs.BOM_UTF8 * 2 + twice.encode())  # joined exports
    (tmp_path / "topicbot.yaml").write_text("storage:\n  path: topicbot.db\n")

    result = cli.topicbot("ingest", "in", "--json", cwd=tmp_path)

    report = json.loads(result.stdout)
    assert [(Path(r["path"]).name, r["error"]) for r in report["rejected"]] == [
        ("utf32.md", "file: is UTF-32 text, not UTF-8: save or export it as UTF-8")
    ]
    assert report["new"] == 1
