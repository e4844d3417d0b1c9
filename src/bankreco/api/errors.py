"""Errors as the API answers them: the one table from error class to status and code, the
messages a client reads, and the JSON error bodies."""

from __future__ import annotations

from typing import Any, Final

from bankreco.api.schemas import LEGACY_NAMES, ErrorBody, FieldError
from bankreco.errors import (
    BankrecoError,
    ExplanationUnavailable,
    IntegrityError,
    ModelNotPublished,
    ModelRejected,
    NoModelCard,
    ObjectNotFound,
    StoreError,
    UnknownBank,
)


class InvalidBody(BankrecoError):
    """The request body is not JSON the API can read."""


class PayloadTooLarge(BankrecoError):
    """The request body is over the size limit."""


class UnsupportedMediaType(BankrecoError):
    """The request body is sent as another media type than JSON."""


#: Each error class with the status and code the API answers it with; a subclass not listed
#: takes its nearest listed base's.
STATUS: Final[dict[type[BaseException], tuple[int, str]]] = {
    InvalidBody: (400, "validation_error"),
    UnknownBank: (404, "unknown_bank"),
    ObjectNotFound: (404, "not_found"),
    ExplanationUnavailable: (409, "explanation_unavailable"),
    NoModelCard: (404, "no_model_card"),
    PayloadTooLarge: (413, "payload_too_large"),
    UnsupportedMediaType: (415, "unsupported_media_type"),
    ModelNotPublished: (503, "model_not_published"),
    StoreError: (503, "store_unavailable"),
    IntegrityError: (503, "model_integrity"),
    ModelRejected: (503, "model_rejected"),
    BankrecoError: (500, "internal_error"),
}
INTERNAL: Final = (500, "internal_error")

#: What a client reads for the errors whose own messages name the service's insides (store
#: endpoints, buckets, keys, module names): those go to the log, under the request id.
PUBLIC_MESSAGES: Final[dict[str, str]] = {
    "not_found": "not found",
    "model_not_published": "no model is published for this bank yet",
    "store_unavailable": "the model store cannot be reached; try again later",
    "model_integrity": "the published model cannot be served",
    "model_rejected": "the published model cannot be served",
    "internal_error": "internal error",
}
UNAVAILABLE: Final = "the service cannot answer this request now; try again later"
#: Why a legacy spelling is refused: the field was also sent under its own name.
TWICE: Final = {
    legacy: f"sent with `{name}`: send one of the two" for name, legacy in LEGACY_NAMES.items()
}


def status_of(exc: BaseException) -> tuple[int, str]:
    """The status and code the API answers `exc` with."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return INTERNAL


def public_message(exc: BaseException) -> str:
    """The message a client reads for `exc`: its own for a client error, a fixed one for an
    error of the service (5xx) or of its store."""
    status, code = status_of(exc)
    if code in PUBLIC_MESSAGES:
        return PUBLIC_MESSAGES[code]
    return UNAVAILABLE if status >= 500 else str(exc)


def error_body(exc: BankrecoError) -> dict[str, str]:
    """The `{code, message}` body of a domain error, as a batch item carries it."""
    return {"code": status_of(exc)[1], "message": public_message(exc)}


def field_errors(errors: list[Any], skip: tuple[str, ...] = ("body",)) -> list[FieldError]:
    """Pydantic errors as one entry per wrong field, named as the client spelled it."""
    found = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if str(part) not in skip]
        message = error["msg"]
        if error.get("type") == "extra_forbidden":
            message = TWICE.get(loc[-1], "unknown field") if loc else "unknown field"
        found.append(FieldError(field=".".join(loc) or "body", message=message))
    return found


def validation_error(errors: list[Any], skip: tuple[str, ...] = ("body",)) -> ErrorBody:
    """The 400 body for pydantic errors: every wrong field named once in the message."""
    fields = field_errors(errors, skip)
    names = ", ".join(dict.fromkeys(f.field for f in fields))
    return ErrorBody(code="validation_error", message=f"invalid fields: {names}", fields=fields)
