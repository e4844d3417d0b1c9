"""The errors of the domain and the model stores. They carry no HTTP status: the API maps
each class to its status and code in one table (bankreco.api.errors)."""

from __future__ import annotations


class BankrecoError(Exception):
    """Base of every error the service expects and reports to its caller."""


class UnknownBank(BankrecoError):
    """The bank id is invalid or not served by this stage."""


class ModelNotPublished(BankrecoError):
    """No model version has been published for the bank."""


class StoreError(BankrecoError):
    """The model store could not be reached or answered with an error."""


class ObjectNotFound(BankrecoError):
    """A key is not in the model store."""


class IntegrityError(BankrecoError):
    """A model artifact does not match its manifest, or gives unusable scores."""
