"""``bench.profile_ingest_postgresql --every N``: besides the run's totals, what each N files
cost per 1,000 files (the server's CPU, the writer's, the wall time), so that a cost growing
with the store shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.corpus import CorpusSpec, generate_corpus
from bench.profile_ingest_postgresql import Segments, profile

SEGMENT = re.compile(
    r"^ +(?P<files>[\d,]+) files: per 1,000 since (?P<since>[\d,]+), "
    r"server CPU (\d+\.\d\d s|n/a), writer CPU \d+\.\d\d s, wall \d+\.\d\d s \(load [\d.]+\)$"
)


def segments_printed(out: str) -> list[tuple[str, str]]:
    found = (SEGMENT.match(line) for line in out.splitlines())
    return [(m["since"], m["files"]) for m in found if m]


def test_a_line_each_time_another_n_files_are_stored(capsys: pytest.CaptureFixture[str]):
    segments = Segments(every=2000, pids=[])
    for batch in (1000, 1000, 1000, 500, 1500, 700):
        segments.heard(batch)
    # a line at the first batch that reaches the next multiple of 2,000
    assert segments_printed(capsys.readouterr().out) == [("0", "2,000"), ("2,000", "5,000")]


async def test_a_profile_with_every_prints_the_cost_per_1000_files(
    postgresql_server_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    corpus = tmp_path / "corpus"
    generate_corpus(corpus, CorpusSpec(count=25, seed=3))
    await profile(postgresql_server_url, corpus, top=3, every=10)
    out = capsys.readouterr().out
    assert segments_printed(out) == [("0", "25")]  # one batch of 25 passes 10 and 20
    assert "25 files new in" in out
