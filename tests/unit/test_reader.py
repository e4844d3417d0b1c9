"""Tests for the Santander-format CSV reader, one quirk of the real files per test."""

from __future__ import annotations

import gzip
import io
import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tqdm import tqdm

from bankreco.catalog import ALL_COLUMNS, PRODUCT_CODES, PROFILE_COLUMNS, PROVINCE_NAMES, SEGMENTS
from bankreco.data.reader import (
    DROP_BAD_DATE,
    DROP_BAD_ID,
    DROP_DUPLICATE,
    DROP_MISSING_ID,
    MODEL_PROFILE_COLUMNS,
    list_months,
    month_key,
    products_in,
    read_snapshots,
)

# The two real test_ver2.csv rows quoted in the reference, verbatim.
REAL_TEST_ROWS = (
    "2016-06-28,15889,F,ES,V,56,1995-01-16,0,256,1,,1.0,A,S,N,N,KAT,N,1,28.0,MADRID,1,"
    "  326124.90,01 - TOP",
    "2016-06-28,1170545,N,ES,V,22,2013-08-28,0,34,1,,1.0,A,S,N,,KHE,N,1,15.0,"
    '"CORUÑA, A",1,         NA,03 - UNIVERSITARIO',
)

BASE = {
    "fecha_dato": "2015-01-28",
    "ncodpers": "1375586",
    "ind_empleado": "N",
    "pais_residencia": "ES",
    "sexo": "H",
    "age": "35",
    "fecha_alta": "2015-01-12",
    "ind_nuevo": "0",
    "antiguedad": "6",
    "indrel": "1",
    "ult_fec_cli_1t": "",
    "indrel_1mes": "1.0",
    "tiprel_1mes": "A",
    "indresi": "S",
    "indext": "N",
    "conyuemp": "",
    "canal_entrada": "KHL",
    "indfall": "N",
    "tipodom": "1",
    "cod_prov": "29",
    "nomprov": "MALAGA",
    "ind_actividad_cliente": "1",
    "renta": "87218.1",
    "segmento": "02 - PARTICULARES",
    **dict.fromkeys(PRODUCT_CODES, "0"),
    "ind_cco_fin_ult1": "1",
}


def row(**overrides: str) -> str:
    """A train_ver2.csv line: BASE with ``overrides``, fields with commas double-quoted."""
    values = {**BASE, **overrides}
    return ",".join(f'"{values[c]}"' if "," in values[c] else values[c] for c in ALL_COLUMNS)


def write(
    path: Path, lines: list[str] | tuple[str, ...], header: tuple[str, ...] = ALL_COLUMNS
) -> Path:
    """Write a CSV with ``header`` and ``lines`` (UTF-8) and return its path."""
    path.write_text(",".join(header) + "\n" + "".join(f"{line}\n" for line in lines), "utf-8")
    return path


def values(frame: pd.DataFrame, column: str) -> list[object]:
    """A column as a list with missing values as None (floats rounded to 2 places)."""
    out: list[object] = []
    for value in frame[column].tolist():
        if isinstance(value, float):
            out.append(None if math.isnan(value) else round(value, 2))
        else:
            out.append(None if pd.isna(value) else value)
    return out


def test_real_test_rows_in_a_profile_only_file(tmp_path: Path) -> None:
    path = write(tmp_path / "test_ver2.csv", REAL_TEST_ROWS, header=PROFILE_COLUMNS)
    result = read_snapshots(path)
    frame = result.frame
    assert list(frame.columns) == ["fecha_dato", "ncodpers", *MODEL_PROFILE_COLUMNS]
    assert result.rows_read == 2
    assert result.dropped == {}
    assert values(frame, "fecha_dato") == ["2016-06-28", "2016-06-28"]
    assert values(frame, "ncodpers") == [15889, 1170545]
    assert values(frame, "sexo") == ["V", "V"]
    assert values(frame, "age") == [56.0, 22.0]
    assert values(frame, "antiguedad") == [256.0, 34.0]
    assert values(frame, "segmento") == ["01 - TOP", "03 - UNIVERSITARIO"]
    assert values(frame, "tiprel_1mes") == ["A", "A"]
    assert values(frame, "pais_residencia") == ["ES", "ES"]
    assert values(frame, "ind_actividad_cliente") == [1.0, 1.0]
    assert values(frame, "nomprov") == ["MADRID", "CORUÑA, A"]
    assert frame["renta"].iloc[0] == pytest.approx(326124.90, rel=1e-6)
    assert math.isnan(frame["renta"].iloc[1])


def test_output_dtypes_are_compact(tmp_path: Path) -> None:
    frame = read_snapshots(write(tmp_path / "t.csv", [row()])).frame
    assert list(frame.columns) == ["fecha_dato", "ncodpers", *MODEL_PROFILE_COLUMNS, *PRODUCT_CODES]
    assert frame["ncodpers"].dtype == np.int64
    for name in ("age", "antiguedad", "ind_actividad_cliente", *PRODUCT_CODES):
        assert frame[name].dtype == np.float32, name
    assert frame["renta"].dtype == np.float64  # exact, as the API's income
    for name in ("fecha_dato", "sexo", "segmento", "tiprel_1mes", "pais_residencia", "nomprov"):
        assert isinstance(frame[name].dtype, pd.CategoricalDtype), name
    assert list(frame["sexo"].cat.categories) == ["H", "V"]
    assert list(frame["segmento"].cat.categories) == list(SEGMENTS)
    assert list(frame["tiprel_1mes"].cat.categories) == ["A", "I", "P", "R", "N"]
    assert list(frame["nomprov"].cat.categories) == list(PROVINCE_NAMES)
    assert values(frame, "ind_cco_fin_ult1") == [1.0]
    assert values(frame, "ind_recibo_ult1") == [0.0]


def test_space_padded_missing_values_and_numbers(tmp_path: Path) -> None:
    lines = [
        row(ncodpers="1", age=" 35", antiguedad="      6", renta="  326124.90"),
        row(ncodpers="2", age=" NA", antiguedad="     NA", renta="         NA"),
        row(ncodpers="      3", age="", antiguedad="", renta="", ind_actividad_cliente=" NA"),
    ]
    frame = read_snapshots(write(tmp_path / "t.csv", lines)).frame
    assert values(frame, "ncodpers") == [1, 2, 3]
    assert values(frame, "age") == [35.0, None, None]
    assert values(frame, "antiguedad") == [6.0, None, None]
    assert values(frame, "renta") == [326124.9, None, None]
    assert values(frame, "ind_actividad_cliente") == [1.0, 1.0, None]


def test_quoted_provinces_with_commas_and_enye(tmp_path: Path) -> None:
    names = ["CORUÑA, A", "BALEARS, ILLES", "PALMAS, LAS", "RIOJA, LA", "coruña, a", "ATLANTIS", ""]
    lines = [row(ncodpers=str(i), nomprov=name) for i, name in enumerate(names, 1)]
    frame = read_snapshots(write(tmp_path / "t.csv", lines)).frame
    assert values(frame, "nomprov") == [
        "CORUÑA, A",
        "BALEARS, ILLES",
        "PALMAS, LAS",
        "RIOJA, LA",
        "CORUÑA, A",
        None,
        None,
    ]
    # The quoted comma did not shift the columns after nomprov.
    assert values(frame, "segmento") == ["02 - PARTICULARES"] * 7


def test_latin1_province_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    text = ",".join(ALL_COLUMNS) + "\n" + row(nomprov="CORUÑA, A") + "\n"
    path.write_bytes(text.encode("latin-1"))
    assert values(read_snapshots(path).frame, "nomprov") == ["CORUÑA, A"]


def test_indrel_1mes_spellings_do_not_matter(tmp_path: Path) -> None:
    lines = [row(ncodpers=str(i), indrel_1mes=v) for i, v in enumerate(["1", "1.0", "P", "3"], 1)]
    result = read_snapshots(write(tmp_path / "t.csv", lines))
    assert result.dropped == {}
    assert values(result.frame, "ncodpers") == [1, 2, 3, 4]
    assert "indrel_1mes" not in result.frame.columns


def test_integers_written_as_floats(tmp_path: Path) -> None:
    line = row(
        ncodpers="15889.0",
        age="25.0",
        antiguedad="6.0",
        ind_actividad_cliente="0.0",
        ind_cco_fin_ult1="1.0",
        ind_nomina_ult1="0.0",
        cod_prov="28.0",
    )
    frame = read_snapshots(write(tmp_path / "t.csv", [line])).frame
    assert values(frame, "ncodpers") == [15889]
    assert values(frame, "age") == [25.0]
    assert values(frame, "antiguedad") == [6.0]
    assert values(frame, "ind_actividad_cliente") == [0.0]
    assert values(frame, "ind_cco_fin_ult1") == [1.0]
    assert values(frame, "ind_nomina_ult1") == [0.0]


def test_spreadsheet_dates_are_normalised_and_matched(tmp_path: Path) -> None:
    lines = [
        row(ncodpers="1", fecha_dato="6/28/2016", fecha_alta="1/16/1995"),
        row(ncodpers="2", fecha_dato="2016-06-28"),
        row(ncodpers="3", fecha_dato="5/28/2016"),
        row(ncodpers="4", fecha_dato="2016-05-28 00:00:00"),
        row(ncodpers="5", fecha_dato="28/05/2016"),
    ]
    path = write(tmp_path / "t.csv", lines)
    everything = read_snapshots(path).frame
    assert values(everything, "fecha_dato") == [
        "2016-06-28",
        "2016-06-28",
        "2016-05-28",
        "2016-05-28",
        "2016-05-28",
    ]
    assert list(everything["fecha_dato"].cat.categories) == ["2016-05-28", "2016-06-28"]
    may = read_snapshots(path, ["2016-05-28"]).frame
    assert values(may, "ncodpers") == [3, 4, 5]
    june = read_snapshots(path, "2016-06").frame
    assert values(june, "ncodpers") == [1, 2]


def test_negative_antiguedad_and_sentinel_are_missing(tmp_path: Path) -> None:
    lines = [
        row(ncodpers="1", antiguedad="-999999"),
        row(ncodpers="2", antiguedad="     -5"),
        row(ncodpers="3", antiguedad="0"),
        row(ncodpers="4", antiguedad="256"),
    ]
    frame = read_snapshots(write(tmp_path / "t.csv", lines)).frame
    assert values(frame, "antiguedad") == [None, None, 0.0, 256.0]


def test_extreme_ages_are_kept_and_only_non_numeric_is_missing(tmp_path: Path) -> None:
    ages = ["  2", "164", "abc", "117"]
    lines = [row(ncodpers=str(i), age=age) for i, age in enumerate(ages, 1)]
    frame = read_snapshots(write(tmp_path / "t.csv", lines)).frame
    assert values(frame, "age") == [2.0, 164.0, None, 117.0]


def test_row_with_demographics_empty_together_is_kept(tmp_path: Path) -> None:
    empty = dict.fromkeys(
        [
            "ind_empleado",
            "pais_residencia",
            "sexo",
            "fecha_alta",
            "ind_nuevo",
            "indrel",
            "indrel_1mes",
            "tiprel_1mes",
            "indresi",
            "indext",
            "canal_entrada",
            "indfall",
            "tipodom",
            "cod_prov",
            "nomprov",
            "ind_actividad_cliente",
            "renta",
            "segmento",
        ],
        "",
    )
    line = row(
        fecha_dato="2015-03-28", ncodpers="1050611", age=" NA", antiguedad="     NA", **empty
    )
    result = read_snapshots(write(tmp_path / "t.csv", [line]))
    assert result.dropped == {}
    frame = result.frame
    assert values(frame, "ncodpers") == [1050611]
    for name in MODEL_PROFILE_COLUMNS:
        assert values(frame, name) == [None], name
    assert values(frame, "ind_cco_fin_ult1") == [1.0]


def test_nomina_and_nom_pens_na_become_nan(tmp_path: Path) -> None:
    lines = [
        row(ncodpers="1", ind_nomina_ult1="NA", ind_nom_pens_ult1="NA"),
        row(ncodpers="2", ind_nomina_ult1="", ind_nom_pens_ult1=" NA"),
        row(ncodpers="3", ind_nomina_ult1="1", ind_nom_pens_ult1="1"),
    ]
    frame = read_snapshots(write(tmp_path / "t.csv", lines)).frame
    assert values(frame, "ind_nomina_ult1") == [None, None, 1.0]
    assert values(frame, "ind_nom_pens_ult1") == [None, None, 1.0]
    assert values(frame, "ind_cco_fin_ult1") == [1.0, 1.0, 1.0]


def test_invalid_profile_values_become_nan(tmp_path: Path) -> None:
    line = row(
        sexo="X",
        segmento="04 - OTROS",
        tiprel_1mes="Z",
        pais_residencia="ESP",
        ind_actividad_cliente="2",
        renta="lots",
        ind_cco_fin_ult1="7",
    )
    frame = read_snapshots(write(tmp_path / "t.csv", [line, row(ncodpers="2", sexo=" v ")])).frame
    for name in ("sexo", "segmento", "tiprel_1mes", "pais_residencia"):
        assert values(frame, name)[0] is None, name
    assert values(frame, "ind_actividad_cliente") == [None, 1.0]
    assert values(frame, "renta") == [None, 87218.1]
    assert values(frame, "ind_cco_fin_ult1") == [None, 1.0]
    assert values(frame, "sexo") == [None, "V"]


def test_lower_case_values_are_normalised(tmp_path: Path) -> None:
    line = row(sexo="h", pais_residencia=" fr", tiprel_1mes="i", segmento="01 - top")
    frame = read_snapshots(write(tmp_path / "t.csv", [line])).frame
    assert values(frame, "sexo") == ["H"]
    assert values(frame, "pais_residencia") == ["FR"]
    assert values(frame, "tiprel_1mes") == ["I"]
    assert values(frame, "segmento") == ["01 - TOP"]


def test_missing_required_columns_are_named(tmp_path: Path) -> None:
    header = tuple(c for c in PROFILE_COLUMNS if c != "ncodpers")
    path = write(tmp_path / "t.csv", ["x"], header=header)
    with pytest.raises(ValueError, match="ncodpers") as caught:
        read_snapshots(path)
    assert "fecha_dato" not in str(caught.value).split(";")[0]
    path = write(tmp_path / "u.csv", ["1,2"], header=("a", "b"))
    with pytest.raises(ValueError, match="lacks fecha_dato, ncodpers; its first line starts 'a,b'"):
        read_snapshots(path)
    with pytest.raises(ValueError, match=r"not in the train_ver2\.csv format"):
        list_months(path)


def test_json_and_png_files_are_named_as_another_format(tmp_path: Path) -> None:
    json_file = tmp_path / "profile.json"
    json_file.write_text('{"sexo": "H", "age": 35, "renta": 87218.1}\n')
    with pytest.raises(ValueError, match=r"profile\.json is not in the train_ver2\.csv format"):
        read_snapshots(json_file)
    png = tmp_path / "chart.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")
    with pytest.raises(
        ValueError, match=r"chart\.png is not in the train_ver2\.csv format"
    ) as caught:
        list_months(png)
    assert "\n" not in str(caught.value)


def test_missing_file_and_directory_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.csv: no such file"):
        read_snapshots(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="is a directory, not a CSV file"):
        list_months(tmp_path)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match="empty"):
        read_snapshots(path)


def test_non_csv_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="not a readable CSV"):
        read_snapshots(path)
    binary = tmp_path / "bad.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ValueError, match=r"fecha_dato|CSV"):
        read_snapshots(binary)


def test_unterminated_quote_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path / "t.csv",
        [row(ncodpers="1"), row(ncodpers="2", nomprov="CORUÑA, A").replace('A"', "A")],
    )
    with pytest.raises(ValueError, match="cannot parse as CSV"):
        read_snapshots(path)


def test_truncated_gzip_is_an_error(tmp_path: Path) -> None:
    text = ",".join(ALL_COLUMNS) + "\n" + "\n".join(row(ncodpers=str(i)) for i in range(1, 300))
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(text.encode("utf-8"))[:-200])
    with pytest.raises(ValueError, match=r"t\.csv\.gz"):
        read_snapshots(path)


def test_month_filter_across_chunk_boundaries(tmp_path: Path) -> None:
    months = ["2015-01-28", "2015-02-28", "2015-02-28", "2015-03-28", "2015-02-28", "2015-01-28"]
    lines = [row(fecha_dato=m, ncodpers=str(i)) for i, m in enumerate(months, 1)]
    path = write(tmp_path / "t.csv", lines)
    result = read_snapshots(path, ["2015-02-28"], chunksize=2)
    assert result.rows_read == 6
    assert result.dropped == {}
    assert values(result.frame, "ncodpers") == [2, 3, 5]
    assert values(result.frame, "fecha_dato") == ["2015-02-28"] * 3
    two = read_snapshots(path, ["2015-01-28", "2015-03-28"], chunksize=1).frame
    assert values(two, "ncodpers") == [1, 4, 6]
    assert list(two["fecha_dato"].cat.categories) == ["2015-01-28", "2015-03-28"]
    assert isinstance(two["pais_residencia"].dtype, pd.CategoricalDtype)
    none = read_snapshots(path, ["2016-01-28"], chunksize=2)
    assert len(none.frame) == 0
    assert none.frame["age"].dtype == np.float32
    assert none.rows_read == 6


def test_country_categories_are_united_across_chunks(tmp_path: Path) -> None:
    lines = [row(ncodpers="1", pais_residencia="FR"), row(ncodpers="2")]
    frame = read_snapshots(write(tmp_path / "t.csv", lines), chunksize=1).frame
    assert isinstance(frame["pais_residencia"].dtype, pd.CategoricalDtype)
    assert values(frame, "pais_residencia") == ["FR", "ES"]
    assert list(frame["pais_residencia"].cat.categories) == ["ES", "FR"]


def test_duplicate_customer_months_keep_the_first(tmp_path: Path) -> None:
    lines = [
        row(ncodpers="7", age="30"),
        row(ncodpers="8"),
        row(ncodpers="7", age="31"),
        row(ncodpers="7", age="32", fecha_dato="2015-02-28"),
        row(ncodpers="7.0", age="33"),
    ]
    result = read_snapshots(write(tmp_path / "t.csv", lines), chunksize=2)
    assert result.dropped == {DROP_DUPLICATE: 2}
    assert values(result.frame, "ncodpers") == [7, 8, 7]
    assert values(result.frame, "age") == [30.0, 35.0, 32.0]


def test_unusable_rows_are_dropped_and_counted(tmp_path: Path) -> None:
    lines = [
        row(ncodpers="1"),
        row(ncodpers="2", fecha_dato="2015-13-28"),
        row(ncodpers="3", fecha_dato="junk"),
        row(ncodpers="4", fecha_dato=""),
        row(ncodpers=""),
        row(ncodpers="     NA"),
        row(ncodpers="abc"),
        row(ncodpers="1.5"),
        row(ncodpers="6"),
    ]
    result = read_snapshots(write(tmp_path / "t.csv", lines), chunksize=4)
    assert result.rows_read == 9
    assert result.dropped == {DROP_BAD_DATE: 3, DROP_MISSING_ID: 2, DROP_BAD_ID: 2}
    assert values(result.frame, "ncodpers") == [1, 6]


def test_truncated_line_reads_as_missing(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(",".join(ALL_COLUMNS) + "\n" + row(ncodpers="1") + "\n2015-01-28,2,N,ES,V,4")
    result = read_snapshots(path)
    assert result.dropped == {}
    assert values(result.frame, "ncodpers") == [1, 2]
    assert values(result.frame, "sexo") == ["H", "V"]
    assert values(result.frame, "age") == [35.0, 4.0]
    assert values(result.frame, "antiguedad") == [6.0, None]
    assert values(result.frame, "ind_cco_fin_ult1") == [1.0, None]


def test_header_only_file_gives_an_empty_frame(tmp_path: Path) -> None:
    result = read_snapshots(write(tmp_path / "t.csv", []))
    assert result.rows_read == 0
    assert result.dropped == {}
    assert list(result.frame.columns) == [
        "fecha_dato",
        "ncodpers",
        *MODEL_PROFILE_COLUMNS,
        *PRODUCT_CODES,
    ]
    assert result.frame["ncodpers"].dtype == np.int64


def test_missing_profile_column_warns_and_reads_as_nan(tmp_path: Path) -> None:
    header = ("fecha_dato", "ncodpers", "age")
    path = write(tmp_path / "t.csv", ["2015-01-28,5, 40"], header=header)
    with pytest.warns(UserWarning, match="renta") as record:
        result = read_snapshots(path)
    assert record[0].filename == __file__  # the warning points at the caller
    frame = result.frame
    assert values(frame, "age") == [40.0]
    assert values(frame, "renta") == [None]
    assert values(frame, "nomprov") == [None]
    assert "age" not in result.missing
    assert set(result.missing) == set(MODEL_PROFILE_COLUMNS) - {"age"}


def test_one_missing_profile_column_is_named_in_one_line(tmp_path: Path) -> None:
    header = tuple(c for c in ALL_COLUMNS if c != "renta")
    line = ",".join(BASE[c] for c in header)
    with pytest.warns(UserWarning, match="renta") as record:
        result = read_snapshots(write(tmp_path / "t.csv", [line], header=header))
    assert [str(w.message) for w in record] == [
        f"{tmp_path / 't.csv'} has no renta column: its values are read as missing"
    ]
    assert result.missing == ("renta",)
    assert values(result.frame, "renta") == [None]
    assert values(result.frame, "age") == [35.0]


def test_missing_product_columns_are_named_and_the_others_read(tmp_path: Path) -> None:
    gone = ("ind_ahor_fin_ult1", "ind_viv_fin_ult1")
    header = tuple(c for c in ALL_COLUMNS if c not in gone)
    line = ",".join(BASE[c] for c in header)
    path = write(tmp_path / "t.csv", [line], header=header)
    with pytest.warns(UserWarning, match="ind_ahor_fin_ult1 and ind_viv_fin_ult1 column: read as"):
        result = read_snapshots(path)
    assert result.missing == gone
    assert "ind_ahor_fin_ult1" not in result.frame.columns
    assert values(result.frame, "ind_cco_fin_ult1") == [1.0]
    assert products_in(path) == tuple(c for c in PRODUCT_CODES if c not in gone)


def test_a_profile_only_file_has_no_products_and_no_product_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "test_ver2.csv", REAL_TEST_ROWS, header=PROFILE_COLUMNS)
    assert products_in(path) == ()
    assert read_snapshots(path).missing == ()


def test_gzip_with_progress_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ",".join(ALL_COLUMNS) + "\n" + row(ncodpers="9", nomprov="CORUÑA, A") + "\n"
    path = tmp_path / "train_ver2.csv.gz"
    path.write_bytes(gzip.compress(text.encode("utf-8")))
    result = read_snapshots(path, progress=True)
    assert values(result.frame, "ncodpers") == [9]
    assert values(result.frame, "nomprov") == ["CORUÑA, A"]
    assert "train_ver2.csv.gz" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("2016-05", "2016-05"),
        ("2016-5", "2016-05"),
        (" 2016-05-28 ", "2016-05"),
        ("2016-05-28 00:00:00", "2016-05"),
        ("2016/05", "2016-05"),
        ("2016/05/28", "2016-05"),
        ("05/2016", "2016-05"),
        ("5/28/2016", "2016-05"),
        ("28/05/2016", "2016-05"),
        ("May 2016", "2016-05"),
        ("may-2016", "2016-05"),
        ("Sept. 2015", "2015-09"),
        ("December, 2015", "2015-12"),
        ("junio 2015", "2015-06"),
    ],
)
def test_month_key_reads_months_as_people_write_them(text: str, key: str) -> None:
    assert month_key(text) == key


@pytest.mark.parametrize("text", ["2016-13", "2016", "June", "Juneteenth 2016", "", "16-05"])
def test_month_key_refuses_what_is_not_a_month(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a month: write it as 2016-05, 2016-05-28"):
        month_key(text)


def test_invalid_arguments(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", [row()])
    with pytest.raises(ValueError, match="not a month"):
        read_snapshots(path, ["Junio"])
    assert len(read_snapshots(path, ["January 2015"]).frame) == 1
    with pytest.raises(ValueError, match="chunksize"):
        read_snapshots(path, chunksize=0)


def generated_file(tmp_path: Path, customers: int = 1500) -> Path:
    """A file of ``customers`` customers over six months (2 MB), with incomes and ages drawn
    at random, so that it compresses about as much as a real file does."""
    rng = np.random.default_rng(0)
    lines = [
        row(
            fecha_dato=f"2015-{month:02d}-28",
            ncodpers=str(customer),
            age=str(rng.integers(18, 90)),
            renta=f"{rng.lognormal(11.5, 0.6):.2f}",
        )
        for month in range(1, 7)
        for customer in range(1, customers + 1)
    ]
    return write(tmp_path / "train_ver2.csv", lines)


def test_progress_callback_counts_every_byte_of_the_file(tmp_path: Path) -> None:
    path = generated_file(tmp_path)
    size = path.stat().st_size
    reads: list[int] = []
    result = read_snapshots(path, ["2015-06"], on_read=reads.append)
    assert sum(reads) == size
    assert len(reads) >= 5  # the bar moves while pandas reads, not once at the end
    assert len(result.frame) == 1500
    months: list[int] = []
    assert len(list_months(path, on_read=months.append)) == 6
    assert sum(months) == size


@pytest.mark.parametrize(("suffix", "steps"), [(".csv", 5), (".csv.gz", 1), (".zip", 1)])
def test_progress_bar_reaches_the_file_size(tmp_path: Path, suffix: str, steps: int) -> None:
    plain = generated_file(tmp_path)
    path = tmp_path / f"copy{suffix}"
    if suffix == ".csv.gz":
        path.write_bytes(gzip.compress(plain.read_bytes()))
    elif suffix == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(plain, "train_ver2.csv")
    else:
        path.write_bytes(plain.read_bytes())
    size = path.stat().st_size  # compressed bytes for a compressed file
    positions: list[int] = []
    with tqdm(total=size, file=io.StringIO()) as bar:

        def advance(count: int) -> None:
            bar.update(count)
            positions.append(bar.n)

        read_snapshots(path, on_read=advance)
    assert positions[-1] >= size  # a zip file's directory is read twice
    assert len([n for n in positions if n < size]) >= steps  # it moved before the end


def test_progress_bar_on_stderr_ends_at_the_file_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = generated_file(tmp_path)
    read_snapshots(path, progress=True)
    err = capsys.readouterr().err
    assert "train_ver2.csv: 100%" in err
    assert " 0%" in err
