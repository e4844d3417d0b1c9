"""Scores and top products of many customers at once, ranked as the API ranks them.

The steps are the API's own (`bankreco.domain.ranking.top_products`), on the columns the
scorer reads: the one encoding (`features.encode`), then the model's ranking.
tests/scoring/test_same_answers.py holds the two to the same answers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from bankreco import features
from bankreco.domain.model import LoadedModel
from bankreco.domain.ranking import TopProducts, top_products

#: Per customer: the top products, their scores, and how many of the columns to keep.
Ranking = TopProducts


def rank(
    model: LoadedModel,
    columns: dict[str, npt.NDArray[Any]],
    owned: npt.NDArray[np.float64] | None,
    top_k: int,
) -> Ranking:
    """The ranking of the customers whose fields are `columns` (canonical values) and whose
    holdings are `owned` (0/1, NaN unknown; None: unknown for all)."""
    return top_products(model, features.encode(columns, owned), owned, top_k)
