"""Versioned models per bank in a store: publish, list, roll back, fetch verified.

Layout below the store root: `<bank>/versions/<version>/{model.pkl,manifest.json}` (never
overwritten) and `<bank>/current.json` naming the version served.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from bankreco.errors import (
    IntegrityError,
    ModelNotPublished,
    ObjectNotFound,
    StoreError,
    UnknownBank,
)
from bankreco.manifest import MANIFEST_FILE, Manifest, sha256
from bankreco.schemas import BANK_PATTERN
from bankreco.store import ModelStore

POINTER_FILE = "current.json"
VERSION_PATTERN = r"^v\d{8}T\d{9}Z-[0-9a-f]{8}$"


@dataclass(frozen=True)
class Pointer:
    """The content of `current.json` and its tag in the store."""

    version: str
    etag: str


def check_bank(bank: str) -> str:
    """Refuse a bank id that is not safe to put in a key."""
    if not re.fullmatch(BANK_PATTERN, bank):
        raise UnknownBank(f"invalid bank id {bank[:70]!r}: must match {BANK_PATTERN}")
    return bank


def _check_version(version: str) -> str:
    if not re.fullmatch(VERSION_PATTERN, version):
        raise ObjectNotFound(f"invalid version id {version[:80]!r}")
    return version


class Registry:
    """Model versions of every bank in one store."""

    def __init__(self, store: ModelStore) -> None:
        self.store = store

    def _bytes(self, key: str) -> bytes:
        blob = self.store.read(key)
        if blob is None:  # only possible with a tag, which is not given here
            raise StoreError(f"{key}: store answered 'not modified' to an unconditional read")
        return blob.data

    def _version_key(self, bank: str, version: str, name: str) -> str:
        return f"{check_bank(bank)}/versions/{_check_version(version)}/{name}"

    def read_pointer(self, bank: str, if_none_match: str | None = None) -> Pointer | None:
        """The version served for `bank`; None when unchanged since tag `if_none_match`."""
        key = f"{check_bank(bank)}/{POINTER_FILE}"
        try:
            blob = self.store.read(key, if_none_match)
        except ObjectNotFound as exc:
            raise ModelNotPublished(f"no model has been published for bank {bank!r}") from exc
        if blob is None:
            return None
        try:
            version = str(json.loads(blob.data)["version"])
        except (ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(f"{key} is not a valid pointer") from exc
        return Pointer(_check_version(version), blob.etag)

    def fetch(self, bank: str, version: str, compact: bool = True) -> tuple[Manifest, str, bytes]:
        """A version's manifest and the artifact to serve (its compact form when it has one,
        else the pickle), verified against each other."""
        _check_version(version)
        try:
            manifest = Manifest.model_validate_json(
                self._bytes(self._version_key(bank, version, MANIFEST_FILE))
            )
            name = manifest.compact.file if compact and manifest.compact else manifest.model_file
            data = self._bytes(self._version_key(bank, version, name))
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
        return sorted(v for v in found if re.fullmatch(VERSION_PATTERN, v))
