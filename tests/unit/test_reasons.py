"""Reasons: the three inputs that raised a recommended product's score most, in words."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bankreco import features
from bankreco.catalog import PRODUCT_CODES, PROFILE_FIELDS
from bankreco.domain.explain import contributions
from bankreco.domain.forest import CompiledForest, compile_forest
from bankreco.domain.reasons import explain_products, reason
from bankreco.errors import ExplanationUnavailable
from tests.conftest import random_profiles
from tests.unit.test_explain import examples, fitted


@pytest.fixture(scope="module")
def forest() -> CompiledForest:
    return compile_forest(fitted(*examples(3000, 10)))


def profiles(n: int, seed: int) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """`n` encoded profiles and their fields as a request gives them."""
    rng = np.random.default_rng(seed)
    columns = random_profiles(n, rng)
    held = [list(rng.choice(PRODUCT_CODES, rng.integers(0, 4), replace=False)) for _ in range(n)]
    products: list[list[str] | None] = [None if i % 5 == 0 else p for i, p in enumerate(held)]
    fields = [{name: columns[name][i] for name in PROFILE_FIELDS} for i in range(n)]
    for given, codes in zip(fields, products, strict=True):
        given["renta"] = None if np.isnan(given["renta"]) else float(given["renta"])
        given["owned_products"] = codes
    return features.encode(columns, features.holdings(products)), fields


def test_reasons_are_the_largest_positive_contributions(forest: CompiledForest) -> None:
    encoded, fields = profiles(60, 11)
    learned = [PRODUCT_CODES.index(str(code)) for code in forest.classes]
    products = [learned[::-1] for _ in fields]  # every product the model knows
    answers = explain_products(forest, encoded, fields, products)
    assert len(answers) == 60
    counts = []
    for x, answer in zip(encoded, answers, strict=True):
        classes = np.arange(len(forest.classes))[::-1]
        for found, expected in zip(answer, contributions(forest, x, classes), strict=True):
            best = sorted((-c, f) for f, c in enumerate(expected.tolist()) if c >= 5e-5)[:3]
            assert [r.feature for r in found] == [features.FEATURE_NAMES[f] for _, f in best]
            assert [r.contribution for r in found] == [round(-c, 4) for c, _ in best]
            counts.append(len(found))
    assert set(counts) >= {3}
    assert max(counts) == 3


def test_products_the_model_never_learned_have_no_reasons(forest: CompiledForest) -> None:
    encoded, fields = profiles(2, 12)
    unknown = next(c for c, code in enumerate(PRODUCT_CODES) if code not in forest.classes)
    known = PRODUCT_CODES.index(str(forest.classes[0]))
    answers = explain_products(forest, encoded, fields, [[unknown, known], []])
    assert answers[0][0] == []
    assert answers[0][1]
    assert answers[1] == []


def test_only_a_compact_forest_explains() -> None:
    model = fitted(*examples(500, 13))
    encoded, fields = profiles(1, 14)
    with pytest.raises(ExplanationUnavailable, match="compact form"):
        explain_products(model, encoded, fields, [[0]])


GIVEN: dict[str, Any] = {
    "sexo": "V",
    "age": 23,
    "segmento": "02 - PARTICULARES",
    "antiguedad": 14,
    "tiprel_1mes": "I",
    "renta": 87000.0,
    "pais_residencia": "FR",
    "ind_actividad_cliente": 1,
    "nomprov": "MADRID",
    "owned_products": ["ind_cco_fin_ult1"],
}


def said(given: dict[str, Any], feature: str, contribution: float = 0.41) -> tuple[Any, str]:
    """(value, sentence) of `feature`'s reason for a profile whose fields are `given`."""
    columns = {name: [given[name]] for name in PROFILE_FIELDS}
    x = features.encode(columns, features.holdings([given["owned_products"]]))[0]
    column = features.FEATURE_NAMES.index(feature)
    found = reason(column, float(x[column]), given, contribution)
    assert found.feature == feature
    assert found.contribution == contribution
    return found.value, found.sentence


@pytest.mark.parametrize(
    ("feature", "changes", "value", "sentence"),
    [
        ("age", {}, 23, "age 23: +0.41"),
        ("sexo", {}, "V", "sex V: +0.41"),
        ("segmento", {}, "02 - PARTICULARES", "segment 02 - PARTICULARES: +0.41"),
        ("antiguedad", {}, 14, "customer for 14 months: +0.41"),
        ("antiguedad", {"antiguedad": 1}, 1, "customer for 1 month: +0.41"),
        ("tiprel_1mes", {}, "I", "relation type I: +0.41"),
        ("renta", {}, 87000.0, "income 87,000.00: +0.41"),
        ("renta", {"renta": None}, None, "income not given: +0.41"),
        ("foreign", {}, "FR", "lives abroad: +0.41"),
        ("foreign", {"pais_residencia": "ES"}, "ES", "lives in Spain: +0.41"),
        ("ind_actividad_cliente", {}, 1, "active customer: +0.41"),
        ("ind_actividad_cliente", {"ind_actividad_cliente": 0}, 0, "inactive customer: +0.41"),
        ("nomprov", {}, "MADRID", "province MADRID: +0.41"),
        ("owned_ind_cco_fin_ult1", {}, True, "holds Current Accounts: +0.41"),
        ("owned_ind_nomina_ult1", {}, False, "does not hold Payroll: +0.41"),
        (
            "owned_ind_nomina_ult1",
            {"owned_products": None},
            None,
            "not known whether it holds Payroll: +0.41",
        ),
    ],
)
def test_each_input_in_plain_words(
    feature: str, changes: dict[str, Any], value: Any, sentence: str
) -> None:
    assert said({**GIVEN, **changes}, feature) == (value, sentence)


def test_the_field_a_reason_comes_from_and_small_contributions() -> None:
    x = features.encode({name: [GIVEN[name]] for name in PROFILE_FIELDS}, None)[0]
    foreign = reason(features.FEATURE_NAMES.index("foreign"), float(x[6]), GIVEN, 0.0012)
    assert (foreign.field, foreign.sentence) == ("pais_residencia", "lives abroad: +0.0012")
    column = features.FEATURE_NAMES.index("owned_ind_recibo_ult1")
    held = reason(column, 1.0, GIVEN, 1.23456)
    assert (held.field, held.sentence) == ("ind_recibo_ult1", "holds Direct Debit: +1.23")
