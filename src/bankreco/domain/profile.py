"""What the domain reads of a customer, and its encoding as the model's features."""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Protocol

import numpy as np

from bankreco import features


class Profile(Protocol):
    """A validated customer: the nine fields of the data in their canonical values, what the
    customer holds (None: unknown), how many products to return, the routing fields, and
    whether to give the reasons of each recommendation.

    Any object with these attributes in its `__dict__` will do (the API's request model is
    one): the domain reads them without copying the profile.
    """

    @property
    def sexo(self) -> str: ...
    @property
    def age(self) -> int: ...
    @property
    def segmento(self) -> str: ...
    @property
    def antiguedad(self) -> int: ...
    @property
    def tiprel_1mes(self) -> str: ...
    @property
    def renta(self) -> float | None: ...
    @property
    def pais_residencia(self) -> str: ...
    @property
    def ind_actividad_cliente(self) -> int: ...
    @property
    def nomprov(self) -> str: ...
    @property
    def owned_products(self) -> Sequence[str] | None: ...
    @property
    def top_k(self) -> int: ...
    @property
    def bank(self) -> str | None: ...
    @property
    def customer_id(self) -> str | None: ...
    @property
    def explain(self) -> bool: ...


def encode_profiles(
    profiles: Sequence[Profile], owned: np.ndarray | None = None
) -> features.FloatMatrix:
    """The model's features for validated profiles (the same encoding training uses)."""
    fields = [vars(profile) for profile in profiles]  # read in bulk, not attribute by attribute
    columns = {name: list(map(itemgetter(name), fields)) for name in features.RAW_FIELDS}
    return features.encode(columns, owned)


def owned_matrix(profiles: Sequence[Profile]) -> np.ndarray | None:
    """Last month's holdings as 0/1, NaN rows where the client did not say; None if none did."""
    products = [p.owned_products for p in profiles]
    return None if all(codes is None for codes in products) else features.holdings(products)
