"""Test doubles of the cache's collaborators: a clock the test moves, and a local store that
records its reads, can be switched off, slowed down, or held at a gate."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from bankreco.errors import StoreError
from bankreco.store import Blob
from bankreco.store.local import LocalStore


class Clock:
    """Monotonic time that moves only when a test sets `now`."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class WatchedStore(LocalStore):
    """A local store that records the keys read; `down` makes reads fail, `delay` slows them
    and a cleared `gate` holds them until it is set again."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: list[str] = []
        self.down = False
        self.delay = 0.0
        self.gate = threading.Event()
        self.gate.set()

    def read(self, key: str) -> Blob:
        if self.down:
            raise StoreError("store is down")
        self.reads.append(key)
        time.sleep(self.delay)
        if not self.gate.wait(timeout=30):
            raise StoreError("the gate never opened")
        return super().read(key)
