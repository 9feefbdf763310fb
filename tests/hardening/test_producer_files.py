"""What ``topicbot ingest`` tells a newsroom whose exporter writes what our docs never asked
for: a date as Unix time or as nothing, a year out of range, a field written twice. Each
reason must name the field and say, in the newsroom's terms, what to write instead (never a
Python type or ``repr``)."""

from __future__ import annotations

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
    "nan.md": (".nan", "publishedDateTime: is the number nan, not an ISO 8601 date and time"),
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
