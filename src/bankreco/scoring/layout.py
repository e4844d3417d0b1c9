"""Which columns of an input file hold what: the Kaggle format or the API's field names.

A header with `fecha_dato` is the Kaggle format: `train_ver2.csv` (with the 24 product columns)
or `test_ver2.csv` (without), identified by `ncodpers`. Any other header names the API's
fields (`antigüedad` and `nomprav`, the original service's spellings, too), with an optional
id column (`customer_id` or `ncodpers`) and an optional `owned_products`. Names are matched
without case or surrounding spaces; other columns are ignored and listed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal

from bankreco.api.schemas import LEGACY_NAMES
from bankreco.catalog import PRODUCT_CODES, PROFILE_FIELDS

KAGGLE: Final = "kaggle"
API: Final = "api"
ID_COLUMNS: Final = ("customer_id", "ncodpers")
LINE: Final = "line"  # the id column of the output when the input has none

Kind = Literal["kaggle", "api"]


@dataclass(frozen=True)
class Layout:
    """Positions of the columns read, by canonical name, in a file of `width` columns."""

    kind: Kind
    width: int
    fields: dict[str, int]  # the nine profile fields
    id_name: str  # ncodpers, customer_id, or LINE when the file has no id column
    id_column: int | None
    month_column: int | None  # fecha_dato
    products: dict[str, int]  # product code -> column (train_ver2.csv)
    owned_column: int | None  # owned_products (the API's names)
    ignored: tuple[str, ...] = ()

    @property
    def columns(self) -> dict[str, int]:
        """Every column read, by name."""
        found = dict(self.fields)
        if self.id_column is not None:
            found[self.id_name] = self.id_column
        if self.month_column is not None:
            found["fecha_dato"] = self.month_column
        if self.owned_column is not None:
            found["owned_products"] = self.owned_column
        return found | self.products

    @property
    def has_products(self) -> bool:
        return len(self.products) == len(PRODUCT_CODES)


def layout_of(header: list[str]) -> Layout:
    """The layout of a file with `header`; ValueError when a needed column is missing."""
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        index.setdefault(name.strip().lower(), position)
    for name, legacy in LEGACY_NAMES.items():
        if name not in index and legacy in index:
            index[name] = index[legacy]
    missing = [name for name in PROFILE_FIELDS if name not in index]
    kind: Kind = KAGGLE if "fecha_dato" in index else API
    if kind == KAGGLE and "ncodpers" not in index:
        missing.append("ncodpers")
    if missing:
        raise ValueError(
            f"the header lacks {', '.join(missing)} (found {', '.join(header[:12])}"
            f"{', ...' if len(header) > 12 else ''})"
        )
    fields = {name: index[name] for name in PROFILE_FIELDS}
    id_name = next((name for name in ID_COLUMNS if name in index), LINE)
    if kind == KAGGLE:
        id_name = "ncodpers"
    products = {code: index[code] for code in PRODUCT_CODES if code in index}
    layout = Layout(
        kind=kind,
        width=len(header),
        fields=fields,
        id_name=id_name,
        id_column=index.get(id_name),
        month_column=index.get("fecha_dato"),
        products=products if kind == KAGGLE else {},
        owned_column=index.get("owned_products") if kind == API else None,
    )
    used = set(layout.columns.values())
    ignored = tuple(name for position, name in enumerate(header) if position not in used)
    return replace(layout, ignored=ignored)
