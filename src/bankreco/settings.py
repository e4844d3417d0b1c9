"""Runtime configuration: one typed model, parsed once from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bankreco.schemas import BANK_PATTERN

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
    s3_connect_timeout: float = Field(default=2.0, gt=0)
    s3_read_timeout: float = Field(default=10.0, gt=0)
    s3_max_attempts: int = Field(default=3, ge=1)

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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        names = {name.upper(): name for name in cls.model_fields}
        return cls.model_validate({names[k]: v for k, v in env.items() if k in names})


@cache
def get_settings() -> Settings:
    """The settings of this process, read from the environment on first use."""
    return Settings.from_env()
