"""Versioned models per bank in a store: publish signed, list, roll back, fetch verified.

Layout below the store root: `<bank>/versions/<version>/{manifest.json, model.pkl,
model.forest.npz, model.sig}` (each file created once, never overwritten) and
`<bank>/current.json` naming the version served, the champion, and optionally a challenger
served to a share of the bank's customers:
`{"version": champion, "challenger": {"version": V, "share": 10}, "updated_at": ...}` (share:
percent, 0 < share < 100). `model.sig` is the version's signature by its bank's key
(bankreco.signing.statement).

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
class Challenger:
    """A version served beside the champion to `share` percent of a bank's customers."""

    version: str
    share: float


@dataclass(frozen=True)
class Pointer:
    """The content of `current.json` and its tag in the store: the champion's version and the
    challenger, if one is named."""

    version: str
    etag: str
    challenger: Challenger | None = None


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
    current: bool  # the champion
    challenger: bool = False
    traffic: float = 0.0  # percent of the bank's customers it answers


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

    def read_file(self, bank: str, version: str, name: str) -> bytes:
        """One artifact of a version (e.g. its model card, `manifest.card.file`), checked
        against the manifest and the signature as `verify` checks each; IntegrityError for a
        name the manifest does not list."""
        with _refusals(bank, version):
            manifest, signed = self._manifest(bank, version)
            if name not in manifest.files:
                raise IntegrityError(f"{name!r} is not a file of {bank}/{version}")
            return self._artifact(bank, version, manifest, name, signed)

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

    def publish(
        self,
        bank: str,
        manifest: Manifest,
        files: dict[str, bytes],
        challenger_share: float | None = None,
    ) -> str:
        """Sign and upload a new immutable version, read it back, then serve it: as the
        champion, or with `challenger_share` as the challenger for that percent of customers
        (the champion stays). The signature is written last: a version is complete once
        signed."""
        if sorted(files) != sorted(manifest.files):
            raise IntegrityError(f"expected the files {manifest.files}, got {sorted(files)}")
        for name, data in files.items():
            manifest.verify_file(name, data)
        if challenger_share is not None:
            check_share(challenger_share)
            self._champion_for_challenger(bank)  # checked before uploading anything
        model = files[manifest.model_file]
        version = f"v{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')[:-3]}Z-{sha256(model)[:8]}"
        signer = self.keys.signer(bank, create=isinstance(self.store, LocalStore))
        version_files = {**files, MANIFEST_FILE: manifest.model_dump_json(indent=2).encode()}
        signature = statement.sign(bank, version, version_files, signer)
        for name, data in {**version_files, SIGNATURE_FILE: signature}.items():
            self.store.write_new(self._version_key(bank, version, name), data)
        # Each reads the version back and verifies it before the pointer names it.
        if challenger_share is None:
            self.set_current(bank, version)
        else:
            self.set_challenger(bank, version, challenger_share)
        return version

    def set_current(self, bank: str, version: str) -> None:
        """Serve `version` (it must exist and verify) as the only model, with no challenger:
        publishing's last step, promotion and rollback."""
        self.verify(bank, version)
        self._write_pointer(bank, version, None)

    def set_challenger(self, bank: str, version: str, share: float) -> str:
        """Serve `version` (it must exist and verify) to `share` percent of the bank's
        customers beside the champion, which stays; the champion's version. The pointer is
        read, then written: two publishers at once may overwrite each other's challenger."""
        share = check_share(share)
        self.verify(bank, version)
        champion = self._champion_for_challenger(bank)
        if version == champion:
            raise ValueError(f"{bank}/{version} is the champion already")
        self._write_pointer(bank, champion, Challenger(version, share))
        return champion

    def _champion_for_challenger(self, bank: str) -> str:
        try:
            return self.read_pointer(bank).version
        except ModelNotPublished as exc:
            raise ModelNotPublished(
                f"bank {bank!r} has no champion for a challenger to challenge: publish one "
                "without a challenger first"
            ) from exc

    def promote(self, bank: str) -> str:
        """Make the challenger the champion (verified again), with no challenger left; its
        version. ValueError when the bank has no challenger."""
        challenger = self._challenger(bank)
        self.set_current(bank, challenger.version)
        return challenger.version

    def set_share(self, bank: str, share: float) -> str:
        """Serve the challenger to `share` percent of the customers from now on; the
        champion's version."""
        return self.set_challenger(bank, self._challenger(bank).version, share)

    def _challenger(self, bank: str) -> Challenger:
        challenger = self.read_pointer(bank).challenger
        if challenger is None:
            raise ValueError(f"bank {bank!r} has no challenger")
        return challenger

    def _write_pointer(self, bank: str, champion: str, challenger: Challenger | None) -> None:
        body: dict[str, object] = {"version": champion}
        if challenger:
            share = challenger.share
            body["challenger"] = {"version": challenger.version, "share": _number(share)}
        body["updated_at"] = datetime.now(UTC).isoformat()
        self.store.write(self._pointer_key(bank), json.dumps(body).encode())

    def listing(self, bank: str) -> list[Listed]:
        """Every published version of `bank`, oldest first, with what its manifest says and
        the share of customers it answers."""
        try:
            pointer: Pointer | None = self.read_pointer(bank)
        except ModelNotPublished:
            pointer = None
        traffic = _traffic(pointer)
        challenger = pointer.challenger.version if pointer and pointer.challenger else None
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
                    current=pointer is not None and version == pointer.version,
                    challenger=version == challenger,
                    traffic=traffic.get(version, 0.0),
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


def check_share(share: float) -> float:
    """`share`, a percent of customers a challenger may get (0 < share < 100); ValueError
    otherwise."""
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share < 100:
        raise ValueError(f"a challenger's share is a percent above 0 and below 100, not {share}")
    return float(share)


def _number(share: float) -> float | int:
    """A share as the pointer writes it: 10, not 10.0."""
    return int(share) if share.is_integer() else share


def _traffic(pointer: Pointer | None) -> dict[str, float]:
    """Version -> percent of the customers it answers, for the versions `pointer` names."""
    if pointer is None:
        return {}
    if pointer.challenger is None:
        return {pointer.version: 100.0}
    share = pointer.challenger.share
    return {pointer.version: 100.0 - share, pointer.challenger.version: share}


def _pointer(key: str, blob: Blob) -> Pointer:
    try:
        body = json.loads(blob.data)
        version = str(body["version"])
        challenger = _parse_challenger(body.get("challenger"))
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"{key} is not a valid pointer") from exc
    if challenger and challenger.version == version:
        raise IntegrityError(f"{key} is not a valid pointer: its challenger is its champion")
    return Pointer(check_version(version), blob.etag, challenger)


def _parse_challenger(named: object) -> Challenger | None:
    """The pointer's `challenger` (None when absent); ValueError or TypeError if malformed."""
    if named is None:
        return None
    if not isinstance(named, dict):
        raise TypeError("the challenger is not an object")
    version = str(named["version"])
    if not is_version(version):
        raise ValueError(f"the challenger {version[:80]!r} is not a version id")
    return Challenger(version, check_share(named["share"]))
