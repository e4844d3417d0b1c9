"""The routes of the bankreco API and the Lambda handler: each route is one domain call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from bankreco.api import batch, render
from bankreco.api.body import BodyValidation
from bankreco.api.responses import error_response, json_text_response, method_not_allowed
from bankreco.api.schemas import (
    BatchRequest,
    BatchResponse,
    CustomerProfile,
    ErrorResponse,
    LegacyResponse,
    ModelInfo,
    RecommendationResponse,
)
from bankreco.api.swagger import swagger_response
from bankreco.domain.service import get_recommender
from bankreco.ids import BANK_PATTERN
from bankreco.observability import log_metrics, logger, tracer

ERRORS: Final = {
    400: "A field is missing or wrong (each is named), or the body is not a JSON object.",
    404: "Unknown bank, or (`format=card`) a version published without a model card.",
    409: "`explain` asked of a model that cannot explain (published before node covers).",
    413: "Body over 1 MB.",
    415: "The body is not sent as `application/json`.",
    503: "No model published for the bank, or the store cannot be reached.",
}


def responses(answer: type[BaseModel], description: str, *codes: int) -> dict[int, OpenAPIResponse]:
    """The documented responses of a route: `answer` with a 200, and errors with `codes`."""
    found: dict[int, OpenAPIResponse] = {
        200: {"description": description, "content": {"application/json": {"model": answer}}}
    }
    for code in codes:
        found[code] = {
            "description": ERRORS[code],
            "content": {"application/json": {"model": ErrorResponse}},
        }
    return found


class Resolver(APIGatewayRestResolver):
    """Powertools' REST resolver, validating requests with this API's body reading, and
    documenting only the responses the API gives (Powertools adds a 422 it never does)."""

    def __init__(self) -> None:
        super().__init__(enable_validation=True)
        self._request_validation_middleware = BodyValidation()

    def get_openapi_json_schema(self, **options: Any) -> str:
        from bankreco.api.document import finish

        return finish(super().get_openapi_json_schema(**options))


app = Resolver()
app.configure_openapi(
    title="bankreco",
    version="1.0.0",
    description="Ranks the bank products a customer is likely to add next. Bodies are JSON "
    "objects sent as `application/json`; every error answers an `ErrorResponse` carrying the "
    "request id. Accepted spellings and legacy fields: docs/api.md.",
)
#: The methods each path answers; another method gets a 405 naming them.
METHODS: Final[dict[str, set[str]]] = {}


def route(method: str, path: str, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """`app.route`, keeping the methods each path answers."""
    METHODS.setdefault(path, set()).add(method)
    return app.route(path, method, **options)


@route("POST", "/recommendations", summary="Rank the products a customer is likely to add",
       responses=responses(RecommendationResponse, "The customer's products, best first.",
                           400, 404, 409, 413, 415, 503))  # fmt: skip
def recommend(profile: CustomerProfile) -> Response[str]:
    answer = render.recommendation(get_recommender().recommend(profile), profile.customer_id)
    return json_text_response(answer.model_dump_json(exclude_unset=True))  # reasons if set


@route("POST", "/recommendations/batch", summary="Score up to 1,000 customers",
       responses=responses(BatchResponse, "One result per customer, in order.",
                           400, 413, 415, 503))  # fmt: skip
def recommend_batch(request: BatchRequest) -> Response[str]:
    # Written as JSON text, not re-validated as a model: thousands of items per request.
    answers = batch.recommend_batch(get_recommender(), request.customers, request.explain)
    return json_text_response(answers)


@route("POST", "/Predictor/Predict", summary="The original Flask service's route",
       responses=responses(LegacyResponse, "The seven products, best first.",
                           400, 404, 413, 415, 503))  # fmt: skip
def legacy_predict(profile: CustomerProfile) -> LegacyResponse:
    seven = profile.model_copy(update={"top_k": 7, "explain": False})  # no reasons to give
    return render.legacy(get_recommender().recommend(seven))


CARD_RESPONSE: Final[OpenAPIResponse] = {
    "description": "The model and how it was made; with `format=card`, its model card.",
    "content": {
        "application/json": {"model": ModelInfo},
        "text/markdown": {"schema": {"type": "string"}},
    },
}


@route("GET", "/models/current", summary="The model this stage serves",
       responses={**responses(ModelInfo, "", 400, 404, 503), 200: CARD_RESPONSE})  # fmt: skip
def current_model(
    bank: Annotated[str | None, Query(pattern=BANK_PATTERN)] = None,
    format: Annotated[
        Literal["json", "card"],
        Query(description="`card`: the champion's model card, as Markdown."),
    ] = "json",
) -> Response[str]:
    if format == "card":
        version, card = get_recommender().model_card(bank)
        return Response(200, "text/markdown; charset=utf-8", card, {"x-model-version": version})
    return json_text_response(render.model_info(get_recommender().serving(bank)).model_dump_json())


@route("GET", "/swagger", include_in_schema=False)
def swagger() -> Response[str]:  # not `enable_swagger`: its imports cost every cold start
    return swagger_response(app)


def error(exc: Exception) -> Response[str]:
    """The answer to any exception: 405 for a path asked with a method it lacks, else the
    error's status and body, with the request id."""
    event = app.current_event
    request_id = str((event.get("requestContext") or {}).get("requestId") or "unknown")
    allowed = METHODS.get(event.path) if isinstance(exc, NotFoundError) else None
    if allowed:
        return method_not_allowed(event.http_method, allowed, request_id)
    return error_response(exc, request_id)


app.exception_handler(Exception)(error)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
