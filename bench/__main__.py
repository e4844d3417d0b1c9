"""`python -m bench [--quick] [--out FILE] [--workdir DIR] [--only ROW ...]`."""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

from bench import cost, explain, rows, scoring, size, training
from bench.proc import ROOT
from bench.report import Line, RowResult, machine, render
from bench.session import Session
from bench.setup import FULL, QUICK, prepared

ROWS: dict[str, Callable[[Session], RowResult]] = {
    "warm": rows.warm,
    "explain": explain.explain,
    "batch": rows.batch,
    "cold": rows.cold,
    "rss": rows.rss,
    "size": size.size,
    "train": training.train,
    "score": scoring.score,
}
ORDER = (*ROWS, "cost")
# rows a smoke run leaves out unless named with --only
SLOW: Final = ("size", "explain")
SLOW_WHY: Final = (
    "size builds two layers with pip (about a minute) and explain imports shap for its naive "
    "side; `--only size explain --quick` runs them"
)
# rows a smoke run runs on a second thread, beside the others (each pins its processes to the
# quieter core): about half of its time
BESIDE: Final = ("batch", "train", "score")
# samples of the CPU-speed loop at the start and the end (0.1 s apart)
FULL_SAMPLES: Final = 30
QUICK_SAMPLES: Final = 5
# rows that use the prepared model (score reads its model directory)
SERVED = frozenset({"warm", "explain", "batch", "cold", "rss", "score"})


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small and fast: checks it works")
    parser.add_argument("--out", type=Path, help="also write the Markdown document here")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=ROOT / ".local" / "bench",
        help="cache of data, models and wheels (default: %(default)s)",
    )
    parser.add_argument("--only", nargs="+", choices=ORDER, metavar="ROW", help=", ".join(ORDER))
    return parser.parse_args(argv)


def _failed(name: str, session: Session, exc: BaseException) -> RowResult:
    message = f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    line = Line(name, "failed", message[:200], "-", "-", "-", "no", session.command(name))
    return RowResult(name, [line], [traceback.format_exc(limit=3)[-1500:].replace("\n", " ")])


def _run_rows(
    selected: list[str], session: Session, run_row: Callable[[str], RowResult]
) -> list[RowResult]:
    """The selected rows' results, in order. A smoke run (--quick) runs the rows of BESIDE on
    a second thread: the machine's two cores shared, its figures only show that each row
    works."""

    def one(name: str) -> RowResult:
        try:
            return cost.cost(session, run_row) if name == "cost" else run_row(name)
        except Exception as exc:  # one failing row must not hide the others
            return _failed(name, session, exc)

    beside = [n for n in selected if session.scale.quick and n in BESIDE]
    with ThreadPoolExecutor(max_workers=1) as second:
        offline = {name: second.submit(one, name) for name in beside}
        found = {name: one(name) for name in selected if name not in beside}
        found.update({name: future.result() for name, future in offline.items()})
    return [found[name] for name in selected]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    scale = QUICK if args.quick else FULL
    default = [name for name in ORDER if not (scale.quick and name in SLOW)]
    selected = [name for name in ORDER if name in (args.only or default)]
    if scale.quick and not args.only:
        print(f"[bench] --quick leaves out {', '.join(SLOW)}: {SLOW_WHY}", file=sys.stderr)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    session = Session(workdir, scale)
    info = machine(QUICK_SAMPLES if scale.quick else FULL_SAMPLES)
    started = time.monotonic()
    saved = session.saved()
    needs_model = bool(SERVED.intersection(selected)) or (
        "cost" in selected and not {"warm", "rss"} <= saved.keys()
    )
    setup: tuple[str, ...] = ()

    def run_row(name: str) -> RowResult:
        print(f"[bench] row {name}", file=sys.stderr, flush=True)
        began = time.monotonic()
        result = ROWS[name](session)
        session.memo[f"row:{name}"] = result.data
        session.save(name, result.data)
        print(f"[bench] row {name}: {time.monotonic() - began:.1f} s", file=sys.stderr)
        return result

    with prepared(workdir, scale) if needs_model else contextlib.nullcontext() as bench:
        session.bench = bench
        print(f"[bench] ready: {time.monotonic() - started:.1f} s", file=sys.stderr)
        setup = bench.summary if bench else ()
        results = _run_rows(selected, session, run_row)
    document = render(
        results,
        command=shlex.join(["python", "-m", "bench", *argv]),
        quick=scale.quick,
        info=info,
        seconds=time.monotonic() - started,
        setup=setup,
        samples=QUICK_SAMPLES if scale.quick else FULL_SAMPLES,
    )
    print(document)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(document + "\n")
    return 1 if any(line.measure == "failed" for r in results for line in r.lines) else 0


if __name__ == "__main__":
    sys.exit(main())
