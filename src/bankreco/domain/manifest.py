"""The manifest stored beside each model: what it is, how it was made, how to check it."""

from __future__ import annotations

import hashlib
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bankreco import features
from bankreco.catalog import PRODUCTS
from bankreco.eligibility import RuleSet
from bankreco.errors import IntegrityError

MODEL_FILE = "model.pkl"  # the pickle: kept for offline tools, never read by the function
COMPACT_FILE = "model.forest.npz"
PORTABLE_FILE = "model.skops"
MANIFEST_FILE = "manifest.json"
CARD_FILE = "model_card.md"


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


class CompactForm(BaseModel):
    """The numpy-only form of the model (bankreco.domain.forest), served without scikit-learn."""

    file: str = COMPACT_FILE
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(gt=0)


class PortableForm(BaseModel):
    """The estimator saved by skops (no pickle): served, with scikit-learn, only where a stage
    sets SERVE_ANY_ESTIMATOR and only from a signed version (bankreco.domain.model)."""

    file: str = PORTABLE_FILE
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(gt=0)


class CardForm(BaseModel):
    """The version's model card (Markdown), shipped and signed with it."""

    file: str = CARD_FILE
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(gt=0)


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
    compact: CompactForm | None = None
    portable: PortableForm | None = None
    card: CardForm | None = None
    #: The bank's eligibility rules, applied before ranking (None: no rules).
    rules: RuleSet | None = None
    #: Profile features the model was trained without: serving reads them as unknown.
    excluded_features: list[str] = Field(default_factory=list)

    @field_validator("excluded_features")
    @classmethod
    def _profile_fields(cls, names: list[str]) -> list[str]:
        unknown = sorted(set(names) - set(features.RAW_FIELDS))
        if unknown:
            raise ValueError(f"not profile fields: {', '.join(unknown)}")
        return names

    @property
    def files(self) -> list[str]:
        """Every artifact file of the version besides the manifest."""
        forms = [form.file for form in (self.compact, self.portable, self.card) if form]
        return [self.model_file, *forms]

    def _expected(self, name: str) -> tuple[str, int]:
        """The digest and size the manifest records for artifact `name`."""
        if name == self.model_file:
            return self.model_sha256, self.model_bytes
        for form in (self.compact, self.portable, self.card):
            if form and name == form.file:
                return form.sha256, form.bytes
        raise IntegrityError(f"{name} is not an artifact of this manifest")

    @classmethod
    def describe(
        cls,
        estimator: Any,
        files: dict[str, bytes],
        training: dict[str, Any],
        metrics: dict[str, Any],
        rules: RuleSet | None = None,
        excluded_features: list[str] | None = None,
    ) -> Manifest:
        """The manifest of a fitted estimator whose pickle (and, if present, compact and skops
        forms) are `files`, as `train` writes them."""
        blob = files[MODEL_FILE]
        compact, portable = files.get(COMPACT_FILE), files.get(PORTABLE_FILE)
        return cls(
            model_sha256=sha256(blob),
            model_bytes=len(blob),
            estimator=type(estimator).__name__,
            classes=[str(c) for c in estimator.classes_],
            features=features.spec(),
            training=training,
            metrics=metrics,
            compact=CompactForm(sha256=sha256(compact), bytes=len(compact)) if compact else None,
            portable=PortableForm(sha256=sha256(portable), bytes=len(portable))
            if portable
            else None,
            rules=rules,
            excluded_features=excluded_features or [],
        )

    def with_card(self, data: bytes) -> Manifest:
        """This manifest with `data` as its model card."""
        return self.model_copy(update={"card": CardForm(sha256=sha256(data), bytes=len(data))})

    def with_portable(self, data: bytes) -> Manifest:
        """This manifest with `data` as its skops form."""
        form = PortableForm(sha256=sha256(data), bytes=len(data))
        return self.model_copy(update={"portable": form})

    def verify_file(self, name: str, data: bytes) -> None:
        """Raise IntegrityError unless `data` is the artifact `name` this manifest describes
        and serving can read the manifest's features and classes."""
        expected = self._expected(name)
        if (sha256(data), len(data)) != expected:
            raise IntegrityError(
                f"{name} checksum mismatch: manifest says sha256 {expected[0][:12]}… "
                f"({expected[1]} bytes), got {sha256(data)[:12]}… ({len(data)} bytes)"
            )
        if not features.is_supported(self.features):
            raise IntegrityError(
                f"feature spec {self.features.get('sha256', '?')!s:.12} is not the one this "
                f"code encodes (version {features.FEATURE_VERSION})"
            )
        unknown = [c for c in self.classes if c not in PRODUCTS]
        if unknown:
            raise IntegrityError(f"model classes are not product codes: {unknown[:5]}")

    def verify(self, model: bytes) -> None:
        """verify_file for the pickle."""
        self.verify_file(self.model_file, model)


def read_model_dir(directory: str | Path) -> tuple[Manifest, dict[str, bytes]]:
    """A trained model's manifest and artifact files, as `train` wrote them."""
    root = Path(directory)
    manifest = Manifest.model_validate_json((root / MANIFEST_FILE).read_text())
    return manifest, {name: (root / name).read_bytes() for name in manifest.files}
