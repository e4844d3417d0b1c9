"""The generator's population: customer traits drawn as values, apart from any CSV text."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from bankreco.catalog import SEGMENTS
from bankreco.data.parameters import (
    ADULT,
    BANKS,
    BURN_IN,
    CANALS,
    EMPLOYEE_CODES,
    FOREIGN_COUNTRIES,
    KID,
    PROVINCE_TABLE,
    SENIOR,
    STUDENT,
)
from bankreco.data.population import SPOUSE_NA, Population, draw_population

N = 5_000


@pytest.fixture(scope="module")
def population() -> Population:
    return draw_population(N, BANKS["santander"], np.random.default_rng(1))


def test_traits_are_arrays_of_numbers_or_flags(population: Population) -> None:
    for field in fields(population):
        values = getattr(population, field.name)
        assert isinstance(values, np.ndarray), field.name
        assert values.dtype.kind in "biuf", f"{field.name} is {values.dtype}"
        assert len(values) == N, field.name


def test_same_generator_state_same_population(population: Population) -> None:
    again = draw_population(N, BANKS["santander"], np.random.default_rng(1))
    other = draw_population(N, BANKS["santander"], np.random.default_rng(2))
    for field in fields(population):
        assert np.array_equal(getattr(population, field.name), getattr(again, field.name))
    assert not np.array_equal(population.age0, other.age0)


def test_ncodpers_grow_with_fecha_alta(population: Population) -> None:
    assert (np.diff(population.ncodpers) > 0).all()
    assert (np.diff(population.tenure0) <= 0).all()  # earlier fecha_alta, longer tenure
    assert population.alta_day.min() >= 1
    assert population.alta_day.max() <= 28


def test_indices_point_into_their_tables(population: Population) -> None:
    assert set(np.unique(population.stage)) <= {KID, STUDENT, ADULT, SENIOR}
    assert population.segment.min() >= -1
    assert population.segment.max() < len(SEGMENTS)
    assert population.canal.min() >= -1
    assert population.canal.max() < len(CANALS)
    assert population.employee.max() < len(EMPLOYEE_CODES)
    assert population.province.max() < len(PROVINCE_TABLE)
    assert population.country.max() < len(FOREIGN_COUNTRIES)
    assert (population.spouse[population.employee == 0] == SPOUSE_NA).all()


def test_traits_agree_with_each_other(population: Population) -> None:
    assert not (population.male & population.sex_na).any()
    assert not (population.metro & population.abroad).any()
    assert population.income_na[population.abroad].all()
    assert population.foreigner[population.abroad].all()
    assert (population.income[population.income_na] == 0).all()
    assert (population.entry >= -BURN_IN).all()
    joined_later = population.join > 0
    assert (population.entry[joined_later] == population.join[joined_later]).all()
    assert not population.empty_early[joined_later].any()
    assert (population.age0[population.stage == KID] < 18).all()


def test_age_at_counts_birthdays(population: Population) -> None:
    idx = np.arange(N)
    for t in range(25):
        birthdays = (t >= population.birthday).astype(np.int64) + (t >= 12 + population.birthday)
        assert (population.age_at(idx, t) == population.age0 + birthdays).all(), t


def test_bank_profiles_change_the_population(population: Population) -> None:
    traditional = draw_population(N, BANKS["traditional"], np.random.default_rng(1))
    digital = draw_population(N, BANKS["digital"], np.random.default_rng(1))
    assert traditional.age0.mean() > population.age0.mean() > digital.age0.mean()
    assert digital.metro.mean() > population.metro.mean() > traditional.metro.mean()
