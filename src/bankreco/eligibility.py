"""Eligibility rules: which products a bank may offer to which customers.

A bank's rules are a small declarative document: each rule names a product, a profile field,
an operator and a value, and the product is offered only to customers for whom every one of
its rules holds. Rules read the model's encoded features (bankreco.features), the one matrix
that serving, batch scoring and evaluation all build, so the three apply them alike. A rule on
a value the customer did not give (NaN) does not hold: the product is not offered.

The rules travel inside the manifest of each model version, so they are versioned and signed
with it; `bankreco train --rules FILE` puts them there (default: SANTANDER_RULES).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bankreco import features
from bankreco.catalog import PRODUCT_CODES, PRODUCTS, canonical_province, canonical_segment

Operator = Literal["<", "<=", ">", ">=", "==", "!=", "in", "not in"]
Scalar = float | str
#: The fields a rule may read: the model's profile features ("foreign" is 1 for a country of
#: residence other than Spain, 0 for Spain).
RuleField = Literal[
    "sexo",
    "age",
    "segmento",
    "antiguedad",
    "tiprel_1mes",
    "renta",
    "foreign",
    "ind_actividad_cliente",
    "nomprov",
]
ORDERED: Final = frozenset({"<", "<=", ">", ">="})
MAX_RULES: Final = 500
DEFAULT_RULES_FILE: Final = "santander.rules.json"
_COLUMN: Final = {name: i for i, name in enumerate(features.FEATURE_NAMES)}
_PRODUCT: Final = {code: i for i, code in enumerate(PRODUCT_CODES)}


class Rule(BaseModel):
    """`product` is offered only to customers whose `field` satisfies `operator` `value`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product: str
    field: RuleField
    operator: Operator
    value: Scalar | list[Scalar]
    why: str = Field(default="", max_length=300, description="The policy behind the rule.")

    @model_validator(mode="after")
    def _value_fits(self) -> Rule:
        if self.product not in PRODUCTS:
            raise ValueError(f"{self.product!r} is not a product code of the catalogue")
        many = self.operator in ("in", "not in")
        if many != isinstance(self.value, list):
            wanted = "a list" if many else "one value"
            raise ValueError(f"operator {self.operator!r} takes {wanted}")
        if self.field in features.CATEGORIES and self.operator in ORDERED:
            raise ValueError(f"field {self.field!r} is categorical: use ==, !=, in or not in")
        for value in self.values:
            self._code(value)  # raises on a value the field cannot take
        return self

    @property
    def values(self) -> list[Scalar]:
        return list(self.value) if isinstance(self.value, list) else [self.value]

    def _code(self, value: Scalar) -> float:
        """`value` as the encoded feature holds it."""
        codes = features.CATEGORIES.get(self.field)
        if codes is None:
            if isinstance(value, str):
                raise ValueError(f"field {self.field!r} is numeric: {value!r} is not a number")
            return float(value)
        name = _canonical(self.field, str(value))
        if name not in codes:
            raise ValueError(f"{value!r} is not a value of {self.field!r}")
        return float(codes[name])

    def holds(self, column: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """Where the rule holds for an encoded feature column (never where it is NaN)."""
        codes = np.array([self._code(v) for v in self.values])
        known = ~np.isnan(column)
        if self.operator in ("in", "not in"):
            found = np.isin(column, codes)
            return found if self.operator == "in" else known & ~found
        held: npt.NDArray[np.bool_] = _COMPARE[self.operator](column, codes[0])
        return held & known

    def sentence(self) -> str:
        shown = ", ".join(map(str, self.values))
        return f"{self.product} only if {self.field} {self.operator} {shown}"


class RuleSet(BaseModel):
    """A bank's eligibility rules (empty: every product may be offered)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="", max_length=100)
    rules: list[Rule] = Field(default_factory=list, max_length=MAX_RULES)

    def allowed(self, encoded: features.FloatMatrix) -> npt.NDArray[np.bool_]:
        """(n, 24): whether each customer (a row of encoded features) may be offered each
        product of catalog.PRODUCT_CODES."""
        allowed = np.ones((len(encoded), len(PRODUCT_CODES)), dtype=bool)
        for rule in self.rules:
            allowed[:, _PRODUCT[rule.product]] &= rule.holds(encoded[:, _COLUMN[rule.field]])
        return allowed

    def restrict(self, scores: features.FloatMatrix, encoded: features.FloatMatrix) -> None:
        """Give the products a rule removes OWNED_SCORE: ranked last and never returned."""
        if self.rules:
            scores[~self.allowed(encoded)] = features.OWNED_SCORE

    def to_bytes(self) -> bytes:
        return (self.model_dump_json(indent=2) + "\n").encode()


def _canonical(field: str, value: str) -> str:
    if field == "segmento":
        return canonical_segment(value) or value
    if field == "nomprov":
        return canonical_province(value) or value
    return value


_COMPARE: Final = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


def parse_rules(data: bytes | str, source: str = "the rules") -> RuleSet:
    """The rules in a JSON document; ValueError naming `source` and the first bad field."""
    try:
        return RuleSet.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        raise ValueError(f"{source}: {where}: {first['msg']}") from None


def read_rules(path: str | Path) -> RuleSet:
    """The rules in file `path`; ValueError naming it when it cannot be read or is invalid."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the rules: {exc.strerror or exc}") from None
    return parse_rules(data, str(path))


def default_rules() -> RuleSet:
    """The rules shipped for the Santander catalogue."""
    text = resources.files("bankreco").joinpath("defaults", DEFAULT_RULES_FILE).read_text()
    return parse_rules(text, DEFAULT_RULES_FILE)


def describe(rules: RuleSet) -> list[dict[str, Any]]:
    """The rules as plain JSON values (for reports and the model card)."""
    return [rule.model_dump() for rule in rules.rules]


def removed_counts(rules: RuleSet, encoded: features.FloatMatrix) -> dict[str, int]:
    """How many customers each rule-restricted product is withheld from."""
    withheld = (~rules.allowed(encoded)).sum(axis=0)
    return {code: int(n) for code, n in zip(PRODUCT_CODES, withheld, strict=True) if n}
