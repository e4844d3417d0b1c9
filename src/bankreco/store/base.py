"""The small interface every model store implements, and what the stores share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Blob:
    """An object's bytes and the tag that changes whenever they do."""

    data: bytes
    etag: str


@dataclass(frozen=True)
class S3ClientOptions:
    """How the S3 client waits and retries (the one place these defaults are set), and the
    account that must own the bucket (None: not checked).

    A call's worst case is `max_attempts` × (`connect_timeout` + `read_timeout`) plus the
    standard retry mode's backoff between attempts (docs/reliability.md adds it up).
    """

    connect_timeout: float = 1.0
    read_timeout: float = 3.0
    max_attempts: int = 2  # in total, the first attempt included
    expected_bucket_owner: str | None = None


class ModelStore(Protocol):
    """Keys are `/`-separated paths below the store's root.

    Every method raises ObjectNotFound for a missing key and StoreError when the store fails.
    """

    uri: str

    def read(self, key: str) -> Blob:
        """The object at `key`."""
        ...

    def read_if_changed(self, key: str, etag: str) -> Blob | None:
        """The object at `key`, or None while its tag still equals `etag`."""
        ...

    def write(self, key: str, data: bytes) -> None:
        """Store `data` at `key`, replacing any object there."""
        ...

    def write_new(self, key: str, data: bytes) -> None:
        """Store `data` at `key` if no object is there, in one step the store checks (no
        separate read first); ObjectExists otherwise."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Every key below `prefix`, sorted."""
        ...


def check_key(key: str) -> list[str]:
    """The parts of a store key; ValueError for an empty key or an empty, `.` or `..` part."""
    parts = key.split("/")
    if not key or any(p in {"", ".", ".."} for p in parts):
        raise ValueError(f"invalid key: {key!r}")
    return parts
