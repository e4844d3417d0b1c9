"""Publishing signed versions: `publish` a model, `verify` a version, a bank's signing
`keys`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bankreco.cli.registry import STORE_HELP, key_ring, open_registry

if TYPE_CHECKING:
    from bankreco.domain.manifest import Manifest
    from bankreco.domain.registry import Listed, Registry


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
    registry = open_registry(args)
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

    verified = open_registry(args, Policy(require_signature=True)).verify(args.bank, args.version)
    signed = verified.signed
    assert signed is not None  # required above
    print(f"verified {args.bank}/{args.version}: signed by {signed.key.key_id}")
    print(f"  key sha256 (PEM) {signed.key.fingerprint}")
    for name, digest in sorted(signed.digests.items()):
        print(f"  {name:<18} sha256 {digest}")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    keys = key_ring(args)
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


def add_parsers(sub: Any) -> None:
    """The commands `publish`, `verify` and `keys`."""
    p = sub.add_parser("publish", help="sign and upload a model as a new version, make it current")
    p.add_argument("model_dir", help="the directory `bankreco train` wrote")
    p.add_argument("--bank", required=True, help="the bank the version is for, e.g. demo")
    p.add_argument("--store", help=STORE_HELP)
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
