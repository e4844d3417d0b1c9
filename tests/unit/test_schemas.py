"""Validation of a customer profile: every field, missing, wrong type, out of range, hostile."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bankreco.api.errors import field_errors
from bankreco.api.schemas import BatchRequest, CustomerProfile
from bankreco.catalog import PROFILE_FIELDS

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


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sexo", "X"),
        ("sexo", 1),
        ("sexo", None),
        ("age", -1),
        ("age", 121),
        ("age", "old"),
        ("age", 22.5),
        ("age", True),
        ("age", None),
        ("segmento", "04 - OTHER"),
        ("segmento", "TOP"),
        ("antiguedad", -5),
        ("antiguedad", 10**6),
        ("antiguedad", [1]),
        ("antiguedad", False),
        ("tiprel_1mes", "Z"),
        ("tiprel_1mes", ""),
        ("renta", -1.0),
        ("renta", "rich"),
        ("renta", 1e12),
        ("renta", "NaN"),
        ("renta", True),
        ("renta", "-99"),
        ("renta", [-99]),
        ("pais_residencia", "XX"),
        ("pais_residencia", "ESP"),
        ("pais_residencia", ""),
        ("ind_actividad_cliente", 2),
        ("ind_actividad_cliente", "yes"),
        ("ind_actividad_cliente", True),
        ("nomprov", "ATLANTIS"),
        ("nomprov", "M" * 65),
        ("nomprov", 28),
        ("owned_products", ["ind_bogus"]),
        ("owned_products", "ind_cco_fin_ult1"),
        ("owned_products", ["ind_cco_fin_ult1"] * 25),
        ("top_k", 0),
        ("top_k", 25),
        ("top_k", "all"),
        ("bank", "Bank A"),
        ("bank", "../other"),
        ("bank", "a" * 64),
        ("bank", ""),
        ("customer_id", "x" * 129),
        ("customer_id", "bad\nid"),
        ("customer_id", 12),
    ],
)
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
        (" Coruña, a ", "CORUÑA, A"),
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
    assert "nomprav" in errors_of({**VALID, "nomprav": "MADRID"})


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
