"""The products the simulated bank offers each customer each month: its eligibility rules.

The bank follows the rules (bankreco.eligibility) as serving and evaluation apply them: on the
encoded features (bankreco.features.encode) of the profile the file shows for the month. A
customer adds only products offered that month and enters the simulation holding only offered
ones; a product already held stays held when the rules stop offering it (at 18 a customer keeps
the junior account opened as a minor, but cannot open one).

What the dynamics do not draw reads as the writer spells it most often: tiprel_1mes is A for
an active customer and I otherwise (the writer's rare R, P and blanks aside), and a customer
entering the simulation has no activity yet (unknown: a rule on it does not hold). The rules
read the customer's true profile, also in the first months, where the writer blanks a few
customers' demographics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from bankreco import features
from bankreco.catalog import SEGMENTS
from bankreco.data.parameters import FOREIGN_COUNTRIES, N_PRODUCTS, PROVINCE_TABLE, Bools, Ints
from bankreco.data.population import Population
from bankreco.eligibility import RuleSet

_AGE, _TENURE, _RELATION, _ACTIVITY = (
    features.FEATURE_NAMES.index(name)
    for name in ("age", "antiguedad", "tiprel_1mes", "ind_actividad_cliente")
)
_ACTIVE, _INACTIVE = (features.CATEGORIES["tiprel_1mes"][code] for code in "AI")
# The spellings of the traits, with None (unknown) at index -1.
_SEXES: Final = np.array(["H", "V", None], dtype=object)
_SEGMENT_NAMES: Final = np.array([*SEGMENTS, None], dtype=object)
_PROVINCE_NAMES: Final = np.array([*(row[0] for row in PROVINCE_TABLE), None], dtype=object)
_COUNTRIES: Final = np.array(FOREIGN_COUNTRIES, dtype=object)


@dataclass(frozen=True)
class Offers:
    """The bank's rules and the encoded profile fields of its customers that never change."""

    rules: RuleSet
    pop: Population
    fixed: features.FloatMatrix  # (customers, features); the fields that change are NaN

    @classmethod
    def of(cls, pop: Population, rules: RuleSet) -> Offers:
        return cls(rules, pop, features.encode(_fixed_profile(pop), None))

    def allowed(self, idx: Ints, t: int, active: Bools | None) -> Bools:
        """(len(idx), 24): whether the bank may offer each product to customers `idx` in
        month `t`, whose activity flags are `active` (None: unknown)."""
        if not self.rules.rules:
            return np.ones((len(idx), N_PRODUCTS), dtype=bool)
        return self.rules.allowed(self.encoded(idx, t, active))

    def encoded(self, idx: Ints, t: int, active: Bools | None) -> features.FloatMatrix:
        """The encoded features the rules read for customers `idx` in month `t` (products
        held unknown)."""
        encoded = self.fixed[idx]
        encoded[:, _AGE] = self.pop.age_at(idx, t)
        tenure = (self.pop.tenure0[idx] + t).astype(np.float64)
        encoded[:, _TENURE] = np.where(self.pop.sentinel[idx], np.nan, tenure)
        if active is not None:
            encoded[:, _ACTIVITY] = active
            encoded[:, _RELATION] = np.where(active, _ACTIVE, _INACTIVE)
        return encoded


def _fixed_profile(pop: Population) -> dict[str, Any]:
    """The profile columns `features.encode` reads, spelled as the writer spells the traits;
    the fields that change from month to month are unknown."""
    n = len(pop.ncodpers)
    unknown = np.full(n, np.nan)
    return {
        "sexo": _SEXES[np.where(pop.sex_na, -1, pop.male.astype(np.int64))],
        "age": unknown,
        "segmento": _SEGMENT_NAMES[pop.segment],
        "antiguedad": unknown,
        "tiprel_1mes": np.full(n, None, dtype=object),
        "renta": np.where(pop.income_na, np.nan, pop.renta),
        "pais_residencia": np.where(pop.abroad, _COUNTRIES[pop.country], "ES"),
        "ind_actividad_cliente": unknown,
        "nomprov": _PROVINCE_NAMES[np.where(pop.abroad, -1, pop.province)],
    }
