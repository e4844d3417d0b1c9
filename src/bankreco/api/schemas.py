"""Request and response models of the HTTP API.

The document (docs/openapi.json) is generated from these models and is the contract: a value
is accepted exactly when the document's schema admits it. Where the models check a value in
code (the legacy spellings, the folded province names), the schema is written out next to
the check; the contract tests hold the two together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictBool,
)
from pydantic.json_schema import WithJsonSchema
from pydantic_core import CoreSchema

from bankreco.api import vocabulary
from bankreco.catalog import PRODUCTS, RelationType, Segment, Sex
from bankreco.ids import BANK_PATTERN

SCHEMAS: Final = "#/components/schemas/"  # where the OpenAPI document keeps models
MAX_BATCH: Final = 1000
LEGACY_UNKNOWN_INCOME: Final = -99
MAX_INCOME: Final = 1e10
#: The original service's spellings of two fields, each accepted instead of the field.
LEGACY_NAMES: Final = {"antiguedad": "antigüedad", "nomprov": "nomprav"}

BankId = Annotated[str, Field(pattern=BANK_PATTERN, description="Bank id, e.g. `demo`.")]


def _number(value: Any) -> Any:
    """Refuse anything but a JSON number where one is expected: pydantic would read "30" as
    30 and true as 1, which the document does not allow."""
    if type(value) is int or type(value) is float:  # JSON's numbers, and never a bool
        return value
    raise ValueError("must be a JSON number")


#: A whole number: 30, or 30.0, which JSON Schema counts as the same integer.
Whole = Annotated[int, BeforeValidator(_number)]


def _flag(value: Any) -> Any:
    """0 or 1, as a number or as the string "0"/"1" the original service's clients send."""
    if value in ("0", "1"):
        return int(value)
    if (type(value) is int or type(value) is float) and value in (0, 1):
        return int(value)
    raise ValueError('must be 0, 1, "0" or "1"')


def _income(value: Any) -> Any:
    """None for unknown: null, or the legacy -99."""
    if value is None:
        return None
    return None if _number(value) == LEGACY_UNKNOWN_INCOME else value


def _province(value: str) -> str:
    name = vocabulary.province(value)
    if name is None:
        raise ValueError("not one of the 52 province names of the data")
    return name


def _country(value: str) -> str:
    code = vocabulary.country(value)
    if code is None:
        raise ValueError("not an ISO 3166-1 alpha-2 country code")
    return code


def _products(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    unknown = [code for code in value if code not in PRODUCTS]
    if unknown:
        raise ValueError(f"unknown product codes: {', '.join(unknown[:5])}")
    return list(dict.fromkeys(value))


@dataclass(frozen=True)
class Documented:
    """A field's schema in the document, as `build` writes it, built only when the document
    is (the province pattern is long)."""

    build: Callable[[], dict[str, Any]]

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return self.build()


def _income_schema() -> dict[str, Any]:
    known = {"type": "number", "minimum": 0, "maximum": MAX_INCOME}
    # -99 as a range, not `const`: client generators mistype a const in an anyOf
    legacy = {
        "type": "integer",
        "minimum": LEGACY_UNKNOWN_INCOME,
        "maximum": LEGACY_UNKNOWN_INCOME,
        "description": "Unknown, as the original service's clients send it.",
    }
    return {"anyOf": [known, legacy, {"type": "null"}]}


def _flag_schema() -> dict[str, Any]:
    return {"anyOf": [{"type": "integer", "enum": [0, 1]}, {"type": "string", "enum": ["0", "1"]}]}


Income = Annotated[float | None, BeforeValidator(_income), Documented(_income_schema)]
Flag = Annotated[Literal[0, 1], BeforeValidator(_flag), Documented(_flag_schema)]
ProvinceName = Annotated[str, AfterValidator(_province), Documented(vocabulary.province_schema)]
CountryCode = Annotated[str, AfterValidator(_country), Documented(vocabulary.country_schema)]
ProductCodes = Annotated[
    list[str] | None, AfterValidator(_products), Documented(vocabulary.products_schema)
]


#: A profile as this API spells it, and the original service's first example request.
EXAMPLES: Final = (
    {"sexo": "H", "age": 22, "segmento": "03 - UNIVERSITARIO", "antiguedad": 34,
     "tiprel_1mes": "I", "renta": 106885.8, "pais_residencia": "ES", "ind_actividad_cliente": 0,
     "nomprov": "BALEARS, ILLES", "owned_products": ["ind_cco_fin_ult1"],
     "customer_id": "C-0001"},
    {"sexo": "H", "age": 22, "segmento": "03 - UNIVERSITARIO", "antiguedad": 34,
     "tiprel_1mes": "I", "renta": 106885.8, "pais_residencia": "ES",
     "ind_actividad_cliente": "0", "nomprav": "BALEARs, ILLES"},
)  # fmt: skip


def _document_profile(schema: dict[str, Any]) -> None:
    """The legacy spellings in the document: each one a property of its own, and exactly one
    of a field and its legacy spelling required; and examples of both spellings."""
    properties, required, pairs = schema["properties"], schema["required"], []
    for name, legacy in LEGACY_NAMES.items():
        text = f"The original service's spelling of `{name}`: send one of the two, not both."
        properties[legacy] = {
            **properties[name],
            "title": legacy.capitalize(),
            "description": text,
            "deprecated": True,
        }
        required.remove(name)
        pairs.append({"oneOf": [{"required": [name]}, {"required": [legacy]}]})
    schema["allOf"] = pairs
    schema["examples"] = [dict(example) for example in EXAMPLES]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class CustomerProfile(_Strict):
    """A customer as the bank knows them: the nine fields of the Santander data."""

    model_config = ConfigDict(json_schema_extra=_document_profile)

    sexo: Sex = Field(description="H (woman) or V (man).")
    age: Whole = Field(ge=0, le=120, description="Age in years.")
    segmento: Segment
    antiguedad: Whole = Field(
        ge=0,
        le=1200,
        validation_alias=AliasChoices("antiguedad", "antigüedad"),
        description="Months as a customer (or as `antigüedad`).",
    )
    tiprel_1mes: RelationType = Field(
        description="Relation type at the start of the month (A active, I inactive, ...)."
    )
    renta: Income = Field(
        ge=0,
        le=MAX_INCOME,
        description="Household gross income; null (or the legacy -99) when unknown.",
    )
    pais_residencia: CountryCode = Field(
        description="Country of residence: an ISO 3166-1 alpha-2 code, in any letter case."
    )
    ind_actividad_cliente: Flag = Field(
        description='1 if the customer is active: 0 or 1, or "0" or "1" as the original '
        "service's clients send it."
    )
    nomprov: ProvinceName = Field(
        validation_alias=AliasChoices("nomprov", "nomprav"),
        description="Province as the data spells it (e.g. `BALEARS, ILLES`), or the same name "
        "in any letter case, with or without accents (á é í ó ú ü, ñ or n) (or as `nomprav`).",
        examples=["MADRID", "Coruña, A"],
    )
    owned_products: ProductCodes = Field(
        default=None,
        max_length=len(PRODUCTS),
        description="Product codes the customer holds (never recommended); null or omitted "
        "when unknown.",
    )
    top_k: Whole = Field(default=7, ge=1, le=len(PRODUCTS), description="How many products.")
    bank: BankId | None = Field(default=None, description="Bank whose model answers.")
    customer_id: str | None = Field(
        default=None,
        max_length=128,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="The bank's own id, echoed back. It also routes the customer to the "
        "bank's champion or challenger model, always the same way.",
    )
    explain: StrictBool = Field(
        default=False,
        description="true: each recommendation carries its `reasons`, the inputs that raised "
        "its score most.",
    )


class BatchRequest(_Strict):
    """Up to 1,000 profiles; each is validated on its own so one bad profile fails alone."""

    # Items are validated by the batch route (api.batch), one bad profile failing alone:
    # here they are only counted.
    customers: list[
        Annotated[
            Any,
            WithJsonSchema(
                {
                    "anyOf": [{"$ref": f"{SCHEMAS}CustomerProfile"}, {}],
                    "description": "A CustomerProfile. Each item is validated on its own: one "
                    "that is not a valid profile gets its error in its result, and the others "
                    "are answered.",
                }
            ),
        ]
    ] = Field(min_length=1, max_length=MAX_BATCH, description="The customers, at most 1,000.")
    explain: StrictBool = Field(
        default=False, description="true: explain every customer's recommendations."
    )

    def __repr_args__(self) -> Iterator[tuple[str, Any]]:
        # Powertools formats the route's arguments into a debug message on every request,
        # logged or not: a short repr keeps that cheap for a thousand profiles.
        yield "customers", f"<{len(self.customers)} items>"


class Reason(BaseModel):
    """An input that raised a product's score: a profile field, or a product held or not."""

    field: str = Field(description="The request field: a profile field, or a product code.")
    value: str | bool | int | float | None = Field(
        description="The customer's value; for a product, whether it is held (null: unknown)."
    )
    contribution: float = Field(
        description="Its share of the product's raw score (log-odds, exact TreeSHAP): the "
        "contributions of every input add up to the raw score minus the model's base value."
    )
    sentence: str = Field(description='E.g. "holds Current Accounts: +0.41".')


class Recommendation(BaseModel):
    product: Annotated[str, Documented(vocabulary.product_enum)] = Field(
        description="Product code, e.g. `ind_recibo_ult1`."
    )
    name: str = Field(description="English product name.")
    score: float = Field(description="Probability the product is the next one added.")
    reasons: list[Reason] | None = Field(
        default=None,
        description="With `explain`: up to three inputs that raised this product's score "
        "most, best first (absent otherwise).",
    )


class RecommendationResponse(BaseModel):
    bank: str
    model_version: str
    customer_id: str | None = None
    recommendations: list[Recommendation] = Field(
        description="Best first; fewer than top_k when the customer holds the rest."
    )


class FieldError(BaseModel):
    field: str = Field(description="The field as the client spelled it; `body` for the body.")
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description="Stable, e.g. `validation_error`, `unknown_bank`.")
    message: str
    fields: list[FieldError] = Field(
        default_factory=list, description="Each wrong field (validation errors only)."
    )


class ErrorResponse(BaseModel):
    error: ErrorBody
    request_id: str = Field(description="The request's id, as the service logs it.")


class BatchItem(BaseModel):
    """One customer's result: recommendations, or the error that customer alone got."""

    index: int = Field(description="The customer's position in the request.")
    bank: str | None = None
    model_version: str | None = None
    customer_id: str | None = None
    recommendations: list[Recommendation] | None = None
    error: ErrorBody | None = None


class BatchResponse(BaseModel):
    results: list[BatchItem] = Field(description="One result per customer, in order.")


class LegacyResponse(BaseModel):
    Predictions: str = Field(description="Seven product codes separated by spaces.")
    model_version: str = Field(description="The model version that chose them.")


class ChallengerInfo(BaseModel):
    """A version served beside the champion to a share of the bank's customers."""

    model_version: str
    share: float = Field(
        gt=0,
        lt=100,
        description="Percent of the bank's customers it answers (the rest: the champion).",
    )
    created_at: datetime
    estimator: str
    sha256: str
    metrics: dict[str, Any]


class ModelInfo(BaseModel):
    """The bank's champion (the model serving every customer not routed to a challenger)."""

    bank: str
    model_version: str
    created_at: datetime
    estimator: str
    feature_version: int
    sha256: str
    metrics: dict[str, Any]
    training: dict[str, Any]
    challenger: ChallengerInfo | None = Field(
        default=None, description="The challenger and its share; null when there is none."
    )
