"""Scores and top products of many customers at once, ranked as the API ranks them.

The steps are those of `bankreco.domain.recommender.Recommender.rank` on arrays: the one
encoding (`features.encode`), the model's probabilities, the products held given the lowest
score, a stable sort, scores rounded to 6 places, and the held products dropped from the
end of each row. tests/scoring/test_same_answers.py holds the two to the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bankreco import features
from bankreco.domain.model import LoadedModel
from bankreco.errors import IntegrityError


@dataclass(frozen=True)
class Ranking:
    """Per customer: the top products (indexes into catalog.PRODUCT_CODES, best first), their
    scores, and how many of the `top_k` columns hold a product (the rest are held ones)."""

    products: npt.NDArray[np.intp]  # (n, top_k)
    scores: npt.NDArray[np.float64]  # (n, top_k), rounded to 6 places
    counts: npt.NDArray[np.intp]  # (n,)


def rank(
    model: LoadedModel,
    columns: dict[str, npt.NDArray[Any]],
    owned: npt.NDArray[np.float64] | None,
    top_k: int,
) -> Ranking:
    """The ranking of the customers whose fields are `columns` (canonical values) and whose
    holdings are `owned` (0/1, NaN unknown; None: unknown for all)."""
    scores = model.probabilities(features.encode(columns, owned))
    if owned is not None:
        features.mask_owned(scores, owned)
    if not np.isfinite(scores).all():
        raise IntegrityError(f"{model.bank}/{model.version}: the model gave non-finite scores")
    top = np.argsort(-scores, axis=1, kind="stable")[:, :top_k]
    top_scores = np.round(np.take_along_axis(scores, top, axis=1), 6)
    counts = np.minimum(top_k, (top_scores > features.OWNED_SCORE).sum(axis=1))
    return Ranking(top, top_scores, counts)
