"""The small interface every model store implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bankreco.settings import Settings


@dataclass(frozen=True)
class Blob:
    """An object's bytes and the tag that changes whenever they do."""

    data: bytes
    etag: str


class ModelStore(Protocol):
    """Keys are `/`-separated paths below the store's root."""

    uri: str

    def read(self, key: str, if_none_match: str | None = None) -> Blob | None:
        """The object at `key`; None when its tag still equals `if_none_match`.

        Raises ObjectNotFound for a missing key, StoreError when the store fails.
        """
        ...

    def write(self, key: str, data: bytes) -> None:
        """Store `data` at `key`, replacing any object there."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Every key below `prefix`, sorted."""
        ...


def open_store(uri: str, settings: Settings | None = None) -> ModelStore:
    """A store for `s3://bucket/prefix` or a local directory path."""
    if uri.startswith("s3://"):
        from bankreco.store.s3 import S3Store

        return S3Store(uri, settings)
    from bankreco.store.local import LocalStore

    return LocalStore(uri)
