"""The generator's monthly dynamics: the months it hands the writer."""

from __future__ import annotations

import numpy as np

from bankreco.catalog import MONTHS
from bankreco.data.dynamics import simulate
from bankreco.data.parameters import BANKS, N_PRODUCTS, NOM_PENS, NOMINA
from bankreco.data.population import draw_population


def test_months_of_the_file_with_the_oracle_last() -> None:
    bank = BANKS["santander"]
    pop = draw_population(2_000, bank, np.random.default_rng(0))
    months = list(simulate(pop, bank, np.random.default_rng(1)))
    assert [m.t for m in months] == list(range(len(MONTHS)))
    previous: set[int] = set()
    for m in months:
        assert (np.diff(m.idx) > 0).all()
        assert m.held.shape == (len(m.idx), N_PRODUCTS)
        assert m.active.shape == (len(m.idx),)
        assert set(m.stayed.tolist()) <= previous & set(m.idx.tolist()) or m.t == 0
        assert not (m.held[:, NOMINA] & ~m.held[:, NOM_PENS]).any()  # nomina comes with payroll
        assert (m.oracle is not None) == (m.t == len(MONTHS) - 1)
        previous = set(m.idx.tolist())
    last = months[-1]
    assert last.oracle is not None
    assert last.oracle.shape == (len(last.stayed), N_PRODUCTS)
    assert ((last.oracle >= 0) & (last.oracle <= 1)).all()
    held_before = months[-2].held[np.searchsorted(months[-2].idx, last.stayed)]
    assert (last.oracle[held_before] == 0).all()
