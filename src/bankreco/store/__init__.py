"""Model stores: where model versions live (S3 or a local directory)."""

from bankreco.store.base import Blob, ModelStore, open_store

__all__ = ["Blob", "ModelStore", "open_store"]
