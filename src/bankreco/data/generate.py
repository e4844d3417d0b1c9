"""A seeded simulation of a bank's customers written in the exact `train_ver2.csv` format.

The simulation has four parts: the tables and rates of the bank (`parameters`), the customers'
traits drawn once (`population`), the products they add and drop each month (`dynamics`) and the
CSV text with the real export's quirks (`writer`). The true add probabilities of the last month
are written beside the CSV as the oracle.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bankreco.catalog import MONTHS
from bankreco.data.dynamics import Month, simulate
from bankreco.data.parameters import BANK_PROFILES, BANKS
from bankreco.data.population import draw_population
from bankreco.data.writer import write_csv

__all__ = ["BANK_PROFILES", "GenerateResult", "generate"]


@dataclass(frozen=True)
class GenerateResult:
    """What `generate` wrote."""

    csv_path: Path
    oracle_path: Path
    rows: int
    customers: int


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
    if bank_profile not in BANKS:
        raise ValueError(f"unknown bank profile {bank_profile!r}; expected one of {BANK_PROFILES}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    csv_path = Path(out)
    oracle_path = csv_path.with_name(f"{csv_path.stem}.oracle.csv")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    bank = BANKS[bank_profile]
    # Separate streams, so that changing how one part draws leaves the others' draws alone.
    population_seed, simulation_seed, format_seed = np.random.SeedSequence(seed).spawn(3)
    pop = draw_population(customers, bank, np.random.default_rng(population_seed))
    months: Iterator[Month] = simulate(pop, bank, np.random.default_rng(simulation_seed))
    if progress:
        from tqdm import tqdm

        months = iter(
            tqdm(months, total=len(MONTHS), desc=f"generate {bank_profile}", unit="month")
        )
    rows = write_csv(csv_path, oracle_path, pop, months, np.random.default_rng(format_seed))
    return GenerateResult(csv_path, oracle_path, rows, customers)
