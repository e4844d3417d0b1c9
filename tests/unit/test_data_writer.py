"""The generator's CSV writer: a population's traits spelled as train_ver2.csv rows."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from bankreco.catalog import ALL_COLUMNS, MONTHS, PRODUCT_CODES, PROVINCES, SEGMENTS
from bankreco.data.dynamics import Month
from bankreco.data.parameters import (
    BANKS,
    CANALS,
    EMPLOYEE_CODES,
    FOREIGN_COUNTRIES,
    N_PRODUCTS,
    NOM_PENS,
    NOMINA,
    PROVINCE_TABLE,
)
from bankreco.data.population import SPOUSE_NA, SPOUSE_YES, Population, draw_population
from bankreco.data.writer import write_csv

N = 3_000
T = 10  # 2015-11: after the export's spelling changes


@pytest.fixture(scope="module")
def population() -> Population:
    return draw_population(N, BANKS["santander"], np.random.default_rng(5))


def month(t: int, idx: np.ndarray, rng: np.random.Generator, *, oracle: bool = False) -> Month:
    held = rng.random((len(idx), N_PRODUCTS)) < 0.2
    active = rng.random(len(idx)) < 0.5
    probabilities = rng.random((len(idx), N_PRODUCTS)) if oracle else None
    return Month(t, idx, held, active, probabilities, idx)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_rows_spell_the_traits(tmp_path: Path, population: Population) -> None:
    idx = np.flatnonzero(population.join <= T)[::2]  # customers in the file by month T
    written = month(T, idx, np.random.default_rng(0))
    csv_path, oracle_path = tmp_path / "t.csv", tmp_path / "t.oracle.csv"
    rows = write_csv(csv_path, oracle_path, population, [written], np.random.default_rng(1))
    assert rows == len(idx)
    assert csv_path.read_text(encoding="utf-8").splitlines()[0] == ",".join(ALL_COLUMNS)
    assert not oracle_path.exists()
    lines = read(csv_path)
    pop = population
    for k, (i, line) in enumerate(zip(idx, lines, strict=True)):
        assert line["fecha_dato"] == MONTHS[T]
        assert line["ncodpers"] == str(pop.ncodpers[i])
        assert line["ind_empleado"] == EMPLOYEE_CODES[pop.employee[i]]
        assert line["sexo"] == ("" if pop.sex_na[i] else "V" if pop.male[i] else "H")
        assert line["age"] == str(pop.age_at(idx[k : k + 1], T)[0])
        if not pop.sentinel[i]:
            assert line["antiguedad"] == str(pop.tenure0[i] + T)
        assert line["indfall"] == ("S" if pop.deceased[i] else "N")
        assert line["canal_entrada"] == ("" if pop.canal[i] < 0 else CANALS[pop.canal[i]])
        spouse = "" if pop.spouse[i] == SPOUSE_NA else "S" if pop.spouse[i] == SPOUSE_YES else "N"
        assert line["conyuemp"] == spouse
        if pop.abroad[i]:
            assert line["pais_residencia"] == FOREIGN_COUNTRIES[pop.country[i]]
            assert (line["cod_prov"], line["nomprov"]) == ("NA", "")
        else:
            name = PROVINCE_TABLE[pop.province[i]][0]
            assert line["pais_residencia"] == "ES"
            assert (line["cod_prov"], line["nomprov"]) == (f"{PROVINCES[name]}.0", name)
        renta = "NA" if pop.income_na[i] else repr(float(pop.renta[i]))
        assert line["renta"] == renta
        segment = "" if pop.segment[i] < 0 else SEGMENTS[pop.segment[i]]
        assert line["segmento"] == segment
        assert line["ind_actividad_cliente"] == ("1" if written.active[k] else "0")
        flags = [line[code] for code in PRODUCT_CODES]
        expected = ["1" if h else "0" for h in written.held[k]]
        assert flags == expected or {flags[NOMINA], flags[NOM_PENS]} == {"NA"}


def test_the_month_with_an_oracle_writes_it(tmp_path: Path, population: Population) -> None:
    rng = np.random.default_rng(0)
    months = [month(t, np.arange(100 + t), rng, oracle=t == 16) for t in (15, 16)]
    csv_path, oracle_path = tmp_path / "t.csv", tmp_path / "t.oracle.csv"
    rows = write_csv(csv_path, oracle_path, population, months, np.random.default_rng(1))
    assert rows == 100 + 15 + 100 + 16
    oracle = oracle_path.read_text(encoding="utf-8").splitlines()
    assert oracle[0] == ",".join(("ncodpers", *PRODUCT_CODES))
    assert [line.split(",")[0] for line in oracle[1:]] == [
        str(c) for c in population.ncodpers[:116]
    ]


def test_early_months_blank_some_customers(tmp_path: Path, population: Population) -> None:
    idx = np.flatnonzero(population.empty_early)
    assert len(idx) > 0
    csv_path = tmp_path / "t.csv"
    first = month(0, idx, np.random.default_rng(0))
    write_csv(csv_path, tmp_path / "o.csv", population, [first], np.random.default_rng(1))
    for line in read(csv_path):
        assert line["age"] == " NA"
        assert line["antiguedad"] == "     NA"
        assert line["sexo"] == line["ind_empleado"] == line["pais_residencia"] == ""
        assert line["renta"] == "NA"
        assert line["ind_actividad_cliente"] == "NA"
