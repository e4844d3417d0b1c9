"""A model store in a local directory: the embedded default for local runs."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from bankreco.errors import ObjectExists, ObjectNotFound, StoreError
from bankreco.store.base import Blob, check_key


class LocalStore:
    """Keys are files below `root`; writes are atomic (temp file, then rename)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser()
        self.uri = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key))

    def read(self, key: str) -> Blob:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"{key} not found in {self.uri}") from exc
        except OSError as exc:
            raise StoreError(f"cannot read {key} from {self.uri}: {exc}") from exc
        return Blob(data, hashlib.md5(data, usedforsecurity=False).hexdigest())

    def read_if_changed(self, key: str, etag: str) -> Blob | None:
        blob = self.read(key)
        return None if blob.etag == etag else blob

    def write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            raise StoreError(f"cannot write {key} to {self.uri}: {exc}") from exc

    def write_new(self, key: str, data: bytes) -> None:
        """Written to a temporary file, then linked to its name: a link fails if the name
        exists, so two writers cannot both create it, and no reader sees a partial file."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.link(tmp, path)
            finally:
                os.unlink(tmp)
        except FileExistsError as exc:
            raise ObjectExists(f"{key} already exists in {self.uri}") from exc
        except OSError as exc:
            raise StoreError(f"cannot write {key} to {self.uri}: {exc}") from exc

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix.rstrip("/"))
        if not base.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )
