"""Runtime configuration: one typed model, parsed once from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bankreco.ids import BANK_PATTERN
from bankreco.store.base import S3ClientOptions


def default_store() -> str:
    """Where models are kept when MODEL_STORE_URI names no store: the user's data directory
    ($XDG_DATA_HOME/bankreco/models, else ~/.local/share/bankreco/models), the same from any
    working directory."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(data_home) / "bankreco" / "models")


DEFAULT_STORE = "$XDG_DATA_HOME/bankreco/models (else ~/.local/share/bankreco/models)"
#: A KMS key's ARN: the trust anchor names one key, never an alias that could be repointed.
KMS_KEY_ARN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$"


class Settings(BaseModel):
    """What a stage serves and how; every field comes from an upper-case env var."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    model_store_uri: str = Field(default_factory=default_store, min_length=1)
    bank_id: Annotated[str, Field(pattern=BANK_PATTERN)] = "demo"
    allowed_banks: frozenset[str] = frozenset()
    model_ttl_seconds: float = Field(default=60.0, ge=0)
    model_cache_max_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    preload_model: bool = False  # load the stage's model in the init phase (before a snapshot)
    preload_timeout: float = Field(default=5.0, gt=0)  # Lambda's init phase is limited to 10 s
    model_load_timeout: float = Field(default=8.0, gt=0)  # a cold request's wait on the store
    model_refresh_wait: float = Field(default=0.25, ge=0)  # a revalidating request's wait
    s3_connect_timeout: float = Field(default=S3ClientOptions.connect_timeout, gt=0)
    s3_read_timeout: float = Field(default=S3ClientOptions.read_timeout, gt=0)
    s3_max_attempts: int = Field(default=S3ClientOptions.max_attempts, ge=1)
    model_bucket_owner: str | None = Field(default=None, pattern=r"^\d{12}$")
    require_signature: bool = True  # serve only versions signed by their bank's key
    signing_key_id: str | None = Field(default=None, pattern=KMS_KEY_ARN)  # BANK_ID's key
    signing_keys_dir: str | None = None  # local key pairs (bankreco.signing.local)
    serve_any_estimator: bool = False  # also serve signed versions without a compact form

    @field_validator("allowed_banks", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(b.strip() for b in value.split(",") if b.strip())
        return value

    @field_validator("model_bucket_owner", mode="before")
    @classmethod
    def _unset_owner(cls, value: object) -> object:
        return None if value == "" else value  # the template passes "" when no owner is set

    @field_validator("signing_key_id", "signing_keys_dir", mode="before")
    @classmethod
    def _unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("allowed_banks")
    @classmethod
    def _valid_banks(cls, value: frozenset[str]) -> frozenset[str]:
        bad = sorted(b for b in value if not re.fullmatch(BANK_PATTERN, b))
        if bad:
            raise ValueError(f"invalid bank ids: {', '.join(bad)}")
        return value

    @property
    def banks(self) -> frozenset[str]:
        """Every bank this stage may serve."""
        return self.allowed_banks | {self.bank_id}

    @property
    def kms_keys(self) -> dict[str, str]:
        """Bank -> ARN of the KMS key that signs its versions: the stage's bank, if it has
        one (any other bank's versions are checked with local keys, if any)."""
        return {self.bank_id: self.signing_key_id} if self.signing_key_id else {}

    @property
    def s3_options(self) -> S3ClientOptions:
        """The S3 client's timeouts and retries."""
        return S3ClientOptions(
            self.s3_connect_timeout,
            self.s3_read_timeout,
            self.s3_max_attempts,
            self.model_bucket_owner or None,
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        names = {name.upper(): name for name in cls.model_fields}
        return cls.model_validate({names[k]: v for k, v in env.items() if k in names})

    def replaced(self, **changes: object) -> Settings:
        """These settings with `changes` (None values left out), validated like the rest."""
        given = {name: value for name, value in changes.items() if value is not None}
        return type(self).model_validate({**self.model_dump(), **given})


_current: list[Settings] = []  # the settings of this process, once read or given


def get_settings() -> Settings:
    """The settings of this process: those given to `use_settings`, or else the environment's,
    read on first use."""
    if not _current:
        _current.append(Settings.from_env())
    return _current[0]


def use_settings(settings: Settings | None) -> None:
    """Make `settings` this process's settings (None: read the environment again on next use).
    Local commands configure the service this way instead of through os.environ."""
    _current.clear()
    if settings is not None:
        _current.append(settings)
