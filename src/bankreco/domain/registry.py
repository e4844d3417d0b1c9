"""Versioned models per bank in a store: publish signed, list, roll back, fetch verified.

Layout below the store root: `<bank>/versions/<version>/{manifest.json, model.pkl,
model.forest.npz, model.sig}` (each file created once, never overwritten) and
`<bank>/current.json` naming the version served. `model.sig` is the version's signature by
its bank's key (bankreco.signing.statement).

Fetching verifies before anything reaches a loader: the signature with the bank's trusted
key (from the settings, never from the store), the bank and version it names, the manifest
against it, then the one artifact served against both. The pickle is never read to serve.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from bankreco.domain.manifest import MANIFEST_FILE, Manifest, sha256
from bankreco.domain.model import rejected
from bankreco.errors import (
    IntegrityError,
    ModelNotPublished,
    ModelRejected,
    ObjectNotFound,
)
from bankreco.ids import check_bank, check_version, is_version
from bankreco.observability import logger
from bankreco.settings import Settings
from bankreco.signing import statement
from bankreco.signing.base import KeySource
from bankreco.signing.keys import KeyRing
from bankreco.signing.statement import SIGNATURE_FILE, SignedVersion
from bankreco.store import Blob, ModelStore
from bankreco.store.local import LocalStore

POINTER_FILE = "current.json"
_warned_unsigned: set[tuple[str, str]] = set()  # versions served unsigned, warned once each


@dataclass(frozen=True)
class Pointer:
    """The content of `current.json` and its tag in the store."""

    version: str
    etag: str


@dataclass(frozen=True)
class Policy:
    """What may be served: `require_signature` (REQUIRE_SIGNATURE) refuses unsigned versions;
    `serve_any_estimator` (SERVE_ANY_ESTIMATOR) also serves a signed version's skops form
    when it has no compact form."""

    require_signature: bool = True
    serve_any_estimator: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(settings.require_signature, settings.serve_any_estimator)


@dataclass(frozen=True)
class Listed:
    """A published version as its manifest describes it (read to list, not verified:
    `verify` checks a version)."""

    version: str
    created_at: datetime
    map_at_7: float | None
    bytes: int
    model_sha256: str
    current: bool


@dataclass(frozen=True)
class Verified:
    """A version whose every file was checked: its manifest and what its signature says
    (None: unsigned, which only a registry not requiring signatures accepts)."""

    manifest: Manifest
    signed: SignedVersion | None


class Registry:
    """Model versions of every bank in one store, with each bank's key (`keys`) and what may
    be served (`policy`); both default to the environment's settings."""

    def __init__(
        self, store: ModelStore, keys: KeySource | None = None, policy: Policy | None = None
    ) -> None:
        if keys is None or policy is None:
            settings = Settings.from_env()
            keys = keys or KeyRing.from_settings(settings)
            policy = policy or Policy.from_settings(settings)
        self.store, self.keys, self.policy = store, keys, policy

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

    def fetch(self, bank: str, version: str) -> tuple[Manifest, str, bytes]:
        """A version's manifest and the artifact to serve (its compact form, or its skops form
        where the policy allows), verified against the signature and each other."""
        with _refusals(bank, version):
            manifest, signed = self._manifest(bank, version)
            name = self._served_file(manifest, signed)
            return manifest, name, self._artifact(bank, version, manifest, name, signed)

    def verify(self, bank: str, version: str) -> Verified:
        """Check every file of a version (reading, never loading, them) against its signature
        and manifest."""
        with _refusals(bank, version):
            manifest, signed = self._manifest(bank, version)
            for name in manifest.files:
                self._artifact(bank, version, manifest, name, signed)
            return Verified(manifest, signed)

    def _signature(self, bank: str, version: str) -> SignedVersion | None:
        """What the version's signature says, verified with the bank's trusted key; None for
        a version the policy may serve unsigned."""
        try:
            data = self.store.read(self._version_key(bank, version, SIGNATURE_FILE)).data
        except ObjectNotFound:
            return self._unsigned(bank, version, "it is not signed")
        key = self.keys.trusted_key(bank)
        if key is None:
            return self._unsigned(bank, version, f"no key is trusted for bank {bank}")
        return statement.verify(data, key, bank, version)

    def _unsigned(self, bank: str, version: str, reason: str) -> SignedVersion | None:
        """None (served unverified, warned once) if the policy allows; else ModelRejected."""
        if self.policy.require_signature:
            raise ModelRejected(reason)
        if (bank, version) not in _warned_unsigned:
            _warned_unsigned.add((bank, version))
            logger.warning(
                "serving an unverified model version (REQUIRE_SIGNATURE is off)",
                extra={"bank": bank, "version": version, "reason": reason},
            )
        return None

    def _manifest(self, bank: str, version: str) -> tuple[Manifest, SignedVersion | None]:
        """The version's manifest, parsed once checked against its verified signature, and
        what the signature says."""
        data = self._read(bank, version, MANIFEST_FILE)
        signed = self._signature(bank, version)
        if signed:
            signed.check(MANIFEST_FILE, data)
        try:
            manifest = Manifest.model_validate_json(data)
        except ValidationError as exc:
            raise IntegrityError(f"manifest of {bank}/{version} is invalid: {exc}") from exc
        if signed and sorted(signed.digests) != sorted([MANIFEST_FILE, *manifest.files]):
            raise ModelRejected(
                f"the signed files are not the manifest's: {sorted(signed.digests)}"
            )
        return manifest, signed

    def _served_file(self, manifest: Manifest, signed: SignedVersion | None) -> str:
        """The one artifact the function loads; the pickle never is."""
        if manifest.compact:
            return manifest.compact.file
        if not self.policy.serve_any_estimator:
            raise ModelRejected("it has no compact form (SERVE_ANY_ESTIMATOR is off)")
        if signed is None or manifest.portable is None:
            raise ModelRejected("besides a compact form, only a signed skops form is served")
        return manifest.portable.file

    def _artifact(
        self, bank: str, version: str, manifest: Manifest, name: str, signed: SignedVersion | None
    ) -> bytes:
        data = self._read(bank, version, name)
        try:
            manifest.verify_file(name, data)
        except IntegrityError as exc:
            raise IntegrityError(f"{bank}/{version}: {exc}") from exc
        if signed:
            signed.check(name, data)
        return data

    def _read(self, bank: str, version: str, name: str) -> bytes:
        try:
            return self.store.read(self._version_key(bank, version, name)).data
        except ObjectNotFound as exc:
            raise IntegrityError(f"{bank}/{version} is incomplete in the store: {exc}") from exc

    def publish(self, bank: str, manifest: Manifest, files: dict[str, bytes]) -> str:
        """Sign and upload a new immutable version, read it back, then make it current. The
        signature is written last: a version is complete once signed."""
        if sorted(files) != sorted(manifest.files):
            raise IntegrityError(f"expected the files {manifest.files}, got {sorted(files)}")
        for name, data in files.items():
            manifest.verify_file(name, data)
        model = files[manifest.model_file]
        version = f"v{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')[:-3]}Z-{sha256(model)[:8]}"
        signer = self.keys.signer(bank, create=isinstance(self.store, LocalStore))
        version_files = {**files, MANIFEST_FILE: manifest.model_dump_json(indent=2).encode()}
        signature = statement.sign(bank, version, version_files, signer)
        for name, data in {**version_files, SIGNATURE_FILE: signature}.items():
            self.store.write_new(self._version_key(bank, version, name), data)
        self.set_current(bank, version)  # reads the version back and verifies it first
        return version

    def set_current(self, bank: str, version: str) -> None:
        """Serve `version` (it must exist and verify): publishing's last step, and rollback."""
        self.verify(bank, version)
        body = {"version": version, "updated_at": datetime.now(UTC).isoformat()}
        self.store.write(f"{check_bank(bank)}/{POINTER_FILE}", json.dumps(body).encode())

    def listing(self, bank: str) -> list[Listed]:
        """Every published version of `bank`, oldest first, with what its manifest says."""
        try:
            current: str | None = self.read_pointer(bank).version
        except ModelNotPublished:
            current = None
        listed = []
        for version in self.versions(bank):
            data = self.store.read(self._version_key(bank, version, MANIFEST_FILE)).data
            manifest = Manifest.model_validate_json(data)
            served = manifest.compact.bytes if manifest.compact else manifest.model_bytes
            map_at_7 = manifest.metrics.get("map_at_7")
            listed.append(
                Listed(
                    version,
                    manifest.created_at,
                    None if map_at_7 is None else float(map_at_7),
                    served,
                    manifest.model_sha256,
                    version == current,
                )
            )
        return listed

    def versions(self, bank: str) -> list[str]:
        """Every published version of `bank`, oldest first."""
        keys = self.store.list(f"{check_bank(bank)}/versions")
        found = {k.split("/")[2] for k in keys if k.endswith("/" + MANIFEST_FILE)}
        return sorted(filter(is_version, found))


@contextmanager
def _refusals(bank: str, version: str) -> Iterator[None]:
    """Every refusal of a version counted, logged and named after it."""
    check_version(version)
    try:
        yield
    except ModelRejected as exc:
        raise rejected(bank, version, str(exc)) from exc


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
