"""The offline commands: `generate` a data file, `train` a model, `evaluate` it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def cmd_generate(args: argparse.Namespace) -> int:
    from bankreco.data.fidelity import fidelity_report, render_markdown
    from bankreco.data.generate import generate
    from bankreco.training.paths import check_writable_dir

    out = Path(args.out)
    if out.is_dir():
        raise ValueError(f"{out} is a directory: --out names the CSV file to write")
    check_writable_dir(out.parent, "the generated file")
    result = generate(out, args.customers, args.seed, args.bank_profile, progress=not args.quiet)
    print(f"wrote {result.rows:,} rows to {result.csv_path} (oracle: {result.oracle_path})")
    if args.report:
        print(render_markdown(fidelity_report(result.csv_path, result.oracle_path)))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from bankreco.training.options import train_config, warnings_as_lines
    from bankreco.training.train import train

    config = train_config(args)
    with warnings_as_lines("train"):
        manifest = train(args.data, args.out, config, progress=not args.quiet)
    months = ", ".join(month[:7] for month in manifest.training["months"])
    print(f"trained {manifest.estimator} on {months} -> {args.out}")
    if not manifest.metrics:
        why = "every month was trained on" if args.all_months else "the month before it is missing"
        print(f"no MAP@7 on the file's last month: {why}")
        return 0
    metrics, rules = manifest.metrics, manifest.rules
    print(f"MAP@7 on {metrics['holdout_month']}: {metrics['map_at_7']:.5f}")
    if rules:
        without = metrics["map_at_7_without_rules"]
        print(f"MAP@7 without the rules {rules.name} ({len(rules.rules)}): {without:.5f}")
    ratios = metrics["map_at_7_ratio"].items()
    shown = (f"{k} {v:.3f}" if v is not None else f"{k} -" for k, v in ratios)
    print(f"MAP@7 disparity ratios (lowest group / highest): {', '.join(shown)}")
    if not rules:
        print("no eligibility rules: every product may be offered to every customer")
    if manifest.excluded_features:
        print(f"excluded features: {', '.join(manifest.excluded_features)} (serving ignores them)")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from bankreco.training.evaluate import REPORT_DIR, check_model_dir, evaluate
    from bankreco.training.options import warnings_as_lines
    from bankreco.training.paths import check_writable_dir
    from bankreco.training.report import summary_lines, write_report

    for model in (args.model, *([args.compare] if args.compare else [])):
        check_model_dir(Path(model))
    check_writable_dir(Path(args.model) / REPORT_DIR, "the report")
    progress = not args.quiet and not args.json
    with warnings_as_lines("evaluate"):
        result = evaluate(args.data, args.model, progress=progress, compare=args.compare)
    report = write_report(result, args.model)
    if args.json:
        print(json.dumps(result.as_json()))
    else:
        print(f"MAP@7 on {result.month} ({result.customers:,} customers):")
        for name, value in result.map_at_7.items():
            print(f"  {name:<18} {value:.5f}")
        for line in summary_lines(result):
            print(line)
        print(f"report: {report}")
    return 0


def add_parsers(sub: Any) -> None:
    """The commands `generate`, `train` and `evaluate`, their options from training.options."""
    from bankreco.training import options

    p = sub.add_parser(
        "generate",
        help="write a synthetic file in the train_ver2.csv format",
        description=options.GENERATE,
    )
    options.add_generate_options(p)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser(
        "train", help="train a model from a train_ver2.csv-format file", description=options.TRAIN
    )
    options.add_train_options(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "evaluate",
        help="MAP@7 on the file's last month, with baselines",
        description=options.EVALUATE,
    )
    options.add_evaluate_options(p)
    p.set_defaults(func=cmd_evaluate)
