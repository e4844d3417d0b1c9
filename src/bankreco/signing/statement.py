"""The signature of a model version: an OpenSSF model-signing bundle, `model.sig`.

The publisher signs an in-toto statement (predicate `https://model_signing/signature/v1.0`)
naming every file of the version with its sha256, in a DSSE envelope: the signature is over
the envelope's pre-authentication encoding (PAE) of the payload. The predicate also carries a
`bankreco` section naming the bank, the version id and the manifest's sha256, so a version
copied to another bank or another version id no longer verifies as that one. The bundle is
the one `model_signing sign key` writes (a sigstore bundle with a public key hint), so a
bank's security team can check a downloaded version with `model_signing verify key`; the
function verifies it with `cryptography` alone (docs/security.md, "Signed model versions:
format, keys, verification").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from bankreco.errors import ModelRejected
from bankreco.signing import ecdsa
from bankreco.signing.base import PublicKey, Signer

SIGNATURE_FILE: Final = "model.sig"
MANIFEST_NAME: Final = "manifest.json"
MEDIA_TYPE: Final = "application/vnd.dev.sigstore.bundle.v0.3+json"
PAYLOAD_TYPE: Final = "application/vnd.in-toto+json"
STATEMENT_TYPE: Final = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE: Final = "https://model_signing/signature/v1.0"
MAX_BYTES: Final = 64 * 1024  # of a signature file: a few files' digests take 2 KB
SERIALIZATION: Final = {
    "method": "files",
    "hash_type": "sha256",
    "allow_symlinks": False,
    "ignore_paths": [SIGNATURE_FILE],
}
_DIGEST = re.compile(r"[0-9a-f]{64}")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class SignedVersion:
    """What a verified signature says: the version, its files' sha256 and the signing key."""

    bank: str
    version: str
    digests: Mapping[str, str]  # file name -> sha256, the manifest's included
    key: PublicKey

    def check(self, name: str, data: bytes) -> None:
        """ModelRejected unless `data` is the file `name` as signed."""
        expected = self.digests.get(name)
        if expected is None:
            raise ModelRejected(f"{name} is not among the signed files")
        if sha256(data) != expected:
            raise ModelRejected(f"{name} does not match its signature")


def pae(payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding of an in-toto payload: what is signed."""
    return b"DSSEv1 %d %s %d %s" % (
        len(PAYLOAD_TYPE),
        PAYLOAD_TYPE.encode(),
        len(payload),
        payload,
    )


def statement(bank: str, version: str, files: Mapping[str, bytes], key_id: str) -> dict[str, Any]:
    """The in-toto statement of a version whose files (its manifest included) are `files`."""
    digests = {name: sha256(files[name]) for name in sorted(files)}
    root = hashlib.sha256(b"".join(bytes.fromhex(d) for d in digests.values())).hexdigest()
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": version, "digest": {"sha256": root}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "serialization": SERIALIZATION,
            "resources": [
                {"name": name, "algorithm": "sha256", "digest": digest}
                for name, digest in digests.items()
            ],
            "bankreco": {
                "bank": bank,
                "version": version,
                "manifest_sha256": digests[MANIFEST_NAME],
                "key_id": key_id,
            },
        },
    }


def sign(bank: str, version: str, files: Mapping[str, bytes], signer: Signer) -> bytes:
    """The signature file of a version whose files (its manifest included) are `files`."""
    key = signer.public_key()
    body = statement(bank, version, files, key.key_id)
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    bundle = {
        "mediaType": MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": key.fingerprint}, "tlogEntries": []},
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": base64.b64encode(signer.sign(pae(payload))).decode()}],
        },
    }
    return json.dumps(bundle, indent=2).encode()


def verify(data: bytes, key: PublicKey, bank: str, version: str) -> SignedVersion:
    """The signed statement of `bank`'s `version`, if `data` is its signature by `key`;
    ModelRejected with the reason otherwise."""
    if len(data) > MAX_BYTES:
        raise ModelRejected(f"the signature file is over {MAX_BYTES} bytes")
    try:
        payload, signature, hint = _envelope(json.loads(data))
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ModelRejected(f"the signature file is malformed: {exc!r:.200}") from exc
    if hint and hint != key.fingerprint:
        raise ModelRejected(
            f"signed by another key (sha256 {hint[:12]}…) than bank {bank}'s "
            f"{key.key_id} (sha256 {key.fingerprint[:12]}…)"
        )
    if not ecdsa.verify(key.der, signature, pae(payload)):
        raise ModelRejected(f"the signature does not verify with bank {bank}'s key {key.key_id}")
    try:
        signed = _statement(json.loads(payload), key)
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelRejected(f"the signed statement is malformed: {exc!r:.200}") from exc
    if (signed.bank, signed.version) != (bank, version):
        raise ModelRejected(f"signed as {signed.bank}/{signed.version}, not {bank}/{version}")
    return signed


def _envelope(bundle: Any) -> tuple[bytes, bytes, str]:
    """The payload, the signature and the key hint of a bundle (not verified yet)."""
    if bundle["mediaType"] != MEDIA_TYPE:
        raise ValueError(f"media type {bundle['mediaType']!r}")
    envelope = bundle["dsseEnvelope"]
    if envelope["payloadType"] != PAYLOAD_TYPE or len(envelope["signatures"]) != 1:
        raise ValueError("not one signature of an in-toto payload")
    payload = base64.b64decode(envelope["payload"], validate=True)
    signature = base64.b64decode(envelope["signatures"][0]["sig"], validate=True)
    hint = bundle["verificationMaterial"].get("publicKey", {}).get("hint") or ""
    return payload, signature, str(hint)


def _statement(body: Any, key: PublicKey) -> SignedVersion:
    """The statement's version and digests, checked for consistency as model-signing does."""
    if body["_type"] != STATEMENT_TYPE or body["predicateType"] != PREDICATE_TYPE:
        raise ValueError("not a model-signing statement")
    (subject,) = body["subject"]
    predicate = body["predicate"]
    digests = {r["name"]: r["digest"] for r in predicate["resources"] if r["algorithm"] == "sha256"}
    names = [r["name"] for r in predicate["resources"]]
    if len(digests) != len(names) or not all(map(_DIGEST.fullmatch, digests.values())):
        raise ValueError("resources are not distinct files with sha256 digests")
    root = hashlib.sha256(b"".join(bytes.fromhex(digests[n]) for n in names)).hexdigest()
    own = predicate["bankreco"]
    if root != subject["digest"]["sha256"] or own["manifest_sha256"] != digests[MANIFEST_NAME]:
        raise ValueError("the subject or the manifest digest disagrees with the resources")
    return SignedVersion(str(own["bank"]), str(own["version"]), digests, key)
