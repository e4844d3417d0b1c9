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

Kind = Literal["share", "number", "money"]


@dataclass(frozen=True)
class _Reference:
    statistic: str
    value: float  # the real figure (for the oracle checks: the value a correct oracle gives)
    tolerance: float  # largest accepted absolute difference
    kind: Kind = "share"


def _short(code: str) -> str:
    return code.removeprefix("ind_").removesuffix("_ult1").removesuffix("_fin")


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


_SHORT: Final = tuple(_short(c) for c in PRODUCT_CODES)
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


def _map_at_7(scores: npt.NDArray[np.float64], added: npt.NDArray[np.bool_]) -> float:
    """Mean average precision at 7 of ranking products by `scores` against `added`."""
    top = np.argsort(-scores, axis=1, kind="stable")[:, :7]
    hits = np.take_along_axis(added, top, axis=1)
    precision = np.cumsum(hits, axis=1) / np.arange(1, 8)
    n_added = np.minimum(added.sum(axis=1), 7)
    ap = np.where(n_added > 0, (precision * hits).sum(axis=1) / np.maximum(n_added, 1), 0.0)
    return float(ap.mean())


def fidelity_report(
    csv_path: str | os.PathLike[str], oracle_path: str | os.PathLike[str] | None = None
) -> FidelityReport:
    """Compute the REFERENCE statistics of a generated file (and of its oracle, if given)."""
    csv_path = Path(csv_path)
    df = _read(csv_path)
    generated: dict[str, float] = {}
    month = np.asarray(df["fecha_dato"].astype(str).map({m: i for i, m in enumerate(MONTHS)}))
    per_month = np.bincount(month, minlength=len(MONTHS))
    customers = int(df["ncodpers"].nunique())
    generated["months"] = float(np.count_nonzero(per_month))
    generated["rows_per_customer"] = len(df) / customers
    generated["growth"] = per_month[-1] / per_month[0]

    for key, value in (("sex_v", "V"), ("sex_h", "H"), ("sex_na", "")):
        generated[key] = _share(df["sexo"], value)
    age = _numeric(df["age"])
    generated["age_mean"] = float(np.nanmean(age))
    generated["age_q1"], generated["age_median"], generated["age_q3"] = (
        float(q) for q in np.nanpercentile(age, [25, 50, 75])
    )
    for key, value in (
        ("seg_part", "02 - PARTICULARES"),
        ("seg_univ", "03 - UNIVERSITARIO"),
        ("seg_top", "01 - TOP"),
        ("seg_na", ""),
    ):
        generated[key] = _share(df["segmento"], value)
    tenure = _numeric(df["antiguedad"])
    tenure = tenure[tenure >= 0]
    generated["tenure_q1"], generated["tenure_median"], generated["tenure_q3"] = (
        float(q) for q in np.nanpercentile(tenure, [25, 50, 75])
    )
    generated["tenure_max"] = float(np.nanmax(tenure))
    renta = _numeric(df["renta"])
    generated["renta_na"] = float(np.isnan(renta).mean())
    generated["renta_q1"], generated["renta_median"], generated["renta_q3"] = (
        float(q) for q in np.nanpercentile(renta, [25, 50, 75])
    )
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
    generated["pais_es"] = _share(df["pais_residencia"], "ES")
    generated["active"] = _share(df["ind_actividad_cliente"], "1")
    generated["tiprel_a"] = _share(df["tiprel_1mes"], "A")
    generated["tiprel_i"] = _share(df["tiprel_1mes"], "I")
    generated["empleado_n"] = _share(df["ind_empleado"], "N")
    for code in ("KHE", "KAT", "KFC"):
        generated[f"canal_{code.lower()}"] = _share(df["canal_entrada"], code)

    held = np.nan_to_num(df[list(PRODUCT_CODES)].to_numpy(np.float32)).astype(bool)
    for p, i in ((p, _SHORT.index(p)) for p in _OWNERSHIP):
        generated[f"own_{p}"] = float(held[:, i].mean())

    # Additions: a product held this month and not the month before, by the same customer.
    ncodpers = df["ncodpers"].to_numpy()
    order = np.lexsort((month, ncodpers))
    ncodpers, month, held = ncodpers[order], month[order], held[order]
    pair = (ncodpers[1:] == ncodpers[:-1]) & (month[1:] == month[:-1] + 1)
    before, after, pair_month = held[:-1][pair], held[1:][pair], month[1:][pair]
    added = after & ~before
    n_added = added.sum(axis=1)
    generated["add_none"] = float((n_added == 0).mean())
    generated["add_one"] = float((n_added == 1).mean())
    generated["add_more"] = float((n_added >= 2).mean())
    mix = added.sum(axis=0) / max(int(added.sum()), 1)
    june = added[pair_month == MONTHS.index("2015-06-28")].sum(axis=0)
    june_mix = june / max(int(june.sum()), 1)
    for p in _ADD_MIX:
        generated[f"mix_{p}"] = float(mix[_SHORT.index(p)])
    for p in _JUNE_MIX:
        generated[f"june_{p}"] = float(june_mix[_SHORT.index(p)])
    nomina, nom_pens = _SHORT.index("nomina"), _SHORT.index("nom_pens")
    generated["nomina_alone"] = float(np.sum(added[:, nomina] & ~after[:, nom_pens]))
    generated["nomina_alone"] += float(
        np.sum(added[:, nomina] & ~before[:, nom_pens] & ~added[:, nom_pens])
    )

    if oracle_path is not None:
        generated.update(
            _oracle_statistics(Path(oracle_path), ncodpers[1:][pair], before, added, pair_month)
        )

    statistics = tuple(
        FidelityRow(key, ref.statistic, generated[key], ref.value, ref.tolerance, ref.kind)
        for key, ref in REFERENCE.items()
        if key in generated
    )
    return FidelityReport(csv_path, len(df), customers, statistics)


def _oracle_statistics(
    oracle_path: Path,
    ncodpers: npt.NDArray[np.int64],
    before: npt.NDArray[np.bool_],
    added: npt.NDArray[np.bool_],
    pair_month: npt.NDArray[np.int64],
) -> dict[str, float]:
    last = pair_month == len(MONTHS) - 1
    ids, before, added = ncodpers[last], before[last], added[last]
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
        "oracle_map": _map_at_7(scores, added),
        "perfect_map": float(added.any(axis=1).mean()),
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
