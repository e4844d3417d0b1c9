"""The explain row of `python -m bench --quick`: ours against shap's TreeExplainer, with a
ratio, for the explained answer and for the explanation alone. No timing is asserted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench.test_quick import ROOT, table

NUMBER = re.compile(r"\d+\.\d{3} ms")
RATIO = re.compile(r"^\d+\.\d× \(naive/ours\)$")


@pytest.mark.slow
def test_the_explain_row_compares_with_shap(tmp_path: Path) -> None:
    out = tmp_path / "perf.md"
    command = [sys.executable, "-m", "bench", "--quick", "--workdir", str(tmp_path / "work")]
    command += ["--out", str(out), "--only", "explain"]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    document = out.read_text()
    lines = table(document)["explain"]
    assert [cells[1].split(" p50")[0] for cells in lines] == [
        "explained answer",
        "the explanation alone",
    ]
    for _row, _measure, ours, naive, ratio, _goal, met, _command in lines:
        assert NUMBER.fullmatch(ours)
        assert NUMBER.fullmatch(naive)
        assert RATIO.match(ratio)
        assert met in {"yes", "no", "-"}
    assert 'shap.TreeExplainer(model.pkl, feature_perturbation="tree_path_dependent"' in document
    assert "explainer is built once, before timing, and not timed" in document
