"""The warm in-memory cache of models, one entry per bank.

A bank's models (its champion, and the challenger `current.json` may name beside it) are
loaded on first use, revalidated against `current.json` at most every `ttl` seconds with a
conditional read, swapped for new versions without a redeploy (a version already cached, such
as a promoted challenger, is kept, not fetched again), and evicted least-recently-used when the
cached bytes exceed `max_bytes`.

Loads and refreshes run on a small pool of worker threads, one at a time per bank, so no
request waits on the store for longer than a stated budget:
- a cold request waits at most `load_timeout` seconds, then gets a StoreError while the load
  goes on and fills the cache for later requests;
- a request that finds its model due for revalidation waits at most `refresh_wait` seconds,
  then is answered from the cached model while the refresh finishes.
While a model is cached, store failures and bad new versions are logged and the last good
model is kept. A version that failed verification is remembered as bad and not fetched again.
A challenger that cannot be loaded is not served: the champion answers every customer, with a
warning and the metric ChallengerRefused; one the store failed to give is tried again at the
next revalidation.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Final

from bankreco.domain.model import LoadedModel
from bankreco.domain.registry import Pointer, Registry
from bankreco.errors import BankrecoError, StoreError
from bankreco.observability import count, logger, record_load, record_lookup
from bankreco.store import ModelStore

#: How many versions found bad are remembered (they are immutable, so a bad one stays bad).
REMEMBERED_BAD: Final = 64


@dataclass(frozen=True)
class Serving:
    """The models answering one bank's customers: its champion and, for `share` percent of
    them, the challenger (None: the champion answers them all)."""

    champion: LoadedModel
    challenger: LoadedModel | None = None
    share: float = 0.0

    @property
    def nbytes(self) -> int:
        return self.champion.nbytes + (self.challenger.nbytes if self.challenger else 0)

    def by_version(self) -> dict[str, LoadedModel]:
        """Each model held, by its version."""
        models = [self.champion, self.challenger] if self.challenger else [self.champion]
        return {model.version: model for model in models}


@dataclass(frozen=True)
class _Entry:
    serving: Serving
    etag: str
    checked_at: float
    #: The pointer names a challenger the store failed to give: the next revalidation reads
    #: the pointer in full, so that the challenger is tried again.
    retry: bool = False


@dataclass(frozen=True)
class Budget:
    """How long a request may wait on the store: for a first load, and for a revalidation
    (after which it is answered from the cached model)."""

    load_timeout: float = 8.0
    refresh_wait: float = 0.25


class ModelCache:
    """Thread-safe; each bank has at most one load or refresh running at a time."""

    def __init__(
        self,
        registry: Registry,
        ttl_seconds: float,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
        budget: Budget | None = None,
    ) -> None:
        self.registry = registry
        self.ttl = ttl_seconds
        self.max_bytes = max_bytes
        self.budget = budget or Budget()
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._pending: dict[str, Future[_Entry]] = {}
        self._bad: OrderedDict[tuple[str, str], BankrecoError] = OrderedDict()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def store(self) -> ModelStore:
        """The store models are read from."""
        return self.registry.store

    def reconnect(self, store: ModelStore) -> None:
        """Read from `store` from now on (new connections after a SnapStart restore); the
        cached models stay."""
        self.registry = Registry(store, self.registry.keys, self.registry.policy)

    def get(self, bank: str) -> LoadedModel:
        """The champion of `bank`, loading or revalidating it when due."""
        return self.serving(bank).champion

    def serving(self, bank: str) -> Serving:
        """The models answering `bank`'s customers, loading or revalidating them when due."""
        with self._lock:
            entry = self._entries.get(bank)
            if entry and self._clock() - entry.checked_at < self.ttl:
                self._entries.move_to_end(bank)
                record_lookup(hit=True)
                return entry.serving
            update = self._start(bank, entry)
        record_lookup(hit=False)
        if entry is None:
            return self._wait(update, self.budget.load_timeout).serving
        try:
            return update.result(self.budget.refresh_wait).serving
        except TimeoutError:
            count("StaleModelServed")
            return entry.serving  # the refresh goes on; this request does not wait for it

    def preload(self, bank: str, timeout: float) -> None:
        """Load `bank`'s model, waiting at most `timeout` seconds (the load goes on after)."""
        with self._lock:
            update = self._start(bank, self._entries.get(bank))
        self._wait(update, timeout)

    def cached(self) -> dict[str, str]:
        """Bank -> its champion's version, for every bank in memory, least recently used
        first."""
        with self._lock:
            return {bank: e.serving.champion.version for bank, e in self._entries.items()}

    def read_file(self, bank: str, version: str, name: str) -> bytes:
        """One artifact of a version (such as its model card), verified by the registry, read
        on the worker threads: the request waits at most `load_timeout` seconds."""
        with self._lock:
            read = self._workers().submit(self.registry.read_file, bank, version, name)
        try:
            return read.result(self.budget.load_timeout)
        except TimeoutError:
            raise StoreError(
                f"the model store did not answer within {self.budget.load_timeout:g} s"
            ) from None

    def _workers(self) -> ThreadPoolExecutor:
        """The pool loads and reads run on, started on first use (under the lock)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="model-load")
        return self._pool

    def _start(self, bank: str, entry: _Entry | None) -> Future[_Entry]:
        """The load or refresh of `bank` under way, started if there is none (under the lock)."""
        pending = self._pending.get(bank)
        if pending is None:
            pending = self._workers().submit(self._update, bank, entry)
            self._pending[bank] = pending
        return pending

    @staticmethod
    def _wait(update: Future[_Entry], timeout: float) -> _Entry:
        try:
            return update.result(timeout)
        except TimeoutError:
            count("ModelLoadTimeout")
            raise StoreError(
                f"the model store did not answer within {timeout:g} s; the load goes on"
            ) from None

    def _update(self, bank: str, entry: _Entry | None) -> _Entry:
        """Worker: load or refresh `bank`, then cache the result."""
        try:
            new = self._refresh(bank, entry) if entry else self._load(bank)
            with self._lock:
                self._entries[bank] = new
                self._entries.move_to_end(bank)
                self._evict()
            return new
        finally:
            with self._lock:
                self._pending.pop(bank, None)

    def _load(self, bank: str) -> _Entry:
        return self._entry(bank, self.registry.read_pointer(bank), None)

    def _entry(self, bank: str, pointer: Pointer, cached: Serving | None) -> _Entry:
        """The entry of what `pointer` names, reusing the models of `cached` by version. The
        champion must load; a challenger that cannot is left out."""
        known = cached.by_version() if cached else {}
        champion = known.get(pointer.version) or self._load_version(bank, pointer.version)
        named = pointer.challenger
        if named is None:
            return _Entry(Serving(champion), pointer.etag, self._clock())
        try:
            challenger = known.get(named.version) or self._load_version(bank, named.version)
        except BankrecoError as exc:
            count("ChallengerRefused")
            logger.warning(
                "challenger not served: the champion answers every customer",
                extra={"bank": bank, "version": named.version, "reason": str(exc)},
            )
            retry = isinstance(exc, StoreError)
            return _Entry(Serving(champion), pointer.etag, self._clock(), retry)
        return _Entry(Serving(champion, challenger, named.share), pointer.etag, self._clock())

    def _load_version(self, bank: str, version: str) -> LoadedModel:
        known_bad = self._bad.get((bank, version))
        if known_bad is not None:
            raise known_bad
        started = time.perf_counter()
        try:
            manifest, name, data = self.registry.fetch(bank, version)
            model = LoadedModel.from_artifact(bank, version, manifest, name, data)
        except StoreError:
            raise  # the store may answer next time
        except BankrecoError as exc:
            self._remember_bad(bank, version, exc)
            raise
        record_load(bank, version, time.perf_counter() - started)
        return model

    def _remember_bad(self, bank: str, version: str, exc: BankrecoError) -> None:
        with self._lock:
            self._bad[(bank, version)] = exc
            while len(self._bad) > REMEMBERED_BAD:
                self._bad.popitem(last=False)
        count("ModelVersionRefused")
        logger.warning(
            "model version refused", extra={"bank": bank, "version": version, "reason": str(exc)}
        )

    def _refresh(self, bank: str, entry: _Entry) -> _Entry:
        try:
            if entry.retry:
                pointer: Pointer | None = self.registry.read_pointer(bank)
            else:
                pointer = self.registry.read_pointer_if_changed(bank, entry.etag)
            if pointer is None:
                return replace(entry, checked_at=self._clock())
            return self._entry(bank, pointer, entry.serving)
        except BankrecoError as exc:
            count("ModelRefreshFailed")
            logger.warning(
                "keeping the cached model: revalidation failed",
                extra={"bank": bank, "version": entry.serving.champion.version, "reason": str(exc)},
            )
            return replace(entry, checked_at=self._clock())

    def _evict(self) -> None:
        total = sum(e.serving.nbytes for e in self._entries.values())
        while total > self.max_bytes and len(self._entries) > 1:
            bank, entry = self._entries.popitem(last=False)
            total -= entry.serving.nbytes
            logger.info("evicted model from cache", extra={"bank": bank})
