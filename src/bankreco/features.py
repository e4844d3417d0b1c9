"""The one definition of the model's features, shared by training and serving.

Both sides hand `encode` the same canonical columns (the profile fields plus last month's
product flags) and get the same float matrix back; NaN marks a value that is unknown.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from itertools import repeat
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from bankreco.catalog import (
    COUNTRIES,
    PRODUCT_CODES,
    PROFILE_FIELDS,
    PROVINCES,
    RELATION_TYPES,
    SEGMENTS,
    SEXES,
)

FEATURE_VERSION: Final = 1

# Categorical profile fields and the number each value is encoded as (trees split on it).
CATEGORIES: Final[dict[str, dict[str, int]]] = {
    "sexo": {value: code for code, value in enumerate(SEXES)},
    "segmento": {value: code + 1 for code, value in enumerate(SEGMENTS)},
    "tiprel_1mes": {value: code for code, value in enumerate(RELATION_TYPES)},
    "nomprov": dict(PROVINCES),
}
NUMERIC: Final = ("age", "antiguedad", "renta", "ind_actividad_cliente")
HOME_COUNTRY: Final = "ES"

PROFILE_FEATURES: Final = (
    "sexo",
    "age",
    "segmento",
    "antiguedad",
    "tiprel_1mes",
    "renta",
    "foreign",
    "ind_actividad_cliente",
    "nomprov",
)
RAW_FIELDS: Final = PROFILE_FIELDS  # what `encode` reads, by the API's and the data's names
OWNED_FEATURES: Final = tuple(f"owned_{code}" for code in PRODUCT_CODES)
FEATURE_NAMES: Final = PROFILE_FEATURES + OWNED_FEATURES

FloatMatrix = npt.NDArray[np.float64]

#: The score an owned product gets: below every probability, so it ranks last and is dropped.
OWNED_SCORE: Final = -1.0


def _lookup(values: Sequence[Any] | npt.NDArray[Any], codes: Mapping[str, int]) -> FloatMatrix:
    found = map(codes.get, values, repeat(np.nan))
    return np.fromiter(found, dtype=np.float64, count=len(values))


class _Foreign(dict[Any, float]):
    """1.0 for a country code other than the home country's, NaN for anything else."""

    def __missing__(self, code: Any) -> float:
        return float(code != HOME_COUNTRY) if isinstance(code, str) and len(code) == 2 else np.nan


_FOREIGN: Final = _Foreign({code: float(code != HOME_COUNTRY) for code in COUNTRIES})


def _numeric(values: Sequence[Any] | npt.NDArray[Any]) -> FloatMatrix:
    return np.asarray(values, dtype=np.float64)  # None reads as NaN


def encode(
    profile: Mapping[str, Sequence[Any] | npt.NDArray[Any]],
    owned: npt.NDArray[np.floating[Any]] | None,
) -> FloatMatrix:
    """Encode profile columns and an (n, 24) owned-products matrix (None: unknown) as features.

    `profile` maps each of the nine profile fields to a column of canonical values
    (strings as in the data, numbers as floats, None/NaN when unknown).
    """
    n = len(profile["age"])
    out = np.full((n, len(FEATURE_NAMES)), np.nan, dtype=np.float64)
    for column, name in enumerate(PROFILE_FEATURES):
        if name in CATEGORIES:
            out[:, column] = _lookup(profile[name], CATEGORIES[name])
        elif name == "foreign":
            countries = profile["pais_residencia"]
            out[:, column] = np.fromiter(map(_FOREIGN.__getitem__, countries), np.float64, n)
        else:
            out[:, column] = _numeric(profile[name])
    if owned is not None:
        out[:, len(PROFILE_FEATURES) :] = owned
    return out


_PRODUCT_COLUMN: Final = {code: i for i, code in enumerate(PRODUCT_CODES)}


def holdings(products: Sequence[Sequence[str] | None]) -> FloatMatrix:
    """Each customer's held product codes as a 0/1 row over the catalog, NaN where unknown
    (None): the `owned` matrix `encode` and `mask_owned` read."""
    owned = np.zeros((len(products), len(PRODUCT_CODES)), dtype=np.float64)
    for row, codes in enumerate(products):
        if codes is None:
            owned[row] = np.nan
        else:
            owned[row, [_PRODUCT_COLUMN[code] for code in codes]] = 1.0
    return owned


def mask_owned(scores: FloatMatrix, owned: npt.NDArray[np.floating[Any]]) -> None:
    """Give the products each customer holds (1 in `owned`; NaN is unknown) OWNED_SCORE."""
    scores[np.nan_to_num(owned, nan=0.0) > 0] = OWNED_SCORE


def field_columns(fields: Sequence[str]) -> list[int]:
    """The feature columns read from profile fields `fields` (`pais_residencia` is `foreign`)."""
    names = ["foreign" if name == "pais_residencia" else name for name in fields]
    return [PROFILE_FEATURES.index(name) for name in names]


def spec() -> dict[str, Any]:
    """The feature contract written into each model's manifest."""
    body: dict[str, Any] = {
        "version": FEATURE_VERSION,
        "names": list(FEATURE_NAMES),
        "categories": CATEGORIES,
        "home_country": HOME_COUNTRY,
        "products": list(PRODUCT_CODES),
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return {**body, "sha256": digest}


def is_supported(candidate: Mapping[str, Any]) -> bool:
    """Whether a manifest's feature spec is the one this code encodes."""
    return bool(candidate.get("sha256") == spec()["sha256"])
