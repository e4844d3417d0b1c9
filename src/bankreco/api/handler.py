"""The routes of the bankreco API and the Lambda handler: each route is one domain call."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bankreco.api import batch, render
from bankreco.api.body import parse_body
from bankreco.api.responses import error_response, json_text_response
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
from bankreco.observability import logger, metrics, tracer

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
    return render.recommendation(get_recommender().recommend(profile), profile.customer_id)


@app.post(
    "/recommendations/batch",
    summary="Score up to 1,000 customers",
    responses={200: {"description": "One result per customer, in order.",
                     "content": {"application/json": {"model": BatchResponse}}}, **ERRORS},
)  # fmt: skip
def recommend_batch(request: BatchRequest) -> Response[str]:
    # Written as JSON text, not re-validated as a model: thousands of items per request.
    return json_text_response(batch.recommend_batch(get_recommender(), request.customers))


@app.post("/Predictor/Predict", summary="The original Flask service's route", responses=ERRORS)
def legacy_predict(profile: CustomerProfile) -> LegacyResponse:
    return render.legacy(get_recommender().recommend(profile.model_copy(update={"top_k": 7})))


@app.get("/models/current", summary="The model this stage serves", responses=ERRORS)
def current_model(bank: Annotated[str | None, Query(pattern=BANK_PATTERN)] = None) -> ModelInfo:
    return render.model_info(get_recommender().current_model(bank))


@app.get("/swagger", include_in_schema=False)
def swagger() -> Response[str]:  # not `enable_swagger`: its imports cost every cold start
    return swagger_response(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
