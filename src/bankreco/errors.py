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


class ObjectExists(BankrecoError):
    """A key the store was asked to create is already there: versions are never overwritten."""


class ModelRejected(BankrecoError):
    """A model version is refused before any of its artifacts is loaded: it is unsigned, its
    signature does not verify with its bank's key, it was signed for another bank or version,
    or it has no form the function loads."""


class ExplanationUnavailable(BankrecoError):
    """The model cannot explain its scores: its compact form has no node covers (it was
    compiled before they were kept), or it is not served from its compact form."""


class NoModelCard(BankrecoError):
    """The version served was published without a model card."""


class KeyUnavailable(StoreError):
    """A bank's key cannot be read now (KMS unreachable or refusing the call)."""
