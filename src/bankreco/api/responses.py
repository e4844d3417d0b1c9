"""HTTP responses: JSON bodies, and every error as one JSON shape, never a stack trace."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from bankreco.api.errors import status_of, validation_error
from bankreco.api.schemas import ErrorBody, ErrorResponse
from bankreco.errors import BankrecoError
from bankreco.observability import logger


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
        status, code = status_of(exc)
        body = ErrorBody(code=code, message=str(exc))
        logger.warning("request refused", extra={"code": code, "reason": str(exc)})
    else:
        logger.exception("unexpected error")
        status, code = status_of(exc)
        body = ErrorBody(code=code, message="internal error; see the logs")
    return json_response(ErrorResponse(error=body).model_dump(), status)
