"""Domain values as the API's response models."""

from __future__ import annotations

from bankreco.api.schemas import (
    ChallengerInfo,
    LegacyResponse,
    ModelInfo,
    Reason,
    Recommendation,
    RecommendationResponse,
)
from bankreco.catalog import PRODUCT_CODES, PRODUCTS
from bankreco.domain.cache import Serving
from bankreco.domain.recommender import Ranked

_RECOMMENDED = [(code, PRODUCTS[code]) for code in PRODUCT_CODES]


def recommendation(ranked: Ranked, customer_id: str | None) -> RecommendationResponse:
    """The answer for the one customer `ranked` holds; `reasons` is set only when explained."""
    explained = ranked.reasons[0] if ranked.reasons else None
    recommendations = [
        Recommendation(product=_RECOMMENDED[j][0], name=_RECOMMENDED[j][1], score=score)
        for j, score in zip(ranked.products[0], ranked.scores[0], strict=True)
    ]
    if explained is not None:
        for item, found in zip(recommendations, explained, strict=True):
            item.reasons = [Reason(**r.public()) for r in found]
    return RecommendationResponse(
        bank=ranked.bank,
        model_version=ranked.version,
        customer_id=customer_id,
        recommendations=recommendations,
    )


def legacy(ranked: Ranked) -> LegacyResponse:
    """The original service's answer: the product codes, separated by spaces, and the
    version that chose them."""
    return LegacyResponse(
        Predictions=" ".join(PRODUCT_CODES[j] for j in ranked.products[0]),
        model_version=ranked.version,
    )


def model_info(serving: Serving) -> ModelInfo:
    """What a bank's champion is and how it was made, and its challenger with its share."""
    model, challenger = serving.champion, serving.challenger
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
        challenger=None
        if challenger is None
        else ChallengerInfo(
            model_version=challenger.version,
            share=serving.share,
            created_at=challenger.manifest.created_at,
            estimator=challenger.manifest.estimator,
            sha256=challenger.manifest.model_sha256,
            metrics=challenger.manifest.metrics,
        ),
    )
