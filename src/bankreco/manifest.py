"""The manifest stored beside each model: what it is, how it was made, how to check it."""

from __future__ import annotations

import hashlib
import platform
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bankreco import features
from bankreco.catalog import PRODUCTS
from bankreco.errors import IntegrityError

MODEL_FILE = "model.pkl"
MANIFEST_FILE = "manifest.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of the libraries a pickled model depends on."""
    found = {"python": platform.python_version()}
    for name in ("bankreco", "scikit-learn", "numpy"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


class Manifest(BaseModel):
    """The contract between training and serving for one model version."""

    model_config = ConfigDict(extra="ignore")

    format_version: int = 1
    model_file: str = MODEL_FILE
    model_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    model_bytes: int = Field(gt=0)
    estimator: str
    classes: list[str] = Field(min_length=1)
    features: dict[str, Any]
    libraries: dict[str, str] = Field(default_factory=library_versions)
    training: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def verify(self, model: bytes) -> None:
        """Raise IntegrityError unless `model` is the pickle this manifest describes and
        serving can read its features and classes."""
        if len(model) != self.model_bytes or sha256(model) != self.model_sha256:
            raise IntegrityError(
                f"model checksum mismatch: manifest says sha256 {self.model_sha256[:12]}… "
                f"({self.model_bytes} bytes), got {sha256(model)[:12]}… ({len(model)} bytes)"
            )
        if not features.is_supported(self.features):
            raise IntegrityError(
                f"feature spec {self.features.get('sha256', '?')!s:.12} is not the one this "
                f"code encodes (version {features.FEATURE_VERSION})"
            )
        unknown = [c for c in self.classes if c not in PRODUCTS]
        if unknown:
            raise IntegrityError(f"model classes are not product codes: {unknown[:5]}")
