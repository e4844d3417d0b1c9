"""The monthly dynamics of the simulated bank: which products each customer adds and drops.

Each month a customer adds products with probabilities that are a logistic function of the
profile observed that month and the products held the month before, shifted a little by the
latent traits and by products dropped in the last two months; a payroll event adds nom_pens with
nomina and often cno. Held products are dropped with small probabilities. A customer adds, and
enters holding, only the products the bank's eligibility rules offer them (`offers`). The
dynamics run BURN_IN months before 2015-01 so that holdings start near equilibrium.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import numpy as np

from bankreco.catalog import MONTHS
from bankreco.data.offers import Offers
from bankreco.data.parameters import (
    ADD_EFFECTS,
    ADD_INTERCEPT,
    BURN_IN,
    CNO,
    CORE,
    DROP_EFFECTS,
    DROP_INTERCEPT,
    ENTRY_EFFECTS,
    ENTRY_INTERCEPT,
    FEATURES,
    N_PRODUCTS,
    NOM_PENS,
    NOMINA,
    PAYROLL_BUNDLE,
    PAYROLL_NOMINA,
    PRODUCT,
    READD,
    READD_MONTHS,
    SHORT,
    TERMS,
    Bank,
    Bools,
    Floats,
    Ints,
)
from bankreco.data.population import Population
from bankreco.eligibility import RuleSet, default_rules

_JUNE: Final = MONTHS.index("2015-06-28")


def _matrix(effects: dict[str, dict[str, float]]) -> Floats:
    """Dense (terms x products) coefficient matrix from sparse per-product effects."""
    index = {term: i for i, term in enumerate(TERMS)}
    w = np.zeros((len(TERMS), N_PRODUCTS))
    for product, terms in effects.items():
        for term, value in terms.items():
            w[index[term], PRODUCT[product]] = value
    return w


_W_ADD: Final = _matrix(ADD_EFFECTS)
_READD_BOOST: Final = np.array([READD.get(p, 0.0) for p in SHORT])
_W_DROP: Final = _matrix(DROP_EFFECTS)
_W_ENTRY: Final = _matrix(ENTRY_EFFECTS)


def _intercepts(values: dict[str, float], shift: dict[str, float] | None = None) -> Floats:
    shift = shift or {}
    return np.array([values[p] + shift.get(p, 0.0) for p in SHORT])


def _sigmoid(x: Floats) -> Floats:
    return 1.0 / (1.0 + np.exp(-x))


def _features(
    pop: Population, idx: Ints, t: int, active: Bools | None = None, held: Bools | None = None
) -> Floats:
    """Design matrix (features, last month's products, latent traits) of customers `idx`."""
    n = len(idx)
    x = np.zeros((n, len(TERMS)))
    age = pop.age_at(idx, t)
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
    for j, name in enumerate(FEATURES):
        x[:, j] = columns[name]
    if held is not None:
        x[:, len(FEATURES) : len(FEATURES) + N_PRODUCTS] = held
    x[:, -3:] = pop.latent[idx]
    return x


@dataclass(frozen=True)
class _Chances:
    """One month's probabilities for customers given their features and last month's products."""

    add: Floats  # independent add draws; nom_pens: the payroll event; nomina: with nom_pens held
    drop: Floats  # nom_pens: the payroll stopping, which drops nomina too
    payroll_nomina: Floats  # chance that nomina joins a payroll event
    marginal: Floats  # true probability of adding each product (0 where held)


def _chances(
    x: Floats, held: Bools, recent: Bools, add_b: Floats, drop_b: Floats, offered: Bools
) -> _Chances:
    add = _sigmoid(x @ _W_ADD + add_b + recent * _READD_BOOST)
    drop = _sigmoid(x @ _W_DROP + drop_b)
    payroll_nomina = (
        PAYROLL_NOMINA - 0.3 * x[:, FEATURES.index("age65p")] - 0.15 * x[:, FEATURES.index("june")]
    )
    payroll = add[:, NOM_PENS] * ~held[:, NOM_PENS]
    marginal = add * ~held
    marginal[:, NOM_PENS] = payroll
    marginal[:, NOMINA] = np.where(
        held[:, NOM_PENS], add[:, NOMINA] * (1 - drop[:, NOM_PENS]), payroll * payroll_nomina
    )
    marginal[:, NOMINA] *= ~held[:, NOMINA]
    for j, share in PAYROLL_BUNDLE.items():
        marginal[:, j] = (1 - (1 - payroll * share) * (1 - add[:, j])) * ~held[:, j]
    marginal *= offered
    return _Chances(add, drop, payroll_nomina, marginal)


def _step(held: Bools, chances: _Chances, offered: Bools, rng: np.random.Generator) -> Bools:
    """Next month's products: drops, then adds of products not held (payroll as a bundle) and
    `offered` (the same random draws whatever the rules withhold)."""
    n = len(held)
    drops = (rng.random((n, N_PRODUCTS)) < chances.drop) & held
    drops[:, NOMINA] |= drops[:, NOM_PENS] & held[:, NOMINA]
    adds = (rng.random((n, N_PRODUCTS)) < chances.add) & ~held
    v = rng.random((n, 1 + len(PAYROLL_BUNDLE)))
    payroll = adds[:, NOM_PENS]
    with_pens = adds[:, NOMINA] & ~drops[:, NOM_PENS]
    adds[:, NOMINA] = np.where(
        held[:, NOM_PENS], with_pens, payroll & (v[:, 0] < chances.payroll_nomina)
    )
    adds[:, NOMINA] &= ~held[:, NOMINA]
    for k, (j, share) in enumerate(PAYROLL_BUNDLE.items(), start=1):
        adds[:, j] |= payroll & (v[:, k] < share) & ~held[:, j]
    adds &= offered
    return (held & ~drops) | adds


@dataclass(frozen=True)
class Month:
    """The simulated state of one month of the file."""

    t: int
    idx: Ints  # customers present, ascending (= ncodpers order)
    held: Bools  # (len(idx), 24)
    active: Bools  # (len(idx),)
    oracle: Floats | None  # in the last month: add probabilities of the `stayed` customers
    stayed: Ints  # customers present last month too, ascending


def _entry_holdings(
    pop: Population, idx: Ints, t: int, entry_b: Floats, offered: Bools, rng: np.random.Generator
) -> Bools:
    """Products held when a customer enters the simulation (more, and older ones, with tenure),
    among those `offered`."""
    x = _features(pop, idx, t)
    held = (rng.random((len(idx), N_PRODUCTS)) < _sigmoid(x @ _W_ENTRY + entry_b)) & offered
    main_other = held[:, PRODUCT["ctop"]] | held[:, PRODUCT["ctpp"]] | held[:, PRODUCT["ctju"]]
    held[:, PRODUCT["cco"]] &= ~main_other | (rng.random(len(idx)) < 0.25)
    held[:, NOMINA] = held[:, NOM_PENS] & (rng.random(len(idx)) < 0.85)
    held[:, CNO] |= held[:, NOMINA] & (rng.random(len(idx)) < 0.85)
    return held & offered


def _activity(pop: Population, idx: Ints, t: int, held: Bools, rng: np.random.Generator) -> Bools:
    """Draw ind_actividad_cliente from a customer's engagement, stage and core products."""
    stage_effect = np.array([-2.5, -1.7, 0.25, 0.25])[pop.stage[idx]]
    age = pop.age_at(idx, t)
    logit = (
        -0.05
        + 1.0 * pop.latent[idx, 2]
        + stage_effect
        - 1.0 * (age >= 75)
        + 1.8 * held[:, CORE].any(axis=1)
        + 0.5 * (pop.segment[idx] == 0)
        - 10.0 * pop.deceased[idx]
    )
    return rng.random(len(idx)) < _sigmoid(logit)


def simulate(
    pop: Population, bank: Bank, rng: np.random.Generator, rules: RuleSet | None = None
) -> Iterator[Month]:
    """Run the monthly dynamics from the burn-in start; yield the months of the file. The bank
    offers products by `rules` (None: the default Santander rules; an empty RuleSet: all)."""
    n = len(pop.join)
    offers = Offers.of(pop, default_rules() if rules is None else rules)
    add_b = _intercepts(ADD_INTERCEPT, bank.shift)
    drop_b = _intercepts(DROP_INTERCEPT)
    entry_b = _intercepts(ENTRY_INTERCEPT, bank.shift)
    held = np.zeros((n, N_PRODUCTS), dtype=bool)
    dropped = np.full((n, N_PRODUCTS), -BURN_IN - READD_MONTHS - 1)  # month of the last drop
    active = np.zeros(n, dtype=bool)
    present = np.zeros(n, dtype=bool)
    last = len(MONTHS) - 1
    for t in range(-BURN_IN, len(MONTHS)):
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
        offered = offers.allowed(stay, t, active[stay]) & ~pop.deceased[stay, None]
        recent = t - dropped[stay] <= READD_MONTHS
        chances = _chances(_features(pop, stay, t, active, h), h, recent, add_b, drop_b, offered)
        held[stay] = _step(h, chances, offered, rng)
        rows, cols = np.nonzero(h & ~held[stay])
        dropped[stay[rows], cols] = t
        # Customers entering the simulation this month.
        entering = np.flatnonzero(pop.entry == t)
        if len(entering):
            offered = offers.allowed(entering, t, None)
            held[entering] = _entry_holdings(pop, entering, t, entry_b, offered, rng)
            active[entering] = _activity(pop, entering, t, held[entering], rng)
            present[entering] = True
        if t < 0:
            continue
        shown = np.flatnonzero(present)
        oracle = chances.marginal if t == last else None
        yield Month(t, shown, held[shown], active[shown], oracle, stay)
