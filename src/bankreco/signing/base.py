"""The small interface to each bank's key, as the model stores have theirs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bankreco.signing import ecdsa


@dataclass(frozen=True)
class PublicKey:
    """A bank's public key (DER SubjectPublicKeyInfo) and the key it belongs to: a KMS key's
    ARN, or `local:<fingerprint>`."""

    der: bytes
    key_id: str

    @property
    def fingerprint(self) -> str:
        """The sha256 of its PEM form (the key hint of a model-signing bundle)."""
        return ecdsa.fingerprint(self.der)

    @property
    def pem(self) -> bytes:
        return ecdsa.pem(self.der)


class Signer(Protocol):
    """Signs for one bank: ECDSA P-256 with SHA-256, DER signatures."""

    def public_key(self) -> PublicKey:
        """The key that verifies this signer's signatures."""
        ...

    def sign(self, message: bytes) -> bytes:
        """The signature of `message`."""
        ...


class KeySource(Protocol):
    """Where each bank's key is. Methods raise KeyUnavailable when the source fails."""

    def trusted_key(self, bank: str) -> PublicKey | None:
        """The key that signs `bank`'s versions, or None if no key is given for it."""
        ...

    def signer(self, bank: str, create: bool = False) -> Signer:
        """The signer of `bank`'s versions (`create`: make a key pair if it has none and the
        source can); KeyUnavailable if there is none."""
        ...
