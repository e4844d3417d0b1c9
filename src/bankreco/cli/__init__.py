"""The `bankreco` command: generate data, train, evaluate, publish signed, verify, manage
signing keys, invoke, run the demo."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from bankreco.cli import models, publish, scoring, serving, versions
from bankreco.cli.publish import with_skops_form
from bankreco.cli.serving import load_function, openapi_document
from bankreco.errors import BankrecoError

__all__ = [
    "EXPECTED",
    "build_parser",
    "load_function",
    "main",
    "openapi_document",
    "with_skops_form",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bankreco",
        description=__doc__,
        epilog="errors are one line on stderr with a non-zero exit code; --debug shows the "
        "traceback",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True)
    for commands in (models, publish, versions, serving, scoring):
        commands.add_parsers(sub)
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
