"""Which version a bank serves: list its `versions`, `rollback` to one, `promote` its
challenger."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from bankreco.cli.registry import STORE_HELP, open_registry

if TYPE_CHECKING:
    from bankreco.domain.registry import Challenger, Registry


def cmd_versions(args: argparse.Namespace) -> int:
    registry = open_registry(args)
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
    registry = open_registry(args)
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
    registry = open_registry(args)
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


def add_parsers(sub: Any) -> None:
    """The commands `versions`, `rollback` and `promote`."""
    p = sub.add_parser(
        "versions", help="list a bank's versions (* the champion, + the challenger, and shares)"
    )
    p.add_argument("--bank", required=True, help="the bank whose versions to list")
    p.add_argument("--store", help=STORE_HELP)
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(func=cmd_versions)

    p = sub.add_parser(
        "rollback", help="serve an earlier version again, to every customer (no challenger)"
    )
    p.add_argument("--bank", required=True, help="the bank to roll back")
    p.add_argument("--to", required=True, help="the version id to serve (see `versions`)")
    p.add_argument("--store", help=STORE_HELP)
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
    p.add_argument("--store", help=STORE_HELP)
    p.set_defaults(func=cmd_promote)
