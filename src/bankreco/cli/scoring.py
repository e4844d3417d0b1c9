"""`score`: the recommendations for every customer of a file, written as CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bankreco.cli.registry import open_registry
from bankreco.settings import DEFAULT_STORE


def cmd_score(args: argparse.Namespace) -> int:
    """Score a file of profiles; exit 0 when every row was scored, 3 when some were rejected
    (listed in <out>.rejects.csv), 2 on an error (nothing written)."""
    from tqdm import tqdm

    from bankreco.scoring import cells, models, run

    if not 1 <= args.top_k <= 24:
        raise ValueError(f"--top-k must be between 1 and 24, got {args.top_k}")
    if args.explain and args.format != "wide":
        raise ValueError(f"--explain needs --format wide: {args.format} has no column for reasons")
    options = run.Options(
        bank=args.bank,
        top_k=args.top_k,
        form=args.format,
        month=cells.month_of(args.month) if args.month else None,
        holdings=args.holdings,
        explain=args.explain,
    )
    if args.model:
        model = models.trained_model(Path(args.model), args.bank)
    else:
        model = models.published_model(open_registry(args), args.bank)
    bars: dict[str, Any] = {}

    def progress(phase: str, rows: int) -> None:
        if phase not in bars:  # a new phase: the last one's bar is done
            for bar in bars.values():
                bar.close()
            bars[phase] = tqdm(desc=phase, unit=" rows", unit_scale=True, file=sys.stderr)
        bars[phase].update(rows)

    out = Path(args.out)
    try:
        shown = _quiet if args.quiet else progress
        summary = run.score_file(Path(args.data), out, model, options, shown)
    finally:
        for bar in bars.values():
            bar.close()
    rate = summary.rows / summary.seconds if summary.seconds else 0.0
    print(
        f"scored {summary.scored:,} of {summary.rows:,} rows with {args.bank}/"
        f"{summary.model_version} in {summary.seconds:.1f} s ({rate:,.0f} rows/s) -> {out}"
    )
    if summary.month:
        print(f"month {summary.month}: {summary.skipped:,} rows of other months skipped")
    print(f"products held: {summary.holdings}")
    print(f"rejected {summary.rejected:,} rows -> {run.rejects_path(out)}")
    return summary.exit_code


def _quiet(phase: str, rows: int) -> None:
    """No progress bar."""


def add_parsers(sub: Any) -> None:
    """The command `score`."""
    p = sub.add_parser(
        "score",
        help="recommendations for every customer of a file (exit 0; 3 when rows were rejected)",
    )
    p.add_argument("--data", required=True, help="CSV (or .gz/.bz2/.xz/.zip) of profiles")
    p.add_argument("--bank", required=True)
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--store", help=f"s3://bucket/prefix or a directory (default {DEFAULT_STORE})"
    )
    source.add_argument("--model", help="a directory `bankreco train` wrote (unpublished)")
    p.add_argument("--out", required=True, help="CSV to write; rejected rows go to OUT.rejects.csv")
    p.add_argument("--top-k", type=int, default=7, help="products per customer (1-24)")
    p.add_argument("--format", choices=("wide", "kaggle"), default="wide")
    p.add_argument("--month", help="month of a Kaggle file to score (default: its last)")
    p.add_argument(
        "--holdings",
        choices=("previous", "same"),
        default="previous",
        help="products held, train_ver2.csv: the month before (default) or the month's own",
    )
    p.add_argument(
        "--explain",
        action="store_true",
        help="wide format only: a reasons_i column after each score_i, the up to 3 inputs "
        "that raised that product's score most, joined by '; '. Explained row by row, far "
        "slower than scoring alone (docs/performance.md, row explain: the explanation alone)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_score)
