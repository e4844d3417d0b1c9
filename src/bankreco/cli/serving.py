"""Answering requests without AWS: `invoke` the handler on event files, `serve` the API on
localhost, print its `openapi` document, run the `demo`."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Any

from bankreco.settings import Settings
from bankreco.training.options import positive_int


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


def add_parsers(sub: Any) -> None:
    """The commands `invoke`, `serve`, `openapi` and `demo`."""
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
