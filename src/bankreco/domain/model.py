"""A verified model ready to score: unpickled estimator plus its manifest."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from bankreco.catalog import PRODUCT_CODES
from bankreco.domain.forest import CompiledForest
from bankreco.domain.manifest import Manifest
from bankreco.errors import IntegrityError


def product_columns(classes: Any) -> npt.NDArray[np.intp]:
    """Where each of an estimator's classes goes among catalog.PRODUCT_CODES."""
    return np.array([PRODUCT_CODES.index(str(c)) for c in classes], dtype=np.intp)


@dataclass
class LoadedModel:
    """One bank's model version; `probabilities` is aligned to catalog.PRODUCT_CODES."""

    bank: str
    version: str
    manifest: Manifest
    estimator: Any
    nbytes: int
    _columns: npt.NDArray[np.intp] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        classes = [str(c) for c in getattr(self.estimator, "classes_", [])]
        if not hasattr(self.estimator, "predict_proba") or classes != self.manifest.classes:
            raise IntegrityError(
                f"{self.bank}/{self.version}: estimator has no predict_proba or its classes "
                "differ from the manifest's"
            )
        self._columns = product_columns(classes)

    @classmethod
    def from_artifact(
        cls, bank: str, version: str, manifest: Manifest, name: str, data: bytes
    ) -> LoadedModel:
        """Load artifact `name` (verified by the caller against `manifest`): the compact
        form with numpy alone, or the pickle with whatever its estimator imports."""
        try:
            if manifest.compact and name == manifest.compact.file:
                estimator: Any = CompiledForest.from_bytes(data)
            else:
                estimator = pickle.loads(data)  # checksum verified by the registry
        except Exception as exc:  # any loading failure means an unusable artifact
            raise IntegrityError(f"{bank}/{version}: cannot load {name}: {exc}") from exc
        return cls(bank, version, manifest, estimator, len(data))

    def probabilities(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Scores of every product (0 for products the model never learned), shape (n, 24)."""
        scores = np.zeros((features.shape[0], len(PRODUCT_CODES)), dtype=np.float64)
        scores[:, self._columns] = self.estimator.predict_proba(features)
        return scores
