"""Domain errors; each carries the HTTP status and code the API answers with."""

from __future__ import annotations


class BankrecoError(Exception):
    """Base of the errors the API turns into a JSON error body."""

    status = 500
    code = "internal_error"

    def body(self) -> dict[str, str]:
        """The JSON error body: the code and the message."""
        return {"code": self.code, "message": str(self)}


class UnknownBank(BankrecoError):
    status = 404
    code = "unknown_bank"


class ModelNotPublished(BankrecoError):
    status = 503
    code = "model_not_published"


class InvalidBody(BankrecoError):
    """The request body is not JSON the API can read."""

    status = 400
    code = "validation_error"


class PayloadTooLarge(BankrecoError):
    status = 413
    code = "payload_too_large"


class StoreError(BankrecoError):
    """The model store could not be reached or answered with an error."""

    status = 503
    code = "store_unavailable"


class ObjectNotFound(BankrecoError):
    """A key is not in the model store."""

    status = 404
    code = "not_found"


class IntegrityError(BankrecoError):
    """A model artifact does not match its manifest."""

    status = 503
    code = "model_integrity"
