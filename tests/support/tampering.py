"""What someone who can write to the model store (and nothing else) may try, each done through
the ModelStore interface so that it runs against a local directory and S3 alike.

Every case leaves `<bank>/current.json` naming the version it made, as an attacker would; the
function must refuse each one (ModelRejected) and keep serving its last good model.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bankreco.domain.manifest import MANIFEST_FILE, Manifest
from bankreco.domain.registry import Policy, Registry
from bankreco.signing.keys import KeyRing
from bankreco.signing.statement import SIGNATURE_FILE
from bankreco.store import ModelStore

Artifacts = tuple[Manifest, dict[str, bytes]]


@dataclass
class Scene:
    """The bank's publishing registry, models to publish, and a directory for a stranger's
    key pair."""

    registry: Registry
    bank: str
    good: Artifacts
    other: Artifacts
    pickle_only: Artifacts
    scratch: Path

    @property
    def store(self) -> ModelStore:
        return self.registry.store


_made = iter(range(1, 10**6))


def new_version() -> str:
    """A version id no publish makes (year 2099)."""
    return f"v20990101T000000000Z-{next(_made):08x}"


def point(store: ModelStore, bank: str, version: str) -> None:
    store.write(f"{bank}/current.json", json.dumps({"version": version}).encode())


def copy_version(store: ModelStore, source: str, target: str) -> None:
    """Copy every file of `<bank>/versions/<version>` `source` to `target`."""
    for key in store.list(f"{source}/"):
        store.write(f"{target}/{key.rsplit('/', 1)[1]}", store.read(key).data)


def unsigned(scene: Scene) -> str:
    """A complete version (manifest and artifacts) without a signature."""
    version = new_version()
    manifest, files = scene.other
    prefix = f"{scene.bank}/versions/{version}"
    for name, data in {**files, MANIFEST_FILE: manifest.model_dump_json().encode()}.items():
        scene.store.write(f"{prefix}/{name}", data)
    point(scene.store, scene.bank, version)
    return version


def edited_statement(scene: Scene) -> str:
    """A signed version whose signed statement is edited (here: its bank's name kept, a
    file's digest changed), the signature left as it was."""
    version = scene.registry.publish(scene.bank, *scene.other)
    key = f"{scene.bank}/versions/{version}/{SIGNATURE_FILE}"
    bundle = json.loads(scene.store.read(key).data)
    payload = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    payload["predicate"]["resources"][0]["digest"] = "0" * 64
    edited = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(edited).decode()
    scene.store.write(key, json.dumps(bundle).encode())
    return version


def stranger_key(scene: Scene) -> str:
    """A version signed by a key that is not the bank's (the stranger's own local pair)."""
    keys = KeyRing({}, scene.scratch / "stranger")
    keys.local.init(scene.bank)
    return Registry(scene.store, keys, Policy()).publish(scene.bank, *scene.other)  # and points


def other_bank(scene: Scene) -> str:
    """Another bank's signed version, copied under this bank's prefix with its id."""
    version = scene.registry.publish("beta", *scene.other)
    copy_version(scene.store, f"beta/versions/{version}", f"{scene.bank}/versions/{version}")
    point(scene.store, scene.bank, version)
    return version


def other_version(scene: Scene) -> str:
    """This bank's signed version, copied under another version id."""
    source = scene.registry.read_pointer(scene.bank).version
    version = new_version()
    copy_version(scene.store, f"{scene.bank}/versions/{source}", f"{scene.bank}/versions/{version}")
    point(scene.store, scene.bank, version)
    return version


def edited_manifest(scene: Scene) -> str:
    """A signed version whose manifest is edited after signing (its metrics improved)."""
    version = scene.registry.publish(scene.bank, *scene.other)
    key = f"{scene.bank}/versions/{version}/{MANIFEST_FILE}"
    manifest = json.loads(scene.store.read(key).data)
    manifest["metrics"]["map_at_7"] = 0.99
    scene.store.write(key, json.dumps(manifest).encode())
    return version


def pickle_only(scene: Scene) -> str:
    """A signed version whose only artifact is a pickle."""
    return scene.registry.publish(scene.bank, *scene.pickle_only)


#: Each case and the words the refusal's message must hold.
CASES: dict[str, tuple[Callable[[Scene], str], str]] = {
    "unsigned": (unsigned, "not signed"),
    "edited statement": (edited_statement, "does not verify"),
    "stranger's key": (stranger_key, "another key"),
    "copied from another bank": (other_bank, "another key"),
    "copied to another version": (other_version, "not alpha/"),
    "edited manifest": (edited_manifest, "manifest.json does not match its signature"),
    "pickle only": (pickle_only, "no compact form"),
}
