"""The vectorised checks agree with the API's CustomerProfile, row by row, on random valid and
invalid rows; the Kaggle export's quirks are read as its reader reads them."""

from __future__ import annotations

import csv
import io
import random
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from bankreco import features
from bankreco.api.schemas import CustomerProfile
from bankreco.catalog import PRODUCT_CODES, PROFILE_FIELDS, PROVINCE_NAMES
from bankreco.domain.profile import encode_profiles, owned_matrix
from bankreco.scoring import cells
from bankreco.scoring.checks import Checked
from tests.scoring.conftest import check_text

CELLS: dict[str, list[str]] = {
    "sexo": ["H", "V", "h", " V ", "X", "", "NA", "HV", '"H"'],
    "age": ["35", " 35", "35.0", "35.5", "-1", "0", "120", "121", "abc", "", "NA", "  NA",
            "1e2", "+5", "inf", "nan", "1_0", "007", "99999999999999999999", "-0"],
    "segmento": ["01 - TOP", "02 - PARTICULARES", "03 - UNIVERSITARIO", "02 - particulares",
                 "", "NA", "04 - OTHER", " 01 - TOP"],
    "antiguedad": ["0", "256", "     256", "-999999", "1200", "1201", "12.0", "12.5", "", "NA"],
    "tiprel_1mes": ["A", "I", "P", "R", "N", "a", "X", "", "NA"],
    "renta": ["87218.1", "  326124.90", "NA", "         NA", "", "-99", "-99.0", "-1", "0",
              "1e10", "10000000000", "10000000001", "abc", "1_000", "+5", "-0", "12345678.123456",
              "1234567890123456", "0.5", ".5", "5.", "--5", "5-", "1.2.3", "1 2", "nan", "inf"],
    "pais_residencia": ["ES", "es", "FR", "NA", "na", "ZZ", "E", "ESP", "", " ES"],
    "ind_actividad_cliente": ["0", "1", "1.0", "0.0", "2", "", "NA", "true", " 1", "-0"],
    "nomprov": [*PROVINCE_NAMES[:10], "CORUÑA, A", "Coruña, a", "CORUNA, A", "madrid", "Ávila",
                "MADRID ", "NOWHERE", "", "NA", "BALEARS, ILLES", "balears, illes"],
    "customer_id": ["c1", "", "a b", " lead", "trail ", "x" * 128, "x" * 129, "tab\there", "ü",
                    "has,comma", 'q"uote', "NA", "12345"],
    "owned_products": ["", "NA", "ind_cco_fin_ult1", "ind_cco_fin_ult1 ind_recibo_ult1",
                       "bogus", "ind_cco_fin_ult1  ind_cco_fin_ult1", " ind_ecue_fin_ult1 "],
}  # fmt: skip
API_COLUMNS = ["customer_id", *PROFILE_FIELDS, "owned_products"]


def random_rows(n: int, seed: int, valid_share: float = 0.5) -> list[dict[str, str]]:
    """Rows of cells: about `valid_share` of them with every field drawn from valid values."""
    rng = random.Random(seed)
    valid = {name: [c for c in values if _valid(name, c)] for name, values in CELLS.items()}
    rows = []
    for _ in range(n):
        pool = valid if rng.random() < valid_share else CELLS
        rows.append({name: rng.choice(pool[name]) for name in API_COLUMNS})
    return rows


def _valid(name: str, text: str) -> bool:
    try:
        CustomerProfile.model_validate({**_profile({}), name: cells.json_value(name, text)})
    except ValidationError:
        return False
    return True


def _profile(row: dict[str, str]) -> dict[str, Any]:
    base = {
        "sexo": "H",
        "age": 30,
        "segmento": "01 - TOP",
        "antiguedad": 1,
        "tiprel_1mes": "A",
        "renta": None,
        "pais_residencia": "ES",
        "ind_actividad_cliente": 1,
        "nomprov": "MADRID",
    }
    return base | {name: cells.json_value(name, text) for name, text in row.items()}


def csv_text(rows: list[dict[str, str]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def api_verdicts(rows: list[dict[str, str]]) -> list[set[str] | CustomerProfile]:
    """Per row: the profile the API makes of it, or the fields it refuses."""
    found: list[set[str] | CustomerProfile] = []
    for row in rows:
        try:
            found.append(CustomerProfile.model_validate(_profile(row)))
        except ValidationError as exc:
            found.append({str(e["loc"][0]) for e in exc.errors()})
    return found


def _gathered(checked: list[Checked]) -> tuple[dict[int, set[str]], list[int], dict[str, Any]]:
    refused: dict[int, set[str]] = {}
    lines: list[int] = []
    columns: dict[str, list[Any]] = {name: [] for name in features.RAW_FIELDS}
    owned: list[np.ndarray] = []
    for part in checked:
        for reject in part.rejects:
            refused.setdefault(reject.line, set()).add(reject.field)
        lines += part.block.lines[part.rows].tolist()
        for name in features.RAW_FIELDS:
            columns[name] += list(part.columns[name])
        assert part.owned is not None
        owned.append(part.owned)
    return refused, lines, {"columns": columns, "owned": np.vstack(owned)}


@pytest.mark.parametrize("block_bytes", [1 << 20, 300])
def test_vectorised_checks_agree_with_the_api(block_bytes: int) -> None:
    rows = random_rows(3000, seed=block_bytes)
    checked = check_text(csv_text(rows, API_COLUMNS), block_bytes=block_bytes)
    refused, lines, scored = _gathered(checked)
    verdicts = api_verdicts(rows)
    expected_refused = {i + 2: v for i, v in enumerate(verdicts) if isinstance(v, set)}
    assert refused == expected_refused
    profiles = [v for v in verdicts if isinstance(v, CustomerProfile)]
    assert lines == [i + 2 for i, v in enumerate(verdicts) if isinstance(v, CustomerProfile)]
    assert 800 < len(profiles) < 2200  # both kinds are well represented
    ours = features.encode(scored["columns"], scored["owned"])
    owned = owned_matrix(profiles)
    assert owned is not None
    theirs = encode_profiles(profiles, owned)
    np.testing.assert_array_equal(ours, theirs)


def test_a_reject_names_the_line_the_field_the_reason_and_the_value() -> None:
    rows = [dict.fromkeys(API_COLUMNS, "") for _ in range(2)]
    rows[0] |= {"sexo": "H", "age": "130", "segmento": "01 - TOP", "antiguedad": "1",
                "tiprel_1mes": "A", "pais_residencia": "ES", "ind_actividad_cliente": "1",
                "nomprov": "MADRID"}  # fmt: skip
    [checked] = check_text(csv_text(rows[:1], API_COLUMNS))
    assert [tuple(r) for r in checked.rejects] == [
        (2, "age", "Input should be less than or equal to 120", "130")
    ]
    [checked] = check_text(csv_text(rows[1:], API_COLUMNS))
    assert {r.field for r in checked.rejects} == {
        "sexo", "age", "segmento", "antiguedad", "tiprel_1mes", "pais_residencia",
        "ind_actividad_cliente", "nomprov",
    }  # fmt: skip
    assert {r.reason for r in checked.rejects} == {"missing (empty or NA)"}
    assert checked.rejected == 1


KAGGLE_ROW = ("2016-05-28,{id},N,ES,H,{age},2012-08-10,0,{tenure},1,,1,A,S,N,,KHE,N,1,15.0,"
              "{province},1,{income},02 - PARTICULARES")  # fmt: skip
KAGGLE_HEADER = ("fecha_dato,ncodpers,ind_empleado,pais_residencia,sexo,age,fecha_alta,ind_nuevo,"
                 "antiguedad,indrel,ult_fec_cli_1t,indrel_1mes,tiprel_1mes,indresi,indext,"
                 "conyuemp,canal_entrada,indfall,tipodom,cod_prov,nomprov,ind_actividad_cliente,"
                 "renta,segmento")  # fmt: skip


def kaggle(**rows: dict[str, str]) -> str:
    lines = [KAGGLE_HEADER]
    for key, cell in rows.items():
        values = {"id": key.lstrip("c"), "age": "35", "tenure": "34", "province": "MADRID",
                  "income": "87218.1"} | cell  # fmt: skip
        lines.append(KAGGLE_ROW.format(**values))
    return "\n".join(lines) + "\n"


def test_kaggle_quirks_map_to_the_api_rules() -> None:
    text = kaggle(
        c1={"age": " 35", "tenure": "     34", "income": "         NA"},
        c2={"province": '"CORUÑA, A"', "income": "  326124.90"},
        c3={"province": '"CORUÃ‘A, A"'},  # UTF-8 read as cp1252 and saved again
        c4={"province": '"CORU\ufffdA, A"'},  # a latin-1 file read as UTF-8
        c5={"tenure": "-999999"},  # the export's unknown tenure: the API refuses it
        c6={"age": " NA"},
        c7={"id": " 7 "},
    )
    [checked] = check_text(text, month="2016-05")
    assert checked.ids is not None
    assert checked.ids.tolist() == [1, 2, 3, 4, 7]
    assert checked.columns["nomprov"].tolist() == ["MADRID", *["CORUÑA, A"] * 3, "MADRID"]
    assert checked.columns["age"].tolist() == [35.0] * 5
    income = checked.columns["renta"]
    assert np.isnan(income[0])
    assert income[1] == 326124.90
    assert [(r.line, r.field, r.value) for r in checked.rejects] == [
        (6, "antiguedad", "-999999"),
        (7, "age", " NA"),
    ]


def test_rows_of_other_months_are_skipped_and_bad_dates_rejected() -> None:
    text = kaggle(c1={}, c2={}) + "2016-04-28" + kaggle(c3={}).splitlines()[1][10:] + "\n"
    text += "someday" + kaggle(c4={}).splitlines()[1][10:] + "\n"
    text += "5/28/2016" + kaggle(c5={}).splitlines()[1][10:] + "\n"
    [checked] = check_text(text, month="2016-05")
    assert checked.ids is not None
    assert checked.ids.tolist() == [1, 2, 5]
    assert checked.skipped == 1
    assert [(r.line, r.field) for r in checked.rejects] == [(5, "fecha_dato")]


def test_owned_products_empty_is_none_held_and_na_unknown() -> None:
    base = random_rows(1, seed=3, valid_share=1.0)[0]
    rows = [base | {"owned_products": v} for v in ("", "NA", "ind_cco_fin_ult1")]
    [checked] = check_text(csv_text(rows, API_COLUMNS))
    assert checked.owned is not None
    assert checked.owned[0].tolist() == [0.0] * len(PRODUCT_CODES)
    assert np.isnan(checked.owned[1]).all()
    assert checked.owned[2].sum() == 1.0


def test_tables_that_outgrow_their_bound_start_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from bankreco.scoring import values

    monkeypatch.setattr(values, "MAX_ENTRIES", 3)
    rows = random_rows(400, seed=5)
    checked = check_text(csv_text(rows, API_COLUMNS), block_bytes=500)
    refused, lines, _ = _gathered(checked)
    verdicts = api_verdicts(rows)
    assert refused == {i + 2: v for i, v in enumerate(verdicts) if isinstance(v, set)}
    assert lines == [i + 2 for i, v in enumerate(verdicts) if isinstance(v, CustomerProfile)]
