"""`bankreco score --explain`: each recommended product of the wide format gets its reasons
(up to 3 sentences naming the customer's own values); the unexplained output stays as it was;
the kaggle format and a model without node covers are refused with one line."""

from __future__ import annotations

import csv
import io
import os
import pickle
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from bankreco.catalog import PRODUCT_CODES, PRODUCTS, PROFILE_FIELDS
from bankreco.domain.forest import CompiledForest
from bankreco.domain.manifest import COMPACT_FILE, MODEL_FILE, Manifest
from bankreco.domain.ranking import TopProducts
from bankreco.domain.registry import Registry
from bankreco.scoring import output
from bankreco.store.local import LocalStore
from tests.conftest import Artifacts, random_profiles
from tests.scoring.conftest import BANK

BANKRECO = Path(sys.executable).with_name("bankreco")
CUSTOMERS = 150
SENTENCE = re.compile(r"^(?P<what>.+): \+(?P<value>\d+\.\d+)$")
TIMING = re.compile(r" in [\d.]+ s \([\d,]+ rows/s\)")
PRODUCT_NAMES = {name: code for code, name in PRODUCTS.items()}


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def bankreco(*args: str | Path) -> Run:
    """The installed command, in the test's environment (its signing keys)."""
    done = subprocess.run(
        [str(BANKRECO), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def customers(tmp_path: Path) -> tuple[Path, dict[str, dict[str, str]]]:
    """A file of random customers in the API's field names, some holding products (a few
    with their holdings unknown), and each one's cells by customer_id."""
    rng = np.random.default_rng(41)
    profiles = random_profiles(CUSTOMERS, rng)
    rows: dict[str, dict[str, str]] = {}
    for i in range(CUSTOMERS):
        cells = {name: _cell(profiles[name][i]) for name in PROFILE_FIELDS}
        held = [code for code in PRODUCT_CODES if rng.random() < 0.1]
        cells["owned_products"] = "NA" if i % 10 == 9 else " ".join(held)
        rows[f"c{i:03d}"] = cells
    path = tmp_path / "customers.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["customer_id", *PROFILE_FIELDS, "owned_products"])
        writer.writerows([key, *cells.values()] for key, cells in rows.items())
    return path, rows


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if np.isnan(value) else (str(int(value)) if value.is_integer() else str(value))
    return str(value)


def score(data: Path, store: str, out: Path, *extra: str) -> Run:
    return bankreco("score", "--data", data, "--bank", BANK, "--store", store, "--out", out,
                    "--quiet", *extra)  # fmt: skip


def test_reasons_name_the_customers_values_for_the_recommended_products_only(
    customers: tuple[Path, dict[str, dict[str, str]]], local_store: tuple[str, str], tmp_path: Path
) -> None:
    data, given = customers
    plain, explained = tmp_path / "plain.csv", tmp_path / "explained.csv"
    said = []
    for out, extra in ((plain, ()), (explained, ("--explain",))):
        run = score(data, local_store[0], out, "--top-k", "24", *extra)
        assert run.code == 0, run.err
        said.append(TIMING.sub("", run.out.replace(str(out), "OUT")))
    assert said[1] == said[0]  # the same summary, nothing more
    table = list(csv.DictReader(explained.open(newline="", encoding="utf-8")))
    columns = list(table[0])
    assert columns[2:6] == ["product_1", "score_1", "reasons_1", "product_2"]
    assert len(table) == CUSTOMERS
    ages = unfilled = 0
    for row in table:
        cells, held = (
            given[row["customer_id"]],
            set(given[row["customer_id"]]["owned_products"].split()),
        )
        for i in range(1, 25):
            product, reasons = row[f"product_{i}"], row[f"reasons_{i}"]
            if not product:  # not recommended: the customer holds the rest
                assert reasons == "", row
                unfilled += 1
                continue
            assert product not in held
            sentences = reasons.split("; ") if reasons else []
            assert len(sentences) <= 3
            for sentence in sentences:
                ages += _check_sentence(sentence, cells, held)
    assert unfilled > CUSTOMERS  # most customers hold a product or two of the 24
    assert ages > CUSTOMERS  # the model's labels follow age: its reasons say so


def _check_sentence(sentence: str, cells: dict[str, str], held: set[str]) -> bool:
    """The sentence is positive and names the customer's value; whether it is about age."""
    found = SENTENCE.match(sentence)
    assert found is not None, sentence
    assert float(found["value"]) > 0
    what = found["what"]
    if what.startswith("age "):
        assert what == f"age {cells['age']}"
        return True
    if what.startswith("province "):
        assert what == f"province {cells['nomprov']}"
    elif what.startswith("sex "):
        assert what == f"sex {cells['sexo']}"
    elif what.startswith("customer for "):
        assert what.split()[2] == cells["antiguedad"]
    elif what.startswith("holds "):
        assert PRODUCT_NAMES[what.removeprefix("holds ")] in held
    elif what.startswith("does not hold "):
        assert PRODUCT_NAMES[what.removeprefix("does not hold ")] not in held
    return False


def test_without_the_flag_the_output_is_the_explained_one_without_reasons(
    customers: tuple[Path, dict[str, dict[str, str]]], local_store: tuple[str, str], tmp_path: Path
) -> None:
    data, _ = customers
    plain, explained = tmp_path / "plain.csv", tmp_path / "explained.csv"
    assert score(data, local_store[0], plain).code == 0
    assert score(data, local_store[0], explained, "--explain").code == 0
    rows = list(csv.reader(explained.open(newline="", encoding="utf-8")))
    stripped = io.StringIO()
    writer = csv.writer(stripped, lineterminator="\n")
    writer.writerows([cell for i, cell in enumerate(row) if i < 2 or i % 3 != 1] for row in rows)
    assert rows[0][4] == "reasons_1"
    assert any(row[4] for row in rows[1:])
    assert stripped.getvalue().encode() == plain.read_bytes()


def test_the_kaggle_format_refuses_to_explain(
    customers: tuple[Path, dict[str, dict[str, str]]], local_store: tuple[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "submission.csv"
    run = score(customers[0], local_store[0], out, "--format", "kaggle", "--explain")
    assert run.code == 2
    assert run.err.splitlines() == [
        "bankreco score: error: --explain needs --format wide: kaggle has no column for reasons"
    ]
    assert not out.exists()


@pytest.fixture
def coverless_store(tmp_path: Path, model_artifacts: list[Artifacts]) -> tuple[str, str]:
    """The first small model published with a compact form that has no node covers."""
    _, files = model_artifacts[0]
    forest = CompiledForest.from_bytes(files[COMPACT_FILE])
    stripped = {**files, COMPACT_FILE: replace(forest, cover=None).to_bytes()}
    estimator = pickle.loads(files[MODEL_FILE])
    manifest = Manifest.describe(estimator, stripped, {"months": ["2016-04-28"]}, {})
    store = tmp_path / "coverless"
    return str(store), Registry(LocalStore(store)).publish(BANK, manifest, stripped)


def test_a_model_without_node_covers_is_refused_by_name(
    customers: tuple[Path, dict[str, dict[str, str]]],
    coverless_store: tuple[str, str],
    tmp_path: Path,
) -> None:
    store, version = coverless_store
    out = tmp_path / "out.csv"
    run = score(customers[0], store, out, "--explain")
    assert run.code == 2
    [line] = run.err.splitlines()
    assert line.startswith("bankreco score: error: ")
    assert f"{BANK}/{version}" in line
    assert "retrain" in line
    assert not out.exists()
    assert score(customers[0], store, out).code == 0  # scoring alone needs no covers


def test_reasons_are_csv_fields_after_their_scores() -> None:
    ranking = TopProducts(
        products=np.array([[3, 5], [7, 1]], dtype=np.intp),
        scores=np.array([[0.5, 0.25], [0.75, -1.0]]),
        counts=np.array([2, 1], dtype=np.intp),
    )
    ids = output.integers(np.array([11, 12], dtype=np.int64))
    reasons = [['income 45,000.00: +0.12; province "X": +0.01', "age 30: +0.10"], ["é: +1.00"]]
    text = output.rows(output.WIDE, ids, "v1", ranking, reasons).decode()
    header = output.header(output.WIDE, "customer_id", 2, explain=True).decode()
    assert (
        header
        == "customer_id,model_version,product_1,score_1,reasons_1,product_2,score_2,reasons_2\n"
    )
    parsed = list(csv.reader(io.StringIO(text)))
    codes = PRODUCT_CODES
    assert parsed == [
        ["11", "v1", codes[3], "0.500000", reasons[0][0], codes[5], "0.250000", reasons[0][1]],
        ["12", "v1", codes[7], "0.750000", "é: +1.00", "", "", ""],
    ]
    plain = output.rows(output.WIDE, ids, "v1", ranking).decode()
    assert plain == f"11,v1,{codes[3]},0.500000,{codes[5]},0.250000\n12,v1,{codes[7]},0.750000,,\n"
