"""The score row: `bankreco score` from file to file on 1M and 10M profiles, one core.

The input is a file in the test_ver2.csv format (the 24 profile columns, no products) made
from the generated bank's last month: its rows moved a month on, then repeated with new
ncodpers until the size is reached (`profiles_file`; generating 10M customers with the full
generator would take far longer and give the same kind of rows). Each size is scored by a
child process pinned to one core (`python -m bench.scoring child CONFIG RESULT`) that runs the
command's own `main`; the row reports its rows per wall second (interpreter start, imports,
model load, read, check, score, write), its rows per CPU second (what the core gives when
other processes share it) and its peak RSS.

`python -m bench.scoring profiles SOURCE OUT [ROWS]` writes such a file from any
train_ver2.csv-format file (the README's walkthrough uses it for a test_ver2.csv).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from bench.datafiles import log
from bench.proc import PYTHON, child_env, pin_to_one_core, run_json
from bench.report import Line, RowResult, met
from bench.session import Session
from bench.setup import BANK

FULL_SIZES: Final = (1_000_000, 10_000_000)
QUICK_SIZES: Final = (20_000, 50_000)
RATE_GOAL: Final = 100_000  # profiles per second on one core, file to file
RSS_GOAL_MB: Final = 400.0
PRODUCTS: Final = 24  # the product columns at the end of a train_ver2.csv line


def _next_month(date: bytes) -> bytes:
    year, month = int(date[:4]), int(date[5:7])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return b"%04d-%02d-28" % (year, month)


def _last_month(source: Path) -> tuple[bytes, list[bytes]]:
    """The header and the lines of the last month of a train_ver2.csv-format file (one pass,
    keeping one month's lines)."""
    newest, lines = b"", list[bytes]()
    with source.open("rb") as handle:
        header = handle.readline()
        for line in handle:
            month = line[:10]
            if month > newest:
                newest, lines = month, []
            if month == newest:
                lines.append(line)
    return header, lines


def profiles_file(source: Path, out: Path, rows: int | None = None) -> Path:
    """A test_ver2.csv-format file: the last month of `source` moved a month on, its product
    columns dropped, repeated with new ncodpers (after the largest) up to `rows` rows (None:
    the month's rows once). Made once: an existing `out` is kept."""
    if out.exists():
        return out
    header, lines = _last_month(source)
    if not lines:
        raise ValueError(f"{source} has no data rows")
    columns = header.rstrip(b"\r\n").split(b",")[:-PRODUCTS]
    out.parent.mkdir(parents=True, exist_ok=True)
    month = _next_month(lines[0][:10])
    parts = [line.rstrip(b"\r\n").rsplit(b",", PRODUCTS)[0].split(b",", 2) for line in lines]
    start = max(int(part[1]) for part in parts) + 1
    wanted = len(parts) if rows is None else rows
    partial = out.with_name(out.name + ".partial")
    with partial.open("wb") as handle:
        handle.write(b",".join(columns) + b"\n")
        done = 0
        while done < wanted:
            chunk = parts[: wanted - done]
            first = done == 0
            handle.write(
                b"".join(
                    b"%b,%b,%b\n"
                    % (month, part[1] if first else b"%d" % (start + done + i), part[2])
                    for i, part in enumerate(chunk)
                )
            )
            done += len(chunk)
    partial.replace(out)
    return out


def child(config: dict[str, Any]) -> dict[str, Any]:
    """Run `bankreco score` in this process, pinned to one core; its wall and CPU seconds."""
    from bankreco.cli import main

    cpu = pin_to_one_core()
    started = time.perf_counter()
    code = main(config["argv"])
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"code": code, "seconds": seconds, "cpu_s": usage.ru_utime + usage.ru_stime, "cpu": cpu}


def _score_once(session: Session, data: Path, rows: int) -> dict[str, Any]:
    bench = session.need()
    out = session.workdir / "score-out" / f"{data.stem}.recommendations.csv"
    out.parent.mkdir(exist_ok=True)
    argv = ["score", "--data", str(data), "--bank", BANK, "--model", str(bench.model_dir)]
    argv += ["--out", str(out), "--quiet"]
    found, run = run_json(
        [PYTHON, "-m", "bench.scoring", "child", json.dumps({"argv": argv})],
        child_env(),
        "bankreco score",
        timeout=6 * 3600,
        pin=True,
    )
    if found["code"] not in (0, 3):
        raise RuntimeError(f"bankreco score exited {found['code']}: {run.stderr[-2000:]}")
    scored = sum(1 for _ in out.open("rb")) - 1
    out.unlink()
    return {
        "rows": rows,
        "scored": scored,
        "wall_s": run.seconds,  # the child's life, from spawn to exit
        "main_s": found["seconds"],
        "cpu_s": found["cpu_s"],
        "peak_mb": run.maxrss_mb,
        "cpu": found["cpu"],
        "stdout": run.stdout.strip(),
    }


def _lines(runs: list[dict[str, Any]], command: str, batch: float | None) -> list[Line]:
    lines = []
    for run in runs:
        size = f"{run['rows'] / 1e6:g}M"
        wall, cpu = run["rows"] / run["wall_s"], run["rows"] / run["cpu_s"]
        versus = f"{batch:,.0f}/s (batch route)" if batch else "-"
        lines += [
            Line(
                "score",
                f"profiles/s, {size} rows file to file, per wall s / per CPU s",
                f"{wall:,.0f}/s / {cpu:,.0f}/s",
                versus,
                "-",
                f"≥ {RATE_GOAL:,}/s",
                met(cpu >= RATE_GOAL),
                command,
            ),
            Line(
                "score",
                f"peak RSS, {size} rows",
                f"{run['peak_mb']:.0f} MB",
                "-",
                "-",
                f"< {RSS_GOAL_MB:.0f} MB",
                met(run["peak_mb"] < RSS_GOAL_MB),
                command,
            ),
        ]
    return lines


def score(session: Session) -> RowResult:
    bench = session.need()
    sizes = QUICK_SIZES if session.scale.quick else FULL_SIZES
    runs = []
    for rows in sizes:
        data = profiles_file(
            bench.data, session.workdir / "score-data" / f"profiles-{rows}.csv", rows
        )
        log(f"score: {rows:,} rows")
        runs.append(_score_once(session, data, rows))
    batch = session.memo.get("row:batch", session.saved().get("batch", {})).get("ours_per_s")
    notes = [
        f"input: `bench.scoring.profiles_file`: the last month of `{bench.data.name}` as a "
        "test_ver2.csv-format file (24 profile columns, no products), its rows repeated with "
        "new ncodpers up to each size; the profiles keep the generator's quirks (padded "
        "numbers, NA incomes, quoted provinces) and its invalid rows (empty relation type, "
        "segment or province), which go to the rejects file.",
        "`bankreco score --data F --bank bench --model D --out O --quiet` (wide format, top 7) "
        "run by `main` in a child pinned to one core; wall s: the child's whole life (Python "
        "start, imports, model load, reading, checking, scoring, writing); CPU s: its user + "
        "system time, the rate one core gives when this shared machine's other processes "
        "take turns on it; peak RSS: VmHWM, read every 20 ms.",
        *(
            f"{r['rows']:,} rows: {r['scored']:,} scored, {r['wall_s']:.1f} s wall "
            f"({r['main_s']:.1f} s in main), {r['cpu_s']:.1f} s CPU on CPU {r['cpu']}, peak RSS "
            f"{r['peak_mb']:.0f} MB; {r['stdout'].splitlines()[0] if r['stdout'] else ''}"
            for r in runs
        ),
        "naive: the batch route's profiles/s of the batch row (1,000 a request through "
        "`lambda_handler`), from this run or the last saved one, for comparison.",
    ]
    raw = {"runs": runs, "batch_per_s": batch}
    return RowResult("score", _lines(runs, session.command("score"), batch), notes, raw)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scoring", description=__doc__)
    sub = parser.add_subparsers(dest="mode", required=True)
    profiles = sub.add_parser("profiles", help="write a test_ver2.csv-format file")
    profiles.add_argument("source", type=Path, help="a train_ver2.csv-format file")
    profiles.add_argument("out", type=Path)
    profiles.add_argument("rows", type=int, nargs="?", help="default: the last month's rows")
    runner = sub.add_parser("child", help="(the harness's) run bankreco score pinned")
    runner.add_argument("config")
    runner.add_argument("result", type=Path)
    args = parser.parse_args(argv)
    if args.mode == "profiles":
        out = profiles_file(args.source, args.out, args.rows)
        print(f"wrote {out}")
        return 0
    args.result.write_text(json.dumps(child(json.loads(args.config))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
