"""HTTP mapping: request bodies in, every error out as one JSON shape, never a stack trace."""

from __future__ import annotations

import json
from typing import Any

import pydantic_core
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from bankreco.errors import BankrecoError, InvalidBody, PayloadTooLarge
from bankreco.observability import logger
from bankreco.schemas import ErrorBody, ErrorResponse, validation_error
from bankreco.settings import get_settings


def parse_body(body: str) -> Any:
    """Deserialize a JSON body, refusing one over the size limit before parsing it."""
    limit = get_settings().max_body_bytes
    if len(body) > limit or len(body.encode("utf-8", "surrogatepass")) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    try:
        return pydantic_core.from_json(body)  # faster than json.loads
    except (ValueError, TypeError):
        pass  # json.loads decides what from_json refuses (lone surrogates, deep nesting)
    try:
        return json.loads(body)
    except RecursionError as exc:
        raise InvalidBody("request body is nested too deeply") from exc


def json_response(body: Any, status: int = 200) -> Response[str]:
    """A JSON response from plain data."""
    return json_text_response(json.dumps(body, separators=(",", ":")), status)


def json_text_response(text: str, status: int = 200) -> Response[str]:
    """A response whose body is already JSON text."""
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=text)


def error_response(exc: Exception) -> Response[str]:
    """The response for any exception a route raises."""
    if isinstance(exc, RequestValidationError):
        body = validation_error(list(exc.errors()))
        status = 400
    elif isinstance(exc, ServiceError):
        body = ErrorBody(code="not_found" if exc.status_code == 404 else "error", message=exc.msg)
        status = exc.status_code
    elif isinstance(exc, BankrecoError):
        body = ErrorBody.model_validate(exc.body())
        status = exc.status
        logger.warning("request refused", extra={"code": exc.code, "reason": str(exc)})
    else:
        logger.exception("unexpected error")
        body = ErrorBody(code="internal_error", message="internal error; see the logs")
        status = 500
    return json_response(ErrorResponse(error=body).model_dump(), status)
