"""Eligibility rules: which products a bank may offer to which customers.

A bank's rules are a small declarative document: each rule names a product, a profile field,
an operator and a value, and the product is offered only to customers for whom every one of
its rules holds. Rules read the model's encoded features (bankreco.features), the one matrix
that serving, batch scoring, evaluation and the data generator all build, so they apply them
alike. A rule on a value the customer did not give (NaN) does not hold, whatever its operator
(`!=` and `not in` included): the product is not offered.

The rules travel inside the manifest of each model version, so they are versioned and signed
with it; `bankreco train --rules FILE` puts them there (default: SANTANDER_RULES).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from bankreco import features
from bankreco.catalog import (
    PRODUCT_CODES,
    PRODUCTS,
    canonical_province,
    canonical_segment,
    fold,
)

Operator = Literal["<", "<=", ">", ">=", "==", "!=", "in", "not in"]
#: The largest magnitude of a numeric value (renta, the largest field, stays below 1e9).
MAX_MAGNITUDE: Final = 1e12
#: The longest text value or product code a rule may hold.
MAX_TEXT: Final = 60
#: The most values an `in` or `not in` list may hold (the 52 provinces fit).
MAX_VALUES: Final = 100
MAX_RULES: Final = 500
#: The largest rules document read, in bytes (500 rules with their reasons fit).
MAX_BYTES: Final = 256 * 1024
DEFAULT_RULES_FILE: Final = "santander.rules.json"

Scalar = float | str
#: One value of a rule: a finite number for a numeric field, a spelling for a categorical one.
Value = Scalar | list[Scalar]
#: What a rule tests: a feature, an operator and the values as the encoded feature holds them.
Condition = tuple[str, str, tuple[float, ...]]
ORDERED: Final = frozenset({"<", "<=", ">", ">="})
MANY: Final = frozenset({"in", "not in"})
_COLUMN: Final = {name: i for i, name in enumerate(features.FEATURE_NAMES)}
_PRODUCT: Final = {code: i for i, code in enumerate(PRODUCT_CODES)}


class Rule(BaseModel):
    """`product` is offered only to customers whose `field` satisfies `operator` `value`.

    Categorical values are stored in the data's spelling (a segment or province given in any
    case or accents, `h` for `H`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product: str = Field(max_length=MAX_TEXT)
    #: One of the model's profile features (features.PROFILE_FEATURES): the nine profile
    #: fields, with "foreign" (1 for a country of residence other than Spain, 0 for Spain)
    #: in place of pais_residencia.
    field: str = Field(max_length=MAX_TEXT)
    operator: Operator
    value: Value
    why: str = Field(default="", max_length=300, description="The policy behind the rule.")

    @field_validator("product")
    @classmethod
    def _known_product(cls, product: str) -> str:
        if product not in PRODUCTS:
            raise ValueError(f"{product!r} is not a product code of the catalogue")
        return product

    @field_validator("field")
    @classmethod
    def _known_field(cls, field: str) -> str:
        if field not in features.PROFILE_FEATURES:
            raise ValueError(
                f"{field!r} is not a field rules read: {', '.join(features.PROFILE_FEATURES)}"
            )
        return field

    @field_validator("operator")
    @classmethod
    def _operator_fits(cls, operator: str, info: ValidationInfo) -> str:
        field = info.data.get("field")
        if field in features.CATEGORIES and operator in ORDERED:
            raise ValueError(
                f"{operator!r} cannot compare the categorical field {field!r}: "
                "use ==, !=, in or not in"
            )
        return operator

    @field_validator("value", mode="plain")
    @classmethod
    def _value_fits(cls, value: Any, info: ValidationInfo) -> Value:
        field, operator = info.data.get("field"), info.data.get("operator")
        if field is None or operator is None:
            return value  # type: ignore[no-any-return]  # the field's error is reported
        many = operator in MANY
        if isinstance(value, list) != many:
            wanted = "a list of values" if many else "a single value, not a list"
            raise ValueError(f"operator {operator!r} takes {wanted}")
        if not many:
            return _spelling(field, value)
        if not 1 <= len(value) <= MAX_VALUES:
            raise ValueError(f"a list holds 1 to {MAX_VALUES} values, not {len(value)}")
        return [_spelling(field, one) for one in value]

    @property
    def values(self) -> list[Scalar]:
        return list(self.value) if isinstance(self.value, list) else [self.value]

    @property
    def condition(self) -> tuple[str, str, tuple[float, ...]]:
        """What the rule tests: its field, operator and values as the encoded feature holds
        them (rules of several products often share one)."""
        return self.field, self.operator, tuple(_code(self.field, v) for v in self.values)

    def holds(self, column: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """Where the rule holds for an encoded feature column (never where it is NaN)."""
        return _holds(self.condition, column)

    def sentence(self) -> str:
        shown = ", ".join(map(str, self.values))
        return f"{self.product} only if {self.field} {self.operator} {shown}"


class RuleSet(BaseModel):
    """A bank's eligibility rules (empty: every product may be offered)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="", max_length=100)
    rules: list[Rule] = Field(default_factory=list, max_length=MAX_RULES)

    _conditions: list[tuple[Condition, list[int]]] = PrivateAttr(default_factory=list)

    def model_post_init(self, context: Any, /) -> None:
        """Group the rules by condition once: each is tested once per customer, for all the
        products it restricts (the default rules test two conditions for five products)."""
        products: dict[Condition, list[int]] = {}
        for rule in self.rules:
            products.setdefault(rule.condition, []).append(_PRODUCT[rule.product])
        self._conditions = list(products.items())  # lists: models compare their private state

    def allowed(self, encoded: features.FloatMatrix) -> npt.NDArray[np.bool_]:
        """(n, 24): whether each customer (a row of encoded features) may be offered each
        product of catalog.PRODUCT_CODES."""
        allowed = np.ones((len(encoded), len(PRODUCT_CODES)), dtype=bool)
        for condition, products in self._conditions:
            held = _holds(condition, encoded[:, _COLUMN[condition[0]]])
            allowed[:, products] &= held[:, None]
        return allowed

    def restrict(self, scores: features.FloatMatrix, encoded: features.FloatMatrix) -> None:
        """Give the products a rule removes OWNED_SCORE: ranked last and never returned."""
        if self.rules:
            scores[~self.allowed(encoded)] = features.OWNED_SCORE

    def to_bytes(self) -> bytes:
        return (self.model_dump_json(indent=2) + "\n").encode()


def _spelling(field: str, value: Any) -> Scalar:
    """`value` as a value of `field`: a finite number for a numeric field, the data's spelling
    of a category for a categorical one; ValueError for a value the field cannot take."""
    if field in features.CATEGORIES:
        if not isinstance(value, str) or not 0 < len(value) <= MAX_TEXT:
            raise ValueError(f"{_shown(value)} is not a value of the categorical field {field!r}")
        name = _canonical(field, value)
        if name is None:
            raise ValueError(f"{_shown(value)} is not a value of {field!r}")
        return name
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"field {field!r} is numeric: {_shown(value)} is not a number")
    if not abs(value) <= MAX_MAGNITUDE:  # also false for NaN
        raise ValueError(f"{_shown(value)} is not a finite number within ±{MAX_MAGNITUDE:g}")
    return float(value)


def _shown(value: Any) -> str:
    """`value` as JSON spells it, cut short."""
    try:
        text = json.dumps(value, ensure_ascii=True, default=repr)
    except ValueError:  # an integer of more digits than Python converts to text
        return "a number too large"
    return text if len(text) <= 40 else text[:37] + "..."


def _canonical(field: str, value: str) -> str | None:
    if field == "segmento":
        return canonical_segment(value)
    if field == "nomprov":
        return canonical_province(value)
    folded = fold(value)
    return folded if folded in features.CATEGORIES[field] else None


def _code(field: str, value: float | str) -> float:
    """A validated value as the encoded feature holds it."""
    if isinstance(value, str):
        return float(features.CATEGORIES[field][value])
    return float(value)


def _holds(condition: Condition, column: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Where `condition` holds for an encoded feature column (never where it is NaN)."""
    _, operator, codes = condition
    if operator in MANY:
        found = np.isin(column, codes)
        return found if operator == "in" else ~np.isnan(column) & ~found
    held: npt.NDArray[np.bool_] = _COMPARE[operator](column, codes[0])
    if operator == "!=":  # NaN compares False but for !=, and an unknown value never holds
        held &= ~np.isnan(column)
    return held


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
    if len(data) > MAX_BYTES:
        raise ValueError(f"{source}: the document is larger than {MAX_BYTES} bytes")
    if not data.strip():
        raise ValueError(f"{source}: the document is empty: expected a JSON object")
    try:
        return RuleSet.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        message = first["msg"].removeprefix("Value error, ")
        raise ValueError(f"{source}: {where}: {message}") from None


def read_rules(path: str | Path) -> RuleSet:
    """The rules in file `path`; ValueError naming it when it cannot be read or is invalid."""
    try:
        with Path(path).open("rb") as file:
            data = file.read(MAX_BYTES + 1)
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
