"""A model store held in a dict: the ModelStore interface with nothing behind it."""

from __future__ import annotations

import hashlib

from bankreco.errors import ObjectExists, ObjectNotFound
from bankreco.store import Blob


class MemoryStore:
    """Keys and bytes in memory; the tag is the bytes' md5, as S3's ETag of a simple put."""

    def __init__(self) -> None:
        self.uri = "memory://"
        self.objects: dict[str, bytes] = {}

    def read(self, key: str) -> Blob:
        try:
            data = self.objects[key]
        except KeyError:
            raise ObjectNotFound(f"{key} not found") from None
        return Blob(data, hashlib.md5(data, usedforsecurity=False).hexdigest())

    def read_if_changed(self, key: str, etag: str) -> Blob | None:
        blob = self.read(key)
        return None if blob.etag == etag else blob

    def write(self, key: str, data: bytes) -> None:
        self.objects[key] = bytes(data)

    def write_new(self, key: str, data: bytes) -> None:
        if key in self.objects:
            raise ObjectExists(f"{key} already exists")
        self.write(key, data)

    def list(self, prefix: str) -> list[str]:
        base = prefix.rstrip("/") + "/"
        return sorted(key for key in self.objects if key.startswith(base))
