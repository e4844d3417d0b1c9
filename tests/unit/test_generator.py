"""The synthetic train_ver2.csv generator: format, quirks, dynamics, oracle and fidelity."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bankreco.catalog import ALL_COLUMNS, MONTHS, PRODUCT_CODES, PROVINCES
from bankreco.data.fidelity import REFERENCE, FidelityReport, fidelity_report, render_markdown
from bankreco.data.generate import BANK_PROFILES, GenerateResult, generate

CUSTOMERS = 20_000
SEED = 7
QUIRK_COLUMNS = (
    "fecha_dato",
    "ncodpers",
    "ind_empleado",
    "sexo",
    "age",
    "ind_nuevo",
    "antiguedad",
    "indrel_1mes",
    "tiprel_1mes",
    "cod_prov",
    "nomprov",
    "ind_actividad_cliente",
    "renta",
    "ind_nomina_ult1",
    "ind_nom_pens_ult1",
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> GenerateResult:
    return generate(tmp_path_factory.mktemp("generated") / "train.csv", CUSTOMERS, SEED)


@pytest.fixture(scope="module")
def report(generated: GenerateResult) -> FidelityReport:
    return fidelity_report(generated.csv_path, generated.oracle_path)


@pytest.fixture(scope="module")
def text(generated: GenerateResult) -> pd.DataFrame:
    """The quirk-bearing columns exactly as written, as strings."""
    return pd.read_csv(
        generated.csv_path,
        usecols=list(QUIRK_COLUMNS),
        dtype=str,
        keep_default_na=False,
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def products(generated: GenerateResult) -> pd.DataFrame:
    """ncodpers, month index and the 24 flags (NA as 0), sorted by customer and month."""
    frame = pd.read_csv(
        generated.csv_path, usecols=["fecha_dato", "ncodpers", *PRODUCT_CODES]
    ).fillna(0)
    frame["month"] = frame.pop("fecha_dato").map({m: i for i, m in enumerate(MONTHS)})
    return frame.sort_values(["ncodpers", "month"], kind="stable").reset_index(drop=True)


def test_header_is_exactly_the_48_train_columns(generated: GenerateResult) -> None:
    with generated.csv_path.open(encoding="utf-8") as f:
        header = f.readline()
    assert header == ",".join(ALL_COLUMNS) + "\n"
    assert len(ALL_COLUMNS) == 48


def test_result_counts_rows_and_customers(generated: GenerateResult, text: pd.DataFrame) -> None:
    assert generated.rows == len(text)
    assert generated.customers == CUSTOMERS
    assert text["ncodpers"].nunique() <= CUSTOMERS
    assert text["ncodpers"].nunique() >= 0.99 * CUSTOMERS
    assert 13.0 <= generated.rows / CUSTOMERS <= 15.5  # the real file: 14.27 rows per customer


def test_seventeen_months_in_order_each_sorted_by_ncodpers(text: pd.DataFrame) -> None:
    months = text["fecha_dato"]
    assert list(dict.fromkeys(months)) == list(MONTHS)
    ids = text["ncodpers"].astype(np.int64)
    for _, group in ids.groupby(months, sort=False):
        assert group.is_monotonic_increasing
        assert group.is_unique
    first, last = (int((months == m).sum()) for m in (MONTHS[0], MONTHS[-1]))
    assert 1.35 <= last / first <= 1.65  # the real population grows by about 1.49x


def test_every_line_is_what_csv_quote_minimal_writes(generated: GenerateResult) -> None:
    raw = generated.csv_path.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(raw)))
    assert {len(row) for row in rows} == {48}
    rewritten = io.StringIO()
    csv.writer(rewritten, quoting=csv.QUOTE_MINIMAL, lineterminator="\n").writerows(rows)
    assert rewritten.getvalue() == raw
    assert '"CORUÑA, A"' in raw
    assert ',"BALEARS, ILLES",' in raw


def test_padded_age_and_antiguedad(text: pd.DataFrame) -> None:
    early = text["fecha_dato"] < "2015-07-28"
    assert text.loc[early, "age"].str.fullmatch(r" *\d+| NA").all()
    assert text.loc[early, "age"].str.len().eq(3).all()
    assert (text.loc[early, "age"] == " 35").any()
    assert (text.loc[early, "age"] == " NA").any()
    assert text.loc[early, "antiguedad"].str.len().eq(7).all()
    assert (text.loc[early, "antiguedad"] == "      6").any()
    assert (text.loc[early, "antiguedad"] == "     NA").any()
    assert text.loc[~early, "age"].str.fullmatch(r"\d+").all()
    assert (text["antiguedad"] == "-999999").any()


def test_value_spellings(text: pd.DataFrame) -> None:
    indrel_1mes = set(text["indrel_1mes"])
    assert {"1", "1.0", ""} <= indrel_1mes
    assert indrel_1mes <= {"1", "1.0", "2", "2.0", "3", "3.0", "4", "4.0", "P", ""}
    assert set(text["tiprel_1mes"]) <= {"A", "I", "P", "R", "N", ""}
    assert (text["renta"] == "NA").any()
    renta = text.loc[text["renta"] != "NA", "renta"]
    assert renta.str.fullmatch(r"\d+\.\d{1,2}").all()  # like 87218.1
    assert {"NA", "28.0"} <= set(text["cod_prov"])
    for column in ("ind_nomina_ult1", "ind_nom_pens_ult1"):
        values = text[column].value_counts()
        assert set(values.index) == {"0", "1", "NA"}
        assert values["NA"] / len(text) < 0.003  # the real file: 0.12%


def test_cod_prov_matches_nomprov(text: pd.DataFrame) -> None:
    pairs = text[["nomprov", "cod_prov"]].drop_duplicates()
    known = pairs[pairs["nomprov"] != ""]
    assert set(known["nomprov"]) == set(PROVINCES)
    for name, code in known.itertuples(index=False):
        assert code == f"{PROVINCES[name]}.0"
    assert set(pairs.loc[pairs["nomprov"] == "", "cod_prov"]) == {"NA"}


def test_blank_demographic_rows_only_in_the_first_six_months(text: pd.DataFrame) -> None:
    blank = (text["sexo"] == "") & (text["ind_empleado"] == "") & (text["renta"] == "NA")
    blank &= text["age"].str.strip() == "NA"
    assert (text.loc[blank, "fecha_dato"] <= "2015-06-28").all()
    assert 0.001 <= blank.mean() <= 0.004  # the real file: 27,734 of 13.6M rows (0.2%)


def test_antiguedad_grows_by_one_and_ind_nuevo_marks_the_first_months(
    text: pd.DataFrame,
) -> None:
    tenure = pd.to_numeric(text["antiguedad"].str.strip(), errors="coerce")
    known = tenure.notna() & (tenure >= 0)
    frame = pd.DataFrame(
        {
            "id": text["ncodpers"].astype(np.int64),
            "month": text["fecha_dato"].map({m: i for i, m in enumerate(MONTHS)}),
            "tenure": tenure,
        }
    )[known].sort_values(["id", "month"])
    same = (frame["id"].diff() == 0) & (frame["month"].diff() == 1)
    assert (frame["tenure"].diff()[same] == 1).all()
    assert frame["tenure"].max() == 256
    new = text.loc[known, "ind_nuevo"] == "1"
    assert (new == (tenure[known] <= 6)).all()


def test_tiprel_follows_activity(text: pd.DataFrame) -> None:
    agree = ((text["tiprel_1mes"] == "A") & (text["ind_actividad_cliente"] == "1")) | (
        (text["tiprel_1mes"] == "I") & (text["ind_actividad_cliente"] == "0")
    )
    assert agree.mean() >= 0.97


@pytest.mark.parametrize("key", list(REFERENCE))
def test_statistic_within_reference_tolerance(report: FidelityReport, key: str) -> None:
    row = report[key]
    assert row.within, (
        f"{row.statistic}: generated {row.generated:.5g}, "
        f"reference {row.reference:.5g} ± {row.tolerance:.3g}"
    )


def test_headline_statistics(report: FidelityReport) -> None:
    assert report["own_cco"].generated == pytest.approx(0.656, abs=0.05)
    assert report["own_recibo"].generated == pytest.approx(0.128, abs=0.025)
    assert report["add_none"].generated == pytest.approx(0.965, abs=0.008)
    assert report["add_one"].generated == pytest.approx(0.028, abs=0.006)
    assert report["add_more"].generated == pytest.approx(0.007, abs=0.003)
    assert report["mix_recibo"].generated == pytest.approx(0.273, abs=0.04)
    top_additions = sorted(
        (k for k in REFERENCE if k.startswith("mix_")), key=lambda k: -report[k].generated
    )
    assert top_additions[0] == "mix_recibo"
    assert set(top_additions[1:5]) == {"mix_nom_pens", "mix_nomina", "mix_tjcr", "mix_cco"}
    assert report["age_mean"].generated == pytest.approx(40.2, abs=1.5)
    assert report["age_median"].generated == pytest.approx(39, abs=2)
    assert report["renta_median"].generated == pytest.approx(101_850, abs=8_000)
    assert report["prov_madrid"].generated == pytest.approx(0.323, abs=0.02)
    assert report["renta_madrid"].generated > 2 * report["renta_ciudad_real"].generated


def test_june_tax_month_effect(report: FidelityReport) -> None:
    assert report["june_reca"].generated >= 3 * report["mix_reca"].generated
    assert report["june_cco"].generated > report["mix_cco"].generated
    assert report["june_nom_pens"].generated > report["mix_nom_pens"].generated


def test_payroll_coupling(products: pd.DataFrame) -> None:
    flags = products[list(PRODUCT_CODES)].to_numpy(bool)
    ids, month = products["ncodpers"].to_numpy(), products["month"].to_numpy()
    pair = (ids[1:] == ids[:-1]) & (month[1:] == month[:-1] + 1)
    before, after = flags[:-1][pair], flags[1:][pair]
    added = after & ~before
    nomina, nom_pens, cno = (
        PRODUCT_CODES.index(c) for c in ("ind_nomina_ult1", "ind_nom_pens_ult1", "ind_cno_fin_ult1")
    )
    assert added[:, nomina].sum() > 100
    assert not (added[:, nomina] & ~after[:, nom_pens]).any()
    assert not (added[:, nomina] & ~before[:, nom_pens] & ~added[:, nom_pens]).any()
    with_cno_open = added[:, nomina] & ~before[:, cno]
    assert added[with_cno_open, cno].mean() >= 0.3  # cno is often added with them


def test_oracle(generated: GenerateResult, products: pd.DataFrame) -> None:
    oracle = pd.read_csv(generated.oracle_path)
    assert list(oracle.columns) == ["ncodpers", *PRODUCT_CODES]
    april = products[products["month"] == len(MONTHS) - 2].set_index("ncodpers")
    may = products[products["month"] == len(MONTHS) - 1].set_index("ncodpers")
    both = april.index.intersection(may.index)
    assert sorted(oracle["ncodpers"]) == sorted(both)
    probabilities = oracle.set_index("ncodpers").loc[both, list(PRODUCT_CODES)].to_numpy()
    held = april.loc[both, list(PRODUCT_CODES)].to_numpy(bool)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    assert (probabilities[held] == 0).all()
    added = may.loc[both, list(PRODUCT_CODES)].to_numpy(bool) & ~held
    expected, seen = probabilities.sum(axis=1).mean(), added.sum(axis=1).mean()
    assert expected == pytest.approx(seen, rel=0.15)
    assert probabilities.sum(axis=1).max() < 3.0


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "a.csv", 2_000, 3)
    second = generate(tmp_path / "b.csv", 2_000, 3)
    other = generate(tmp_path / "c.csv", 2_000, 4)
    assert first.csv_path.read_bytes() == second.csv_path.read_bytes()
    assert first.oracle_path.read_bytes() == second.oracle_path.read_bytes()
    assert first.csv_path.read_bytes() != other.csv_path.read_bytes()
    assert first.oracle_path == tmp_path / "a.oracle.csv"


def test_bank_profiles_differ(tmp_path: Path, report: FidelityReport) -> None:
    assert set(BANK_PROFILES) >= {"santander", "digital", "traditional"}
    banks = {
        bank: fidelity_report(generate(tmp_path / f"{bank}.csv", 5_000, SEED, bank).csv_path)
        for bank in ("digital", "traditional")
    }
    digital, santander, traditional = banks["digital"], report, banks["traditional"]

    def value(r: FidelityReport, key: str) -> float:
        return r[key].generated

    assert value(digital, "age_mean") + 3 < value(santander, "age_mean")
    assert value(santander, "age_mean") + 3 < value(traditional, "age_mean")
    assert value(digital, "own_ecue") > 2 * value(santander, "own_ecue")
    assert value(traditional, "own_ecue") < 0.5 * value(santander, "own_ecue")
    assert value(digital, "seg_top") < value(santander, "seg_top")
    assert value(digital, "prov_madrid") > value(santander, "prov_madrid") + 0.03
    assert value(traditional, "prov_madrid") < value(santander, "prov_madrid") - 0.05
    for key in ("own_nom_pens", "own_dela", "own_recibo"):
        assert value(traditional, key) > 1.2 * value(santander, key)


@pytest.mark.parametrize(
    ("customers", "seed", "bank", "message"),
    [
        (0, 1, "santander", "customers must be a positive integer"),
        (-5, 1, "santander", "customers must be a positive integer"),
        (2.5, 1, "santander", "customers must be a positive integer"),
        (True, 1, "santander", "customers must be a positive integer"),
        (10, -1, "santander", "seed must be a non-negative integer"),
        (10, 1, "neobank", "unknown bank profile 'neobank'"),
        (10, 1, "", "unknown bank profile ''"),
    ],
)
def test_invalid_arguments_raise(
    tmp_path: Path, customers: int, seed: int, bank: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        generate(tmp_path / "x.csv", customers, seed, bank)
    assert not (tmp_path / "x.csv").exists()


def test_render_markdown(report: FidelityReport) -> None:
    markdown = render_markdown(report)
    lines = markdown.splitlines()
    assert "| statistic | generated | reference | within tolerance? |" in lines
    rows = [line for line in lines if line.startswith("| ") and "---" not in line]
    assert len(rows) == len(REFERENCE) + 1
    assert "| owns cco | " in markdown
    assert all(line.endswith(("| yes |", "| **no** |")) for line in rows[1:])
