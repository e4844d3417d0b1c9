"""The reasons of `bankreco score --explain`: for each recommended product, the inputs that
raised its score most, as the sentences of `bankreco.domain.reasons`.

The ranking and the explanation read the one encoded matrix (`features.encode` once). The
explanation is exact TreeSHAP on the compact forest, one customer at a time, so an explained
run is far slower than scoring alone; the unexplained path never comes here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from bankreco import features
from bankreco.domain.model import LoadedModel
from bankreco.domain.ranking import top_products
from bankreco.domain.reasons import explain_products, explainable
from bankreco.errors import ExplanationUnavailable
from bankreco.scoring.rank import Ranking

SEPARATOR = "; "  # between the reasons of one product


def check_explainable(model: LoadedModel) -> None:
    """Raise ExplanationUnavailable, naming the model's version, if `model` cannot explain
    its scores (domain.reasons.explainable says why)."""
    try:
        explainable(model.estimator)
    except ExplanationUnavailable as exc:
        raise ExplanationUnavailable(
            f"{model.bank}/{model.version} cannot explain its scores: {exc}"
        ) from None


def rank_explained(
    model: LoadedModel,
    columns: dict[str, npt.NDArray[Any]],
    owned: npt.NDArray[np.float64] | None,
    top_k: int,
) -> tuple[Ranking, list[list[str]]]:
    """`rank.rank`'s ranking, and per customer, per product kept (`Ranking.counts`), its
    reasons' sentences joined by SEPARATOR (empty when no input raised its score)."""
    encoded = features.encode(columns, owned)
    ranking = top_products(model, encoded, owned, top_k)
    kept = [
        row[:count]
        for row, count in zip(ranking.products.tolist(), ranking.counts.tolist(), strict=True)
    ]
    names = list(columns)
    fields = [
        dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]
    found = explain_products(model.estimator, encoded, fields, kept)
    sentences = [
        [SEPARATOR.join(reason.sentence for reason in reasons) for reasons in products]
        for products in found
    ]
    return ranking, sentences
