"""Versioned models per bank in a store: publish, list, roll back, fetch verified.

Layout below the store root: `<bank>/versions/<version>/{model.pkl,manifest.json}` (never
overwritten) and `<bank>/current.json` naming the version served.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from bankreco.domain.manifest import MANIFEST_FILE, Manifest, sha256
from bankreco.errors import (
    IntegrityError,
    ModelNotPublished,
    ObjectNotFound,
)
from bankreco.ids import check_bank, check_version, is_version
from bankreco.store import Blob, ModelStore

POINTER_FILE = "current.json"


@dataclass(frozen=True)
class Pointer:
    """The content of `current.json` and its tag in the store."""

    version: str
    etag: str


class Registry:
    """Model versions of every bank in one store."""

    def __init__(self, store: ModelStore) -> None:
        self.store = store

    def _version_key(self, bank: str, version: str, name: str) -> str:
        return f"{check_bank(bank)}/versions/{check_version(version)}/{name}"

    def read_pointer(self, bank: str) -> Pointer:
        """The version served for `bank`."""
        key = self._pointer_key(bank)
        with _published(bank):
            return _pointer(key, self.store.read(key))

    def read_pointer_if_changed(self, bank: str, etag: str) -> Pointer | None:
        """The version served for `bank`, or None while the pointer's tag is still `etag`."""
        key = self._pointer_key(bank)
        with _published(bank):
            blob = self.store.read_if_changed(key, etag)
        return None if blob is None else _pointer(key, blob)

    @staticmethod
    def _pointer_key(bank: str) -> str:
        return f"{check_bank(bank)}/{POINTER_FILE}"

    def fetch(self, bank: str, version: str, compact: bool = True) -> tuple[Manifest, str, bytes]:
        """A version's manifest and the artifact to serve (its compact form when it has one,
        else the pickle), verified against each other."""
        check_version(version)
        try:
            manifest = Manifest.model_validate_json(
                self.store.read(self._version_key(bank, version, MANIFEST_FILE)).data
            )
            name = manifest.compact.file if compact and manifest.compact else manifest.model_file
            data = self.store.read(self._version_key(bank, version, name)).data
        except ValidationError as exc:
            raise IntegrityError(f"manifest of {bank}/{version} is invalid: {exc}") from exc
        except ObjectNotFound as exc:
            raise IntegrityError(f"{bank}/{version} is incomplete in the store: {exc}") from exc
        manifest.verify_file(name, data)
        return manifest, name, data

    def publish(self, bank: str, manifest: Manifest, files: dict[str, bytes]) -> str:
        """Upload a new immutable version, read it back, then make it current."""
        if sorted(files) != sorted(manifest.files):
            raise IntegrityError(f"expected the files {manifest.files}, got {sorted(files)}")
        for name, data in files.items():
            manifest.verify_file(name, data)
        model = files[manifest.model_file]
        version = f"v{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')[:-3]}Z-{sha256(model)[:8]}"
        prefix = f"{check_bank(bank)}/versions/{version}/"
        if self.store.list(prefix):
            raise IntegrityError(f"version {version} already exists for {bank}")
        for name, data in files.items():
            self.store.write(prefix + name, data)
        self.store.write(prefix + MANIFEST_FILE, manifest.model_dump_json(indent=2).encode())
        self.set_current(bank, version)  # reads the version back and verifies it first
        return version

    def set_current(self, bank: str, version: str) -> None:
        """Serve `version` (it must exist and verify): publishing's last step, and rollback."""
        manifest, _, _ = self.fetch(bank, version, compact=False)
        if manifest.compact:
            self.fetch(bank, version, compact=True)
        body = {"version": version, "updated_at": datetime.now(UTC).isoformat()}
        self.store.write(f"{check_bank(bank)}/{POINTER_FILE}", json.dumps(body).encode())

    def versions(self, bank: str) -> list[str]:
        """Every published version of `bank`, oldest first."""
        keys = self.store.list(f"{check_bank(bank)}/versions")
        found = {k.split("/")[2] for k in keys if k.endswith("/" + MANIFEST_FILE)}
        return sorted(filter(is_version, found))


@contextmanager
def _published(bank: str) -> Iterator[None]:
    """Reads of `bank`'s pointer: a missing one means nothing is published."""
    try:
        yield
    except ObjectNotFound as exc:
        raise ModelNotPublished(f"no model has been published for bank {bank!r}") from exc


def _pointer(key: str, blob: Blob) -> Pointer:
    try:
        version = str(json.loads(blob.data)["version"])
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"{key} is not a valid pointer") from exc
    return Pointer(check_version(version), blob.etag)
