"""The model registry and the signing keys a command's options name: `--store`, `--bank`
and `--key-id`, else the settings."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bankreco.settings import DEFAULT_STORE, Settings

if TYPE_CHECKING:
    from bankreco.domain.registry import Policy, Registry
    from bankreco.signing.keys import KeyRing

#: The help of `--store` in the commands that read or write the registry.
STORE_HELP = f"s3://bucket/prefix or a directory (default: MODEL_STORE_URI, else {DEFAULT_STORE})"


def _store(args: argparse.Namespace) -> str:
    return str(args.store or Settings.from_env().model_store_uri)


def key_ring(args: argparse.Namespace) -> KeyRing:
    """The key ring of the settings, with `--key-id` as the KMS key of `--bank` if given."""
    from bankreco.signing.keys import KeyRing

    settings = Settings.from_env()
    kms = settings.kms_keys
    if getattr(args, "key_id", None):
        kms = {**kms, args.bank: args.key_id}
    return KeyRing(kms, settings.signing_keys_dir, settings.s3_options)


def open_registry(args: argparse.Namespace, policy: Policy | None = None) -> Registry:
    """The registry in the store `--store` names, trusting the keys of `key_ring`."""
    from bankreco.domain.registry import Policy, Registry
    from bankreco.store import open_store

    policy = policy or Policy.from_settings(Settings.from_env())
    return Registry(open_store(_store(args)), key_ring(args), policy)
