"""The simulated bank written as train_ver2.csv, with the quirks of the real export.

A customer's row has parts that never change (`_FixedText`, spelled once from the population's
traits) and parts spelled each month: age, tenure, the relation fields, the activity flag and
the products. Before 2015-07 the export pads age and antiguedad, spells indrel_1mes as a float
and leaves a few customers' demographics blank. The true add probabilities of the last month go
to a separate oracle file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from bankreco.catalog import ALL_COLUMNS, MONTHS, PRODUCT_CODES, PROVINCES, SEGMENTS
from bankreco.data.dynamics import Month
from bankreco.data.parameters import (
    CANALS,
    EMPLOYEE_CODES,
    FOREIGN_COUNTRIES,
    N_PRODUCTS,
    NOM_PENS,
    NOMINA,
    PROVINCE_TABLE,
    Bools,
    Floats,
    Ints,
    Texts,
)
from bankreco.data.population import SPOUSE_NO, SPOUSE_YES, Population

# From 2015-07 on the export writes age and antiguedad unpadded and indrel_1mes `1`, not `1.0`.
_EXPORT_CHANGE: Final = 6
# age and antiguedad as written: (unpadded, padded).
_AGE_TEXT: Final = (
    np.array([str(a) for a in range(200)], dtype=object),
    np.array([f"{a:>3}" for a in range(200)], dtype=object),
)
_TENURE_TEXT: Final = (
    np.array([str(a) for a in range(300)], dtype=object),
    np.array([f"{a:>7}" for a in range(300)], dtype=object),
)
# indrel_1mes codes with their per-row frequency; the first is the rest.
_INDREL_1MES: Final = (
    ("1", "1.0", 1.0),
    ("2", "2.0", 1e-4),
    ("3", "3.0", 3e-4),
    ("4", "4.0", 2e-5),
)
_POTENTIAL: Final = 3e-4  # indrel_1mes and tiprel_1mes P
_NA_RELATION: Final = 0.009  # indrel_1mes and tiprel_1mes empty
_LAPSED: Final = 0.0018  # indrel 99: primary at the start of the month but not at its end
_NA_PAYROLL: Final = 0.0015  # rows without payroll written with nomina and nom_pens NA
# The parts of a row whose demographics are blank (some customers in 2015-01..2015-06).
_BLANK: Final = {
    "age": " NA",
    "fecha_alta": "",
    "ind_nuevo": "NA",
    "antiguedad": "     NA",
    "indrel": "NA",
    "indrel_1mes": "",
    "tiprel_1mes": "",
    "middle": ",,,,,NA,NA,",
    "ind_actividad_cliente": "NA",
    "tail": "NA,",
}
_PRODUCT_WIDTH: Final = 2 * N_PRODUCTS - 1
_CHUNK: Final = 50_000  # rows formatted at a time, to bound memory


def write_csv(
    csv_path: Path,
    oracle_path: Path,
    pop: Population,
    months: Iterable[Month],
    rng: np.random.Generator,
) -> int:
    """Write the header and the rows of `months` to `csv_path`, and the oracle of the month that
    has one to `oracle_path`. Returns the number of data rows."""
    text = _fixed_text(pop)
    rows = 0
    with csv_path.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(ALL_COLUMNS) + "\n")
        for month in months:
            for start in range(0, len(month.idx), _CHUNK):
                part = slice(start, start + _CHUNK)
                lines = _month_lines(
                    pop, text, month.t, month.idx[part], month.held[part], month.active[part], rng
                )
                f.write("\n".join(lines) + "\n")
                rows += len(lines)
            if month.oracle is not None:
                _write_oracle(oracle_path, pop.ncodpers[month.stayed], month.oracle)
    return rows


def _quoted(field: str) -> str:
    """A CSV field as csv.QUOTE_MINIMAL writes it."""
    if any(c in field for c in ',"\n\r'):
        return '"' + field.replace('"', '""') + '"'
    return field


# cod_prov,nomprov of each row of PROVINCE_TABLE.
_PROVINCE_TEXT: Final = np.array(
    [f"{PROVINCES[name]}.0,{_quoted(name)}" for name, *_ in PROVINCE_TABLE], dtype=object
)


@dataclass(frozen=True)
class _FixedText:
    """The parts of each customer's row that are the same every month, in ncodpers order."""

    head: Texts  # ncodpers,ind_empleado,pais_residencia,sexo
    alta: Texts  # fecha_alta
    middle: Texts  # indresi,indext,conyuemp,canal_entrada,indfall,tipodom,cod_prov,nomprov
    tail: Texts  # renta,segmento


def _joined(*columns: Sequence[str] | Texts) -> Texts:
    """The fields of each row joined with commas."""
    lists = [np.asarray(column).tolist() for column in columns]
    return np.array([",".join(fields) for fields in zip(*lists, strict=True)], dtype=object)


def _fixed_text(pop: Population) -> _FixedText:
    """Spell the traits that do not change from month to month."""
    alta_month = 2015 * 12 - pop.tenure0
    alta = [
        f"{month // 12}-{month % 12 + 1:02d}-{day:02d}"
        for month, day in zip(alta_month.tolist(), pop.alta_day.tolist(), strict=True)
    ]
    renta = [
        "NA" if missing else repr(value)
        for value, missing in zip(pop.renta.tolist(), pop.income_na.tolist(), strict=True)
    ]
    spouse = np.where(pop.spouse == SPOUSE_YES, "S", np.where(pop.spouse == SPOUSE_NO, "N", ""))
    return _FixedText(
        head=_joined(
            pop.ncodpers.astype(str),
            np.array(list(EMPLOYEE_CODES))[pop.employee],
            np.where(pop.abroad, np.array(FOREIGN_COUNTRIES)[pop.country], "ES"),
            np.where(pop.sex_na, "", np.where(pop.male, "V", "H")),
        ),
        alta=np.array(alta, dtype=object),
        middle=_joined(
            np.where(pop.abroad, "N", "S"),
            np.where(pop.foreigner, "S", "N"),
            spouse,
            np.where(pop.canal < 0, "", np.array(CANALS)[pop.canal]),
            np.where(pop.deceased, "S", "N"),
            np.full(len(pop.ncodpers), "1"),
            np.where(pop.abroad, "NA,", _PROVINCE_TEXT[pop.province]),
        ),
        tail=_joined(renta, np.where(pop.segment < 0, "", np.array(SEGMENTS)[pop.segment])),
    )


def _month_lines(
    pop: Population,
    text: _FixedText,
    t: int,
    idx: Ints,
    held: Bools,
    active: Bools,
    rng: np.random.Generator,
) -> list[str]:
    """The rows of customers `idx` (ascending) in month `t`."""
    r = rng.random((len(idx), 8))
    age, antiguedad, nuevo = _age_and_tenure(pop, idx, t)
    columns = {
        "head": text.head[idx],
        "age": age,
        "fecha_alta": text.alta[idx],
        "ind_nuevo": nuevo,
        "antiguedad": antiguedad,
        **_relation(t, active, r),
        "middle": text.middle[idx],
        "ind_actividad_cliente": np.where(active, "1", "0").astype(object),
        "tail": text.tail[idx],
    }
    if t < _EXPORT_CHANGE:  # the months where some customers' demographics are blank
        blank = np.flatnonzero(pop.empty_early[idx])
        columns["head"][blank] = [f"{c},,," for c in pop.ncodpers[idx[blank]]]
        for name, value in _BLANK.items():
            columns[name][blank] = value
    products = _products_text(held, r[:, 7])
    fields = zip(*(column.tolist() for column in columns.values()), products, strict=True)
    prefix = MONTHS[t] + ","
    return [prefix + ",".join(row) for row in fields]


def _age_and_tenure(pop: Population, idx: Ints, t: int) -> tuple[Texts, Texts, Texts]:
    """age, antiguedad and ind_nuevo of customers `idx` in month `t`."""
    padded = t < _EXPORT_CHANGE
    tenure = pop.tenure0[idx] + t
    age = _AGE_TEXT[padded][np.clip(pop.age_at(idx, t), 0, 199)]
    antiguedad = _TENURE_TEXT[padded][np.clip(tenure, 0, 299)]
    antiguedad[pop.sentinel[idx]] = "-999999"
    nuevo = np.where(tenure <= 6, "1", "0").astype(object)
    return age, antiguedad, nuevo


def _relation(t: int, active: Bools, r: Floats) -> dict[str, Texts]:
    """indrel, ult_fec_cli_1t, indrel_1mes and tiprel_1mes of one month's rows, drawn from the
    uniform numbers `r[:, :7]`."""
    n = len(active)
    # Primary at the start of the month but not at its end (recorded from 2015-07 on).
    lapsed = (r[:, 0] < _LAPSED) & (t >= _EXPORT_CHANGE)
    indrel = np.where(lapsed, "99", "1").astype(object)
    last_primary = np.full(n, "", dtype=object)
    last_primary[lapsed] = [f"{MONTHS[t][:8]}{1 + int(d * 27):02d}" for d in r[lapsed, 6]]
    # Relation type at the start of the month, spelled as floats before 2015-07.
    as_float = (t < _EXPORT_CHANGE) | (r[:, 2] < 0.02)
    cut = np.cumsum([f for *_, f in _INDREL_1MES[1:]])
    code = (np.searchsorted(cut, r[:, 1], side="right") + 1) % len(_INDREL_1MES)
    spellings = np.array([[a, b] for a, b, _ in _INDREL_1MES], dtype=object)
    indrel_1mes = spellings[code, as_float.astype(int)]
    flip = r[:, 3] < 0.003
    tiprel = np.where(active ^ flip, "A", "I").astype(object)
    tiprel[code >= 2] = np.where(r[code >= 2, 4] < 0.25, "R", "I")
    potential = r[:, 1] > 1 - _POTENTIAL
    indrel_1mes[potential] = "P"
    tiprel[potential] = "P"
    unknown = r[:, 5] < _NA_RELATION
    indrel_1mes[unknown] = ""
    tiprel[unknown] = ""
    return {
        "indrel": indrel,
        "ult_fec_cli_1t": last_primary,
        "indrel_1mes": indrel_1mes,
        "tiprel_1mes": tiprel,
    }


def _products_text(held: Bools, u: Floats) -> list[str]:
    """The 24 flags of each row as `0,1,...`; the rows without payroll where `u` is below
    _NA_PAYROLL have nomina and nom_pens NA."""
    buf = np.full((len(held), _PRODUCT_WIDTH), ord(","), dtype=np.uint8)
    buf[:, 0::2] = held.astype(np.uint8) + ord("0")
    texts: list[str] = buf.view(f"S{_PRODUCT_WIDTH}")[:, 0].astype(str).tolist()
    no_payroll = ~held[:, NOMINA] & ~held[:, NOM_PENS]
    for i in np.flatnonzero(no_payroll & (u < _NA_PAYROLL)):
        texts[i] = texts[i][: 2 * NOMINA] + "NA,NA" + texts[i][2 * NOM_PENS + 1 :]
    return texts


def _write_oracle(path: Path, ncodpers: Ints, probabilities: Floats) -> None:
    table = np.column_stack([ncodpers, probabilities])
    fmt = ["%d"] + ["%.6g"] * N_PRODUCTS
    np.savetxt(
        path,
        table,
        fmt=fmt,
        delimiter=",",
        header=",".join(("ncodpers", *PRODUCT_CODES)),
        comments="",
    )
