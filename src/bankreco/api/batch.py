"""The batch route: each profile validated on its own, the valid ones ranked per bank, the
answer written as JSON text (batch_json); a profile that fails does so alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from bankreco.api import batch_json
from bankreco.api.errors import error_body, validation_error
from bankreco.api.schemas import CustomerProfile
from bankreco.domain.recommender import Recommender
from bankreco.errors import BankrecoError
from bankreco.observability import logger

_PROFILES: Final = TypeAdapter(list[CustomerProfile])


def recommend_batch(
    recommender: Recommender, customers: Sequence[Any], explain: bool = False
) -> str:
    """A `BatchResponse` as JSON text: one result per customer, in order; with `explain`,
    every customer's recommendations carry their reasons."""
    items = [""] * len(customers)
    profiles = _validated(customers, items)
    if explain:
        profiles = [(i, p.model_copy(update={"explain": True})) for i, p in profiles]
    for group in recommender.recommend_each(profiles):
        ranked = group.outcome
        if isinstance(ranked, BankrecoError):
            error = error_body(ranked)
            reason = {"code": error["code"], "reason": str(ranked), "customers": len(group.indexes)}
            logger.warning("request refused", extra=reason)
            for i in group.indexes:
                items[i] = batch_json.failure(i, error, group.bank)
            continue
        customer_ids = [profile.customer_id for profile in group.profiles]
        rendered = batch_json.answers(
            group.indexes, ranked.bank, ranked.version, customer_ids, ranked.products, ranked.scores
        )
        for i, text in zip(group.indexes, rendered, strict=True):
            items[i] = text
        for i, explained in zip(group.indexes, ranked.reasons or (), strict=False):
            if explained is not None:
                items[i] = batch_json.with_reasons(items[i], explained)
    return batch_json.body(items)


def _validated(customers: Sequence[Any], items: list[str]) -> list[tuple[int, CustomerProfile]]:
    """The valid profiles and their indexes, validated all at once; if any is wrong, one by
    one, writing each wrong one's error into `items`."""
    try:
        return list(enumerate(_PROFILES.validate_python(customers)))
    except ValidationError:
        pass
    valid: list[tuple[int, CustomerProfile]] = []
    for i, raw in enumerate(customers):
        try:
            valid.append((i, CustomerProfile.model_validate(raw)))
        except ValidationError as exc:
            error = validation_error(exc.errors(), skip=()).model_dump()
            items[i] = batch_json.failure(i, error)
    return valid
