"""HTTP responses: JSON bodies, and every error as one JSON shape, never a stack trace."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from bankreco.api.errors import public_message, status_of, validation_error
from bankreco.api.schemas import ErrorBody, ErrorResponse
from bankreco.errors import BankrecoError
from bankreco.observability import logger


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response[str]:
    """A JSON response from plain data."""
    return json_text_response(json.dumps(body, separators=(",", ":")), status, headers)


def json_text_response(
    text: str, status: int = 200, headers: dict[str, str] | None = None
) -> Response[str]:
    """A response whose body is already JSON text."""
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=text, headers=headers
    )


def error_response(exc: Exception, request_id: str) -> Response[str]:
    """The response for any exception a route raises. A client error names what is wrong;
    the service's own errors (5xx) answer a fixed message and log the details."""
    if isinstance(exc, RequestValidationError):
        body = validation_error(list(exc.errors()))
        status = 400
    elif isinstance(exc, ServiceError):
        body = ErrorBody(
            code="not_found" if exc.status_code == 404 else "error", message=str(exc.msg)
        )
        status = exc.status_code
    elif isinstance(exc, BankrecoError):
        status, code = status_of(exc)
        body = ErrorBody(code=code, message=public_message(exc))
        logger.warning("request refused", extra={"code": code, "reason": str(exc)})
    else:
        logger.exception("unexpected error")
        status, code = status_of(exc)
        body = ErrorBody(code=code, message=public_message(exc))
    return json_response(ErrorResponse(error=body, request_id=request_id).model_dump(), status)


def method_not_allowed(method: str, allowed: Iterable[str], request_id: str) -> Response[str]:
    """The 405 for a path the API has, asked with a method it does not answer there."""
    methods = ", ".join(sorted(allowed))
    body = ErrorBody(code="method_not_allowed", message=f"{method[:16]} is not allowed: {methods}")
    content = ErrorResponse(error=body, request_id=request_id).model_dump()
    return json_response(content, 405, {"Allow": methods})
