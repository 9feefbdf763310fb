"""`python -m bench.related.eval`: one set's JSON, and `--set all`'s table of every set."""

import json

import pytest

from bench.related import eval as related_eval
from bench.related.written import SETS


def test_all_sets_table_has_the_figures_of_each_set_s_own_run(monkeypatch, capsys) -> None:
    related_eval.main(["--set", "written2", "--json"])
    alone = json.loads(capsys.readouterr().out)["story"]["all"]

    monkeypatch.setattr(related_eval, "SETS", {"written2": SETS["written2"]})
    related_eval.main(["--set", "all"])
    table = capsys.readouterr().out.splitlines()

    row = next(line for line in table if line.startswith("| written2 |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert float(cells[1]) == pytest.approx(alone["precision_at_k"], abs=5e-4)
    assert float(cells[3]) == pytest.approx(alone["recall_at_5"], abs=5e-4)
    assert cells[6] == "8 of 8"
    assert cells[7] == "0 / 0"
