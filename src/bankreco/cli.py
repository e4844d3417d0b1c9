"""The `bankreco` command: generate data, train, evaluate, publish, invoke, run the demo."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bankreco.errors import BankrecoError
from bankreco.settings import DEFAULT_STORE, Settings


def load_function(path: Path) -> Any:
    """Import a Lambda function's module from its file, as the runtime does."""
    if not path.is_file():
        raise FileNotFoundError(f"handler file not found: {path}")
    spec = importlib.util.spec_from_file_location("bankreco_function_app", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _print_response(response: dict[str, Any]) -> None:
    body = response.get("body")
    try:
        shown = json.loads(body) if isinstance(body, str) else body
    except ValueError:
        shown = body
    print(json.dumps({"statusCode": response.get("statusCode"), "body": shown}, indent=2))


def _store(args: argparse.Namespace) -> str:
    return str(args.store or Settings.from_env().model_store_uri)


def cmd_generate(args: argparse.Namespace) -> int:
    from bankreco.data.fidelity import fidelity_report, render_markdown
    from bankreco.data.generate import generate

    result = generate(
        args.out, args.customers, args.seed, args.bank_profile, progress=not args.quiet
    )
    print(f"wrote {result.rows:,} rows to {result.csv_path} (oracle: {result.oracle_path})")
    if args.report:
        print(render_markdown(fidelity_report(result.csv_path, result.oracle_path)))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from bankreco.training.train import TrainConfig, train

    config = TrainConfig(
        months=tuple(args.months) if args.months else None,
        all_months=args.all_months,
        max_iter=args.max_iter,
        seed=args.seed,
        threads=args.threads,
    )
    manifest = train(args.data, args.out, config, progress=not args.quiet)
    print(f"trained {manifest.estimator} on {manifest.training['months']} -> {args.out}")
    if manifest.metrics:
        print(f"MAP@7 on {manifest.metrics['holdout_month']}: {manifest.metrics['map_at_7']:.5f}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from bankreco.training.evaluate import evaluate
    from bankreco.training.report import write_report

    result = evaluate(args.data, args.model, progress=not args.quiet and not args.json)
    report = write_report(result, args.model)
    if args.json:
        print(json.dumps(result.as_json()))
    else:
        print(f"MAP@7 on {result.month} ({result.customers:,} customers):")
        for name, value in result.map_at_7.items():
            print(f"  {name:<18} {value:.5f}")
        print(f"report: {report}")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from bankreco.domain.manifest import read_model_dir
    from bankreco.domain.registry import Registry
    from bankreco.store import open_store

    version = Registry(open_store(_store(args))).publish(args.bank, *read_model_dir(args.model_dir))
    print(version)
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    from bankreco.domain.registry import Registry
    from bankreco.errors import ModelNotPublished
    from bankreco.store import open_store

    registry = Registry(open_store(_store(args)))
    try:
        current: str | None = registry.read_pointer(args.bank).version
    except ModelNotPublished:
        current = None
    for version in registry.versions(args.bank):
        print(f"{'*' if version == current else ' '} {version}")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from bankreco.domain.registry import Registry
    from bankreco.store import open_store

    Registry(open_store(_store(args))).set_current(args.bank, args.to)
    print(f"{args.bank} now serves {args.to}")
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    from bankreco import local
    from bankreco.api.events import LocalContext
    from bankreco.domain import service

    if args.store:
        service.configure(Settings.from_env().model_copy(update={"model_store_uri": args.store}))
    handler = load_function(Path(args.handler)).lambda_handler if args.handler else local.handler()
    for event in args.events:
        _print_response(handler(local.read_event(Path(event)), LocalContext()))
    return 0


def openapi_document(handler: Path | None = None) -> str:
    """The API's OpenAPI document as generated from the routes (bankreco's, or those of the
    function file `handler`), pretty and stable."""
    if handler is None:
        from bankreco.api.handler import app
    else:
        app = load_function(handler).app
    schema = app.get_openapi_json_schema()
    return json.dumps(json.loads(schema), indent=2, sort_keys=True) + "\n"


def cmd_openapi(args: argparse.Namespace) -> int:
    text = openapi_document(Path(args.handler) if args.handler else None)
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text, end="")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bankreco.demo import run_demo

    return run_demo(Path(args.workdir), customers=args.customers, seed=args.seed)


def _add_data_commands(sub: Any) -> None:
    p = sub.add_parser("generate", help="write a synthetic file in the train_ver2.csv format")
    p.add_argument("--out", required=True, help="CSV file to write")
    p.add_argument("--customers", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bank-profile", default="santander")
    p.add_argument("--report", action="store_true", help="print the fidelity report")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("train", help="train a model from a train_ver2.csv-format file")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True, help="directory for model.pkl and manifest.json")
    p.add_argument("--months", nargs="+", help="months to learn additions of (YYYY-MM-28)")
    p.add_argument("--all-months", action="store_true", help="also train on the last month")
    p.add_argument("--max-iter", type=int, default=40)
    p.add_argument("--threads", type=int, default=1, help="OpenMP threads of the fit")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="MAP@7 on the file's last month, with baselines")
    p.add_argument("--data", required=True)
    p.add_argument("--model", required=True, help="directory written by train")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_evaluate)


def _add_store_commands(sub: Any) -> None:
    p = sub.add_parser("publish", help="upload a model as a new version and make it current")
    p.add_argument("model_dir")
    p.add_argument("--bank", required=True)
    p.add_argument("--store", help=f"s3://bucket/prefix or a directory (default {DEFAULT_STORE})")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("versions", help="list a bank's versions (* marks the current one)")
    p.add_argument("--bank", required=True)
    p.add_argument("--store")
    p.set_defaults(func=cmd_versions)

    p = sub.add_parser("rollback", help="serve an earlier version again")
    p.add_argument("--bank", required=True)
    p.add_argument("--to", required=True, help="version id")
    p.add_argument("--store")
    p.set_defaults(func=cmd_rollback)


def _add_serving_commands(sub: Any) -> None:
    p = sub.add_parser("invoke", help="run the Lambda handler on API Gateway event files")
    p.add_argument("events", nargs="+")
    p.add_argument("--handler", help="a function file to import instead of bankreco's handler")
    p.add_argument("--store", help="MODEL_STORE_URI for this run")
    p.set_defaults(func=cmd_invoke)

    p = sub.add_parser("openapi", help="print or write the API's OpenAPI document")
    p.add_argument("--out", help="file to write (default: print)")
    p.add_argument("--handler", help="a function file whose `app` to document instead")
    p.set_defaults(func=cmd_openapi)

    p = sub.add_parser("demo", help="generate, train, evaluate, publish locally, answer examples")
    p.add_argument("--workdir", default=".local")
    p.add_argument("--customers", type=int, default=40_000)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bankreco", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_data_commands(sub)
    _add_store_commands(sub)
    _add_serving_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in {"invoke", "demo"}:
        from bankreco.local import powertools_defaults

        powertools_defaults(quiet=True)
    try:
        code: int = args.func(args)
    except (BankrecoError, ValueError, FileNotFoundError) as exc:
        print(f"bankreco {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
