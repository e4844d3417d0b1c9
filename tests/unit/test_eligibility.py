"""Eligibility rules: each operator on encoded features, unknown values, canonical spellings,
the documents refused (each message naming the field), and the default Santander rules."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bankreco import features
from bankreco.catalog import PRODUCT_CODES
from bankreco.eligibility import (
    MAX_BYTES,
    MAX_RULES,
    MAX_VALUES,
    Rule,
    RuleSet,
    default_rules,
    describe,
    parse_rules,
    read_rules,
    removed_counts,
)

CARD, LOAN, MORTGAGE, PENSION, JUNIOR = (
    "ind_tjcr_fin_ult1",
    "ind_pres_fin_ult1",
    "ind_hip_fin_ult1",
    "ind_plan_fin_ult1",
    "ind_ctju_fin_ult1",
)
ADULTS_ONLY = (CARD, LOAN, MORTGAGE, PENSION)
COLUMN = {code: i for i, code in enumerate(PRODUCT_CODES)}


def encoded(**columns: list[Any]) -> features.FloatMatrix:
    """Encoded features of customers whose given fields are `columns` (the rest unknown)."""
    n = len(next(iter(columns.values())))
    profile: dict[str, Any] = {name: [None] * n for name in features.RAW_FIELDS}
    for name in features.NUMERIC:
        profile[name] = [np.nan] * n
    profile.update(columns)
    return features.encode(profile, None)


def one_rule(field: str, operator: str, value: Any, product: str = CARD) -> RuleSet:
    rule = {"product": product, "field": field, "operator": operator, "value": value}
    return parse_rules(json.dumps({"rules": [rule]}))


def offered(rules: RuleSet, matrix: features.FloatMatrix, product: str = CARD) -> list[bool]:
    return [bool(x) for x in rules.allowed(matrix)[:, COLUMN[product]]]


AGES = [10.0, 17.0, 18.0, 30.0, np.nan]


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("<", 18, [True, True, False, False, False]),
        ("<=", 18, [True, True, True, False, False]),
        (">", 18, [False, False, False, True, False]),
        (">=", 18, [False, False, True, True, False]),
        ("==", 18, [False, False, True, False, False]),
        ("!=", 18, [True, True, False, True, False]),
        ("in", [10, 30], [True, False, False, True, False]),
        ("not in", [10, 30], [False, True, True, False, False]),
    ],
)
def test_each_operator_on_a_numeric_field_and_never_on_an_unknown_value(
    operator: str, value: Any, expected: list[bool]
) -> None:
    rules = one_rule("age", operator, value)
    assert offered(rules, encoded(age=AGES)) == expected
    others = rules.allowed(encoded(age=AGES))
    assert others[:, [i for i in range(len(PRODUCT_CODES)) if i != COLUMN[CARD]]].all()


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("==", "01 - TOP", [True, False, False, False]),
        ("!=", "01 - TOP", [False, True, True, False]),
        ("in", ["01 - TOP", "03 - UNIVERSITARIO"], [True, False, True, False]),
        ("not in", ["01 - TOP", "03 - UNIVERSITARIO"], [False, True, False, False]),
    ],
)
def test_categorical_operators_and_an_unknown_segment(
    operator: str, value: Any, expected: list[bool]
) -> None:
    segments = ["01 - TOP", "02 - PARTICULARES", "03 - UNIVERSITARIO", "unknown"]
    assert offered(one_rule("segmento", operator, value), encoded(segmento=segments)) == expected


@pytest.mark.parametrize(
    ("field", "spelling", "canonical"),
    [
        ("segmento", "01 - top", "01 - TOP"),
        ("segmento", "  03 - Universitário ", "03 - UNIVERSITARIO"),
        ("nomprov", "coruna, a", "CORUÑA, A"),
        ("nomprov", "Málaga", "MALAGA"),
        ("sexo", "h", "H"),
        ("tiprel_1mes", "a", "A"),
    ],
)
def test_categorical_values_are_stored_and_read_in_the_datas_spelling(
    field: str, spelling: str, canonical: str
) -> None:
    rules = one_rule(field, "==", spelling)
    assert rules.rules[0].value == canonical
    assert offered(rules, encoded(**{field: [canonical, None]})) == [True, False]
    assert parse_rules(rules.to_bytes()) == rules


def test_foreign_and_activity_are_numeric_fields() -> None:
    matrix = encoded(pais_residencia=["ES", "FR", None], ind_actividad_cliente=[1.0, 0.0, 1.0])
    assert offered(one_rule("foreign", "==", 0), matrix) == [True, False, False]
    assert offered(one_rule("ind_actividad_cliente", "!=", 0), matrix) == [True, False, True]


def test_every_rule_of_a_product_must_hold() -> None:
    rules = RuleSet(
        rules=[
            Rule(product=CARD, field="age", operator=">=", value=18),
            Rule(product=CARD, field="renta", operator=">", value=50_000),
        ]
    )
    matrix = encoded(age=[30.0, 30.0, 16.0, 30.0], renta=[90_000.0, 10_000.0, 90_000.0, np.nan])
    assert offered(rules, matrix) == [True, False, False, False]
    assert removed_counts(rules, matrix) == {CARD: 3}


def test_restrict_gives_withheld_products_the_owned_score_and_no_rules_change_nothing() -> None:
    matrix = encoded(age=[16.0, 40.0])
    scores = np.full((2, len(PRODUCT_CODES)), 0.5)
    default_rules().restrict(scores, matrix)
    withheld = {code for code in PRODUCT_CODES if scores[0, COLUMN[code]] == features.OWNED_SCORE}
    assert withheld == set(ADULTS_ONLY)
    assert scores[1, COLUMN[JUNIOR]] == features.OWNED_SCORE
    assert (scores[1] == 0.5).sum() == len(PRODUCT_CODES) - 1
    untouched = np.full((2, len(PRODUCT_CODES)), 0.5)
    RuleSet().restrict(untouched, matrix)
    assert (untouched == 0.5).all()


def test_default_rules_for_ages_16_17_18_30_and_unknown() -> None:
    rules = default_rules()
    assert rules.name == "santander-default"
    assert {(r.product, r.operator, r.value) for r in rules.rules} == {
        *((code, ">=", 18.0) for code in ADULTS_ONLY),
        (JUNIOR, "<", 18.0),
    }
    assert all(r.why for r in rules.rules)
    mask = rules.allowed(encoded(age=[16.0, 17.0, 18.0, 30.0, np.nan]))
    for row, minor in enumerate([True, True, False, False]):
        withheld = {code for code in PRODUCT_CODES if not mask[row, COLUMN[code]]}
        assert withheld == (set(ADULTS_ONLY) if minor else {JUNIOR})
    assert {code for code in PRODUCT_CODES if not mask[4, COLUMN[code]]} == {*ADULTS_ONLY, JUNIOR}
    assert [d["product"] for d in describe(rules)] == [r.product for r in rules.rules]


def test_read_rules_names_the_file(tmp_path: Path) -> None:
    good = tmp_path / "bank.rules.json"
    good.write_bytes(default_rules().to_bytes())
    assert read_rules(good) == default_rules()
    with pytest.raises(ValueError, match=r"missing\.json: cannot read the rules"):
        read_rules(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"rules": [{"product": "ind_xyz_fin_ult1"}]}')
    with pytest.raises(ValueError, match=rf"^{bad}: rules\.0\.product: "):
        read_rules(bad)


def rule_doc(**changes: Any) -> str:
    rule = {"product": CARD, "field": "age", "operator": ">=", "value": 18, **changes}
    return json.dumps({"rules": [rule]})


HUGE = '{"rules": [{"product": "%s", "field": "age", "operator": ">=", "value": %s}]}'
INVALID: dict[str, tuple[str | bytes, str, str]] = {
    "unknown product": (rule_doc(product="ind_car_fin_ult1"), "rules.0.product", "not a product"),
    "unknown field": (rule_doc(field="salary"), "rules.0.field", "is not a field rules read"),
    "unknown operator": (rule_doc(operator="=~"), "rules.0.operator", "Input should be"),
    "ordered on categorical": (
        rule_doc(field="segmento", operator="<", value="01 - TOP"),
        "rules.0.operator",
        "categorical field 'segmento'",
    ),
    "list for one value": (rule_doc(value=[18]), "rules.0.value", "a single value"),
    "one value for in": (rule_doc(operator="in", value=18), "rules.0.value", "a list"),
    "empty list": (rule_doc(operator="not in", value=[]), "rules.0.value", "1 to"),
    "long list": (
        rule_doc(operator="in", value=list(range(MAX_VALUES + 1))),
        "rules.0.value",
        f"not {MAX_VALUES + 1}",
    ),
    "string for numeric": (rule_doc(value="18"), "rules.0.value", "numeric"),
    "boolean for numeric": (rule_doc(value=True), "rules.0.value", "not a number"),
    "null value": (rule_doc(value=None), "rules.0.value", "not a number"),
    "object value": (rule_doc(value={"gte": 18}), "rules.0.value", "not a number"),
    "number for categorical": (
        rule_doc(field="sexo", operator="==", value=1),
        "rules.0.value",
        "categorical field 'sexo'",
    ),
    "unknown category": (rule_doc(field="sexo", operator="==", value="X"), "rules.0.value", "X"),
    "unknown province in a list": (
        rule_doc(field="nomprov", operator="in", value=["MADRID", "ATLANTIS"]),
        "rules.0.value",
        "ATLANTIS",
    ),
    "missing value": (
        json.dumps({"rules": [{"product": CARD, "field": "age", "operator": ">="}]}),
        "rules.0.value",
        "Field required",
    ),
    "extra key in a rule": (rule_doc(colour="red"), "rules.0.colour", "Extra inputs"),
    "extra key at the top": ('{"rules": [], "owner": "x"}', "owner", "Extra inputs"),
    "rules not a list": ('{"rules": {}}', "rules", "valid array"),
    "not an object": ("[]", "the document", "object"),
    "not JSON": ("rules: age >= 18", "the document", "Invalid JSON"),
    "not UTF-8": (b'{"name": "\xff"}', "the document", "Invalid JSON"),
    "empty": ("", "the document is empty", ""),
    "blank": (" \n\t", "the document is empty", ""),
    "too many rules": (
        json.dumps({"rules": [json.loads(rule_doc())["rules"][0]] * (MAX_RULES + 1)}),
        "rules",
        f"at most {MAX_RULES}",
    ),
    "too large": (" " * MAX_BYTES + "{}", "the document is larger", str(MAX_BYTES)),
    "huge value": (HUGE % (CARD, "1e13"), "rules.0.value", "finite number"),
    "overflowing value": (HUGE % (CARD, "1e400"), "rules.0.value", "finite number"),
    "huge integer": (HUGE % (CARD, "9" * 300), "rules.0.value", "finite number"),
    "NaN value": (HUGE % (CARD, "NaN"), "rules.0.value", "finite number"),
    "infinite value": (HUGE % (CARD, "-Infinity"), "rules.0.value", "finite number"),
    "long product": (rule_doc(product="x" * 10_000), "rules.0.product", "at most 60"),
    "long reason": (rule_doc(why="y" * 301), "rules.0.why", "at most 300"),
    "long name": (json.dumps({"name": "n" * 101, "rules": []}), "name", "at most 100"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_documents_are_refused_naming_the_field(case: str) -> None:
    document, where, message = INVALID[case]
    with pytest.raises(ValueError, match=f"^bank.rules.json: {re.escape(where)}") as caught:
        parse_rules(document, "bank.rules.json")
    text = str(caught.value)
    assert message in text
    assert len(text) < 400  # never the whole hostile input
    assert "\n" not in text


@pytest.mark.parametrize(
    "hostile",
    [
        "x" * 5000,
        "<script>alert(1)</script>",
        "MADRID\n\r\x00",
        "\u202eDIRDAM",
        "'; DROP TABLE rules; --",
        "MADRID" + "\u0301" * 100,
    ],
)
def test_hostile_strings_are_refused_and_shown_short_and_escaped(hostile: str) -> None:
    with pytest.raises(ValueError, match=r"^the rules: rules\.0\.value: ") as caught:
        parse_rules(rule_doc(field="nomprov", operator="==", value=hostile))
    text = str(caught.value)
    assert len(text) < 200
    assert text.isascii()  # control and direction characters come out escaped
    assert "\n" not in text
    assert "\x00" not in text


def test_a_valid_document_round_trips_and_rules_read_as_sentences() -> None:
    rules = parse_rules(
        json.dumps(
            {
                "name": "alpha",
                "rules": [
                    {"product": JUNIOR, "field": "age", "operator": "<", "value": 18.5},
                    {
                        "product": "ind_hip_fin_ult1",
                        "field": "nomprov",
                        "operator": "not in",
                        "value": ["ceuta", "MELILLA"],
                        "why": "not sold there",
                    },
                ],
            }
        )
    )
    assert parse_rules(rules.to_bytes()) == rules
    assert rules.rules[1].value == ["CEUTA", "MELILLA"]
    assert rules.rules[1].sentence() == "ind_hip_fin_ult1 only if nomprov not in CEUTA, MELILLA"
    assert RuleSet().allowed(encoded(age=[1.0])).all()
