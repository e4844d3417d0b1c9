"""ECDSA P-256 with SHA-256, the one signature scheme of model versions (as KMS's
ECC_NIST_P256 keys with ECDSA_SHA_256 sign). `cryptography` is imported on first use."""

from __future__ import annotations

import base64
import hashlib
import textwrap
from typing import TYPE_CHECKING

from bankreco.errors import ModelRejected

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec


def pem(der: bytes) -> bytes:
    """A public key (DER SubjectPublicKeyInfo) as PEM, byte for byte as OpenSSL writes it."""
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n".encode()


def fingerprint(der: bytes) -> str:
    """The sha256 of the key's PEM: the key hint of a model-signing bundle."""
    return hashlib.sha256(pem(der)).hexdigest()


def generate() -> tuple[bytes, bytes]:
    """A new key pair: the private key as unencrypted PKCS#8 PEM, the public key as DER."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return private, _der(key.public_key())


def sign(private_pem: bytes, message: bytes) -> bytes:
    """The DER signature of `message` by the PEM private key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    return _private(private_pem).sign(message, ec.ECDSA(hashes.SHA256()))


def public_of(private_pem: bytes) -> bytes:
    """The public key (DER) of a PEM private key."""
    return _der(_private(private_pem).public_key())


def public_der(public_pem: bytes) -> bytes:
    """The DER form of a PEM public key, which must be a P-256 key."""
    from cryptography.hazmat.primitives import serialization

    return _der(_p256(serialization.load_pem_public_key(public_pem)))


def verify(der: bytes, signature: bytes, message: bytes) -> bool:
    """Whether `signature` (DER) is the P-256 key's signature of `message`."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = _p256(serialization.load_der_public_key(der))
    try:
        key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _private(private_pem: bytes) -> ec.EllipticCurvePrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the private key is not an ECDSA P-256 key")
    return key


def _p256(key: object) -> ec.EllipticCurvePublicKey:
    from cryptography.hazmat.primitives.asymmetric import ec

    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ModelRejected("the trusted key is not an ECDSA P-256 public key")
    return key


def _der(key: ec.EllipticCurvePublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
