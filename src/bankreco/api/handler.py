"""Lambda entry point: the routes of the bankreco API, each one domain call."""

import gc

# No collections in the init phase (the collector is restored at its end): what it builds,
# modules and the model, lives on, so the ~200 collections its imports would trigger are
# wasted work. (A failed import leaves it off; the Lambda runtime discards that process.)
_COLLECTING = gc.isenabled()
gc.disable()

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from snapshot_restore_py import register_after_restore  # the Lambda runtime provides it

from bankreco.observability import logger, metrics, tracer
from bankreco.responses import error_response, json_text_response, parse_body
from bankreco.schemas import (
    BANK_PATTERN,
    BatchRequest,
    BatchResponse,
    CustomerProfile,
    ErrorResponse,
    LegacyResponse,
    ModelInfo,
    RecommendationResponse,
)
from bankreco.service import get_recommender, initialize, renew_after_restore
from bankreco.swagger import swagger_response

ERRORS: dict[int, OpenAPIResponse] = {
    code: {"description": text, "content": {"application/json": {"model": ErrorResponse}}}
    for code, text in {
        400: "A field is missing or wrong; each is named.",
        404: "Unknown bank.",
        413: "Body over 1 MB.",
        503: "No model published for the bank, or the store is down.",
    }.items()
}

app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=parse_body)
app.configure_openapi(title="bankreco", version="1.0.0")
app.exception_handler(Exception)(error_response)


@app.post(
    "/recommendations", summary="Rank the products a customer is likely to add", responses=ERRORS
)
def recommend(profile: CustomerProfile) -> RecommendationResponse:
    return get_recommender().recommend(profile)


@app.post(
    "/recommendations/batch",
    summary="Score up to 1,000 customers",
    responses={200: {"description": "One result per customer, in order.",
                     "content": {"application/json": {"model": BatchResponse}}}, **ERRORS},
)  # fmt: skip
def recommend_batch(batch: BatchRequest) -> Response[str]:
    # Rendered by the domain, not re-validated: thousands of items per request.
    return json_text_response(get_recommender().recommend_batch(batch.customers))


@app.post("/Predictor/Predict", summary="The original Flask service's route", responses=ERRORS)
def legacy_predict(profile: CustomerProfile) -> LegacyResponse:
    answer = get_recommender().recommend(profile.model_copy(update={"top_k": 7}))
    return LegacyResponse(Predictions=" ".join(r.product for r in answer.recommendations))


@app.get("/models/current", summary="The model this stage serves", responses=ERRORS)
def current_model(bank: Annotated[str | None, Query(pattern=BANK_PATTERN)] = None) -> ModelInfo:
    return get_recommender().model_info(bank)


@app.get("/swagger", include_in_schema=False)
def swagger() -> Response[str]:  # not `enable_swagger`: its imports cost every cold start
    return swagger_response(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


try:
    initialize()  # the init phase, once the routes are built: before any request or snapshot
finally:
    if _COLLECTING:
        gc.enable()
register_after_restore(renew_after_restore)
