"""The domain: rank the products each customer is most likely to add next."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from contextlib import suppress
from operator import itemgetter
from typing import Any, Final, NamedTuple

import numpy as np
from pydantic import TypeAdapter, ValidationError

from bankreco import batch_json, features
from bankreco.cache import ModelCache
from bankreco.catalog import PRODUCT_CODES, PRODUCTS
from bankreco.errors import BankrecoError, IntegrityError, UnknownBank
from bankreco.registry import check_bank
from bankreco.schemas import (
    CustomerProfile,
    ModelInfo,
    Recommendation,
    RecommendationResponse,
    validation_error,
)
from bankreco.settings import Settings

_INDEX: Final = {code: i for i, code in enumerate(PRODUCT_CODES)}
_PROFILES: Final = TypeAdapter(list[CustomerProfile])


class Ranked(NamedTuple):
    """The answers of one model: per profile, its top_k catalog columns and their scores,
    best first, without the products it holds."""

    version: str
    products: list[list[int]]
    scores: list[list[float]]


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
        bank = self.bank_for(profile.bank)
        ranked = self.rank(bank, [profile])
        return RecommendationResponse(
            bank=bank,
            model_version=ranked.version,
            customer_id=profile.customer_id,
            recommendations=[
                Recommendation(product=PRODUCT_CODES[j], name=PRODUCTS[PRODUCT_CODES[j]], score=s)
                for j, s in zip(ranked.products[0], ranked.scores[0], strict=True)
            ],
        )

    def recommend_batch(self, customers: Sequence[Any]) -> str:
        """A `BatchResponse` as JSON text (see batch_json): one result per customer, in
        order; a profile that fails validation, routing or scoring fails alone."""
        items = [""] * len(customers)
        for bank, group in self._by_bank(_validated(customers, items), items).items():
            indexes = [i for i, _ in group]
            try:
                ranked = self.rank(bank, [profile for _, profile in group])
            except BankrecoError as exc:
                error = exc.body()
                for i in indexes:
                    items[i] = batch_json.failure(i, error, bank)
                continue
            customer_ids = [profile.customer_id for _, profile in group]
            rendered = batch_json.answers(
                indexes, bank, ranked.version, customer_ids, ranked.products, ranked.scores
            )
            for i, text in zip(indexes, rendered, strict=True):
                items[i] = text
        return batch_json.body(items)

    def _by_bank(
        self, valid: list[tuple[int, CustomerProfile]], items: list[str]
    ) -> dict[str, list[tuple[int, CustomerProfile]]]:
        """The valid profiles grouped by the bank that answers them (each bank checked once
        per request, not per profile); a profile naming one this stage does not serve gets
        its error in `items`."""
        named = {profile.bank for _, profile in valid}
        if len(named) == 1:  # the common case: every profile names the same bank, or none
            with suppress(BankrecoError):  # if it is not served, each profile says so below
                return {self.bank_for(named.pop()): valid}
        groups: dict[str, list[tuple[int, CustomerProfile]]] = defaultdict(list)
        banks: dict[str | None, str | BankrecoError] = {}
        for i, profile in valid:
            if profile.bank not in banks:
                try:
                    banks[profile.bank] = self.bank_for(profile.bank)
                except BankrecoError as exc:
                    banks[profile.bank] = exc
            bank = banks[profile.bank]
            if isinstance(bank, BankrecoError):
                items[i] = batch_json.failure(i, bank.body())
            else:
                groups[bank].append((i, profile))
        return groups

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

    def rank(self, bank: str, profiles: Sequence[CustomerProfile]) -> Ranked:
        """Score `profiles` with `bank`'s model and rank each one's products."""
        model = self.cache.get(bank)
        if not profiles:
            return Ranked(model.version, [], [])
        owned = _owned_matrix(profiles)
        scores = model.probabilities(encode_profiles(profiles, owned))
        if owned is not None:
            scores[np.nan_to_num(owned, nan=0.0) > 0] = -1.0
        if not np.isfinite(scores).all():
            raise IntegrityError(f"{bank}/{model.version}: the model gave non-finite scores")
        top_k = np.fromiter((p.top_k for p in profiles), dtype=np.intp, count=len(profiles))
        top = np.argsort(-scores, axis=1, kind="stable")[:, : top_k.max()]
        top_scores = np.round(np.take_along_axis(scores, top, axis=1), 6)
        keep = np.minimum(top_k, (top_scores >= 0).sum(axis=1))  # owned ones sort last, at -1
        products, kept = top.tolist(), top_scores.tolist()
        if (keep < top.shape[1]).any():
            products = [row[:k] for row, k in zip(products, keep.tolist(), strict=True)]
            kept = [row[:k] for row, k in zip(kept, keep.tolist(), strict=True)]
        return Ranked(model.version, products, kept)


def _validated(customers: Sequence[Any], items: list[str]) -> list[tuple[int, CustomerProfile]]:
    """The valid profiles and their indexes, validated all at once; if any is wrong, one by
    one, writing each wrong one's error into `items`."""
    try:
        return list(enumerate(_PROFILES.validate_python(customers)))
    except ValidationError:
        pass
    valid = []
    for i, raw in enumerate(customers):
        try:
            valid.append((i, CustomerProfile.model_validate(raw)))
        except ValidationError as exc:
            error = validation_error(exc.errors(), skip=()).model_dump()
            items[i] = batch_json.failure(i, error)
    return valid


def encode_profiles(
    profiles: Sequence[CustomerProfile], owned: np.ndarray | None = None
) -> np.ndarray:
    """The model's features for validated API profiles (the same encoding training uses)."""
    fields = [vars(profile) for profile in profiles]  # a model keeps its fields in __dict__
    columns = {name: list(map(itemgetter(name), fields)) for name in features.RAW_FIELDS}
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
