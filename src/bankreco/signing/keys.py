"""The key ring: a KMS key for the banks the settings give one, local key pairs otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bankreco.settings import Settings
from bankreco.signing.base import KeySource, PublicKey, Signer
from bankreco.signing.kms import KmsKeys
from bankreco.signing.local import LocalKeys
from bankreco.store.base import S3ClientOptions


class KeyRing:
    """A KMS key for each bank the settings give one, a local key pair for every other bank."""

    def __init__(
        self,
        kms_keys: Mapping[str, str],
        keys_dir: str | Path | None = None,
        options: S3ClientOptions | None = None,
    ) -> None:
        self.kms = KmsKeys(kms_keys, options)
        self.local = LocalKeys(keys_dir)

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        return cls(settings.kms_keys, settings.signing_keys_dir, settings.s3_options)

    def _source(self, bank: str) -> KeySource:
        return self.kms if bank in self.kms.key_ids else self.local

    def trusted_key(self, bank: str) -> PublicKey | None:
        return self._source(bank).trusted_key(bank)

    def signer(self, bank: str, create: bool = False) -> Signer:
        return self._source(bank).signer(bank, create)
