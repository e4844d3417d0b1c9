"""Validation of a customer profile: every field, missing, wrong type, out of range, hostile."""

from __future__ import annotations

import itertools
import json
import re
import string
from typing import Any, Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from bankreco.api import vocabulary
from bankreco.api.errors import field_errors
from bankreco.api.schemas import BatchRequest, CustomerProfile
from bankreco.catalog import PROFILE_FIELDS, PROVINCES, canonical_province
from tests.conftest import ROOT, example_body

VALID: dict[str, Any] = {
    "sexo": "H",
    "age": 22,
    "segmento": "03 - UNIVERSITARIO",
    "antiguedad": 34,
    "tiprel_1mes": "I",
    "renta": 106885.8,
    "pais_residencia": "ES",
    "ind_actividad_cliente": "0",
    "nomprov": "BALEARS, ILLES",
}
REQUIRED = list(PROFILE_FIELDS)


def errors_of(body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        CustomerProfile.model_validate(body)
    return {e.field: e.message for e in field_errors(caught.value.errors(), skip=())}


def test_the_three_original_examples_validate() -> None:
    body = {k: v for k, v in VALID.items() if k != "nomprov"}
    first = CustomerProfile.model_validate({**body, "nomprav": "BALEARs, ILLES"})
    assert first.nomprov == "BALEARS, ILLES"
    assert first.ind_actividad_cliente == 0
    third = CustomerProfile.model_validate({**VALID, "renta": -99})
    assert third.renta is None
    assert CustomerProfile.model_validate({**VALID, "renta": -99.0}).renta is None
    assert third.top_k == 7
    assert third.owned_products is None


@pytest.mark.parametrize("field", REQUIRED)
def test_each_missing_field_is_named(field: str) -> None:
    body = {k: v for k, v in VALID.items() if k != field}
    assert errors_of(body) == {field: "Field required"}


WRONG: Final[list[tuple[str, Any]]] = [
    ("sexo", "X"),
    ("sexo", 1),
    ("sexo", None),
    ("age", -1),
    ("age", 121),
    ("age", "old"),
    ("age", 22.5),
    ("age", True),
    ("age", None),
    ("age", "30"),
    ("age", " 30"),
    ("age", 1e999),
    ("age", 10**400),
    ("segmento", "04 - OTHER"),
    ("segmento", "TOP"),
    ("antiguedad", -5),
    ("antiguedad", 10**6),
    ("antiguedad", [1]),
    ("antiguedad", False),
    ("antiguedad", "34"),
    ("tiprel_1mes", "Z"),
    ("tiprel_1mes", ""),
    ("tiprel_1mes", " A"),
    ("sexo", "h"),
    ("renta", -1.0),
    ("renta", "rich"),
    ("renta", 1e12),
    ("renta", "NaN"),
    ("renta", True),
    ("renta", "-99"),
    ("renta", [-99]),
    ("renta", "12345"),
    ("renta", 10**400),
    ("renta", -99.5),
    ("pais_residencia", "XX"),
    ("pais_residencia", "ESP"),
    ("pais_residencia", ""),
    ("pais_residencia", " ES"),
    ("pais_residencia", "E1"),
    ("ind_actividad_cliente", 2),
    ("ind_actividad_cliente", "yes"),
    ("ind_actividad_cliente", True),
    ("ind_actividad_cliente", " 1"),
    ("ind_actividad_cliente", "1.0"),
    ("ind_actividad_cliente", 0.5),
    ("nomprov", "ATLANTIS"),
    ("nomprov", "M" * 65),
    ("nomprov", 28),
    ("nomprov", " MADRID"),
    ("nomprov", "MADRIDÉ"),
    ("nomprov", "Madrìd"),
    ("owned_products", ["ind_bogus"]),
    ("owned_products", "ind_cco_fin_ult1"),
    ("owned_products", ["ind_cco_fin_ult1"] * 25),
    ("top_k", 0),
    ("top_k", 25),
    ("top_k", "all"),
    ("top_k", "7"),
    ("top_k", 7.5),
    ("bank", "Bank A"),
    ("bank", "../other"),
    ("bank", "a" * 64),
    ("bank", ""),
    ("customer_id", "x" * 129),
    ("customer_id", "bad\nid"),
    ("customer_id", 12),
    ("customer_id", ""),
]


@pytest.mark.parametrize(("field", "value"), WRONG)
def test_each_wrong_value_is_refused_and_named(field: str, value: Any) -> None:
    assert list(errors_of({**VALID, field: value})) == [field]


def test_unknown_fields_are_refused_by_name() -> None:
    assert errors_of({**VALID, "agee": 3, "__proto__": {}}) == {
        "agee": "unknown field",
        "__proto__": "unknown field",
    }


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("madrid", "MADRID"),
        ("Coruña, a", "CORUÑA, A"),
        ("CORUNA, A", "CORUÑA, A"),
        ("balears, illes", "BALEARS, ILLES"),
        ("Ávila", "AVILA"),
    ],
)
def test_provinces_match_case_and_accent_insensitively(given: str, expected: str) -> None:
    assert CustomerProfile.model_validate({**VALID, "nomprov": given}).nomprov == expected


def test_legacy_spellings_are_accepted_but_not_twice() -> None:
    body = {k: v for k, v in VALID.items() if k not in ("nomprov", "antiguedad")}
    profile = CustomerProfile.model_validate({**body, "nomprav": "MADRID", "antigüedad": 7})
    assert (profile.nomprov, profile.antiguedad) == ("MADRID", 7)
    assert errors_of({**VALID, "nomprav": "MADRID", "antigüedad": 7}) == {
        "nomprav": "sent with `nomprov`: send one of the two",
        "antigüedad": "sent with `antiguedad`: send one of the two",
    }


COERCED: Final[list[tuple[str, Any, Any]]] = [
    ("age", 30.0, 30),  # JSON Schema counts 30.0 as the integer 30
    ("top_k", 3.0, 3),
    ("ind_actividad_cliente", 1, 1),
    ("ind_actividad_cliente", "1", 1),
    ("ind_actividad_cliente", 0.0, 0),
    ("renta", -99, None),
    ("renta", -99.0, None),
    ("renta", None, None),
    ("renta", 0, 0.0),
    ("pais_residencia", "es", "ES"),
    ("pais_residencia", "eS", "ES"),
]


@pytest.mark.parametrize(("field", "value", "expected"), COERCED)
def test_the_documented_coercions(field: str, value: Any, expected: Any) -> None:
    assert getattr(CustomerProfile.model_validate({**VALID, field: value}), field) == expected


def test_values_are_normalised() -> None:
    profile = CustomerProfile.model_validate(
        {
            **VALID,
            "pais_residencia": "fr",
            "ind_actividad_cliente": 1,
            "renta": None,
            "owned_products": ["ind_cco_fin_ult1", "ind_cco_fin_ult1"],
            "customer_id": "C-1",
        }
    )
    assert profile.pais_residencia == "FR"
    assert profile.renta is None
    assert profile.owned_products == ["ind_cco_fin_ult1"]


def test_batch_limits() -> None:
    with pytest.raises(ValidationError):
        BatchRequest.model_validate({"customers": []})
    with pytest.raises(ValidationError):
        BatchRequest.model_validate({"customers": [VALID] * 1001})
    with pytest.raises(ValidationError):
        BatchRequest.model_validate({"customers": [VALID], "extra": 1})
    assert len(BatchRequest.model_validate({"customers": [VALID] * 1000}).customers) == 1000


def document_says(body: dict[str, Any]) -> bool:
    """Whether the committed document's CustomerProfile admits `body`."""
    return DOCUMENT.is_valid(body)


def validator_says(body: dict[str, Any]) -> bool:
    try:
        CustomerProfile.model_validate(body)
    except ValidationError:
        return False
    return True


_COMPONENTS = json.loads((ROOT / "docs" / "openapi.json").read_text())["components"]
DOCUMENT = Draft202012Validator(
    {"$ref": "#/components/schemas/CustomerProfile", "components": _COMPONENTS}
)
SAMPLES: list[dict[str, Any]] = [
    *(dict(VALID, **{field: value}) for field, value in WRONG),
    *(dict(VALID, **{field: value}) for field, value, _ in COERCED),
    *(example_body(n) for n in (1, 2, 3)),
    VALID,
    {**VALID, "nomprav": "MADRID"},
    {k: v for k, v in VALID.items() if k != "nomprov"},
    {**{k: v for k, v in VALID.items() if k != "nomprov"}, "nomprav": "madrid"},
    {**{k: v for k, v in VALID.items() if k != "antiguedad"}, "antigüedad": 3},
    {**VALID, "antigüedad": 3},
    {**VALID, "owned_products": None, "bank": None, "customer_id": None},
    {**VALID, "owned_products": ["ind_cco_fin_ult1"] * 24},
]


@pytest.mark.parametrize("body", SAMPLES)
def test_the_document_and_the_validator_agree(body: dict[str, Any]) -> None:
    assert document_says(body) == validator_says(body), body


@given(st.from_regex(vocabulary.province_pattern(), fullmatch=True))
@settings(max_examples=300, derandomize=True, database=None)
def test_every_spelling_the_pattern_admits_is_a_province(name: str) -> None:
    assert vocabulary.province(name) == canonical_province(name)
    assert vocabulary.province(name) in PROVINCES


SPELLING: Final = st.text(alphabet="MADRIDmadridÁáÍíÑñÌì ,\n\u0301Aa", max_size=8)


@given(st.one_of(SPELLING, st.sampled_from(sorted(PROVINCES)).map(str.lower)))
@settings(max_examples=500, derandomize=True, database=None)
def test_a_spelling_is_accepted_exactly_when_the_pattern_admits_it(name: str) -> None:
    admitted = re.fullmatch(vocabulary.province_pattern(), name) is not None
    assert (vocabulary.province(name) is not None) == admitted


def test_a_country_is_accepted_exactly_when_the_pattern_admits_it() -> None:
    pattern = re.compile(vocabulary.country_pattern())
    letters = string.ascii_letters + "1ßİı"
    for first, second in itertools.product(letters, repeat=2):
        code = first + second
        assert (vocabulary.country(code) is not None) == bool(pattern.fullmatch(code)), code
