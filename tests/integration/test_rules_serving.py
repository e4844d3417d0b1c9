"""Eligibility rules through the real handler: a version whose manifest carries the default
Santander rules never offers a minor a credit card, loan, mortgage or pension plan, nor an adult
the junior account, on the single and batch routes, even when fewer than top_k products remain;
a version without rules answers as before; and the rules are signed with the version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bankreco.catalog import PRODUCT_CODES
from bankreco.domain.manifest import MANIFEST_FILE
from bankreco.domain.registry import Registry
from bankreco.eligibility import default_rules
from bankreco.errors import ModelRejected
from bankreco.store.local import LocalStore
from tests.conftest import Artifacts, Handler, api_event, example_body, make_model

ADULTS_ONLY = {"ind_tjcr_fin_ult1", "ind_pres_fin_ult1", "ind_hip_fin_ult1", "ind_plan_fin_ult1"}
JUNIOR = "ind_ctju_fin_ult1"
RULED, UNRULED = "alpha", "beta"  # the same model, published with and without the rules


@pytest.fixture(scope="session")
def ruled_artifacts() -> Artifacts:
    """make_model(0) (the model of model_artifacts[0]) with the default rules in its manifest."""
    return make_model(0, rules=default_rules())


@pytest.fixture
def store(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ruled_artifacts: Artifacts,
    model_artifacts: list[Artifacts],
) -> LocalStore:
    local = LocalStore(tmp_path / "models")
    registry = Registry(local)
    registry.publish(RULED, *ruled_artifacts)
    registry.publish(UNRULED, *model_artifacts[0])
    monkeypatch.setenv("MODEL_STORE_URI", str(tmp_path / "models"))
    monkeypatch.setenv("BANK_ID", RULED)
    monkeypatch.setenv("ALLOWED_BANKS", UNRULED)
    return local


def customer(age: int, bank: str = RULED, **more: Any) -> dict[str, Any]:
    return {**example_body(1), "age": age, "bank": bank, **more}


def answer(invoke: Handler, body: dict[str, Any]) -> list[tuple[str, float]]:
    status, reply = invoke(api_event("POST", "/recommendations", body))
    assert status == 200, reply
    return [(r["product"], r["score"]) for r in reply["recommendations"]]


def withheld(age: int) -> set[str]:
    return ADULTS_ONLY if age < 18 else {JUNIOR}


@pytest.mark.usefixtures("store")
@pytest.mark.parametrize("age", [16, 17, 18, 30])
def test_the_rules_remove_products_from_a_full_answer(invoke: Handler, age: int) -> None:
    ruled = answer(invoke, customer(age, top_k=24))
    unruled = answer(invoke, customer(age, UNRULED, top_k=24))
    assert {p for p, _ in unruled} == set(PRODUCT_CODES)  # without rules: every product
    assert ruled == [(p, s) for p, s in unruled if p not in withheld(age)]
    assert len(ruled) == 24 - len(withheld(age))  # fewer than top_k
    products = {p for p, _ in ruled}
    assert not products & withheld(age)
    assert (JUNIOR in products) == (age < 18)
    assert ("ind_tjcr_fin_ult1" in products) == (age >= 18)


@pytest.mark.usefixtures("store")
def test_a_16_year_olds_top_7_is_the_unruled_list_without_adult_products(
    invoke: Handler,
) -> None:
    everything = [p for p, _ in answer(invoke, customer(16, UNRULED, top_k=24))]
    scored = answer(invoke, customer(16, UNRULED))
    assert "ind_tjcr_fin_ult1" in [p for p, _ in scored]  # the model offers it, the rules not
    top = [p for p, _ in answer(invoke, customer(16))]
    assert top == [p for p in everything if p not in ADULTS_ONLY][:7]


@pytest.mark.usefixtures("store")
def test_owned_and_withheld_products_both_leave_the_answer(invoke: Handler) -> None:
    owned = ["ind_cco_fin_ult1", "ind_recibo_ult1", JUNIOR]
    products = [p for p, _ in answer(invoke, customer(16, top_k=24, owned_products=owned))]
    assert set(products) == set(PRODUCT_CODES) - ADULTS_ONLY - set(owned)
    assert len(products) == 24 - 4 - 3


@pytest.mark.usefixtures("store")
def test_a_batch_of_mixed_ages_and_banks(invoke: Handler) -> None:
    ages = [16, 30, 17, 18, 16, 45]
    customers = [customer(age, customer_id=f"c{i}", top_k=24) for i, age in enumerate(ages)]
    customers.append(customer(16, UNRULED, customer_id="unruled", top_k=24))
    status, body = invoke(api_event("POST", "/recommendations/batch", {"customers": customers}))
    assert status == 200
    results = body["results"]
    for age, result in zip(ages, results, strict=False):
        products = [r["product"] for r in result["recommendations"]]
        assert set(products) == set(PRODUCT_CODES) - withheld(age), result["customer_id"]
        single = answer(invoke, customer(age, top_k=24))
        assert products == [p for p, _ in single]
    assert len(results[-1]["recommendations"]) == 24
    assert results[-1]["customer_id"] == "unruled"


@pytest.mark.usefixtures("store")
def test_the_version_without_rules_answers_a_minor_as_before(
    invoke: Handler, model_artifacts: list[Artifacts]
) -> None:
    assert model_artifacts[0][0].rules is None
    products = [p for p, _ in answer(invoke, customer(16, UNRULED, top_k=24))]
    assert set(products) >= ADULTS_ONLY


def drop_first_rule(manifest: dict[str, Any]) -> None:
    del manifest["rules"]["rules"][0]


def loosen_junior_rule(manifest: dict[str, Any]) -> None:
    manifest["rules"]["rules"][-1]["value"] = 200.0


def remove_rules(manifest: dict[str, Any]) -> None:
    manifest["rules"] = None


@pytest.mark.parametrize("edit", [drop_first_rule, loosen_junior_rule, remove_rules])
def test_rules_edited_in_the_store_make_the_version_refused(
    store: LocalStore, invoke: Handler, edit: Any
) -> None:
    registry = Registry(store)
    version = registry.read_pointer(RULED).version
    assert registry.verify(RULED, version).manifest.rules == default_rules()
    key = f"{RULED}/versions/{version}/{MANIFEST_FILE}"
    manifest = json.loads(store.read(key).data)
    edit(manifest)
    store.write(key, json.dumps(manifest).encode())
    with pytest.raises(ModelRejected, match=r"manifest\.json does not match its signature"):
        registry.fetch(RULED, version)
    status, body = invoke(api_event("POST", "/recommendations", customer(16, top_k=24)))
    assert (status, body["error"]["code"]) == (503, "model_rejected")
