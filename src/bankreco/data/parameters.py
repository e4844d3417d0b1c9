"""The tables and rates of the simulated bank.

Products and their indices, the population mixes (joining schedule, life stages, provinces,
countries, entry channels, employee codes), the logit effects and intercepts of adding,
dropping and holding each product, and the bank profiles that shift them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from bankreco.catalog import PRODUCT_CODES

# Array types shared by the generator's modules.
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Texts = npt.NDArray[np.object_]

BANK_PROFILES: Final = ("santander", "digital", "traditional")

SHORT: Final = tuple(
    c.removeprefix("ind_").removesuffix("_ult1").removesuffix("_fin") for c in PRODUCT_CODES
)
PRODUCT: Final = {name: i for i, name in enumerate(SHORT)}
N_PRODUCTS: Final = len(SHORT)
NOMINA, NOM_PENS, CNO = PRODUCT["nomina"], PRODUCT["nom_pens"], PRODUCT["cno"]
# Products whose holding makes a customer more likely to be active.
CORE: Final = [PRODUCT["nomina"], PRODUCT["nom_pens"], PRODUCT["cno"], PRODUCT["recibo"]]

BURN_IN: Final = 24  # months simulated before 2015-01 so that holdings start near equilibrium

# Customers joining the data each month (share of all customers), month 0 = already customers.
JOIN_SCHEDULE: Final = np.array(
    [0.654, *[0.0025] * 5, 0.207, 0.016, 0.025, 0.030, 0.017, 0.008, 0.007, 0.007, *[0.006] * 3]
)
CAMPAIGN: Final = 6  # the July 2015 intake, mostly students

# Life stages.
KID, STUDENT, ADULT, SENIOR = 0, 1, 2, 3

# Province: share of rows (%), mean-income factor, metropolitan.
PROVINCE_TABLE: Final[tuple[tuple[str, float, float, bool], ...]] = (
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
NO_PROVINCE: Final = 0.005  # customers living abroad: no province

# fmt: off
# Countries of residence other than ES, most frequent first.
FOREIGN_COUNTRIES: Final = (
    "FR", "AR", "DE", "GB", "US", "CH", "CO", "BE", "MX", "VE", "IT", "EC", "BR", "PT", "RO", "CN",
    "MA", "NL", "IE", "AD", "SE", "CL", "PE", "DO", "CU", "RU", "PL", "BO", "UY", "PY", "AT", "NO",
    "DK", "JP", "CA", "AU", "IN", "SN", "NG", "GT",
)
# Entry channels: the five big ones, then a long tail.
CANALS: Final = (
    "KHE", "KAT", "KFC", "KHQ", "KFA", "KHK", "KHM", "KHD", "KHN", "KAS", "RED", "KAG", "KAY",
    "KAA", "KAB", "KAE", "KCC", "KBZ", "KHL", "KFD", "KAI", "KEY", "KAW", "KAR", "KAZ", "KAF",
    "007", "013", "KCI", "KAH", "KAJ", "KCH", "KHF", "KAQ", "KHC", "KHO", "KAD", "KAK", "KAM",
    "KFP", "KFN", "KGX", "KFS", "KAL", "KBO",
)
# fmt: on


def _canal_weights(head: tuple[float, float, float, float, float]) -> Floats:
    """Weights of CANALS: `head` for the five big channels, the rest decaying along the tail."""
    tail = 0.85 ** np.arange(len(CANALS) - 5, dtype=np.float64)
    weights = np.concatenate([np.array(head), (1 - sum(head)) * tail / tail.sum()])
    return np.asarray(weights / weights.sum(), dtype=np.float64)


# Entry-channel weights of each life stage.
CANAL_BY_STAGE: Final = (
    _canal_weights((0.30, 0.40, 0.20, 0.00, 0.02)),  # kid
    _canal_weights((0.72, 0.03, 0.08, 0.08, 0.01)),  # student
    _canal_weights((0.10, 0.35, 0.32, 0.02, 0.045)),  # adult
    _canal_weights((0.03, 0.42, 0.33, 0.01, 0.045)),  # senior
)

# ind_empleado codes with their shares: N (not an employee), A, B, F, S.
EMPLOYEE_CODES: Final = "NABFS"
EMPLOYEE_WEIGHTS: Final = np.array([0.99938, 0.00018, 0.00026, 0.00018, 0.0000013])

# Observable features the add, drop and entry probabilities depend on.
FEATURES: Final = (
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
LATENT: Final = ("aff", "dig", "eng")
TERMS: Final = FEATURES + tuple(f"has_{p}" for p in SHORT) + LATENT

_KIDS_NO: Final = {"kid": -5.0}

# Logit effects on the monthly probability of ADDING each product (the payroll event for
# nom_pens; for nomina, its addition while nom_pens is already held).
# fmt: off
ADD_EFFECTS: Final[dict[str, dict[str, float]]] = {
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

# Logit boost of re-adding a product dropped within the last READD_MONTHS months.
READD: Final = {
    **dict.fromkeys(SHORT, 2.0),
    **dict.fromkeys(("recibo", "nom_pens", "nomina", "tjcr", "cco"), 1.0),
}
READD_MONTHS: Final = 2

# Logit effects on the monthly probability of DROPPING a held product (for nom_pens: the payroll
# stopping, which drops nomina too).
_FAST: Final = ("cno", "nomina", "nom_pens", "recibo", "tjcr")
DROP_EFFECTS: Final[dict[str, dict[str, float]]] = {
    **{p: {"active": -1.0, "eng": -0.2} for p in _FAST},
    "ecue": {"active": -0.5, "dig": -0.3},
    "ctju": {"age18_25": 3.0},
}

# Logit effects on holding each product when a customer enters the simulation.
ENTRY_EFFECTS: Final[dict[str, dict[str, float]]] = {
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
# reference figures of `bankreco.data.fidelity.REFERENCE` (ownership shares, the addition mix
# and the rate of additions).
# fmt: off
INTERCEPTS: Final = {
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
ADD_INTERCEPT: Final = {p: v[0] for p, v in INTERCEPTS.items()}
DROP_INTERCEPT: Final = {p: v[1] for p, v in INTERCEPTS.items()}
ENTRY_INTERCEPT: Final = {p: v[2] for p, v in INTERCEPTS.items()}

# A payroll event adds nom_pens, with nomina (less often for pensioners 65+ and in June, when
# pensions pay an extra month) and, with these chances, other products not yet held.
PAYROLL_NOMINA: Final = 0.95
PAYROLL_BUNDLE: Final = {CNO: 0.6, PRODUCT["recibo"]: 0.2, PRODUCT["tjcr"]: 0.05}


@dataclass(frozen=True)
class Bank:
    """How a bank's population and product appetite differ from the reference mix."""

    stages: tuple[tuple[float, float, float, float], ...]  # existing, July intake, later joiners
    metro: float  # weight multiplier of metropolitan provinces
    affluence: float
    digital: float
    top_cut: float  # latent affluence above which an adult is 01 - TOP
    shift: dict[str, float]  # logit shift of adding and entry-holding each product


# fmt: off
BANKS: Final = {
    "santander": Bank(
        stages=((0.012, 0.25, 0.57, 0.168), (0.005, 0.80, 0.175, 0.02), (0.01, 0.45, 0.45, 0.09)),
        metro=1.0, affluence=0.0, digital=0.0, top_cut=1.75, shift={},
    ),
    "digital": Bank(
        stages=((0.004, 0.38, 0.56, 0.056), (0.0, 0.88, 0.12, 0.0), (0.0, 0.6, 0.39, 0.01)),
        metro=2.2, affluence=-0.2, digital=0.8, top_cut=2.2,
        shift={"ecue": 1.0, "tjcr": 0.6, "ctma": 0.4, "ctop": -1.2, "ctpp": -0.8, "dela": -0.5,
               "plan": -0.6, "recibo": -0.2, "reca": -0.3},
    ),
    "traditional": Bank(
        stages=((0.015, 0.10, 0.52, 0.365), (0.01, 0.45, 0.39, 0.15), (0.01, 0.2, 0.5, 0.29)),
        metro=0.35, affluence=0.1, digital=-0.8, top_cut=1.75,
        shift={"ecue": -1.0, "tjcr": -0.3, "nom_pens": 0.4, "dela": 0.6, "recibo": 0.3,
               "plan": 0.4, "ctop": 0.3, "deco": 0.5, "deme": 0.5},
    ),
}
# fmt: on
