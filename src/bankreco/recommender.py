"""The domain: rank the products each customer is most likely to add next."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import ValidationError

from bankreco import features
from bankreco.cache import ModelCache
from bankreco.catalog import PRODUCT_CODES, PRODUCTS
from bankreco.errors import BankrecoError, UnknownBank
from bankreco.registry import check_bank
from bankreco.schemas import (
    CustomerProfile,
    ModelInfo,
    RecommendationResponse,
    validation_error,
)
from bankreco.settings import Settings

_INDEX = {code: i for i, code in enumerate(PRODUCT_CODES)}
_PRODUCT = [{"product": code, "name": PRODUCTS[code]} for code in PRODUCT_CODES]


class Recommender:
    """Answers recommendation requests for the banks this stage serves."""

    def __init__(self, settings: Settings, cache: ModelCache) -> None:
        self.settings = settings
        self.cache = cache

    def bank_for(self, requested: str | None) -> str:
        """The bank that answers: the request's own, if this stage serves it, or the stage's."""
        bank = check_bank(requested or self.settings.bank_id)
        if bank not in self.settings.banks:
            raise UnknownBank(f"bank {bank!r} is not served by this stage")
        return bank

    def recommend(self, profile: CustomerProfile) -> RecommendationResponse:
        """The ranked answer for one customer."""
        answer = self._score(self.bank_for(profile.bank), [profile])[0]
        return RecommendationResponse.model_validate(answer)

    def recommend_batch(self, customers: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """A `BatchResponse` as JSON-ready data: one result per customer, in order; a
        profile that fails validation or routing fails alone."""
        results: dict[int, dict[str, Any]] = {}
        valid: dict[str, list[tuple[int, CustomerProfile]]] = defaultdict(list)
        for i, raw in enumerate(customers):
            try:
                profile = CustomerProfile.model_validate(raw)
                valid[self.bank_for(profile.bank)].append((i, profile))
            except ValidationError as exc:
                results[i] = {
                    "index": i,
                    "error": validation_error(exc.errors(), skip=()).model_dump(),
                }
            except BankrecoError as exc:
                results[i] = {"index": i, "error": {"code": exc.code, "message": str(exc)}}
        for bank, group in valid.items():
            try:
                answers = self._score(bank, [p for _, p in group])
            except BankrecoError as exc:
                error = {"code": exc.code, "message": str(exc)}
                results.update((i, {"index": i, "bank": bank, "error": error}) for i, _ in group)
                continue
            results.update(
                (i, {"index": i, **answer}) for (i, _), answer in zip(group, answers, strict=True)
            )
        return {"results": [results[i] for i in range(len(customers))]}

    def model_info(self, bank: str | None) -> ModelInfo:
        """What the stage serves for `bank`."""
        model = self.cache.get(self.bank_for(bank))
        manifest = model.manifest
        return ModelInfo(
            bank=model.bank,
            model_version=model.version,
            created_at=manifest.created_at,
            estimator=manifest.estimator,
            feature_version=int(manifest.features.get("version", 0)),
            sha256=manifest.model_sha256,
            metrics=manifest.metrics,
            training=manifest.training,
        )

    def _score(self, bank: str, profiles: Sequence[CustomerProfile]) -> list[dict[str, Any]]:
        """Answers as plain data (a batch builds thousands: no model objects per product)."""
        model = self.cache.get(bank)
        owned = _owned_matrix(profiles)
        scores = model.probabilities(encode_profiles(profiles, owned))
        if owned is not None:
            scores[np.nan_to_num(owned, nan=0.0) > 0] = -1.0
        k = max(p.top_k for p in profiles)
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        top_scores = np.round(np.take_along_axis(scores, top, axis=1), 6).tolist()
        return [
            {
                "bank": bank,
                "model_version": model.version,
                "customer_id": profile.customer_id,
                "recommendations": [
                    {**_PRODUCT[j], "score": score}
                    for j, score in zip(
                        top[row, : profile.top_k].tolist(),
                        top_scores[row][: profile.top_k],
                        strict=True,
                    )
                    if score >= 0
                ],
            }
            for row, profile in enumerate(profiles)
        ]


def encode_profiles(
    profiles: Sequence[CustomerProfile], owned: np.ndarray | None = None
) -> np.ndarray:
    """The model's features for validated API profiles (the same encoding training uses)."""
    columns = {name: [getattr(p, name) for p in profiles] for name in features.RAW_FIELDS}
    return features.encode(columns, owned)


def _owned_matrix(profiles: Sequence[CustomerProfile]) -> np.ndarray | None:
    """Last month's holdings as 0/1, NaN rows where the client did not say; None if none did."""
    if all(p.owned_products is None for p in profiles):
        return None
    owned = np.zeros((len(profiles), len(PRODUCT_CODES)), dtype=np.float64)
    for row, profile in enumerate(profiles):
        if profile.owned_products is None:
            owned[row] = np.nan
        else:
            owned[row, [_INDEX[c] for c in profile.owned_products]] = 1.0
    return owned
