"""The ranking of many customers at once: the one set of steps behind the API's answers and
`bankreco score`'s rows."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from bankreco import features
from bankreco.domain.model import LoadedModel
from bankreco.errors import IntegrityError


class TopProducts(NamedTuple):
    """Per customer: the top products (indexes into catalog.PRODUCT_CODES, best first), their
    scores rounded to 6 places, and how many of them to keep (the rest are products held)."""

    products: npt.NDArray[np.intp]  # (n, the largest top_k)
    scores: npt.NDArray[np.float64]  # (n, the largest top_k)
    counts: npt.NDArray[np.intp]  # (n,)


def top_products(
    model: LoadedModel,
    encoded: features.FloatMatrix,
    owned: npt.NDArray[np.float64] | None,
    top_k: int | npt.NDArray[np.intp],
) -> TopProducts:
    """Score `encoded` customers with `model`, give the products they hold (`owned`: 0/1, NaN
    unknown; None: unknown for all) the lowest score, and keep each one's `top_k` best (one
    number for all, or one per customer). Products the bank's eligibility rules withhold from
    a customer rank with the owned ones and are never kept. Non-finite scores are an
    IntegrityError."""
    scores = model.probabilities(encoded)
    if owned is not None:
        features.mask_owned(scores, owned)
    if model.manifest.rules is not None:
        model.manifest.rules.restrict(scores, encoded)
    if not np.isfinite(scores).all():
        raise IntegrityError(f"{model.bank}/{model.version}: the model gave non-finite scores")
    top = np.argsort(-scores, axis=1, kind="stable")[:, : int(np.max(top_k))]
    top_scores = np.round(np.take_along_axis(scores, top, axis=1), 6)
    counts = np.minimum(top_k, (top_scores > features.OWNED_SCORE).sum(axis=1))
    return TopProducts(top, top_scores, counts)
