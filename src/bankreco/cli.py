"""The `bankreco` command: generate data, train, evaluate, publish signed, verify, manage
signing keys, invoke, run the demo."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bankreco.errors import BankrecoError
from bankreco.settings import DEFAULT_STORE, Settings
from bankreco.training.options import positive_int

if TYPE_CHECKING:
    from bankreco.domain.manifest import Manifest
    from bankreco.domain.registry import Challenger, Listed, Policy, Registry
    from bankreco.signing.keys import KeyRing


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


#: `bankreco invoke`'s exit codes when every event was answered: by the worst status.
INVOKE_EXIT = {2: 0, 3: 0, 4: 4, 5: 5}


def _shown(response: dict[str, Any]) -> dict[str, Any]:
    """A handler response as the invoke command prints it: the status and the parsed body."""
    body = response.get("body")
    try:
        shown = json.loads(body) if isinstance(body, str) else body
    except ValueError:
        shown = body
    return {"statusCode": response.get("statusCode"), "body": shown}


def _store(args: argparse.Namespace) -> str:
    return str(args.store or Settings.from_env().model_store_uri)


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


def _keys(args: argparse.Namespace) -> KeyRing:
    """The key ring of the settings, with `--key-id` as the KMS key of `--bank` if given."""
    from bankreco.signing.keys import KeyRing

    settings = Settings.from_env()
    kms = settings.kms_keys
    if getattr(args, "key_id", None):
        kms = {**kms, args.bank: args.key_id}
    return KeyRing(kms, settings.signing_keys_dir, settings.s3_options)


def _registry(args: argparse.Namespace, policy: Policy | None = None) -> Registry:
    from bankreco.domain.registry import Policy, Registry
    from bankreco.store import open_store

    policy = policy or Policy.from_settings(Settings.from_env())
    return Registry(open_store(_store(args)), _keys(args), policy)


def with_skops_form(
    manifest: Manifest, files: dict[str, bytes]
) -> tuple[Manifest, dict[str, bytes]]:
    """A model without a compact form gets its skops form, the only other form the function
    loads. It is made from the model directory's own pickle, which `evaluate` reads too: the
    publisher's training output, never a file from the store."""
    from bankreco.domain.manifest import PORTABLE_FILE

    if manifest.compact or manifest.portable:
        return manifest, files
    import pickle

    import skops.io

    data = skops.io.dumps(pickle.loads(files[manifest.model_file]))
    return manifest.with_portable(data), {**files, PORTABLE_FILE: data}


def _model_dir(path: str) -> tuple[Manifest, dict[str, bytes]]:
    """What `train` wrote into `path`, or a one-line error saying what `path` is instead."""
    from bankreco.domain.manifest import MANIFEST_FILE, read_model_dir

    directory = Path(path)
    if not directory.is_dir():
        what = "a file" if directory.exists() else "not found"
        raise ValueError(f"{path}: {what}; give the model directory `bankreco train` wrote")
    if not (directory / MANIFEST_FILE).is_file():
        raise ValueError(f"{path}: no {MANIFEST_FILE}; give a directory `bankreco train` wrote")
    try:
        return read_model_dir(directory)
    except OSError as exc:
        raise ValueError(f"{path}: {exc.strerror or exc}: {exc.filename or ''}") from None
    except ValidationError as exc:  # a manifest edited by hand, its rules included
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ValueError(f"{directory / MANIFEST_FILE}: {where}: {message}") from None


def cmd_publish(args: argparse.Namespace) -> int:
    from bankreco.domain.registry import check_share

    share = None if args.challenger is None else check_share(args.challenger)
    manifest, files = with_skops_form(*_model_dir(args.model_dir))
    registry = _registry(args)
    same = [v for v in registry.listing(args.bank) if v.model_sha256 == manifest.model_sha256]
    if same and not args.force:
        return _publish_existing(registry, args.bank, same, share)
    version = registry.publish(args.bank, manifest, files, share)
    served = "now current" if share is None else f"the challenger for {share:g}% of customers"
    print(f"published {args.bank}/{version} to {registry.store.uri}, {served}", file=sys.stderr)
    print(version)
    return 0


def _publish_existing(
    registry: Registry, bank: str, same: list[Listed], share: float | None
) -> int:
    """The bank has this model already (`same`): nothing is uploaded. With a challenger
    share, the newest such version becomes the challenger (verified again), unless this model
    is the champion."""
    existing = same[-1].version
    champion = next((listed.version for listed in same if listed.current), None)
    if share is None:
        done = "nothing published"
    elif champion:
        raise ValueError(
            f"{bank} serves this model as its champion, {champion}: it cannot challenge "
            "itself (--force publishes it again as a new version)"
        )
    else:
        champion = registry.set_challenger(bank, existing, share)
        done = f"it is now the challenger for {share:g}% of customers (champion {champion})"
    print(
        f"{bank} already has this model as {existing} in {registry.store.uri}; {done} "
        "(--force publishes it again)",
        file=sys.stderr,
    )
    print(existing)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from bankreco.domain.registry import Policy

    verified = _registry(args, Policy(require_signature=True)).verify(args.bank, args.version)
    signed = verified.signed
    assert signed is not None  # required above
    print(f"verified {args.bank}/{args.version}: signed by {signed.key.key_id}")
    print(f"  key sha256 (PEM) {signed.key.fingerprint}")
    for name, digest in sorted(signed.digests.items()):
        print(f"  {name:<18} sha256 {digest}")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    keys = _keys(args)
    if args.action == "init":
        directory = keys.local.directory(args.bank)
        created = keys.local.init(args.bank)
        state = "created" if created else "already there"
        print(f"{directory}/private.pem (mode 0600) and public.pem: {state}")
        return 0
    key = keys.trusted_key(args.bank)
    if key is None:
        raise FileNotFoundError(f"no key for bank {args.bank} (bankreco keys init --bank ...)")
    print(key.pem.decode(), end="")
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    registry = _registry(args)
    listed = registry.listing(args.bank)
    if not listed:
        raise ValueError(f"no version of bank {args.bank!r} in {registry.store.uri}")
    if args.json:
        rows = [{**vars(v), "created_at": v.created_at.isoformat()} for v in listed]
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'':2}{'version':<32}{'created (UTC)':<18}{'MAP@7':>8}{'size':>10}{'traffic':>9}")
    for v in listed:
        mark = "*" if v.current else "+" if v.challenger else " "
        score = "-" if v.map_at_7 is None else f"{v.map_at_7:.5f}"
        created = v.created_at.strftime("%Y-%m-%d %H:%M")
        size = f"{v.bytes / 1024:.0f} KB"
        traffic = f"{v.traffic:g}%" if v.traffic else ""
        print(f"{mark:2}{v.version:<32}{created:<18}{score:>8}{size:>10}{traffic:>9}")
    print(
        "* the champion, + the challenger; traffic: the share of customers each answers; "
        f"store: {registry.store.uri}",
        file=sys.stderr,
    )
    return 0


def _challenger(registry: Registry, bank: str) -> Challenger | None:
    """The challenger `bank`'s pointer names (None: none, or no pointer)."""
    from bankreco.errors import ModelNotPublished

    try:
        return registry.read_pointer(bank).challenger
    except ModelNotPublished:
        return None


def cmd_rollback(args: argparse.Namespace) -> int:
    registry = _registry(args)
    if args.to not in registry.versions(args.bank):
        raise ValueError(
            f"bank {args.bank!r} has no version {args.to!r} in {registry.store.uri} "
            f"(bankreco versions --bank {args.bank} lists them)"
        )
    challenger = _challenger(registry, args.bank)
    registry.set_current(args.bank, args.to)
    dropped = f"; challenger {challenger.version} dropped" if challenger else ""
    print(f"{args.bank} now serves {args.to} to every customer{dropped}")
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    registry = _registry(args)
    challenger = _challenger(registry, args.bank)
    if challenger is None:
        raise ValueError(
            f"bank {args.bank!r} has no challenger in {registry.store.uri} "
            "(bankreco publish --challenger SHARE names one)"
        )
    if args.share is not None:
        champion = registry.set_share(args.bank, args.share)
        print(
            f"{args.bank}: challenger {challenger.version} now answers {args.share:g}% of "
            f"customers, champion {champion} the rest"
        )
        return 0
    version = registry.promote(args.bank)
    print(f"{args.bank} now serves {version} as its champion, to every customer")
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    from bankreco import local
    from bankreco.api.events import LocalContext
    from bankreco.domain import service

    if args.store:
        service.configure(Settings.from_env().replaced(model_store_uri=args.store))
    events = [(name, local.read_event(Path(name))) for name in args.events]  # all, or none
    if args.explain:
        events = [(name, local.with_explain(event)) for name, event in events]
    handler = load_function(Path(args.handler)).lambda_handler if args.handler else local.handler()
    answers = [{"event": name, **_shown(handler(event, LocalContext()))} for name, event in events]
    if len(answers) == 1:
        del answers[0]["event"]
    print(json.dumps(answers[0] if len(answers) == 1 else answers, indent=2))
    worst = max(int(answer["statusCode"]) // 100 for answer in answers)
    return INVOKE_EXIT.get(worst, 5)


def cmd_serve(args: argparse.Namespace) -> int:
    from bankreco.domain import service
    from bankreco.serve import serve

    service.configure(Settings.from_env().replaced(model_store_uri=args.store, bank_id=args.bank))
    return serve(args.host, args.port)


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
        model = models.published_model(_registry(args), args.bank)
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


def _add_data_commands(sub: Any) -> None:
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


def _add_store_commands(sub: Any) -> None:
    store_help = (
        f"s3://bucket/prefix or a directory (default: MODEL_STORE_URI, else {DEFAULT_STORE})"
    )
    p = sub.add_parser("publish", help="sign and upload a model as a new version, make it current")
    p.add_argument("model_dir", help="the directory `bankreco train` wrote")
    p.add_argument("--bank", required=True, help="the bank the version is for, e.g. demo")
    p.add_argument("--store", help=store_help)
    p.add_argument("--key-id", help="KMS key (ARN) signing for the bank (default: a local key)")
    p.add_argument(
        "--force", action="store_true", help="publish even if the bank has this model already"
    )
    p.add_argument(
        "--challenger",
        type=float,
        metavar="SHARE",
        help="serve it as the challenger to SHARE percent of the customers (0 < SHARE < 100), "
        "keeping the champion; a version of this model already published becomes the "
        "challenger without being uploaded again",
    )
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("verify", help="check a published version's signature and files")
    p.add_argument("--bank", required=True)
    p.add_argument("--version", required=True, help="version id")
    p.add_argument("--store")
    p.add_argument("--key-id", help="the bank's KMS key (default: the settings' or local key)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser(
        "keys", help="a bank's signing key: create a local pair, print its public key"
    )
    p.add_argument("action", choices=["init", "show"])
    p.add_argument("--bank", required=True)
    p.add_argument("--key-id", help="show: the bank's KMS key instead of its local pair")
    p.set_defaults(func=cmd_keys)

    p = sub.add_parser(
        "versions", help="list a bank's versions (* the champion, + the challenger, and shares)"
    )
    p.add_argument("--bank", required=True, help="the bank whose versions to list")
    p.add_argument("--store", help=store_help)
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(func=cmd_versions)

    p = sub.add_parser(
        "rollback", help="serve an earlier version again, to every customer (no challenger)"
    )
    p.add_argument("--bank", required=True, help="the bank to roll back")
    p.add_argument("--to", required=True, help="the version id to serve (see `versions`)")
    p.add_argument("--store", help=store_help)
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser(
        "promote", help="make the challenger the champion (or, with --share, change its share)"
    )
    p.add_argument("--bank", required=True, help="the bank whose challenger to promote")
    p.add_argument(
        "--share",
        type=float,
        help="keep the champion and serve the challenger to this percent of the customers",
    )
    p.add_argument("--store", help=store_help)
    p.set_defaults(func=cmd_promote)


def _add_serving_commands(sub: Any) -> None:
    p = sub.add_parser(
        "invoke",
        help="run the Lambda handler on API Gateway event files",
        description="Run the Lambda handler on API Gateway event files (or bare request "
        "bodies, sent as POST /recommendations, or /recommendations/batch when they hold "
        "`customers`). Prints one JSON document: the response, or with several events a "
        "list labelled by file.",
        epilog="exit codes: 0 every response 2xx; 4 some 4xx (a request was refused); 5 some "
        "5xx; 2 an event file could not be read",
    )
    p.add_argument("events", nargs="+", help="event or request-body JSON files")
    p.add_argument("--handler", help="a function file to import instead of bankreco's handler")
    p.add_argument("--store", help="MODEL_STORE_URI for this run: s3://bucket/prefix or a dir")
    p.add_argument(
        "--explain",
        action="store_true",
        help='ask for the reasons of each recommendation ("explain": true in each body)',
    )
    p.set_defaults(func=cmd_invoke)

    p = sub.add_parser("serve", help="the API on localhost (Swagger UI at /swagger), no Docker")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    p.add_argument(
        "--port", type=int, default=3000, help="port (default: %(default)s; 0: any free)"
    )
    p.add_argument("--store", help="MODEL_STORE_URI: s3://bucket/prefix or a directory")
    p.add_argument("--bank", help="BANK_ID: the bank answering requests that name none")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("openapi", help="print or write the API's OpenAPI document")
    p.add_argument("--out", help="file to write (default: print)")
    p.add_argument("--handler", help="a function file whose `app` to document instead")
    p.set_defaults(func=cmd_openapi)

    p = sub.add_parser("demo", help="generate, train, evaluate, publish locally, answer examples")
    p.add_argument(
        "--workdir",
        default=".local",
        help="where the data, the model and the local store go (default: %(default)s)",
    )
    p.add_argument(
        "--customers", type=positive_int, default=40_000, help="customers to generate (%(default)s)"
    )
    p.add_argument("--seed", type=int, default=7, help="seed of the data and the fit (%(default)s)")
    p.set_defaults(func=cmd_demo)


def _add_scoring_commands(sub: Any) -> None:
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
        "that raised that product's score most, joined by '; '. Explained row by row "
        "(about 1 ms a row), far slower than scoring alone",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_score)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bankreco",
        description=__doc__,
        epilog="errors are one line on stderr with a non-zero exit code; --debug shows the "
        "traceback",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_data_commands(sub)
    _add_store_commands(sub)
    _add_serving_commands(sub)
    _add_scoring_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in {"publish", "verify", "rollback", "promote"}:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")  # the error line says it all
    from bankreco.local import powertools_defaults

    powertools_defaults(quiet=True)  # before anything makes Powertools' objects
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print(f"bankreco {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"bankreco {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2 if isinstance(exc, EXPECTED) else 1
    return code


#: Errors a command reports as the user's to fix (exit 2); any other is unexpected (exit 1).
EXPECTED = (BankrecoError, ValueError, OSError)


def _one_line(exc: BaseException) -> str:
    """The error as one line: its own text, or for an unexpected one its type and a hint."""
    text = " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in text:
        text = f"{exc.filename}: {exc.strerror or text}"
    if isinstance(exc, EXPECTED):
        return text
    return f"unexpected {type(exc).__name__}: {text} (--debug shows the traceback)"


if __name__ == "__main__":
    sys.exit(main())
