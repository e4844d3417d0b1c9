"""Banks' keys in AWS KMS: asymmetric keys (ECC_NIST_P256, SIGN_VERIFY, ECDSA_SHA_256).

A publisher signs through KMS (kms:Sign, and kms:GetPublicKey for the bundle's key hint). The
function fetches each key's public half once (kms:GetPublicKey) and verifies locally: one KMS
call at the first load of a bank, none when a new version is swapped in, and nothing secret
held. The client comes from the process's one botocore session, which the S3 store shares.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Final

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bankreco.errors import KeyUnavailable
from bankreco.signing.base import PublicKey
from bankreco.store.base import S3ClientOptions
from bankreco.store.s3 import botocore_session

ALGORITHM: Final = "ECDSA_SHA_256"
KEY_SPEC: Final = "ECC_NIST_P256"
MAX_MESSAGE: Final = 4096  # bytes KMS signs as a RAW message


class KmsKeys:
    """The KMS key of each bank in `key_ids` (bank -> key ARN)."""

    def __init__(self, key_ids: Mapping[str, str], options: S3ClientOptions | None = None) -> None:
        self.key_ids = dict(key_ids)
        self._options = options or S3ClientOptions()
        self._public: dict[str, PublicKey] = {}  # key id -> its public key, fetched once
        self._clients: dict[str | None, Any] = {}  # region -> client
        self._lock = threading.Lock()

    def _client(self, key_id: str) -> Any:
        """A client of the key's region (a key ARN names it; else the process's region)."""
        parts = key_id.split(":")
        region = (parts[3] or None) if parts[0] == "arn" and len(parts) > 4 else None
        if region not in self._clients:
            config = Config(
                connect_timeout=self._options.connect_timeout,
                read_timeout=self._options.read_timeout,
                retries={"total_max_attempts": self._options.max_attempts, "mode": "standard"},
            )
            self._clients[region] = botocore_session().create_client(
                "kms", region_name=region, config=config
            )
        return self._clients[region]

    def trusted_key(self, bank: str) -> PublicKey | None:
        key_id = self.key_ids.get(bank)
        if key_id is None:
            return None
        with self._lock:  # one GetPublicKey, however many banks load at once
            if key_id not in self._public:
                self._public[key_id] = self._fetch(key_id)
            return self._public[key_id]

    def _fetch(self, key_id: str) -> PublicKey:
        response = self._call("get_public_key", key_id, KeyId=key_id)
        spec = response.get("KeySpec") or response.get("CustomerMasterKeySpec")
        usable = ALGORITHM in response.get("SigningAlgorithms", [])
        if spec != KEY_SPEC or response.get("KeyUsage") != "SIGN_VERIFY" or not usable:
            raise KeyUnavailable(f"KMS key {key_id} is not an {KEY_SPEC} SIGN_VERIFY key")
        return PublicKey(bytes(response["PublicKey"]), key_id)

    def signer(self, bank: str, create: bool = False) -> KmsSigner:
        key_id = self.key_ids.get(bank)
        if key_id is None:
            raise KeyUnavailable(f"no KMS key is given for bank {bank}")
        return KmsSigner(self, key_id, bank)

    def _call(self, operation: str, key_id: str, **params: Any) -> Any:
        """The client's `operation` (snake case) on `key_id`; KeyUnavailable if it fails."""
        try:
            return getattr(self._client(key_id), operation)(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise KeyUnavailable(
                f"KMS refused {operation} on {key_id}: {error.get('Code')} {error.get('Message')}"
            ) from exc
        except BotoCoreError as exc:
            raise KeyUnavailable(f"KMS unreachable for {operation} on {key_id}: {exc}") from exc


class KmsSigner:
    """Signs with one KMS key (kms:Sign); the message is sent as is (RAW, up to 4 KB)."""

    def __init__(self, keys: KmsKeys, key_id: str, bank: str) -> None:
        self._keys, self.key_id, self._bank = keys, key_id, bank

    def public_key(self) -> PublicKey:
        key = self._keys.trusted_key(self._bank)
        assert key is not None  # the bank has a key id
        return key

    def sign(self, message: bytes) -> bytes:
        if len(message) > MAX_MESSAGE:
            raise ValueError(f"{len(message)} bytes to sign: KMS signs at most {MAX_MESSAGE}")
        response = self._keys._call(
            "sign",
            self.key_id,
            KeyId=self.key_id,
            Message=message,
            MessageType="RAW",
            SigningAlgorithm=ALGORITHM,
        )
        return bytes(response["Signature"])
