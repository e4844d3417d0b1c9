"""Runtime configuration: one typed model, parsed once from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bankreco.ids import BANK_PATTERN
from bankreco.store.base import S3ClientOptions

DEFAULT_STORE = ".local/models"


class Settings(BaseModel):
    """What a stage serves and how; every field comes from an upper-case env var."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    model_store_uri: str = Field(default=DEFAULT_STORE, min_length=1)
    bank_id: Annotated[str, Field(pattern=BANK_PATTERN)] = "demo"
    allowed_banks: frozenset[str] = frozenset()
    model_ttl_seconds: float = Field(default=60.0, ge=0)
    model_cache_max_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    preload_model: bool = False  # load the stage's model in the init phase (before a snapshot)
    s3_connect_timeout: float = Field(default=S3ClientOptions.connect_timeout, gt=0)
    s3_read_timeout: float = Field(default=S3ClientOptions.read_timeout, gt=0)
    s3_max_attempts: int = Field(default=S3ClientOptions.max_attempts, ge=1)

    @field_validator("allowed_banks", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(b.strip() for b in value.split(",") if b.strip())
        return value

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
    def s3_options(self) -> S3ClientOptions:
        """The S3 client's timeouts and retries."""
        return S3ClientOptions(self.s3_connect_timeout, self.s3_read_timeout, self.s3_max_attempts)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        names = {name.upper(): name for name in cls.model_fields}
        return cls.model_validate({names[k]: v for k, v in env.items() if k in names})


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
