"""A seeded simulation of a bank's customers written in the exact `train_ver2.csv` format.

Every customer has latent traits (life stage, affluence, digital affinity, engagement) that drive
the demographics. Each month a customer adds products with probabilities that are a logistic
function of the profile observed that month and the products held the month before, shifted a
little by the latent traits and by products dropped in the last two months; a payroll event adds
nom_pens with nomina and often cno. Held products are dropped with small probabilities. The
dynamics run 24 months before 2015-01 so that holdings start near equilibrium. The true add
probabilities of the last month are written beside the CSV as the oracle.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from bankreco.catalog import ALL_COLUMNS, MONTHS, PRODUCT_CODES, PROVINCES, SEGMENTS

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Texts = npt.NDArray[np.object_]

BANK_PROFILES: Final = ("santander", "digital", "traditional")

_SHORT: Final = tuple(
    c.removeprefix("ind_").removesuffix("_ult1").removesuffix("_fin") for c in PRODUCT_CODES
)
_P: Final = {name: i for i, name in enumerate(_SHORT)}
_NP: Final = len(_SHORT)
_NOMINA, _NOM_PENS, _CNO = _P["nomina"], _P["nom_pens"], _P["cno"]
_CORE: Final = [_P["nomina"], _P["nom_pens"], _P["cno"], _P["recibo"]]

_BURN_IN: Final = 24  # months simulated before 2015-01 so that holdings start near equilibrium
# From 2015-07 on the export writes age and antiguedad unpadded and indrel_1mes `1`, not `1.0`.
_EXPORT_CHANGE: Final = 6
_JUNE: Final = MONTHS.index("2015-06-28")

# Customers joining the data each month (share of all customers), month 0 = already customers.
_JOIN_SCHEDULE: Final = np.array(
    [0.654, *[0.0025] * 5, 0.207, 0.016, 0.025, 0.030, 0.017, 0.008, 0.007, 0.007, *[0.006] * 3]
)
_CAMPAIGN: Final = 6  # the July 2015 intake, mostly students

# Life stages.
_KID, _STUDENT, _ADULT, _SENIOR = 0, 1, 2, 3

# Province: share of rows (%), mean-income factor, metropolitan.
_PROVINCE_TABLE: Final[tuple[tuple[str, float, float, bool], ...]] = (
    ("MADRID", 32.3, 1.33, True),
    ("BARCELONA", 9.3, 1.23, True),
    ("VALENCIA", 5.0, 0.85, True),
    ("SEVILLA", 4.4, 0.86, True),
    ("CORUÑA, A", 3.1, 0.80, False),
    ("MURCIA", 2.7, 0.72, True),
    ("MALAGA", 2.6, 0.84, True),
    ("ZARAGOZA", 2.3, 0.86, True),
    ("ALICANTE", 2.1, 0.78, True),
    ("CADIZ", 2.0, 0.70, False),
    ("PONTEVEDRA", 1.8, 0.74, False),
    ("ASTURIAS", 1.9, 0.80, False),
    ("VALLADOLID", 1.8, 0.82, False),
    ("PALMAS, LAS", 1.5, 0.80, True),
    ("BADAJOZ", 1.3, 0.58, False),
    ("BIZKAIA", 1.3, 1.10, True),
    ("TOLEDO", 1.3, 0.62, False),
    ("GRANADA", 1.2, 0.66, False),
    ("SALAMANCA", 1.2, 0.66, False),
    ("CANTABRIA", 1.1, 0.82, False),
    ("CORDOBA", 1.1, 0.62, False),
    ("CACERES", 1.0, 0.56, False),
    ("BALEARS, ILLES", 1.0, 1.08, True),
    ("HUELVA", 1.0, 0.62, False),
    ("CIUDAD REAL", 0.9, 0.52, False),
    ("SANTA CRUZ DE TENERIFE", 0.9, 0.78, True),
    ("ALBACETE", 0.9, 0.60, False),
    ("CASTELLON", 0.8, 0.74, False),
    ("BURGOS", 0.8, 0.78, False),
    ("LUGO", 0.8, 0.62, False),
    ("TARRAGONA", 0.7, 0.84, False),
    ("LEON", 0.7, 0.66, False),
    ("GIPUZKOA", 0.7, 1.10, True),
    ("JAEN", 0.7, 0.56, False),
    ("OURENSE", 0.6, 0.60, False),
    ("RIOJA, LA", 0.6, 0.82, False),
    ("NAVARRA", 0.6, 1.00, False),
    ("GIRONA", 0.6, 0.90, False),
    ("ALMERIA", 0.6, 0.68, False),
    ("ALAVA", 0.5, 1.05, False),
    ("SEGOVIA", 0.5, 0.70, False),
    ("ZAMORA", 0.4, 0.56, False),
    ("LERIDA", 0.4, 0.80, False),
    ("GUADALAJARA", 0.4, 0.76, False),
    ("HUESCA", 0.3, 0.70, False),
    ("CUENCA", 0.3, 0.54, False),
    ("AVILA", 0.3, 0.60, False),
    ("PALENCIA", 0.3, 0.64, False),
    ("SORIA", 0.2, 0.62, False),
    ("TERUEL", 0.2, 0.60, False),
    ("MELILLA", 0.2, 0.80, False),
    ("CEUTA", 0.1, 0.80, False),
)
_NO_PROVINCE: Final = 0.005  # customers living abroad: no province

# fmt: off
# Countries of residence other than ES, most frequent first.
_COUNTRIES: Final = (
    "FR", "AR", "DE", "GB", "US", "CH", "CO", "BE", "MX", "VE", "IT", "EC", "BR", "PT", "RO", "CN",
    "MA", "NL", "IE", "AD", "SE", "CL", "PE", "DO", "CU", "RU", "PL", "BO", "UY", "PY", "AT", "NO",
    "DK", "JP", "CA", "AU", "IN", "SN", "NG", "GT",
)
# Entry channels: the five big ones, then a long tail.
_CANALS: Final = (
    "KHE", "KAT", "KFC", "KHQ", "KFA", "KHK", "KHM", "KHD", "KHN", "KAS", "RED", "KAG", "KAY",
    "KAA", "KAB", "KAE", "KCC", "KBZ", "KHL", "KFD", "KAI", "KEY", "KAW", "KAR", "KAZ", "KAF",
    "007", "013", "KCI", "KAH", "KAJ", "KCH", "KHF", "KAQ", "KHC", "KHO", "KAD", "KAK", "KAM",
    "KFP", "KFN", "KGX", "KFS", "KAL", "KBO",
)
# fmt: on


def _canal_weights(head: tuple[float, float, float, float, float]) -> Floats:
    tail = 0.85 ** np.arange(len(_CANALS) - 5, dtype=np.float64)
    weights = np.concatenate([np.array(head), (1 - sum(head)) * tail / tail.sum()])
    return np.asarray(weights / weights.sum(), dtype=np.float64)


_CANAL_BY_STAGE: Final = (
    _canal_weights((0.30, 0.40, 0.20, 0.00, 0.02)),  # kid
    _canal_weights((0.72, 0.03, 0.08, 0.08, 0.01)),  # student
    _canal_weights((0.10, 0.35, 0.32, 0.02, 0.045)),  # adult
    _canal_weights((0.03, 0.42, 0.33, 0.01, 0.045)),  # senior
)

# Observable features the add, drop and entry probabilities depend on.
_FEATURES: Final = (
    "kid",
    "age18_25",
    "age26_35",
    "age51_64",
    "age65p",
    "top",
    "univ",
    "seg_na",
    "income",
    "income_na",
    "active",
    "new",
    "tenure",
    "metro",
    "male",
    "june",
)
_LATENT: Final = ("aff", "dig", "eng")
_TERMS: Final = _FEATURES + tuple(f"has_{p}" for p in _SHORT) + _LATENT

_KIDS_NO: Final = {"kid": -5.0}

# Logit effects on the monthly probability of ADDING each product (the payroll event for
# nom_pens; for nomina, its addition while nom_pens is already held).
# fmt: off
_ADD_EFFECTS: Final[dict[str, dict[str, float]]] = {
    "ahor": {"income": 0.3},
    "aval": {"top": 1.0},
    "cco": {"active": 0.6, "new": 1.5, "age18_25": 0.3, "age65p": -0.3, "univ": -0.2, "june": 0.6,
            "has_ctop": -1.5, "has_ctpp": -1.5, "has_ctma": -1.0, "has_ecue": 0.8,
            "has_ctju": -2.0, "eng": 0.2},
    "cder": {"income": 0.3},
    "cno": {**_KIDS_NO, "active": 1.2, "age18_25": -0.5, "univ": -0.5, "new": 0.5, "has_cco": 0.5,
            "has_nomina": 3.0, "has_nom_pens": 1.0, "has_recibo": 0.3, "eng": 0.5},
    "ctju": {"kid": 7.0},
    "ctma": {**_KIDS_NO, "active": 0.5, "age26_35": 0.4, "age18_25": -0.5, "new": 0.8,
             "has_cco": 0.3, "dig": 0.2},
    "ctop": {"kid": -3.0, "new": 0.8, "age65p": 0.3, "age18_25": -1.0, "active": 0.3,
             "has_cco": -1.2},
    "ctpp": {**_KIDS_NO, "income": 0.3, "age51_64": 0.3, "age18_25": -1.5, "active": 0.3,
             "has_ctop": -0.8},
    "deco": {**_KIDS_NO, "income": 0.4, "age51_64": 0.4, "age65p": 0.6, "age18_25": -1.5,
             "active": 0.3, "has_dela": 0.5, "aff": 0.7},
    "deme": {**_KIDS_NO, "income": 0.4, "age51_64": 0.4, "age65p": 0.6, "age18_25": -1.5,
             "active": 0.3, "has_dela": 0.5, "aff": 0.7},
    "dela": {**_KIDS_NO, "age51_64": 0.6, "age65p": 1.0, "income": 0.6, "top": 0.6, "active": 0.5,
             "age18_25": -1.5, "tenure": 0.3, "has_ctop": 0.4, "has_ctpp": 0.4, "has_valo": 0.5,
             "has_fond": 0.4, "has_deco": 0.8, "has_deme": 0.8, "aff": 0.7},
    "ecue": {"kid": -4.0, "active": 0.6, "age18_25": 0.2, "age26_35": 0.4, "age65p": -1.2,
             "income": 0.2, "metro": 0.3, "has_cco": 1.2, "has_ctop": 0.2, "has_recibo": 0.5,
             "has_tjcr": 0.5, "dig": 1.0},
    "fond": {**_KIDS_NO, "income": 0.6, "top": 1.0, "age18_25": -1.5, "active": 0.5,
             "has_valo": 0.9, "has_dela": 0.5, "has_plan": 0.5, "aff": 0.7},
    "hip": {**_KIDS_NO, "age26_35": 0.8, "age65p": -2.0, "age18_25": -1.5, "income": 0.3,
            "active": 0.7, "has_nomina": 0.8},
    "plan": {**_KIDS_NO, "age51_64": 0.5, "age65p": -0.5, "age18_25": -2.0, "income": 0.5,
             "top": 0.8, "has_nomina": 0.6, "has_fond": 0.6},
    "pres": {**_KIDS_NO, "active": 0.5, "age26_35": 0.4, "age65p": -1.0, "has_nomina": 0.6},
    "reca": {**_KIDS_NO, "active": 1.0, "income": 0.5, "top": 0.8, "age51_64": 0.4, "age65p": 0.3,
             "age18_25": -1.5, "june": 2.0, "has_ctop": 0.4, "has_ecue": 0.3, "has_valo": 0.4,
             "aff": 0.7},
    "tjcr": {"kid": -5.0, "active": 1.5, "income": 0.4, "top": 0.6, "age18_25": -0.3,
             "age65p": -0.4, "univ": -0.2, "metro": 0.2, "has_nomina": 2.2, "has_cno": 1.5,
             "has_recibo": 1.5, "has_cco": 0.4, "dig": 0.5, "eng": 0.4},
    "valo": {**_KIDS_NO, "income": 0.7, "top": 1.0, "age51_64": 0.5, "age65p": 0.5,
             "age18_25": -1.5, "active": 0.4, "has_fond": 0.8, "has_dela": 0.6, "has_ecue": 0.4,
             "aff": 0.7},
    "viv": {**_KIDS_NO, "age26_35": 0.3, "active": 0.3},
    "nomina": {"active": 1.0, "has_cno": 1.0, "eng": 0.5},
    "nom_pens": {"kid": -4.0, "active": 1.8, "age65p": 0.6, "age18_25": -0.4, "univ": -0.4,
                 "top": 0.3, "income": 0.1, "new": 0.6, "june": 0.6, "has_cno": 4.5,
                 "has_cco": 1.0, "has_recibo": 1.0, "eng": 0.5},
    "recibo": {"kid": -3.0, "active": 1.6, "income": 0.2, "age18_25": -0.4, "age51_64": 0.2,
               "univ": -0.3, "new": 0.4, "has_cco": 2.5, "has_nomina": 2.0, "has_nom_pens": 0.3,
               "has_cno": 0.8, "has_ctop": 0.8, "has_ctpp": 0.6, "has_tjcr": 0.8, "eng": 0.5},
}
# fmt: on

# Logit boost of re-adding a product dropped within the last _READD_MONTHS months.
_READD: Final = {
    **dict.fromkeys(_SHORT, 2.0),
    **dict.fromkeys(("recibo", "nom_pens", "nomina", "tjcr", "cco"), 1.0),
}
_READD_MONTHS: Final = 2

# Logit effects on the monthly probability of DROPPING a held product (for nom_pens: the payroll
# stopping, which drops nomina too).
_FAST: Final = ("cno", "nomina", "nom_pens", "recibo", "tjcr")
_DROP_EFFECTS: Final[dict[str, dict[str, float]]] = {
    **{p: {"active": -1.0, "eng": -0.2} for p in _FAST},
    "ecue": {"active": -0.5, "dig": -0.3},
    "ctju": {"age18_25": 3.0},
}

# Logit effects on holding each product when a customer enters the simulation.
_ENTRY_EFFECTS: Final[dict[str, dict[str, float]]] = {
    "cco": {"tenure": -0.4, "age18_25": 0.4, "kid": -4.0},
    "ctju": {"kid": 9.0},
    "ctop": {"tenure": 1.6, "age18_25": -1.5, "kid": -4.0, "age65p": 0.4},
    "ctpp": {"tenure": 1.2, "age18_25": -2.0, "kid": -5.0, "income": 0.3},
    "ctma": {"tenure": -0.6, "age18_25": -0.5, "kid": -5.0},
    "ecue": {"tenure": -0.3, "age26_35": 0.5, "age65p": -1.0, "dig": 0.8, "kid": -4.0},
    "recibo": {"tenure": 0.4, "age18_25": -1.2, "kid": -4.0, "eng": 0.4},
    "cno": {"tenure": 0.5, "age18_25": -1.2, "kid": -5.0, "eng": 0.4},
    "nom_pens": {"tenure": 0.5, "age18_25": -1.2, "age65p": 0.6, "kid": -5.0, "eng": 0.4},
    "tjcr": {"tenure": 0.3, "age18_25": -1.0, "kid": -5.0, "income": 0.4, "top": 0.6},
    "reca": {"tenure": 0.8, "age18_25": -2.0, "kid": -5.0, "income": 0.5, "top": 0.8},
    "dela": {"tenure": 1.0, "age18_25": -2.0, "kid": -5.0, "income": 0.6, "age65p": 0.8},
    "valo": {"tenure": 0.8, "age18_25": -2.0, "kid": -5.0, "income": 0.7, "top": 1.2},
    "fond": {"tenure": 0.8, "age18_25": -2.0, "kid": -5.0, "income": 0.6, "top": 1.0},
    "plan": {"tenure": 1.0, "age18_25": -2.5, "kid": -5.0, "income": 0.5, "age51_64": 0.5},
    "hip": {"tenure": 0.6, "age18_25": -2.5, "kid": -5.0, "age26_35": 0.5, "age65p": -1.0},
    "viv": {"tenure": 0.6, "age18_25": -2.0, "kid": -5.0},
    "pres": {"tenure": 0.2, "age18_25": -1.5, "kid": -5.0},
    "deco": {"tenure": 0.5, "age18_25": -2.0, "kid": -5.0, "age65p": 0.6},
    "deme": {"tenure": 0.5, "age18_25": -2.0, "kid": -5.0, "age65p": 0.6},
}

# Intercepts of the add, drop and entry logits, calibrated on the santander profile against the
# reference figures (ownership shares, the addition mix and its rate of 4.4% per customer-month).
# fmt: off
_INTERCEPTS: Final = {
    "ahor": (-12.95, -4.04, -10.15),
    "aval": (-13.78, -4.32, -9.48),
    "cco": (-4.43, -4.78, 1.14),
    "cder": (-12.40, -4.45, -7.52),
    "cno": (-7.97, -2.32, -2.37),
    "ctju": (-12.53, -8.00, -9.77),
    "ctma": (-8.03, -2.95, -4.31),
    "ctop": (-7.30, -5.98, -2.72),
    "ctpp": (-8.56, -5.45, -3.67),
    "deco": (-9.07, -1.79, -5.65),
    "deme": (-11.10, -3.45, -6.57),
    "dela": (-8.40, -3.75, -3.77),
    "ecue": (-8.48, -3.10, -2.80),
    "fond": (-9.39, -4.01, -4.42),
    "hip": (-10.53, -5.68, -5.28),
    "plan": (-9.96, -4.99, -5.20),
    "pres": (-10.51, -4.77, -5.72),
    "reca": (-8.85, -4.22, -3.11),
    "tjcr": (-8.84, -1.01, -4.62),
    "valo": (-9.21, -4.10, -4.25),
    "viv": (-11.84, -5.78, -5.61),
    "nomina": (-7.98, -9.69, -2.06),
    "nom_pens": (-9.33, -1.19, -5.41),
    "recibo": (-7.89, -1.46, -3.48),
}
# fmt: on
_ADD_INTERCEPT: Final = {p: v[0] for p, v in _INTERCEPTS.items()}
_DROP_INTERCEPT: Final = {p: v[1] for p, v in _INTERCEPTS.items()}
_ENTRY_INTERCEPT: Final = {p: v[2] for p, v in _INTERCEPTS.items()}

# A payroll event adds nom_pens, with nomina (less often for pensioners 65+ and in June, when
# pensions pay an extra month) and, with these chances, other products not yet held.
_PAYROLL_NOMINA: Final = 0.95
_PAYROLL_BUNDLE: Final = {_CNO: 0.6, _P["recibo"]: 0.2, _P["tjcr"]: 0.05}


@dataclass(frozen=True)
class _Bank:
    """How a bank's population and product appetite differ from the reference mix."""

    stages: tuple[tuple[float, float, float, float], ...]  # existing, July intake, later joiners
    metro: float  # weight multiplier of metropolitan provinces
    affluence: float
    digital: float
    top_cut: float  # latent affluence above which an adult is 01 - TOP
    shift: dict[str, float]  # logit shift of adding and entry-holding each product


# fmt: off
_BANKS: Final = {
    "santander": _Bank(
        stages=((0.012, 0.25, 0.57, 0.168), (0.005, 0.80, 0.175, 0.02), (0.01, 0.45, 0.45, 0.09)),
        metro=1.0, affluence=0.0, digital=0.0, top_cut=1.75, shift={},
    ),
    "digital": _Bank(
        stages=((0.004, 0.38, 0.56, 0.056), (0.0, 0.88, 0.12, 0.0), (0.0, 0.6, 0.39, 0.01)),
        metro=2.2, affluence=-0.2, digital=0.8, top_cut=2.2,
        shift={"ecue": 1.0, "tjcr": 0.6, "ctma": 0.4, "ctop": -1.2, "ctpp": -0.8, "dela": -0.5,
               "plan": -0.6, "recibo": -0.2, "reca": -0.3},
    ),
    "traditional": _Bank(
        stages=((0.015, 0.10, 0.52, 0.365), (0.01, 0.45, 0.39, 0.15), (0.01, 0.2, 0.5, 0.29)),
        metro=0.35, affluence=0.1, digital=-0.8, top_cut=1.75,
        shift={"ecue": -1.0, "tjcr": -0.3, "nom_pens": 0.4, "dela": 0.6, "recibo": 0.3,
               "plan": 0.4, "ctop": 0.3, "deco": 0.5, "deme": 0.5},
    ),
}
# fmt: on


def _matrix(effects: dict[str, dict[str, float]]) -> Floats:
    """Dense (terms x products) coefficient matrix from sparse per-product effects."""
    index = {term: i for i, term in enumerate(_TERMS)}
    w = np.zeros((len(_TERMS), _NP))
    for product, terms in effects.items():
        for term, value in terms.items():
            w[index[term], _P[product]] = value
    return w


_W_ADD: Final = _matrix(_ADD_EFFECTS)
_READD_BOOST: Final = np.array([_READD.get(p, 0.0) for p in _SHORT])
_W_DROP: Final = _matrix(_DROP_EFFECTS)
_W_ENTRY: Final = _matrix(_ENTRY_EFFECTS)


def _intercepts(values: dict[str, float], shift: dict[str, float] | None = None) -> Floats:
    shift = shift or {}
    return np.array([values[p] + shift.get(p, 0.0) for p in _SHORT])


def _sigmoid(x: Floats) -> Floats:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class GenerateResult:
    """What `generate` wrote."""

    csv_path: Path
    oracle_path: Path
    rows: int
    customers: int


@dataclass(frozen=True)
class _Population:
    """Per-customer traits, indexed in ncodpers order."""

    ncodpers: Ints
    join: Ints  # first month in the file
    entry: Ints  # month the customer enters the simulation (negative: burn-in)
    stage: Ints
    age0: Ints  # age in 2015-01
    birthday: Ints  # months after 2015-01 of the next birthday (1..12)
    tenure0: Ints  # antiguedad in 2015-01 (negative for later joiners)
    latent: Floats  # (n, 3): affluence, digital affinity, engagement
    segment: Ints  # index into SEGMENTS, -1 missing
    income: Floats  # standardized log renta, 0 when missing
    income_na: Bools
    metro: Bools
    male: Bools
    deceased: Bools
    empty_early: Bools  # demographics blank in 2015-01..2015-06
    # Fixed text of the row: ncodpers..sexo, fecha_alta, indresi..nomprov, renta,segmento.
    head: Texts
    alta: Texts
    middle: Texts
    tail: Texts
    sentinel: Bools  # antiguedad written as -999999


def _features(
    pop: _Population, idx: Ints, t: int, active: Bools | None = None, held: Bools | None = None
) -> Floats:
    """Design matrix (features, last month's products, latent traits) of customers `idx`."""
    n = len(idx)
    x = np.zeros((n, len(_TERMS)))
    age = _age_at(pop, idx, t)
    tenure = pop.tenure0[idx] + t
    seg = pop.segment[idx]
    columns = {
        "kid": age < 18,
        "age18_25": (age >= 18) & (age <= 25),
        "age26_35": (age >= 26) & (age <= 35),
        "age51_64": (age >= 51) & (age <= 64),
        "age65p": age >= 65,
        "top": seg == 0,
        "univ": seg == 2,
        "seg_na": seg < 0,
        "income": pop.income[idx],
        "income_na": pop.income_na[idx],
        "active": 0 if active is None else active[idx],
        "new": tenure <= 6,
        "tenure": np.clip(tenure, 0, 240) / 120.0,
        "metro": pop.metro[idx],
        "male": pop.male[idx],
        "june": np.full(n, t == _JUNE),
    }
    for j, name in enumerate(_FEATURES):
        x[:, j] = columns[name]
    if held is not None:
        x[:, len(_FEATURES) : len(_FEATURES) + _NP] = held
    x[:, -3:] = pop.latent[idx]
    return x


def _age_at(pop: _Population, idx: Ints, t: int) -> Ints:
    """Age in month `t` (birthdays fall in month `birthday`, 1..12 after 2015-01)."""
    return pop.age0[idx] + (t + 12 - pop.birthday[idx]) // 12


@dataclass(frozen=True)
class _Chances:
    """One month's probabilities for customers given their features and last month's products."""

    add: Floats  # independent add draws; nom_pens: the payroll event; nomina: with nom_pens held
    drop: Floats  # nom_pens: the payroll stopping, which drops nomina too
    payroll_nomina: Floats  # chance that nomina joins a payroll event
    marginal: Floats  # true probability of adding each product (0 where held)


def _chances(
    x: Floats, held: Bools, recent: Bools, add_b: Floats, drop_b: Floats, dead: Bools
) -> _Chances:
    add = _sigmoid(x @ _W_ADD + add_b + recent * _READD_BOOST)
    drop = _sigmoid(x @ _W_DROP + drop_b)
    payroll_nomina = (
        _PAYROLL_NOMINA
        - 0.3 * x[:, _FEATURES.index("age65p")]
        - 0.15 * x[:, _FEATURES.index("june")]
    )
    payroll = add[:, _NOM_PENS] * ~held[:, _NOM_PENS]
    marginal = add * ~held
    marginal[:, _NOM_PENS] = payroll
    marginal[:, _NOMINA] = np.where(
        held[:, _NOM_PENS], add[:, _NOMINA] * (1 - drop[:, _NOM_PENS]), payroll * payroll_nomina
    )
    marginal[:, _NOMINA] *= ~held[:, _NOMINA]
    for j, share in _PAYROLL_BUNDLE.items():
        marginal[:, j] = (1 - (1 - payroll * share) * (1 - add[:, j])) * ~held[:, j]
    marginal *= ~dead[:, None]
    return _Chances(add, drop, payroll_nomina, marginal)


def _step(held: Bools, chances: _Chances, dead: Bools, rng: np.random.Generator) -> Bools:
    """Next month's products: drops, then adds of products not held (payroll as a bundle)."""
    n = len(held)
    drops = (rng.random((n, _NP)) < chances.drop) & held
    drops[:, _NOMINA] |= drops[:, _NOM_PENS] & held[:, _NOMINA]
    adds = (rng.random((n, _NP)) < chances.add) & ~held
    v = rng.random((n, 1 + len(_PAYROLL_BUNDLE)))
    payroll = adds[:, _NOM_PENS]
    with_pens = adds[:, _NOMINA] & ~drops[:, _NOM_PENS]
    adds[:, _NOMINA] = np.where(
        held[:, _NOM_PENS], with_pens, payroll & (v[:, 0] < chances.payroll_nomina)
    )
    adds[:, _NOMINA] &= ~held[:, _NOMINA]
    for k, (j, share) in enumerate(_PAYROLL_BUNDLE.items(), start=1):
        adds[:, j] |= payroll & (v[:, k] < share) & ~held[:, j]
    adds &= ~dead[:, None]
    return (held & ~drops) | adds


@dataclass(frozen=True)
class _Month:
    """The simulated state of one month of the file."""

    t: int
    idx: Ints  # customers present, ascending (= ncodpers order)
    held: Bools  # (len(idx), 24)
    active: Bools  # (len(idx),)
    oracle: Floats | None  # in the last month: add probabilities of the `stayed` customers
    stayed: Ints  # customers present last month too, ascending


def _entry_holdings(
    pop: _Population, idx: Ints, t: int, entry_b: Floats, rng: np.random.Generator
) -> Bools:
    """Products held when a customer enters the simulation (more, and older ones, with tenure)."""
    x = _features(pop, idx, t)
    held = rng.random((len(idx), _NP)) < _sigmoid(x @ _W_ENTRY + entry_b)
    main_other = held[:, _P["ctop"]] | held[:, _P["ctpp"]] | held[:, _P["ctju"]]
    held[:, _P["cco"]] &= ~main_other | (rng.random(len(idx)) < 0.25)
    held[:, _NOMINA] = held[:, _NOM_PENS] & (rng.random(len(idx)) < 0.85)
    held[:, _CNO] |= held[:, _NOMINA] & (rng.random(len(idx)) < 0.85)
    return held


def _activity(pop: _Population, idx: Ints, t: int, held: Bools, rng: np.random.Generator) -> Bools:
    """Draw ind_actividad_cliente from a customer's engagement, stage and core products."""
    stage_effect = np.array([-2.5, -1.7, 0.25, 0.25])[pop.stage[idx]]
    age = _age_at(pop, idx, t)
    logit = (
        -0.05
        + 1.0 * pop.latent[idx, 2]
        + stage_effect
        - 1.0 * (age >= 75)
        + 1.8 * held[:, _CORE].any(axis=1)
        + 0.5 * (pop.segment[idx] == 0)
        - 10.0 * pop.deceased[idx]
    )
    return rng.random(len(idx)) < _sigmoid(logit)


def _simulate(pop: _Population, bank: _Bank, rng: np.random.Generator) -> Iterator[_Month]:
    """Run the monthly dynamics from the burn-in start; yield the months of the file."""
    n = len(pop.join)
    add_b = _intercepts(_ADD_INTERCEPT, bank.shift)
    drop_b = _intercepts(_DROP_INTERCEPT)
    entry_b = _intercepts(_ENTRY_INTERCEPT, bank.shift)
    held = np.zeros((n, _NP), dtype=bool)
    dropped = np.full((n, _NP), -_BURN_IN - _READD_MONTHS - 1)  # month of the last drop
    active = np.zeros(n, dtype=bool)
    present = np.zeros(n, dtype=bool)
    last = len(MONTHS) - 1
    for t in range(-_BURN_IN, len(MONTHS)):
        # Customers leave (never to return), more often those holding nothing.
        if t >= 1:
            hazard = np.where(held.any(axis=1), 0.0012, 0.006)
            leaving = present & (rng.random(n) < hazard)
            present &= ~leaving
        stay = np.flatnonzero(present)
        # Activity drifts: a few customers re-draw it each month.
        redraw = stay[rng.random(len(stay)) < 0.05]
        active[redraw] = _activity(pop, redraw, t, held[redraw], rng)
        h = held[stay]
        dead = pop.deceased[stay]
        recent = t - dropped[stay] <= _READD_MONTHS
        chances = _chances(_features(pop, stay, t, active, h), h, recent, add_b, drop_b, dead)
        held[stay] = _step(h, chances, dead, rng)
        rows, cols = np.nonzero(h & ~held[stay])
        dropped[stay[rows], cols] = t
        # Customers entering the simulation this month.
        entering = np.flatnonzero(pop.entry == t)
        if len(entering):
            held[entering] = _entry_holdings(pop, entering, t, entry_b, rng)
            active[entering] = _activity(pop, entering, t, held[entering], rng)
            present[entering] = True
        if t < 0:
            continue
        shown = np.flatnonzero(present)
        oracle = chances.marginal if t == last else None
        yield _Month(t, shown, held[shown], active[shown], oracle, stay)


def _quoted(field: str) -> str:
    """A CSV field as csv.QUOTE_MINIMAL writes it."""
    if any(c in field for c in ',"\n\r'):
        return '"' + field.replace('"', '""') + '"'
    return field


def _choice(rng: np.random.Generator, weights: Floats, n: int) -> Ints:
    return rng.choice(len(weights), size=n, p=weights / weights.sum())


def _draw_age(stage: Ints, rng: np.random.Generator) -> Ints:
    """Age in 2015-01: kids, a student peak near 23, adults near 43, a senior tail."""
    n = len(stage)
    age = np.select(
        [stage == _KID, stage == _STUDENT, stage == _ADULT],
        [
            rng.integers(2, 18, n),
            np.clip(np.rint(rng.normal(22.0, 2.3, n)), 18, 30),
            np.clip(np.rint(rng.normal(43.0, 9.0, n)), 25, 66),
        ],
        np.clip(np.rint(63 + rng.gamma(2.0, 4.5, n)), 60, 105),
    ).astype(np.int64)
    odd = (stage >= _ADULT) & (rng.random(n) < 2e-4)  # the implausible ages of the real file
    age[odd] = rng.integers(106, 165, int(odd.sum()))
    return age


def _draw_tenure(stage: Ints, age: Ints, join: Ints, rng: np.random.Generator) -> Ints:
    """Months as a customer when first seen in the file."""
    n = len(stage)
    veteran = rng.random(n) < np.where(stage >= _ADULT, 0.75, 0.08)
    existing = np.where(veteran, rng.uniform(36, 241, n), rng.exponential(40.0, n))
    joining = np.where(rng.random(n) < 0.5, 0, rng.integers(1, 49, n))
    cap = np.where(stage == _KID, age * 12, np.clip((age - 16) * 12, 0, 240))
    return np.minimum(np.where(join == 0, np.floor(existing), joining), cap).astype(np.int64)


def _draw_population(n: int, bank: _Bank, rng: np.random.Generator) -> _Population:
    join = _choice(rng, _JOIN_SCHEDULE, n)
    cohort = np.where(join == 0, 0, np.where(join == _CAMPAIGN, 1, 2))
    stage = np.zeros(n, dtype=np.int64)
    for c, shares in enumerate(bank.stages):
        members = np.flatnonzero(cohort == c)
        stage[members] = _choice(rng, np.array(shares), len(members))
    age0 = _draw_age(stage, rng)
    tenure0 = _draw_tenure(stage, age0, join, rng) - join
    day = rng.integers(1, 29, n)
    # ncodpers grow with fecha_alta.
    order = np.lexsort((day, -tenure0))
    join, stage, age0, tenure0, day = (
        join[order],
        stage[order],
        age0[order],
        tenure0[order],
        day[order],
    )
    ncodpers = 15888 + np.cumsum(rng.geometric(0.6, n))

    latent = rng.normal(size=(n, 3))
    latent[:, 0] += np.array([0.0, -0.3, 0.0, 0.2])[stage] + bank.affluence
    latent[:, 1] += np.array([0.0, 0.6, 0.0, -0.9])[stage] + bank.digital

    names = [row[0] for row in _PROVINCE_TABLE]
    share = np.array([row[1] for row in _PROVINCE_TABLE])
    factor = np.array([row[2] for row in _PROVINCE_TABLE])
    is_metro = np.array([row[3] for row in _PROVINCE_TABLE])
    abroad = rng.random(n) < _NO_PROVINCE
    province = _choice(rng, share * np.where(is_metro, bank.metro, 1.0), n)
    metro = is_metro[province] & ~abroad
    latent[:, 1] += 0.2 * metro
    country = _choice(rng, 0.9 ** np.arange(len(_COUNTRIES), dtype=np.float64), n)

    log_renta = (
        np.log(107_000.0)
        + np.log(np.where(abroad, 1.0, factor[province]))
        + 0.4 * latent[:, 0]
        + rng.normal(0.0, 0.3, n)
        + (rng.random(n) < 0.025) * rng.normal(1.0, 0.6, n)
    )
    renta = np.clip(np.round(np.exp(log_renta), 2), 1203.0, 28_894_396.0)
    income_na = abroad | (rng.random(n) < 0.195)
    income = np.where(income_na, 0.0, (np.log(renta) - np.log(101_850.0)) / 0.6)

    grown = stage >= _ADULT
    is_top = grown & (latent[:, 0] + rng.normal(0.0, 0.5, n) > bank.top_cut)
    is_univ = (stage == _STUDENT) & (rng.random(n) < 0.95)
    is_univ |= (stage == _KID) & (rng.random(n) < 0.5)
    is_univ |= grown & (age0 < 30) & (rng.random(n) < 0.8)
    is_top |= (stage == _STUDENT) & (rng.random(n) < 0.005)
    segment = np.where(is_top, 0, np.where(is_univ, 2, 1))
    segment[rng.random(n) < 0.012] = -1

    male = rng.random(n) < 0.545
    sex_na = rng.random(n) < 0.0003
    canal = np.zeros(n, dtype=np.int64)
    for s, weights in enumerate(_CANAL_BY_STAGE):
        members = np.flatnonzero(stage == s)
        canal[members] = _choice(rng, weights, len(members))
    canal_na = rng.random(n) < 0.014
    employee = _choice(rng, np.array([0.99938, 0.00018, 0.00026, 0.00018, 0.0000013]), n)
    spouse = rng.random(n)
    foreigner = abroad | (rng.random(n) < 0.045)
    deceased = rng.random(n) < np.where(stage == _SENIOR, 0.012, 0.0005)
    empty_early = (join == 0) & (rng.random(n) < 0.0074)
    sentinel = np.zeros(n, dtype=bool)
    veterans = np.flatnonzero(join == 0)
    sentinel[rng.choice(veterans, min(len(veterans), max(1, round(n * 3e-6))), replace=False)] = (
        True
    )

    alta_month = 2015 * 12 - tenure0
    head, alta, middle, tail = ([] for _ in range(4))
    for i in range(n):
        emp = "NABFS"[employee[i]]
        pais = _COUNTRIES[country[i]] if abroad[i] else "ES"
        sexo = "" if sex_na[i] else ("V" if male[i] else "H")
        head.append(f"{ncodpers[i]},{emp},{pais},{sexo}")
        alta.append(f"{alta_month[i] // 12}-{alta_month[i] % 12 + 1:02d}-{day[i]:02d}")
        conyuemp = (
            "" if emp == "N" else ("S" if spouse[i] < 0.01 else "N" if spouse[i] < 0.2 else "")
        )
        name = names[province[i]]
        prov = "NA," if abroad[i] else f"{PROVINCES[name]}.0,{_quoted(name)}"
        middle.append(
            f"{'N' if abroad[i] else 'S'},{'S' if foreigner[i] else 'N'},{conyuemp},"
            f"{'' if canal_na[i] else _CANALS[canal[i]]},{'S' if deceased[i] else 'N'},1,{prov}"
        )
        seg = "" if segment[i] < 0 else SEGMENTS[segment[i]]
        tail.append(f"{'NA' if income_na[i] else repr(float(renta[i]))},{seg}")
    return _Population(
        ncodpers=ncodpers,
        join=join,
        entry=np.where(join == 0, np.maximum(-_BURN_IN, -tenure0), join),
        stage=stage,
        age0=age0,
        birthday=rng.integers(1, 13, n),
        tenure0=tenure0,
        latent=latent,
        segment=segment,
        income=income,
        income_na=income_na,
        metro=metro,
        male=male & ~sex_na,
        deceased=deceased,
        empty_early=empty_early,
        head=np.array(head, dtype=object),
        alta=np.array(alta, dtype=object),
        middle=np.array(middle, dtype=object),
        tail=np.array(tail, dtype=object),
        sentinel=sentinel,
    )


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
_PRODUCT_WIDTH: Final = 2 * _NP - 1
_CHUNK: Final = 50_000  # rows formatted at a time, to bound memory


def _products_text(held: Bools) -> list[str]:
    """The 24 flags of each row as `0,1,...`."""
    buf = np.full((len(held), _PRODUCT_WIDTH), ord(","), dtype=np.uint8)
    buf[:, 0::2] = held.astype(np.uint8) + ord("0")
    texts: list[str] = buf.view(f"S{_PRODUCT_WIDTH}")[:, 0].astype(str).tolist()
    return texts


def _month_lines(
    pop: _Population, t: int, idx: Ints, held: Bools, active: Bools, rng: np.random.Generator
) -> list[str]:
    """The rows of customers `idx` (ascending) in month `t`."""
    n = len(idx)
    early = t < _EXPORT_CHANGE
    r = rng.random((n, 8))
    tenure = pop.tenure0[idx] + t
    age_text = _AGE_TEXT[early][np.clip(_age_at(pop, idx, t), 0, 199)]
    tenure_text = _TENURE_TEXT[early][np.clip(tenure, 0, 299)]
    tenure_text[pop.sentinel[idx]] = "-999999"
    nuevo = np.where(tenure <= 6, "1", "0").astype(object)
    # Primary at the start of the month but not at its end (recorded from 2015-07 on).
    lapsed = (r[:, 0] < 0.0018) & (t >= _EXPORT_CHANGE)
    indrel = np.where(lapsed, "99", "1").astype(object)
    last_primary = np.full(n, "", dtype=object)
    last_primary[lapsed] = [f"{MONTHS[t][:8]}{1 + int(d * 27):02d}" for d in r[lapsed, 6]]
    # Relation type at the start of the month, spelled as floats before 2015-07.
    as_float = early | (r[:, 2] < 0.02)
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
    activity = np.where(active, "1", "0").astype(object)
    head, alta, middle, tail = pop.head[idx], pop.alta[idx], pop.middle[idx], pop.tail[idx]
    if early:
        blank = np.flatnonzero(pop.empty_early[idx])
        head[blank] = [f"{c},,," for c in pop.ncodpers[idx[blank]]]
        age_text[blank] = " NA"
        tenure_text[blank] = "     NA"
        for field in (alta, indrel_1mes, tiprel):
            field[blank] = ""
        for field in (nuevo, indrel, activity):
            field[blank] = "NA"
        middle[blank] = ",,,,,NA,NA,"
        tail[blank] = "NA,"
    products = _products_text(held)
    # A few rows without payroll are written with nomina and nom_pens NA.
    no_payroll = ~held[:, _NOMINA] & ~held[:, _NOM_PENS]
    for i in np.flatnonzero(no_payroll & (r[:, 7] < 0.0015)):
        products[i] = products[i][: 2 * _NOMINA] + "NA,NA" + products[i][2 * _NOM_PENS + 1 :]
    fecha = MONTHS[t]
    return [
        f"{fecha},{a},{b},{c},{d},{e},{f},{g},{h},{i},{j},{k},{m},{p}"
        for a, b, c, d, e, f, g, h, i, j, k, m, p in zip(
            head.tolist(),
            age_text.tolist(),
            alta.tolist(),
            nuevo.tolist(),
            tenure_text.tolist(),
            indrel.tolist(),
            last_primary.tolist(),
            indrel_1mes.tolist(),
            tiprel.tolist(),
            middle.tolist(),
            activity.tolist(),
            tail.tolist(),
            products,
            strict=True,
        )
    ]


def _write_oracle(path: Path, ncodpers: Ints, probabilities: Floats) -> None:
    table = np.column_stack([ncodpers, probabilities])
    fmt = ["%d"] + ["%.6g"] * _NP
    np.savetxt(
        path,
        table,
        fmt=fmt,
        delimiter=",",
        header=",".join(("ncodpers", *PRODUCT_CODES)),
        comments="",
    )


def generate(
    out: str | os.PathLike[str],
    customers: int,
    seed: int,
    bank_profile: str = "santander",
    *,
    progress: bool = False,
) -> GenerateResult:
    """Simulate `customers` customers of `bank_profile` and write them in train_ver2.csv format.

    Writes `out` and, beside it, `<stem>.oracle.csv` with the true add probabilities of 2016-05-28
    for every customer present in 2016-04 and 2016-05. The same seed gives the same bytes.
    """
    if isinstance(customers, bool) or not isinstance(customers, int) or customers <= 0:
        raise ValueError(f"customers must be a positive integer, got {customers!r}")
    if bank_profile not in _BANKS:
        raise ValueError(f"unknown bank profile {bank_profile!r}; expected one of {BANK_PROFILES}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    csv_path = Path(out)
    oracle_path = csv_path.with_name(f"{csv_path.stem}.oracle.csv")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    bank = _BANKS[bank_profile]
    population_seed, simulation_seed, format_seed = np.random.SeedSequence(seed).spawn(3)
    pop = _draw_population(customers, bank, np.random.default_rng(population_seed))
    months: Iterator[_Month] = _simulate(pop, bank, np.random.default_rng(simulation_seed))
    if progress:
        from tqdm import tqdm

        months = iter(
            tqdm(months, total=len(MONTHS), desc=f"generate {bank_profile}", unit="month")
        )
    format_rng = np.random.default_rng(format_seed)
    rows = 0
    with csv_path.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(ALL_COLUMNS) + "\n")
        for month in months:
            for start in range(0, len(month.idx), _CHUNK):
                part = slice(start, start + _CHUNK)
                lines = _month_lines(
                    pop, month.t, month.idx[part], month.held[part], month.active[part], format_rng
                )
                f.write("\n".join(lines) + "\n")
                rows += len(lines)
            if month.oracle is not None:
                _write_oracle(oracle_path, pop.ncodpers[month.stayed], month.oracle)
    return GenerateResult(csv_path, oracle_path, rows, customers)
