"""The train row: `bankreco train --all-months` on generated files of growing size; time per
row, and peak RSS extrapolated to the full 13.6M-row Kaggle file."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from bench.datafiles import (
    SEED,
    generated,
    generated_rows,
    is_lone_class_error,
    without_lone_additions,
)
from bench.proc import child_env, run_child
from bench.report import Line, RowResult, met
from bench.session import Session

FULL_FILE_ROWS: Final = 13_647_309
ROWS_PER_CUSTOMER: Final = 14.2
LINEAR_SPREAD: Final = 0.30
RSS_GOAL_GB: Final = 8.0
BANKRECO = Path(sys.executable).with_name("bankreco")


@dataclass(frozen=True)
class TrainRun:
    rows: int
    seconds: float
    maxrss_mb: float
    additions: int = 0  # training examples
    iterations: int = 0  # boosting iterations of the model (early stopping decides)

    @property
    def seconds_per_million(self) -> float:
        return self.seconds / (self.rows / 1e6)


def train_once(data: Path, out: Path, max_iter: int | None = None) -> TrainRun:
    """Time `bankreco train --data data --out out --all-months --quiet` in a child process."""
    command = [str(BANKRECO), "train", "--data", str(data), "--out", str(out), "--all-months"]
    command += ["--quiet", *(["--max-iter", str(max_iter)] if max_iter else [])]
    run = run_child(command, child_env(one_thread=False), timeout=6 * 3600).check("bankreco train")
    training = json.loads((out / "manifest.json").read_text())["training"]
    return TrainRun(
        generated_rows(data),
        run.seconds,
        run.maxrss_mb,
        int(training["additions"]),
        int(training["iterations"]),
    )


def spread(values: list[float]) -> float:
    """(max - min) / min."""
    return (max(values) - min(values)) / min(values)


def extrapolate(runs: list[TrainRun], rows: int = FULL_FILE_ROWS) -> float:
    """Peak RSS (MB) at `rows`, from a least-squares line through the runs (through the origin
    when there is one run)."""
    x = np.array([r.rows for r in runs], dtype=float)
    y = np.array([r.maxrss_mb for r in runs])
    if len(runs) == 1:
        return float(y[0] / x[0] * rows)
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope * rows + intercept)


def _runs(session: Session) -> tuple[list[TrainRun], list[str]]:
    """One timed training run per size of the scale, and the workarounds the data needed."""
    scale = session.scale
    runs, workarounds = [], []
    out = session.workdir / "train-out"
    for target in scale.train_rows:
        customers = max(100, round(target / ROWS_PER_CUSTOMER))
        data = generated(session.workdir / "train-data" / f"rows-{target}.csv", customers, SEED + 1)
        shutil.rmtree(out, ignore_errors=True)
        try:
            runs.append(train_once(data, out, scale.train_max_iter))
        except RuntimeError as exc:
            if not is_lone_class_error(str(exc)):
                raise
            data, note = without_lone_additions(data, "`bankreco train`")
            workarounds.append(note)
            shutil.rmtree(out, ignore_errors=True)
            runs.append(train_once(data, out, scale.train_max_iter))
        shutil.rmtree(out, ignore_errors=True)
    return runs, workarounds


def _lines(runs: list[TrainRun], command: str) -> list[Line]:
    per_million = [r.seconds_per_million for r in runs]
    peak_gb = extrapolate(runs) / 1024
    sizes = " / ".join(f"{r.rows / 1e6:.2f}M" for r in runs)
    return [
        Line(
            "train",
            f"seconds per million rows at {sizes} rows",
            " / ".join(f"{s:.1f} s" for s in per_million),
            "-",
            "-",
            f"linear (spread < {LINEAR_SPREAD:.0%})",
            met(spread(per_million) < LINEAR_SPREAD),
            command,
        ),
        Line(
            "train",
            f"peak RSS extrapolated to {FULL_FILE_ROWS:,} rows",
            f"{peak_gb:.2f} GB",
            "-",
            "-",
            f"≤ {RSS_GOAL_GB:g} GB",
            met(peak_gb <= RSS_GOAL_GB),
            command,
        ),
    ]


def train(session: Session) -> RowResult:
    runs, workarounds = _runs(session)
    per_million = [r.seconds_per_million for r in runs]
    detail = "; ".join(
        f"{r.rows:,} rows: {r.seconds:.1f} s, peak RSS {r.maxrss_mb:.0f} MB, "
        f"{r.additions:,} examples, {r.iterations} iterations"
        for r in runs
    )
    max_iter = session.scale.train_max_iter
    iters = f" --max-iter {max_iter}" if max_iter else ""
    notes = [
        f"`bankreco train --data F --out D --all-months --quiet{iters}` in a child process on "
        f"generated files (customers = rows / {ROWS_PER_CUSTOMER}), one run per size, all "
        "cores; wall time of the whole command (read, examples, both fits, write) and its peak "
        "RSS (VmHWM, read every 20 ms while it runs).",
        detail + " (early stopping picks the iterations of the model; the demographics-only "
        "baseline `train` also fits is not in the manifest).",
        f"spread of the seconds per million rows: {spread(per_million):.0%} (linear when under "
        f"{LINEAR_SPREAD:.0%}); RSS extrapolated with a least-squares line through the sizes.",
        *workarounds,
    ]
    raw = {
        "runs": [vars(r) for r in runs],
        "peak_gb_full_file": extrapolate(runs) / 1024,
        "linear": spread(per_million) < LINEAR_SPREAD,
    }
    return RowResult("train", _lines(runs, session.command("train")), notes, raw)
