"""Model stores: where model versions live (S3 or a local directory)."""

from bankreco.store.base import Blob, ModelStore, S3ClientOptions


def open_store(uri: str, s3: S3ClientOptions | None = None) -> ModelStore:
    """A store for `s3://bucket/prefix` (its client set by `s3`) or a local directory path."""
    if uri.startswith("s3://"):
        from bankreco.store.s3 import S3Store

        return S3Store(uri, s3)
    from bankreco.store.local import LocalStore

    return LocalStore(uri)


__all__ = ["Blob", "ModelStore", "S3ClientOptions", "open_store"]
