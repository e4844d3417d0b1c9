"""A verified model ready to score: its estimator plus its manifest.

Nothing is unpickled. The compact form is read by numpy with pickles refused; the skops form
(only where a stage serves any estimator, and only from a signed version) is read by
skops.io, which builds only the types it trusts by default (scikit-learn's estimators,
numpy, builtins) and those of TRUSTED_TYPES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from bankreco import features
from bankreco.catalog import PRODUCT_CODES
from bankreco.domain.forest import CompiledForest
from bankreco.domain.manifest import Manifest
from bankreco.errors import IntegrityError, ModelRejected
from bankreco.observability import count, logger

#: The types skops.io builds besides its defaults: the trees inside the ensembles that
#: scikit-learn's HistGradientBoostingClassifier and RandomForestClassifier hold
#: (LogisticRegression and Pipeline need none).
TRUSTED_TYPES: Final = (
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
)


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
    _excluded: list[int] = field(init=False, repr=False)  # feature columns read as unknown

    def __post_init__(self) -> None:
        classes = [str(c) for c in getattr(self.estimator, "classes_", [])]
        if not hasattr(self.estimator, "predict_proba") or classes != self.manifest.classes:
            raise IntegrityError(
                f"{self.bank}/{self.version}: estimator has no predict_proba or its classes "
                "differ from the manifest's"
            )
        self._columns = product_columns(classes)
        self._excluded = features.field_columns(self.manifest.excluded_features)

    @classmethod
    def from_artifact(
        cls, bank: str, version: str, manifest: Manifest, name: str, data: bytes
    ) -> LoadedModel:
        """Load artifact `name` (verified by the registry against the signature and
        `manifest`): the compact form with numpy alone, or the skops form."""
        load: Callable[[bytes], Any]
        if manifest.compact and name == manifest.compact.file:
            load = CompiledForest.from_bytes
        elif manifest.portable and name == manifest.portable.file:
            load = load_skops
        else:
            raise rejected(bank, version, f"{name} is not a form the function loads")
        try:
            estimator = load(data)
        except ModelRejected as exc:
            raise rejected(bank, version, str(exc)) from exc
        except Exception as exc:  # any loading failure means an unusable artifact
            raise IntegrityError(f"{bank}/{version}: cannot load {name}: {exc}") from exc
        return cls(bank, version, manifest, estimator, len(data))

    def probabilities(self, encoded: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Scores of every product (0 for products the model never learned), shape (n, 24)."""
        if self._excluded:  # the model never learned them: it reads them as unknown
            encoded = encoded.copy()
            encoded[:, self._excluded] = np.nan
        scores = np.zeros((encoded.shape[0], len(PRODUCT_CODES)), dtype=np.float64)
        scores[:, self._columns] = self.estimator.predict_proba(encoded)
        return scores


def load_skops(data: bytes) -> Any:
    """An estimator saved by skops, built from trusted types only (ModelRejected otherwise)."""
    import skops.io

    untrusted = sorted(set(skops.io.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))
    if untrusted:
        raise ModelRejected(f"the skops file holds untrusted types: {', '.join(untrusted[:5])}")
    return skops.io.loads(data, trusted=list(TRUSTED_TYPES))


def rejected(bank: str, version: str, reason: str) -> ModelRejected:
    """The refusal of `bank`'s `version`, counted (metric ModelRejected) and logged."""
    count("ModelRejected")
    logger.warning(
        "model version rejected", extra={"bank": bank, "version": version, "reason": reason}
    )
    return ModelRejected(f"{bank}/{version} is refused: {reason}")
