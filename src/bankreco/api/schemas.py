"""Request and response models of the HTTP API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)
from pydantic.json_schema import WithJsonSchema

from bankreco.catalog import COUNTRIES, PRODUCTS, RelationType, Segment, Sex, canonical_province
from bankreco.ids import BANK_PATTERN

SCHEMAS: Final = "#/components/schemas/"  # where the OpenAPI document keeps models
MAX_BATCH: Final = 1000
LEGACY_UNKNOWN_INCOME: Final = -99

BankId = Annotated[str, Field(pattern=BANK_PATTERN, description="Bank id, e.g. `demo`.")]


def _no_bool(value: Any) -> Any:
    """Refuse JSON true/false where a number is expected (pydantic would read them as 1/0)."""
    if value is True or value is False:
        raise ValueError("must be a number, not a boolean")
    return value


Count = Annotated[int, BeforeValidator(_no_bool)]


def _activity(value: Any) -> Any:
    """Accept the flag as 0/1 or "0"/"1", as the original service's clients send it."""
    if isinstance(value, str) and value.strip() in {"0", "1"}:
        return int(value)
    return _no_bool(value)


def _income(value: Any) -> Any:
    """Map the legacy "unknown income" value -99 to None (no string or boolean equals it)."""
    return None if value == LEGACY_UNKNOWN_INCOME else _no_bool(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class CustomerProfile(_Strict):
    """A customer as the bank knows them: the nine fields of the Santander data."""

    sexo: Sex = Field(description="H (woman) or V (man).")
    age: Count = Field(ge=0, le=120, description="Age in years.")
    segmento: Segment
    antiguedad: Count = Field(
        ge=0,
        le=1200,
        validation_alias=AliasChoices("antiguedad", "antigüedad"),
        description="Months as a customer (also accepted as `antigüedad`).",
    )
    tiprel_1mes: RelationType = Field(
        description="Relation type at the start of the month (A active, I inactive, ...)."
    )
    renta: Annotated[float | None, BeforeValidator(_income)] = Field(
        ge=0,
        le=1e10,
        description="Household gross income; null (or legacy -99) when unknown.",
    )
    pais_residencia: str = Field(
        min_length=2, max_length=2, description="Country of residence, ISO 3166-1 alpha-2."
    )
    ind_actividad_cliente: Annotated[Literal[0, 1], BeforeValidator(_activity)] = Field(
        description='1 if the customer is active, as 0/1 or "0"/"1".'
    )
    nomprov: str = Field(
        max_length=64,
        validation_alias=AliasChoices("nomprov", "nomprav"),
        description="Province as in the data (e.g. `BALEARS, ILLES`); any case or accents.",
    )
    owned_products: list[str] | None = Field(
        default=None,
        max_length=len(PRODUCTS),
        description="Product codes the customer holds (never recommended); omit when unknown.",
    )
    top_k: Count = Field(default=7, ge=1, le=len(PRODUCTS), description="How many products.")
    bank: BankId | None = Field(default=None, description="Bank whose model answers.")
    customer_id: str | None = Field(
        default=None,
        max_length=128,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="The bank's own id, echoed back.",
    )

    @field_validator("pais_residencia")
    @classmethod
    def _country(cls, value: str) -> str:
        code = value.upper()
        if code not in COUNTRIES:
            raise ValueError("not an ISO 3166-1 alpha-2 country code")
        return code

    @field_validator("nomprov")
    @classmethod
    def _province(cls, value: str) -> str:
        name = canonical_province(value)
        if name is None:
            raise ValueError("not one of the 52 province names of the data")
        return name

    @field_validator("owned_products")
    @classmethod
    def _products(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        unknown = [code for code in value if code not in PRODUCTS]
        if unknown:
            raise ValueError(f"unknown product codes: {', '.join(unknown[:5])}")
        return list(dict.fromkeys(value))


class BatchRequest(_Strict):
    """Up to 1,000 profiles; each is validated on its own so one bad profile fails alone."""

    # Items are validated by the batch route (api.batch), one bad profile failing alone:
    # here they are only counted.
    customers: list[Annotated[Any, WithJsonSchema({"$ref": f"{SCHEMAS}CustomerProfile"})]] = Field(
        min_length=1, max_length=MAX_BATCH
    )

    def __repr_args__(self) -> Iterator[tuple[str, Any]]:
        # Powertools formats the route's arguments into a debug message on every request,
        # logged or not: a short repr keeps that cheap for a thousand profiles.
        yield "customers", f"<{len(self.customers)} items>"


class Recommendation(BaseModel):
    product: str = Field(description="Product code, e.g. `ind_recibo_ult1`.")
    name: str = Field(description="English product name.")
    score: float = Field(description="Probability the product is the next one added.")


class RecommendationResponse(BaseModel):
    bank: str
    model_version: str
    customer_id: str | None = None
    recommendations: list[Recommendation]


class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: list[FieldError] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    error: ErrorBody


class BatchItem(BaseModel):
    index: int
    bank: str | None = None
    model_version: str | None = None
    customer_id: str | None = None
    recommendations: list[Recommendation] | None = None
    error: ErrorBody | None = None


class BatchResponse(BaseModel):
    results: list[BatchItem]


class LegacyResponse(BaseModel):
    Predictions: str = Field(description="Seven product codes separated by spaces.")


class ModelInfo(BaseModel):
    bank: str
    model_version: str
    created_at: datetime
    estimator: str
    feature_version: int
    sha256: str
    metrics: dict[str, Any]
    training: dict[str, Any]
