"""How close a generated train_ver2.csv-format file is to the real Santander data."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from bankreco.catalog import MONTHS, PRODUCT_CODES, PROVINCES
from bankreco.data.parameters import NOM_PENS, NOMINA, PRODUCT
from bankreco.metrics import map_at_k, perfect_map

Kind = Literal["share", "number", "money"]


@dataclass(frozen=True)
class _Reference:
    statistic: str
    value: float  # the real figure (for the oracle checks: the value a correct oracle gives)
    tolerance: float  # largest accepted absolute difference
    kind: Kind = "share"


_OWNERSHIP: Final = {
    "cco": (0.656, 0.05), "ctop": (0.129, 0.025), "recibo": (0.128, 0.025),
    "ecue": (0.083, 0.02), "cno": (0.081, 0.02), "nom_pens": (0.059, 0.015),
    "nomina": (0.055, 0.015), "reca": (0.053, 0.015), "tjcr": (0.044, 0.012),
    "ctpp": (0.043, 0.012), "dela": (0.043, 0.012), "valo": (0.026, 0.008),
    "fond": (0.018, 0.006), "ctma": (0.010, 0.004), "ctju": (0.0095, 0.004),
    "plan": (0.0092, 0.004), "hip": (0.0059, 0.003), "viv": (0.0039, 0.002),
}  # fmt: skip
_ADD_MIX: Final = {
    "recibo": (0.273, 0.04), "nom_pens": (0.151, 0.03), "nomina": (0.131, 0.03),
    "tjcr": (0.123, 0.03), "cco": (0.123, 0.03), "cno": (0.066, 0.02), "ecue": (0.047, 0.015),
    "dela": (0.023, 0.01), "reca": (0.016, 0.008), "ctma": (0.012, 0.006), "valo": (0.009, 0.005),
}  # fmt: skip
_JUNE_MIX: Final = {
    "recibo": (0.216, 0.05), "nom_pens": (0.195, 0.05), "cco": (0.158, 0.04),
    "nomina": (0.121, 0.04), "tjcr": (0.112, 0.04), "reca": (0.070, 0.025),
}  # fmt: skip

# The reference figures of santander-reference.md, each with its tolerance, then the checks of
# the payroll coupling and of the oracle.
REFERENCE: Final[dict[str, _Reference]] = {
    "months": _Reference("months (fecha_dato values)", 17, 0, "number"),
    "rows_per_customer": _Reference("rows per customer", 14.27, 1.0, "number"),
    "growth": _Reference("customers 2016-05 / 2015-01", 1.489, 0.12, "number"),
    "sex_v": _Reference("sexo V", 0.544, 0.02),
    "sex_h": _Reference("sexo H", 0.454, 0.02),
    "sex_na": _Reference("sexo missing", 0.002, 0.002),
    "age_mean": _Reference("age mean", 40.2, 1.5, "number"),
    "age_median": _Reference("age median", 39, 2, "number"),
    "age_q1": _Reference("age 1st quartile", 24, 2, "number"),
    "age_q3": _Reference("age 3rd quartile", 50, 3, "number"),
    "seg_part": _Reference("segmento 02 - PARTICULARES", 0.583, 0.04),
    "seg_univ": _Reference("segmento 03 - UNIVERSITARIO", 0.362, 0.04),
    "seg_top": _Reference("segmento 01 - TOP", 0.041, 0.012),
    "seg_na": _Reference("segmento missing", 0.014, 0.007),
    "tenure_median": _Reference("antiguedad median", 50, 8, "number"),
    "tenure_q1": _Reference("antiguedad 1st quartile", 23, 6, "number"),
    "tenure_q3": _Reference("antiguedad 3rd quartile", 135, 15, "number"),
    "tenure_max": _Reference("antiguedad max", 256, 0, "number"),
    "renta_na": _Reference("renta missing", 0.205, 0.02),
    "renta_median": _Reference("renta median", 101_850, 8_000, "money"),
    "renta_q1": _Reference("renta 1st quartile", 68_711, 7_000, "money"),
    "renta_q3": _Reference("renta 3rd quartile", 155_956, 12_000, "money"),
    "renta_madrid": _Reference("renta mean MADRID", 178_900, 30_000, "money"),
    "renta_barcelona": _Reference("renta mean BARCELONA", 164_700, 30_000, "money"),
    "renta_ciudad_real": _Reference("renta mean CIUDAD REAL", 69_900, 20_000, "money"),
    "prov_madrid": _Reference("nomprov MADRID", 0.323, 0.02),
    "prov_barcelona": _Reference("nomprov BARCELONA", 0.093, 0.012),
    "prov_valencia": _Reference("nomprov VALENCIA", 0.050, 0.008),
    "prov_sevilla": _Reference("nomprov SEVILLA", 0.044, 0.008),
    "prov_coruna": _Reference("nomprov CORUÑA, A", 0.031, 0.006),
    "prov_na": _Reference("nomprov missing", 0.007, 0.004),
    "provinces": _Reference("provinces present", 52, 0, "number"),
    "pais_es": _Reference("pais_residencia ES", 0.993, 0.003),
    "active": _Reference("ind_actividad_cliente 1", 0.458, 0.03),
    "tiprel_a": _Reference("tiprel_1mes A", 0.453, 0.03),
    "tiprel_i": _Reference("tiprel_1mes I", 0.535, 0.03),
    "empleado_n": _Reference("ind_empleado N", 0.997, 0.002),
    "canal_khe": _Reference("canal_entrada KHE", 0.30, 0.04),
    "canal_kat": _Reference("canal_entrada KAT", 0.24, 0.04),
    "canal_kfc": _Reference("canal_entrada KFC", 0.23, 0.04),
    **{f"own_{p}": _Reference(f"owns {p}", v, tol) for p, (v, tol) in _OWNERSHIP.items()},
    "add_none": _Reference("customer-months adding nothing", 0.965, 0.008),
    "add_one": _Reference("customer-months adding one product", 0.028, 0.006),
    "add_more": _Reference("customer-months adding two or more", 0.007, 0.003),
    **{
        f"mix_{p}": _Reference(f"share of additions: {p}", v, tol)
        for p, (v, tol) in _ADD_MIX.items()
    },
    **{
        f"june_{p}": _Reference(f"share of 2015-06 additions: {p}", v, tol)
        for p, (v, tol) in _JUNE_MIX.items()
    },
    "nomina_alone": _Reference("nomina added without nom_pens held or added", 0, 0, "number"),
    "oracle_rows": _Reference(
        "oracle rows = customers of 2016-04 and 2016-05 (1: yes)", 1, 0, "number"
    ),
    "oracle_held": _Reference("oracle: largest probability of a held product", 0, 0, "number"),
    "oracle_sum": _Reference("oracle: expected adds per customer / seen adds", 1.0, 0.15, "number"),
    "oracle_map": _Reference("oracle MAP@7 in 2016-05 (real: best model)", 0.0314, 0.01, "number"),
    "perfect_map": _Reference("customers adding in 2016-05 (perfect MAP@7)", 0.035, 0.01),
}


@dataclass(frozen=True)
class FidelityRow:
    """One statistic of the generated file beside its reference figure."""

    key: str
    statistic: str
    generated: float
    reference: float
    tolerance: float
    kind: Kind

    @property
    def within(self) -> bool:
        """Whether the generated figure is within the tolerance of the reference."""
        return bool(abs(self.generated - self.reference) <= self.tolerance + 1e-12)


@dataclass(frozen=True)
class FidelityReport:
    """The statistics of a generated file beside the reference figures."""

    csv_path: Path
    rows: int
    customers: int
    statistics: tuple[FidelityRow, ...]

    def __getitem__(self, key: str) -> FidelityRow:
        """The statistic named `key` (a key of REFERENCE)."""
        for row in self.statistics:
            if row.key == key:
                return row
        raise KeyError(key)

    @property
    def failures(self) -> tuple[FidelityRow, ...]:
        """The statistics outside their tolerance."""
        return tuple(row for row in self.statistics if not row.within)


_TEXT_COLUMNS: Final = (
    "fecha_dato",
    "ind_empleado",
    "pais_residencia",
    "sexo",
    "age",
    "antiguedad",
    "tiprel_1mes",
    "canal_entrada",
    "nomprov",
    "ind_actividad_cliente",
    "segmento",
)


def _read(csv_path: Path) -> pd.DataFrame:
    dtypes: dict[str, str] = dict.fromkeys(_TEXT_COLUMNS, "category")
    dtypes.update({"ncodpers": "int64", "renta": "str"})
    dtypes.update(dict.fromkeys(PRODUCT_CODES, "float32"))
    frame = pd.read_csv(
        csv_path,
        usecols=list(dtypes),
        dtype=dtypes,
        keep_default_na=False,
        na_values={code: ["NA", ""] for code in PRODUCT_CODES},
        encoding="utf-8",
    )
    return frame


def _numeric(column: pd.Series) -> npt.NDArray[np.float64]:
    """A padded text column (` 35`, `     NA`) as floats, NaN where missing."""
    values = pd.to_numeric(column.astype(str).str.strip(), errors="coerce")
    return np.asarray(values, dtype=np.float64)


def _share(column: pd.Series, value: str) -> float:
    return float((column.astype(str).str.strip() == value).mean())


@dataclass(frozen=True)
class _Changes:
    """Each pair of consecutive months of one customer, with the products held in both."""

    ncodpers: npt.NDArray[np.int64]
    month: npt.NDArray[np.int64]  # index in MONTHS of the later month
    before: npt.NDArray[np.bool_]
    after: npt.NDArray[np.bool_]

    @property
    def added(self) -> npt.NDArray[np.bool_]:
        """A product held in the later month and not in the earlier one."""
        return self.after & ~self.before


def fidelity_report(
    csv_path: str | os.PathLike[str], oracle_path: str | os.PathLike[str] | None = None
) -> FidelityReport:
    """Compute the REFERENCE statistics of a generated file (and of its oracle, if given)."""
    csv_path = Path(csv_path)
    df = _read(csv_path)
    month = np.asarray(df["fecha_dato"].astype(str).map({m: i for i, m in enumerate(MONTHS)}))
    customers = int(df["ncodpers"].nunique())
    held = np.nan_to_num(df[list(PRODUCT_CODES)].to_numpy(np.float32)).astype(bool)
    changes = _changes(df["ncodpers"].to_numpy(), month, held)
    generated: dict[str, float] = {
        **_size_statistics(month, len(df), customers),
        **_demographic_statistics(df),
        **_region_statistics(df),
        **_relation_statistics(df),
        **{f"own_{p}": float(held[:, PRODUCT[p]].mean()) for p in _OWNERSHIP},
        **_addition_statistics(changes),
    }
    if oracle_path is not None:
        generated.update(_oracle_statistics(Path(oracle_path), changes))
    statistics = tuple(
        FidelityRow(key, ref.statistic, generated[key], ref.value, ref.tolerance, ref.kind)
        for key, ref in REFERENCE.items()
        if key in generated
    )
    return FidelityReport(csv_path, len(df), customers, statistics)


def _size_statistics(month: npt.NDArray[np.int64], rows: int, customers: int) -> dict[str, float]:
    """Months present, rows per customer and the growth of the customer base."""
    per_month = np.bincount(month, minlength=len(MONTHS))
    return {
        "months": float(np.count_nonzero(per_month)),
        "rows_per_customer": rows / customers,
        "growth": per_month[-1] / per_month[0],
    }


def _quartiles(values: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    q1, median, q3 = (float(q) for q in np.nanpercentile(values, [25, 50, 75]))
    return q1, median, q3


def _demographic_statistics(df: pd.DataFrame) -> dict[str, float]:
    """Sex, age, segment and tenure."""
    generated = {
        key: _share(df["sexo"], value)
        for key, value in (("sex_v", "V"), ("sex_h", "H"), ("sex_na", ""))
    }
    age = _numeric(df["age"])
    generated["age_mean"] = float(np.nanmean(age))
    generated["age_q1"], generated["age_median"], generated["age_q3"] = _quartiles(age)
    for key, value in (
        ("seg_part", "02 - PARTICULARES"),
        ("seg_univ", "03 - UNIVERSITARIO"),
        ("seg_top", "01 - TOP"),
        ("seg_na", ""),
    ):
        generated[key] = _share(df["segmento"], value)
    tenure = _numeric(df["antiguedad"])
    tenure = tenure[tenure >= 0]
    generated["tenure_q1"], generated["tenure_median"], generated["tenure_q3"] = _quartiles(tenure)
    generated["tenure_max"] = float(np.nanmax(tenure))
    return generated


def _region_statistics(df: pd.DataFrame) -> dict[str, float]:
    """Income, overall and by province, and the provinces' shares."""
    renta = _numeric(df["renta"])
    generated = {"renta_na": float(np.isnan(renta).mean())}
    generated["renta_q1"], generated["renta_median"], generated["renta_q3"] = _quartiles(renta)
    province = df["nomprov"].astype(str)
    for key, name in (
        ("madrid", "MADRID"),
        ("barcelona", "BARCELONA"),
        ("ciudad_real", "CIUDAD REAL"),
    ):
        generated[f"renta_{key}"] = float(np.nanmean(renta[np.asarray(province == name)]))
    for key, name in (
        ("madrid", "MADRID"),
        ("barcelona", "BARCELONA"),
        ("valencia", "VALENCIA"),
        ("sevilla", "SEVILLA"),
        ("coruna", "CORUÑA, A"),
        ("na", ""),
    ):
        generated[f"prov_{key}"] = float((province == name).mean())
    generated["provinces"] = float(len(set(province.unique()) & set(PROVINCES)))
    return generated


def _relation_statistics(df: pd.DataFrame) -> dict[str, float]:
    """Residence, activity, relation type, employees and entry channels."""
    generated = {
        "pais_es": _share(df["pais_residencia"], "ES"),
        "active": _share(df["ind_actividad_cliente"], "1"),
        "tiprel_a": _share(df["tiprel_1mes"], "A"),
        "tiprel_i": _share(df["tiprel_1mes"], "I"),
        "empleado_n": _share(df["ind_empleado"], "N"),
    }
    for code in ("KHE", "KAT", "KFC"):
        generated[f"canal_{code.lower()}"] = _share(df["canal_entrada"], code)
    return generated


def _changes(
    ncodpers: npt.NDArray[np.int64], month: npt.NDArray[np.int64], held: npt.NDArray[np.bool_]
) -> _Changes:
    """The pairs of rows of the same customer in consecutive months."""
    order = np.lexsort((month, ncodpers))
    ncodpers, month, held = ncodpers[order], month[order], held[order]
    pair = (ncodpers[1:] == ncodpers[:-1]) & (month[1:] == month[:-1] + 1)
    return _Changes(ncodpers[1:][pair], month[1:][pair], held[:-1][pair], held[1:][pair])


def _addition_statistics(changes: _Changes) -> dict[str, float]:
    """How many products customers add in a month, the mix of additions (overall and in the
    June tax month) and the additions of nomina that break the payroll coupling."""
    added = changes.added
    n_added = added.sum(axis=1)
    generated = {
        "add_none": float((n_added == 0).mean()),
        "add_one": float((n_added == 1).mean()),
        "add_more": float((n_added >= 2).mean()),
    }
    mix = added.sum(axis=0) / max(int(added.sum()), 1)
    june = added[changes.month == MONTHS.index("2015-06-28")].sum(axis=0)
    june_mix = june / max(int(june.sum()), 1)
    for p in _ADD_MIX:
        generated[f"mix_{p}"] = float(mix[PRODUCT[p]])
    for p in _JUNE_MIX:
        generated[f"june_{p}"] = float(june_mix[PRODUCT[p]])
    before, after = changes.before, changes.after
    generated["nomina_alone"] = float(np.sum(added[:, NOMINA] & ~after[:, NOM_PENS]))
    generated["nomina_alone"] += float(
        np.sum(added[:, NOMINA] & ~before[:, NOM_PENS] & ~added[:, NOM_PENS])
    )
    return generated


def _oracle_statistics(oracle_path: Path, changes: _Changes) -> dict[str, float]:
    """How the oracle's probabilities for the last month compare with the additions seen."""
    last = changes.month == len(MONTHS) - 1
    ids, before, added = changes.ncodpers[last], changes.before[last], changes.added[last]
    oracle = pd.read_csv(oracle_path).set_index("ncodpers")
    probabilities = oracle.reindex(ids)[list(PRODUCT_CODES)].to_numpy(np.float64)
    found = ~np.isnan(probabilities).any(axis=1)
    scores = np.nan_to_num(probabilities)
    expected = float(scores.sum(axis=1).mean())
    seen = float(added.sum(axis=1).mean())
    return {
        "oracle_rows": float(found.all() and len(oracle) == len(ids)),
        "oracle_held": float(scores[before].max(initial=0.0)),
        "oracle_sum": expected / seen if seen else float("nan"),
        "oracle_map": map_at_k(added, scores),
        "perfect_map": perfect_map(added),
    }


def _format(value: float, kind: Kind) -> str:
    if kind == "share":
        return f"{100 * value:.2f}%"
    if kind == "money":
        return f"{value:,.0f}"
    return f"{value:.4g}" if value != int(value) or abs(value) >= 1e4 else f"{int(value)}"


def render_markdown(report: FidelityReport) -> str:
    """The report as a Markdown table: statistic | generated | reference | within tolerance?"""
    within = len(report.statistics) - len(report.failures)
    lines = [
        f"Fidelity of `{report.csv_path.name}`: {report.rows:,} rows, {report.customers:,} "
        f"customers, {within}/{len(report.statistics)} statistics within tolerance.",
        "",
        "| statistic | generated | reference | within tolerance? |",
        "| --- | ---: | ---: | --- |",
    ]
    for row in report.statistics:
        reference = f"{_format(row.reference, row.kind)} ± {_format(row.tolerance, row.kind)}"
        verdict = "yes" if row.within else "**no**"
        lines.append(
            f"| {row.statistic} | {_format(row.generated, row.kind)} | {reference} | {verdict} |"
        )
    return "\n".join(lines) + "\n"
