"""The benchmark's Markdown document: the machine, the command, the table and the notes."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

COLUMNS = ("row", "measure", "ours", "naive", "ratio", "goal", "met?", "reproduce")


@dataclass(frozen=True)
class Line:
    """One line of the table."""

    row: str
    measure: str
    ours: str
    naive: str
    ratio: str
    goal: str
    met: str
    command: str


@dataclass
class RowResult:
    """What a row measured: its table lines, notes, and raw numbers other rows may use."""

    name: str
    lines: list[Line]
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def met(ok: bool) -> str:
    return "yes" if ok else "no"


def ratio(numerator: float, denominator: float, how: str) -> str:
    if denominator <= 0:
        return "-"
    return f"{numerator / denominator:.1f}× ({how})"


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "processor\t: arm", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> str:
    import numpy  # noqa: F401  (loads the BLAS threadpoolctl reports)
    from threadpoolctl import threadpool_info  # type: ignore[import-untyped, unused-ignore]

    found = [
        f"{info.get('internal_api')} {info.get('version')} ({info.get('architecture', '?')})"
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return ", ".join(found) or "none found"


def machine(samples: int = 30) -> dict[str, str]:
    import numpy

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "CPU": _cpu_model(),
        "cores": f"{os.cpu_count()} ({len(os.sched_getaffinity(0))} usable)",
        "Python": platform.python_version(),
        "numpy": numpy.__version__,
        "BLAS": _blas(),
        "OS": platform.platform(),
        "load average at start (1, 5, 15 min)": load,
        "CPU speed at start": cpu_speed(samples),
    }


def cpu_speed(samples: int = 30) -> str:
    """A fixed pure-Python loop timed `samples` times, 0.1 s apart: on a shared (virtual)
    machine the same work swings with the host's load, and every row with it."""
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        total = 0
        for i in range(200_000):
            total += i
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(0.1)
    return (
        f"a 200,000-step Python loop took {median(times):.1f} ms median "
        f"({min(times):.1f}-{max(times):.1f} ms over {samples} runs)"
    )


def render(
    rows: Sequence[RowResult],
    *,
    command: str,
    quick: bool,
    info: dict[str, str],
    seconds: float,
    setup: Sequence[str] = (),
    samples: int = 30,
) -> str:
    """The whole document."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    out = ["# bankreco performance", ""]
    if quick:
        out += [
            "> **Quick mode**: small data and models, few repetitions. It only shows that the "
            "harness works; its numbers are not the benchmark. It runs no discarded warm-up "
            "processes, compiles no bytecode cache, runs the batch, train and score rows on a "
            "second thread beside the others, and leaves the `size` and `explain` rows out "
            "unless `--only` names them.",
            "",
        ]
    out += [f"- date: {now}"]
    out += [f"- {key}: {value}" for key, value in info.items()]
    speed = cpu_speed(samples)
    out += [f"- load average at the end: {load}", f"- CPU speed at the end: {speed}"]
    out += [f"- run time: {seconds / 60:.1f} min"]
    out += ["", "Command:", "", "```sh", command, "```", ""]
    out += [
        "Ratios are naive/ours for times, sizes and memory and ours/naive for throughput: "
        "above 1× means ours is better. Times are medians of repeated runs; each command "
        "reproduces one row (add `--quick` for the small version).",
        "",
    ]
    out += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        for line in row.lines:
            cells = (
                line.row,
                line.measure,
                line.ours,
                line.naive,
                line.ratio,
                line.goal,
                line.met,
                f"`{line.command}`",
            )
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    if setup:
        out += ["", "## Setup", ""] + [f"- {line}" for line in setup]
    out += ["", "## Notes", ""]
    for row in rows:
        out += [f"### {row.name}", ""]
        out += [f"- {note}" for note in row.notes] or ["- (none)"]
        out.append("")
    return "\n".join(out)
