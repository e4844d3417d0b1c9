"""`bankreco score` on generated files: train_ver2.csv months (the products held excluded),
test_ver2.csv (no products), compressed copies, a training output directory; exit codes."""

from __future__ import annotations

import csv
import gzip
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bankreco.catalog import PRODUCT_CODES, PROFILE_FIELDS
from bankreco.cli import main
from bankreco.data.reader import read_snapshots
from bankreco.domain.model import LoadedModel
from bankreco.scoring import run
from bench.scoring import profiles_file
from tests.conftest import Artifacts
from tests.scoring.conftest import BANK
from tests.support.model_dirs import model_dir


def score(*args: str) -> int:
    return main(["score", "--bank", BANK, "--quiet", *args])


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_a_train_month_excludes_the_products_held_the_month_before(
    bank_file: Path,
    local_store: tuple[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store, _ = local_store
    out = tmp_path / "submission.csv"
    code = score(
        "--data", str(bank_file), "--store", store, "--out", str(out), "--format", "kaggle"
    )
    said = capsys.readouterr().out
    frame = read_snapshots(bank_file).frame
    last = frame[frame["fecha_dato"] == "2016-05-28"]
    before = frame[frame["fecha_dato"] == "2016-04-28"].set_index("ncodpers")
    submission = read(out)
    rejects = read(Path(f"{out}.rejects.csv"))
    assert list(submission.columns) == ["ncodpers", "added_products"]
    assert len(submission) + rejects["line"].nunique() == len(last)
    assert code == (3 if len(rejects) else 0)
    assert f"scored {len(submission):,} of {len(frame):,} rows" in said
    assert "2016-04" in said  # the month whose holdings are excluded
    held_any = 0
    for ncodpers, products in zip(
        submission["ncodpers"], submission["added_products"], strict=True
    ):
        listed = products.split()
        assert 1 <= len(listed) <= 7
        assert set(listed) <= set(PRODUCT_CODES)
        if int(ncodpers) in before.index:
            held = {c for c in PRODUCT_CODES if before.loc[int(ncodpers), c] == 1}
            assert not held & set(listed)
            held_any += bool(held)
    assert held_any > 100  # most customers hold something, none of it is recommended


def test_the_months_own_holdings(
    bank_file: Path, local_store: tuple[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "wide.csv"
    args = ["--data", str(bank_file), "--store", local_store[0], "--out", str(out)]
    score(*args, "--month", "2016-03", "--holdings", "same", "--top-k", "24")
    frame = read_snapshots(bank_file).frame
    month = frame[frame["fecha_dato"] == "2016-03-28"].set_index("ncodpers")
    wide = read(out)
    assert set(wide["model_version"]) == {local_store[1]}
    for _, row in wide.iterrows():
        listed = {row[f"product_{i}"] for i in range(1, 25)} - {""}
        held = {c for c in PRODUCT_CODES if month.loc[int(row["ncodpers"]), c] == 1}
        assert listed == set(PRODUCT_CODES) - held  # every product not held, and only those


def test_a_test_ver2_file(
    bank_file: Path,
    local_store: tuple[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    test_file = profiles_file(bank_file, tmp_path / "test_ver2.csv")
    header = test_file.read_text().splitlines()[0].split(",")
    assert len(header) == 24
    assert not set(header) & set(PRODUCT_CODES)
    out = tmp_path / "out.csv"
    code = score("--data", str(test_file), "--store", local_store[0], "--out", str(out))
    assert code in (0, 3)
    said = capsys.readouterr().out
    assert "month" not in said  # a profiles file is scored in every row
    assert "products held: unknown" in said
    wide = read(out)
    rejects = read(Path(f"{out}.rejects.csv"))
    rows = len(test_file.read_text().splitlines()) - 1
    assert len(wide) + rejects["line"].nunique() == rows
    scores = wide[[f"score_{i}" for i in range(1, 8)]].astype(float).to_numpy()
    assert (np.diff(scores, axis=1) <= 0).all()  # best first


def test_compressed_copies_give_the_same_output(
    bank_file: Path, local_store: tuple[str, str], tmp_path: Path
) -> None:
    plain = profiles_file(bank_file, tmp_path / "test.csv")
    packed = tmp_path / "test.csv.gz"
    with plain.open("rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)
    zipped = tmp_path / "test.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(plain, "test_ver2.csv")
    outputs = []
    for data in (plain, packed, zipped):
        out = tmp_path / f"{data.name}.out.csv"
        score("--data", str(data), "--store", local_store[0], "--out", str(out))
        outputs.append((out.read_bytes(), Path(f"{out}.rejects.csv").read_bytes()))
    assert outputs[0] == outputs[1] == outputs[2]


def test_a_training_output_directory(
    tmp_path: Path, model_artifacts: list[Artifacts], bank_file: Path
) -> None:
    trained = model_dir(tmp_path / "model", model_artifacts[0])
    out = tmp_path / "out.csv"
    score(
        "--data", str(bank_file), "--model", str(trained), "--out", str(out), "--month", "2015-12"
    )
    versions = set(read(out)["model_version"])
    assert versions == {f"unpublished-{model_artifacts[0][0].model_sha256[:8]}"}


def test_errors_exit_2_and_write_nothing(
    tmp_path: Path, local_store: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "bad.csv"
    data.write_text("sexo,age\nH,30\n")
    out = tmp_path / "out.csv"
    assert score("--data", str(data), "--store", local_store[0], "--out", str(out)) == 2
    assert "lacks segmento" in capsys.readouterr().err
    assert not out.exists()
    args = ["--data", str(data), "--store", local_store[0], "--out", str(out)]
    assert score(*args, "--top-k", "25") == 2


def test_rejected_rows_exit_3(tmp_path: Path, local_store: tuple[str, str]) -> None:
    data = tmp_path / "customers.csv"
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", *PROFILE_FIELDS])
        writer.writerow(["a", "H", "30", "01 - TOP", "12", "A", "", "ES", "1", "MADRID"])
        writer.writerow(["b", "H", "300", "01 - TOP", "12", "A", "", "ES", "1", "MADRID"])
    out = tmp_path / "out.csv"
    assert score("--data", str(data), "--store", local_store[0], "--out", str(out)) == 3
    assert read(out)["customer_id"].tolist() == ["a"]
    rejects = read(Path(f"{out}.rejects.csv"))
    assert rejects.to_dict("records") == [
        {"line": "3", "field": "age", "reason": "Input should be less than or equal to 120",
         "value": "300"}
    ]  # fmt: skip


def test_a_run_that_fails_leaves_no_output(
    bank_file: Path, model: LoadedModel, tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"

    def interrupted(phase: str, rows: int) -> None:
        if phase == "scoring":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run.score_file(bank_file, out, model, run.Options(bank=BANK), interrupted)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
