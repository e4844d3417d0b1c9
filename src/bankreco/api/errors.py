"""Errors as the API answers them: the one table from error class to status and code, and
the JSON error bodies."""

from __future__ import annotations

from typing import Any, Final

from bankreco.api.schemas import ErrorBody, FieldError
from bankreco.errors import (
    BankrecoError,
    IntegrityError,
    ModelNotPublished,
    ObjectNotFound,
    StoreError,
    UnknownBank,
)


class InvalidBody(BankrecoError):
    """The request body is not JSON the API can read."""


class PayloadTooLarge(BankrecoError):
    """The request body is over the size limit."""


#: Each error class with the status and code the API answers it with; a subclass not listed
#: takes its nearest listed base's.
STATUS: Final[dict[type[BaseException], tuple[int, str]]] = {
    InvalidBody: (400, "validation_error"),
    UnknownBank: (404, "unknown_bank"),
    ObjectNotFound: (404, "not_found"),
    PayloadTooLarge: (413, "payload_too_large"),
    ModelNotPublished: (503, "model_not_published"),
    StoreError: (503, "store_unavailable"),
    IntegrityError: (503, "model_integrity"),
    BankrecoError: (500, "internal_error"),
}
INTERNAL: Final = (500, "internal_error")


def status_of(exc: BaseException) -> tuple[int, str]:
    """The status and code the API answers `exc` with."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return INTERNAL


def error_body(exc: BankrecoError) -> dict[str, str]:
    """The `{code, message}` body of a domain error, as a batch item carries it."""
    return {"code": status_of(exc)[1], "message": str(exc)}


def field_errors(errors: list[Any], skip: tuple[str, ...] = ("body",)) -> list[FieldError]:
    """Pydantic errors as one entry per wrong field, named as the client spelled it."""
    found = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if str(part) not in skip]
        message = "unknown field" if error.get("type") == "extra_forbidden" else error["msg"]
        found.append(FieldError(field=".".join(loc) or "body", message=message))
    return found


def validation_error(errors: list[Any], skip: tuple[str, ...] = ("body",)) -> ErrorBody:
    """The 400 body for pydantic errors: every wrong field named once in the message."""
    fields = field_errors(errors, skip)
    names = ", ".join(dict.fromkeys(f.field for f in fields))
    return ErrorBody(code="validation_error", message=f"invalid fields: {names}", fields=fields)
