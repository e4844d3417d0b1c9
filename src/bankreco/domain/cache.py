"""The warm in-memory cache of models, one entry per bank.

A bank's model is loaded on first use, revalidated against `current.json` at most every
`ttl` seconds with a conditional read, swapped for a new version without a redeploy, and
evicted least-recently-used when the cached bytes exceed `max_bytes`. While a model is
cached, store failures and bad new versions are logged and the last good model is kept.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bankreco.domain.model import LoadedModel
from bankreco.domain.registry import Pointer, Registry
from bankreco.errors import BankrecoError
from bankreco.observability import logger, record_load, record_lookup
from bankreco.store import ModelStore


@dataclass
class _Entry:
    model: LoadedModel
    etag: str
    checked_at: float


class ModelCache:
    """Thread-safe; each bank is loaded by one caller while the others wait for it."""

    def __init__(
        self,
        registry: Registry,
        ttl_seconds: float,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self.ttl = ttl_seconds
        self.max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._bank_locks: dict[str, threading.Lock] = {}

    def get(self, bank: str) -> LoadedModel:
        """The model to serve for `bank`, loading or revalidating it when due."""
        with self._lock:
            entry = self._entries.get(bank)
            if entry and self._clock() - entry.checked_at < self.ttl:
                self._entries.move_to_end(bank)
                record_lookup(hit=True)
                return entry.model
            bank_lock = self._bank_locks.setdefault(bank, threading.Lock())
        with bank_lock:
            with self._lock:
                entry = self._entries.get(bank)
            if entry and self._clock() - entry.checked_at < self.ttl:
                record_lookup(hit=True)
                return entry.model  # another caller refreshed it while we waited
            record_lookup(hit=False)
            entry = self._refresh(bank, entry) if entry else self._load(bank)
            with self._lock:
                self._entries[bank] = entry
                self._entries.move_to_end(bank)
                self._evict()
            return entry.model

    @property
    def store(self) -> ModelStore:
        """The store models are read from."""
        return self.registry.store

    def reconnect(self, store: ModelStore) -> None:
        """Read from `store` from now on (new connections after a SnapStart restore); the
        cached models stay."""
        self.registry = Registry(store)

    def _load(self, bank: str) -> _Entry:
        return self._load_version(bank, self.registry.read_pointer(bank))

    def _load_version(self, bank: str, pointer: Pointer) -> _Entry:
        started = time.perf_counter()
        manifest, name, data = self.registry.fetch(bank, pointer.version)
        model = LoadedModel.from_artifact(bank, pointer.version, manifest, name, data)
        record_load(bank, pointer.version, time.perf_counter() - started)
        return _Entry(model, pointer.etag, self._clock())

    def _refresh(self, bank: str, entry: _Entry) -> _Entry:
        try:
            pointer = self.registry.read_pointer_if_changed(bank, entry.etag)
            if pointer is None or pointer.version == entry.model.version:
                etag = pointer.etag if pointer else entry.etag
                return _Entry(entry.model, etag, self._clock())
            return self._load_version(bank, pointer)
        except BankrecoError as exc:
            logger.warning(
                "keeping the cached model: revalidation failed",
                extra={"bank": bank, "version": entry.model.version, "reason": str(exc)},
            )
            return _Entry(entry.model, entry.etag, self._clock())

    def _evict(self) -> None:
        total = sum(e.model.nbytes for e in self._entries.values())
        while total > self.max_bytes and len(self._entries) > 1:
            bank, entry = self._entries.popitem(last=False)
            total -= entry.model.nbytes
            logger.info("evicted model from cache", extra={"bank": bank})

    def cached(self) -> dict[str, str]:
        """Bank -> version of every model in memory, least recently used first."""
        with self._lock:
            return {bank: e.model.version for bank, e in self._entries.items()}
