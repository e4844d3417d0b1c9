"""`score` and the API give the same products and scores for the same profiles: the domain's
Recommender on CustomerProfiles, and the real handler's batch route."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from bankreco.api.schemas import CustomerProfile
from bankreco.catalog import PRODUCT_CODES
from bankreco.domain import service
from bankreco.domain.registry import Registry
from bankreco.scoring import models, run
from bankreco.settings import Settings
from bankreco.store.local import LocalStore
from tests.conftest import Handler, api_event
from tests.scoring.conftest import BANK
from tests.scoring.test_checks import API_COLUMNS, _profile, csv_text, random_rows

TOP_K = 5


def scored(tmp_path: Path, store: str, rows: list[dict[str, str]], form: str = "wide") -> Path:
    data, out = tmp_path / "customers.csv", tmp_path / "recommendations.csv"
    data.write_text(csv_text(rows, API_COLUMNS), encoding="utf-8")
    model = models.published_model(Registry(LocalStore(store)), BANK)
    options = run.Options(bank=BANK, top_k=TOP_K, form=form)
    summary = run.score_file(data, out, model, options)
    assert summary.scored == len(rows)
    assert summary.rejected == 0
    return out


def read_wide(path: Path) -> dict[str, list[tuple[str, float]]]:
    """customer id -> [(product, score)] of the wide output."""
    with path.open(encoding="utf-8", newline="") as handle:
        found = {}
        for row in csv.DictReader(handle):
            pairs = [(row[f"product_{i}"], row[f"score_{i}"]) for i in range(1, TOP_K + 1)]
            found[row["customer_id"]] = [(p, float(s)) for p, s in pairs if p]
        return found


def valid_rows(n: int, seed: int) -> list[dict[str, str]]:
    rows = random_rows(n, seed, valid_share=1.0)
    for i, row in enumerate(rows):
        row["customer_id"] = f"c{i}"
    return rows


def test_score_gives_the_recommenders_answers(tmp_path: Path, local_store: tuple[str, str]) -> None:
    store, version = local_store
    rows = valid_rows(600, seed=11)
    ours = read_wide(scored(tmp_path, store, rows))
    service.configure(Settings.from_env().replaced(model_store_uri=store, bank_id=BANK))
    recommender = service.get_recommender()
    for row in rows:
        profile = CustomerProfile.model_validate(_profile(row) | {"top_k": TOP_K})
        ranked = recommender.recommend(profile)
        assert ranked.version == version
        expected = [
            (PRODUCT_CODES[p], s) for p, s in zip(ranked.products[0], ranked.scores[0], strict=True)
        ]
        assert ours[row["customer_id"]] == expected, row


def test_score_gives_the_handlers_answers(
    tmp_path: Path,
    local_store: tuple[str, str],
    invoke: Handler,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, _ = local_store
    rows = valid_rows(200, seed=12)
    ours = read_wide(scored(tmp_path, store, rows))
    monkeypatch.setenv("MODEL_STORE_URI", store)
    monkeypatch.setenv("BANK_ID", BANK)
    customers: list[dict[str, Any]] = [
        {k: v for k, v in _profile(row).items() if v is not None or k == "renta"} | {"top_k": TOP_K}
        for row in rows
    ]
    status, body = invoke(api_event("POST", "/recommendations/batch", {"customers": customers}))
    assert status == 200, body
    for result in body["results"]:
        answer = [(r["product"], r["score"]) for r in result["recommendations"]]
        assert ours[result["customer_id"]] == answer


def test_kaggle_format_lists_the_same_products(
    tmp_path: Path, local_store: tuple[str, str]
) -> None:
    store, _ = local_store
    rows = valid_rows(100, seed=13)
    (tmp_path / "wide").mkdir()
    wide = read_wide(scored(tmp_path / "wide", store, rows))
    submission = scored(tmp_path, store, rows, form="kaggle")
    with submission.open(encoding="utf-8") as handle:
        header = next(handle)
        assert header == "customer_id,added_products\n"
        for line in handle:
            customer, products = line.rstrip("\n").split(",")
            assert products.split(" ") == [p for p, _ in wide[customer]] or (
                products == "" and not wide[customer]
            )
