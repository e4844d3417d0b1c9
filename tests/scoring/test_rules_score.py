"""`bankreco score` applies the eligibility rules of the version it scores with: a minor is
never given a credit card, loan, mortgage or pension plan, an adult never the junior account,
even when fewer than --top-k products remain; a version without rules scores as before."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from bankreco.catalog import PRODUCT_CODES, PROFILE_FIELDS
from bankreco.cli import main
from bankreco.data.reader import read_snapshots
from bankreco.domain.registry import Registry
from bankreco.eligibility import default_rules
from bankreco.store.local import LocalStore
from bench.scoring import profiles_file
from tests.conftest import Artifacts, make_model
from tests.scoring.conftest import BANK
from tests.support.model_dirs import model_dir

ADULTS_ONLY = {"ind_tjcr_fin_ult1", "ind_pres_fin_ult1", "ind_hip_fin_ult1", "ind_plan_fin_ult1"}
JUNIOR = "ind_ctju_fin_ult1"
AGES = {"a16": 16, "b17": 17, "c18": 18, "d30": 30, "e16": 16, "f70": 70}


@pytest.fixture(scope="session")
def ruled_artifacts() -> Artifacts:
    """The model of model_artifacts[0], with the default rules in its manifest."""
    return make_model(0, rules=default_rules())


@pytest.fixture
def ruled_store(tmp_path: Path, ruled_artifacts: Artifacts) -> str:
    store = tmp_path / "ruled"
    Registry(LocalStore(store)).publish(BANK, *ruled_artifacts)
    return str(store)


@pytest.fixture
def customers(tmp_path: Path) -> Path:
    """Customers in the API's field names: minors and adults."""
    path = tmp_path / "customers.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", *PROFILE_FIELDS])
        for name, age in AGES.items():
            writer.writerow([name, "V", age, "03 - UNIVERSITARIO", 10, "A", "", "ES", 1, "MADRID"])
    return path


def score(*args: str) -> int:
    return main(["score", "--bank", BANK, "--quiet", *args])


def listed(out: Path, top_k: int) -> dict[str, list[str]]:
    """Each customer's products, best first, from a wide output."""
    wide = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("customer_id")
    columns = [f"product_{i}" for i in range(1, top_k + 1)]
    return {str(name): [p for p in row if p] for name, row in wide[columns].iterrows()}


def withheld(age: float) -> set[str]:
    return ADULTS_ONLY if age < 18 else {JUNIOR}


def test_score_removes_the_products_the_rules_withhold(
    customers: Path, ruled_store: str, local_store: tuple[str, str], tmp_path: Path
) -> None:
    ruled, unruled = tmp_path / "ruled.csv", tmp_path / "unruled.csv"
    args = ["--data", str(customers), "--top-k", "24"]
    assert score(*args, "--store", ruled_store, "--out", str(ruled)) == 0
    assert score(*args, "--store", local_store[0], "--out", str(unruled)) == 0
    with_rules, without = listed(ruled, 24), listed(unruled, 24)
    assert set(with_rules) == set(without) == set(AGES)
    for name, age in AGES.items():
        assert set(without[name]) == set(PRODUCT_CODES)  # no rules: every product
        assert with_rules[name] == [p for p in without[name] if p not in withheld(age)]
        assert len(with_rules[name]) == 24 - len(withheld(age))  # fewer than --top-k
        assert (JUNIOR in with_rules[name]) == (age < 18)


def test_a_training_output_directory_brings_its_rules(
    customers: Path, ruled_artifacts: Artifacts, tmp_path: Path
) -> None:
    trained = model_dir(tmp_path / "model", ruled_artifacts)
    out = tmp_path / "out.csv"
    args = ["--data", str(customers), "--model", str(trained), "--out", str(out)]
    assert score(*args, "--top-k", "24") == 0
    for name, products in listed(out, 24).items():
        assert not set(products) & withheld(AGES[name])


def test_a_kaggle_file_with_minors(bank_file: Path, ruled_store: str, tmp_path: Path) -> None:
    test_file = profiles_file(bank_file, tmp_path / "test_ver2.csv")
    ages = read_snapshots(test_file).frame.set_index("ncodpers")["age"]
    assert (ages < 18).sum() > 0
    assert (ages >= 18).sum() > 0
    out = tmp_path / "submission.csv"
    args = ["--data", str(test_file), "--store", ruled_store, "--out", str(out)]
    assert score(*args, "--format", "kaggle") in (0, 3)
    submission = pd.read_csv(out, dtype=str, keep_default_na=False)
    for ncodpers, products in zip(
        submission["ncodpers"], submission["added_products"], strict=True
    ):
        assert not set(products.split()) & withheld(ages[int(ncodpers)])
