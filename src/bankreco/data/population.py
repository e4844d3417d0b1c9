"""The simulated customers: the traits drawn once for each customer, before the monthly dynamics.

Every customer has latent traits (life stage, affluence, digital affinity, engagement) that drive
the demographics. The traits are values and arrays, not text: `bankreco.data.writer` spells them
as train_ver2.csv fields. The draws follow a fixed order, so the same generator state gives the
same population.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from bankreco.data.parameters import (
    ADULT,
    BURN_IN,
    CAMPAIGN,
    CANAL_BY_STAGE,
    EMPLOYEE_WEIGHTS,
    FOREIGN_COUNTRIES,
    JOIN_SCHEDULE,
    KID,
    NO_PROVINCE,
    PROVINCE_TABLE,
    SENIOR,
    STUDENT,
    Bank,
    Bools,
    Floats,
    Ints,
)

_PROVINCE_SHARE: Final = np.array([row[1] for row in PROVINCE_TABLE])
_PROVINCE_INCOME: Final = np.array([row[2] for row in PROVINCE_TABLE])
_PROVINCE_METRO: Final = np.array([row[3] for row in PROVINCE_TABLE])

# Values of the spouse index (conyuemp), known only for employees.
SPOUSE_NA, SPOUSE_NO, SPOUSE_YES = -1, 0, 1


@dataclass(frozen=True)
class Population:
    """Per-customer traits, indexed in ncodpers order."""

    ncodpers: Ints
    join: Ints  # first month in the file
    entry: Ints  # month the customer enters the simulation (negative: burn-in)
    stage: Ints  # life stage: KID, STUDENT, ADULT or SENIOR
    age0: Ints  # age in 2015-01
    birthday: Ints  # months after 2015-01 of the next birthday (1..12)
    tenure0: Ints  # antiguedad in 2015-01 (negative for later joiners)
    alta_day: Ints  # day of the month of fecha_alta
    latent: Floats  # (n, 3): affluence, digital affinity, engagement
    segment: Ints  # index into SEGMENTS, -1 missing
    renta: Floats  # gross household income (unknown where income_na)
    income: Floats  # standardized log renta, 0 when missing
    income_na: Bools
    abroad: Bools  # living outside Spain: no province
    province: Ints  # row of PROVINCE_TABLE (meaningless when abroad)
    country: Ints  # index into FOREIGN_COUNTRIES of the country of customers abroad
    metro: Bools  # living in a metropolitan province
    male: Bools  # False when the sex is unknown
    sex_na: Bools
    foreigner: Bools  # indext
    employee: Ints  # index into EMPLOYEE_CODES
    spouse: Ints  # spouse index (conyuemp): SPOUSE_NA, SPOUSE_NO or SPOUSE_YES
    canal: Ints  # index into CANALS, -1 missing
    deceased: Bools
    empty_early: Bools  # demographics blank in 2015-01..2015-06
    sentinel: Bools  # antiguedad written as -999999

    def age_at(self, idx: Ints, t: int) -> Ints:
        """Age of customers `idx` in month `t` (birthdays fall `birthday` months after 2015-01)."""
        return self.age0[idx] + (t + 12 - self.birthday[idx]) // 12


def draw_population(n: int, bank: Bank, rng: np.random.Generator) -> Population:
    """Draw the traits of `n` customers of `bank`."""
    join, stage, age0, tenure0, alta_day, ncodpers = _draw_arrivals(n, bank, rng)
    latent = rng.normal(size=(n, 3))
    latent[:, 0] += np.array([0.0, -0.3, 0.0, 0.2])[stage] + bank.affluence
    latent[:, 1] += np.array([0.0, 0.6, 0.0, -0.9])[stage] + bank.digital
    abroad, province, metro, country = _draw_residence(n, bank, rng)
    latent[:, 1] += 0.2 * metro
    renta, income_na, income = _draw_income(abroad, province, latent[:, 0], rng)
    segment = _draw_segment(stage, age0, latent[:, 0], bank.top_cut, rng)
    male = rng.random(n) < 0.545
    sex_na = rng.random(n) < 0.0003
    canal = _draw_canal(stage, rng)
    employee = _choice(rng, EMPLOYEE_WEIGHTS, n)
    spouse = _draw_spouse(employee, rng)
    foreigner = abroad | (rng.random(n) < 0.045)
    deceased = rng.random(n) < np.where(stage == SENIOR, 0.012, 0.0005)
    empty_early = (join == 0) & (rng.random(n) < 0.0074)
    sentinel = _draw_sentinel(join, rng)
    birthday = rng.integers(1, 13, n)
    return Population(
        ncodpers=ncodpers,
        join=join,
        entry=np.where(join == 0, np.maximum(-BURN_IN, -tenure0), join),
        stage=stage,
        age0=age0,
        birthday=birthday,
        tenure0=tenure0,
        alta_day=alta_day,
        latent=latent,
        segment=segment,
        renta=renta,
        income=income,
        income_na=income_na,
        abroad=abroad,
        province=province,
        country=country,
        metro=metro,
        male=male & ~sex_na,
        sex_na=sex_na,
        foreigner=foreigner,
        employee=employee,
        spouse=spouse,
        canal=canal,
        deceased=deceased,
        empty_early=empty_early,
        sentinel=sentinel,
    )


def _choice(rng: np.random.Generator, weights: Floats, n: int) -> Ints:
    return rng.choice(len(weights), size=n, p=weights / weights.sum())


def _draw_arrivals(
    n: int, bank: Bank, rng: np.random.Generator
) -> tuple[Ints, Ints, Ints, Ints, Ints, Ints]:
    """Join month, life stage, age, tenure in 2015-01, day of fecha_alta and ncodpers, sorted by
    fecha_alta: ncodpers grow with it."""
    join = _choice(rng, JOIN_SCHEDULE, n)
    cohort = np.where(join == 0, 0, np.where(join == CAMPAIGN, 1, 2))
    stage = np.zeros(n, dtype=np.int64)
    for c, shares in enumerate(bank.stages):
        members = np.flatnonzero(cohort == c)
        stage[members] = _choice(rng, np.array(shares), len(members))
    age0 = _draw_age(stage, rng)
    tenure0 = _draw_tenure(stage, age0, join, rng) - join
    day = rng.integers(1, 29, n)
    order = np.lexsort((day, -tenure0))
    ncodpers = 15888 + np.cumsum(rng.geometric(0.6, n))
    return join[order], stage[order], age0[order], tenure0[order], day[order], ncodpers


def _draw_age(stage: Ints, rng: np.random.Generator) -> Ints:
    """Age in 2015-01: kids, a student peak near 23, adults near 43, a senior tail."""
    n = len(stage)
    age = np.select(
        [stage == KID, stage == STUDENT, stage == ADULT],
        [
            rng.integers(2, 18, n),
            np.clip(np.rint(rng.normal(22.0, 2.3, n)), 18, 30),
            np.clip(np.rint(rng.normal(43.0, 9.0, n)), 25, 66),
        ],
        np.clip(np.rint(63 + rng.gamma(2.0, 4.5, n)), 60, 105),
    ).astype(np.int64)
    odd = (stage >= ADULT) & (rng.random(n) < 2e-4)  # the implausible ages of the real file
    age[odd] = rng.integers(106, 165, int(odd.sum()))
    return age


def _draw_tenure(stage: Ints, age: Ints, join: Ints, rng: np.random.Generator) -> Ints:
    """Months as a customer when first seen in the file."""
    n = len(stage)
    veteran = rng.random(n) < np.where(stage >= ADULT, 0.75, 0.08)
    existing = np.where(veteran, rng.uniform(36, 241, n), rng.exponential(40.0, n))
    joining = np.where(rng.random(n) < 0.5, 0, rng.integers(1, 49, n))
    cap = np.where(stage == KID, age * 12, np.clip((age - 16) * 12, 0, 240))
    return np.minimum(np.where(join == 0, np.floor(existing), joining), cap).astype(np.int64)


def _draw_residence(
    n: int, bank: Bank, rng: np.random.Generator
) -> tuple[Bools, Ints, Bools, Ints]:
    """Living abroad, province, living in a metropolitan province, and country if abroad."""
    abroad = rng.random(n) < NO_PROVINCE
    province = _choice(rng, _PROVINCE_SHARE * np.where(_PROVINCE_METRO, bank.metro, 1.0), n)
    metro = _PROVINCE_METRO[province] & ~abroad
    country = _choice(rng, 0.9 ** np.arange(len(FOREIGN_COUNTRIES), dtype=np.float64), n)
    return abroad, province, metro, country


def _draw_income(
    abroad: Bools, province: Ints, affluence: Floats, rng: np.random.Generator
) -> tuple[Floats, Bools, Floats]:
    """renta (log-normal around the province's mean, with a rich tail), whether it is missing,
    and its standardized log."""
    n = len(abroad)
    log_renta = (
        np.log(107_000.0)
        + np.log(np.where(abroad, 1.0, _PROVINCE_INCOME[province]))
        + 0.4 * affluence
        + rng.normal(0.0, 0.3, n)
        + (rng.random(n) < 0.025) * rng.normal(1.0, 0.6, n)
    )
    renta = np.clip(np.round(np.exp(log_renta), 2), 1203.0, 28_894_396.0)
    income_na = abroad | (rng.random(n) < 0.195)
    income = np.where(income_na, 0.0, (np.log(renta) - np.log(101_850.0)) / 0.6)
    return renta, income_na, income


def _draw_segment(
    stage: Ints, age0: Ints, affluence: Floats, top_cut: float, rng: np.random.Generator
) -> Ints:
    """segmento as an index into SEGMENTS (TOP, PARTICULARES, UNIVERSITARIO), -1 missing."""
    n = len(stage)
    grown = stage >= ADULT
    is_top = grown & (affluence + rng.normal(0.0, 0.5, n) > top_cut)
    is_univ = (stage == STUDENT) & (rng.random(n) < 0.95)
    is_univ |= (stage == KID) & (rng.random(n) < 0.5)
    is_univ |= grown & (age0 < 30) & (rng.random(n) < 0.8)
    is_top |= (stage == STUDENT) & (rng.random(n) < 0.005)
    segment = np.where(is_top, 0, np.where(is_univ, 2, 1))
    segment[rng.random(n) < 0.012] = -1
    return segment


def _draw_canal(stage: Ints, rng: np.random.Generator) -> Ints:
    """canal_entrada as an index into CANALS, by life stage; -1 missing."""
    canal = np.zeros(len(stage), dtype=np.int64)
    for s, weights in enumerate(CANAL_BY_STAGE):
        members = np.flatnonzero(stage == s)
        canal[members] = _choice(rng, weights, len(members))
    canal[rng.random(len(stage)) < 0.014] = -1
    return canal


def _draw_spouse(employee: Ints, rng: np.random.Generator) -> Ints:
    """The spouse index: SPOUSE_YES, SPOUSE_NO or SPOUSE_NA, always SPOUSE_NA for non-employees."""
    u = rng.random(len(employee))
    known = np.where(u < 0.01, SPOUSE_YES, np.where(u < 0.2, SPOUSE_NO, SPOUSE_NA))
    return np.where(employee == 0, SPOUSE_NA, known)


def _draw_sentinel(join: Ints, rng: np.random.Generator) -> Bools:
    """The few customers already in the file in 2015-01 whose antiguedad reads -999999."""
    n = len(join)
    sentinel = np.zeros(n, dtype=bool)
    veterans = np.flatnonzero(join == 0)
    sentinel[rng.choice(veterans, min(len(veterans), max(1, round(n * 3e-6))), replace=False)] = (
        True
    )
    return sentinel
