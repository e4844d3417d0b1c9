"""Reasons for recommendations: the inputs that raised each recommended product's score most.

A reason is a profile field or a product held (or not) whose contribution to the product's
raw score (bankreco.domain.explain: exact TreeSHAP on the compact forest, in log-odds) is
positive, with the value the customer gave and a sentence such as
"holds Current Accounts: +0.41". No HTTP here: the API renders the `Reason` objects.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from bankreco import features
from bankreco.catalog import PRODUCT_CODES, PRODUCTS
from bankreco.domain.explain import contributions, paths_of
from bankreco.domain.forest import CompiledForest
from bankreco.errors import ExplanationUnavailable

Value = str | int | float | bool | None

TOP: Final = 3
OWNED_PREFIX: Final = "owned_"


@dataclass(frozen=True)
class Reason:
    """One input that raised a product's score."""

    feature: str  # its name among features.FEATURE_NAMES
    field: str  # the request field it comes from: a profile field, or a product code held
    value: Value  # as the customer gave it; for a product, whether it is held (None: unknown)
    contribution: float  # to the product's raw score (log-odds), rounded to 4 places
    sentence: str  # e.g. "age 23: +0.12"

    def public(self) -> dict[str, Any]:
        """What an answer shows of the reason (the feature's inner name stays inside)."""
        return {
            "field": self.field,
            "value": self.value,
            "contribution": self.contribution,
            "sentence": self.sentence,
        }


def explainable(estimator: object) -> CompiledForest:
    """`estimator`, if it can explain its scores: a compact forest with node covers (the set-up
    of its explanations built once, here); ExplanationUnavailable saying why otherwise."""
    if not isinstance(estimator, CompiledForest):
        raise ExplanationUnavailable("only a model served from its compact form explains")
    paths_of(estimator)
    return estimator


def explain_products(
    forest: CompiledForest,
    encoded: features.FloatMatrix,
    fields: Sequence[Mapping[str, Any]],
    products: Sequence[Sequence[int]],
    top: int = TOP,
) -> list[list[list[Reason]]]:
    """Per profile, per recommended product, up to `top` reasons, best first.

    `encoded` (n, F) holds the features the forest scored, `fields` each profile's field
    values by name (the nine profile fields; `vars(profile)` will do) and `products` each
    profile's recommended products as catalog columns (indexes into catalog.PRODUCT_CODES,
    as `Ranked.products`). Only the classes asked for are explained. A product the model
    never learned has no reasons; nor does one whose score no input raised. Raises
    ExplanationUnavailable (`explainable`) if `forest` is not a compact forest (a model
    served in its skops form) or has no node covers.
    """
    forest = explainable(forest)
    classes = {str(code): k for k, code in enumerate(forest.classes)}
    answers = []
    for x, given, columns in zip(encoded, fields, products, strict=True):
        learned = [classes.get(PRODUCT_CODES[c]) for c in columns]
        wanted = np.array([k for k in learned if k is not None], dtype=np.intp)
        found = iter(contributions(forest, x, wanted) if len(wanted) else ())
        answers.append(
            [[] if k is None else top_reasons(next(found), x, given, top) for k in learned]
        )
    return answers


def top_reasons(
    contribution: features.FloatMatrix, x: features.FloatMatrix, given: Mapping[str, Any], top: int
) -> list[Reason]:
    """The `top` features of positive `contribution` (F,), best first, as reasons."""
    order = np.argsort(-contribution, kind="stable")[:top]
    reasons = []
    for column in order.tolist():
        rounded = round(float(contribution[column]), 4)
        if rounded <= 0:
            break
        reasons.append(reason(column, float(x[column]), given, rounded))
    return reasons


def reason(column: int, encoded: float, given: Mapping[str, Any], contribution: float) -> Reason:
    """The reason of feature `column`, whose encoded value is `encoded` for a profile whose
    fields are `given`."""
    name = features.FEATURE_NAMES[column]
    if name.startswith(OWNED_PREFIX):
        code = name.removeprefix(OWNED_PREFIX)
        held = None if math.isnan(encoded) else encoded == 1.0
        return Reason(name, code, held, contribution, _said(_holding(code, held), contribution))
    field = "pais_residencia" if name == "foreign" else name
    value = given.get(field)
    unknown = math.isnan(encoded)
    what = f"{LABELS[name]} not given" if unknown else SENTENCES[name](value, encoded)
    return Reason(name, field, _plain(field, value), contribution, _said(what, contribution))


def _holding(code: str, held: bool | None) -> str:
    if held is None:
        return f"not known whether it holds {PRODUCTS[code]}"
    return f"{'holds' if held else 'does not hold'} {PRODUCTS[code]}"


def _said(what: str, contribution: float) -> str:
    """`what` and its contribution with its sign, to 2 places (4 when smaller than 0.005)."""
    places = 2 if abs(contribution) >= 0.005 else 4
    return f"{what}: {contribution:+.{places}f}"


def _number(value: float) -> str:
    """A number as a person writes it: 23 rather than 23.0."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _plain(field: str, value: Any) -> Value:
    """A field's value as JSON writes it: numpy scalars as Python numbers, and the whole
    numbers of a field that holds them (age, months, the activity flag) without a fraction."""
    if isinstance(value, np.generic):
        value = value.item()
    if field in WHOLE and isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, str | int | float | bool) else None


WHOLE: Final = frozenset({"age", "antiguedad", "ind_actividad_cliente"})


def _months(_: Any, encoded: float) -> str:
    months = _number(encoded)
    return f"customer for {months} month{'' if months == '1' else 's'}"


LABELS: Final = {
    "sexo": "sex",
    "age": "age",
    "segmento": "segment",
    "antiguedad": "time as a customer",
    "tiprel_1mes": "relation type",
    "renta": "income",
    "foreign": "country of residence",
    "ind_actividad_cliente": "activity",
    "nomprov": "province",
}
#: The words of each profile feature, from the value given and its encoding.
SENTENCES: Final[dict[str, Callable[[Any, float], str]]] = {
    "sexo": lambda value, _: f"sex {value}",
    "age": lambda _, encoded: f"age {_number(encoded)}",
    "segmento": lambda value, _: f"segment {value}",
    "antiguedad": _months,
    "tiprel_1mes": lambda value, _: f"relation type {value}",
    "renta": lambda _, encoded: f"income {encoded:,.2f}",
    "foreign": lambda _, encoded: "lives abroad" if encoded == 1.0 else "lives in Spain",
    "ind_actividad_cliente": lambda _, encoded: (
        "active customer" if encoded == 1.0 else "inactive customer"
    ),
    "nomprov": lambda value, _: f"province {value}",
}
