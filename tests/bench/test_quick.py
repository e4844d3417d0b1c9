"""The benchmark harness works: `python -m bench --quick` renders every row with numbers.

Speed is judged from the benchmark itself (docs/performance.md), never here: no timing is
asserted. The `size` row downloads wheels for the Lambda target, so the quick run leaves it
out and its functions are tested on tiny inputs below.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from bench import size, training
from bench.cost import billed_ms, cheapest, per_million
from bench.proc import MB
from bench.report import RowResult
from bench.rows import AVOIDED_IMPORTS, largest_imports
from bench.session import Session
from bench.setup import QUICK
from layers.build_layer import RUNTIME_PROVIDED, LayerBuild, Size, canonical

ROOT = Path(__file__).resolve().parents[2]
ROWS = ("warm", "batch", "cold", "rss", "train", "cost")
NUMBER = re.compile(r"\d")


def table(document: str) -> dict[str, list[list[str]]]:
    """The table's lines by row name, each as its cells."""
    found: dict[str, list[list[str]]] = {}
    for line in document.splitlines():
        if line.startswith("| ") and not line.startswith(("| row ", "|---")):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            found.setdefault(cells[0], []).append(cells)
    return found


@pytest.mark.slow
def test_quick_run_renders_every_row(tmp_path: Path) -> None:
    out = tmp_path / "perf.md"
    command = [sys.executable, "-m", "bench", "--quick", "--workdir", str(tmp_path / "work")]
    command += ["--out", str(out), "--only", *ROWS]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    document = out.read_text()
    assert document.strip() == result.stdout.strip()
    assert document.startswith("# bankreco performance")
    assert "Quick mode" in document
    for heading in ("- date:", "- CPU:", "- cores:", "- Python:", "- numpy:", "- BLAS:"):
        assert heading in document
    rows = table(document)
    assert set(rows) == set(ROWS)
    for name, lines in rows.items():
        for cells in lines:
            _row, measure, ours, naive, ratio, _goal, met, command_cell = cells
            assert measure != "failed", cells
            assert NUMBER.search(ours), cells
            assert met in {"yes", "no", "-"}, cells
            assert command_cell == f"`python -m bench --only {name} --quick`"
            if name not in {"train"}:
                assert NUMBER.search(naive), cells
                assert NUMBER.search(ratio), cells
    for name in ROWS:
        assert f"### {name}" in document
    avoided = re.search(r"imports the init phase leaves out.*", document)
    assert avoided is not None
    assert len(re.findall(r"\d\.\d{3} s", avoided.group())) == len(AVOIDED_IMPORTS)


BUILD = LayerBuild(
    site=Path("layer/python"),
    removed=("boto3-1.0",),
    slimmed=0,
    bytecode=False,
    layer=Size(57 * MB, 17 * MB),
    function=Size(3 * 1024, 2 * 1024),
)


def test_size_reads_the_builds_sizes() -> None:
    sizes = size.sizes_mb(BUILD)
    assert sizes["layer"] == (57.0, 17.0)
    assert sizes["function"] == pytest.approx((3 / 1024, 2 / 1024))
    assert sizes["total"] == pytest.approx((57 + 3 / 1024, 17 + 2 / 1024))
    assert "function" not in size.sizes_mb(replace(BUILD, function=None))
    assert size.sizes_mb(replace(BUILD, function=None))["total"] == (57.0, 17.0)


def test_size_leaves_out_what_the_runtime_provides() -> None:
    """The naive side drops the wheels of the one list the layer build removes."""
    assert {canonical(name) for name in RUNTIME_PROVIDED} == size.RUNTIME_DISTS
    dateutil = Path("python_dateutil-2.9.0-py2.py3-none-any.whl")
    numpy = Path("numpy-2.0-cp312-cp312-manylinux2014_aarch64.whl")
    assert size._dist_name(dateutil) in size.RUNTIME_DISTS
    assert size._dist_name(numpy) not in size.RUNTIME_DISTS


def test_size_of_wheels(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("demo/__init__.py", "x = 1\n" * 1000)
    unzipped, zipped = size.wheel_sizes([wheel])
    assert unzipped == pytest.approx(6000 / MB)
    assert zipped == pytest.approx(wheel.stat().st_size / MB)
    assert zipped < unzipped


def test_size_row_renders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel = tmp_path / "numpy-2.0-cp312-cp312-manylinux2014_aarch64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("numpy/__init__.py", "x" * 2 * 1024 * 1024)
    sizes = {**size.sizes_mb(BUILD), "compiled": (70.2, 22.6)}
    monkeypatch.setattr(size, "ours_sizes", lambda _: sizes)
    monkeypatch.setattr(size, "naive_wheels", lambda _: [wheel])
    result = size.size(Session(tmp_path, QUICK))
    assert [line.met for line in result.lines] == ["yes", "yes"]
    assert result.lines[0].ours == "57.0 MB (70.2 MB with .pyc)"
    assert result.lines[0].naive == "2.0 MB"  # the wheel plus the function's 3 kB
    sizes["compiled"] = (70.2, 51.0)  # the build with bytecode is judged too
    assert [line.met for line in size.size(Session(tmp_path, QUICK)).lines] == ["yes", "no"]


def test_train_row_on_tiny_files(tmp_path: Path) -> None:
    tiny = replace(QUICK, train_rows=(3_000, 6_000), train_max_iter=2)
    result: RowResult = training.train(Session(tmp_path, tiny))
    assert [line.row for line in result.lines] == ["train", "train"]
    assert all(NUMBER.search(line.ours) for line in result.lines)
    assert len(result.data["runs"]) == 2
    assert result.data["runs"][0]["rows"] > 0


def test_train_extrapolation_and_linearity() -> None:
    runs = [training.TrainRun(1_000_000, 10.0, 1000.0), training.TrainRun(2_000_000, 20.0, 1800.0)]
    assert training.extrapolate(runs, 3_000_000) == pytest.approx(2600.0)
    assert training.spread([r.seconds_per_million for r in runs]) == 0.0
    assert training.extrapolate(runs[:1], 2_000_000) == pytest.approx(2000.0)


def test_cost_model() -> None:
    assert billed_ms(0.5, 1769) == 1
    assert billed_ms(0.5, 128) == 7  # 0.5 ms × 1769 / 128 = 6.9 ms
    assert billed_ms(0.5, 3008) == 1
    assert per_million(0.5, 1024) == pytest.approx(1e6 * 0.001 * 0.0000133334 + 0.20 + 3.50)
    memory, dollars = cheapest(0.5, min_memory_mb=200)
    assert memory >= 200
    assert dollars <= per_million(0.5, 1024)


def test_largest_imports() -> None:
    text = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:      2000 |       2000 |   numpy._core\n"
        "import time:      1000 |       3000 | numpy\n"
        "import time:       500 |        500 | json\n"
    )
    assert largest_imports(text) == [("numpy", 0.003), ("json", 0.0005)]
