"""Which model answers a customer when a bank serves a challenger beside its champion.

A customer with an id is placed in one of BUCKETS buckets by a hash of the bank and the id,
the same in every process and every container (Python's `hash()` is salted per process), so
the same customer always sees the same model while the share stays; the challenger answers
the buckets below `share` percent of BUCKETS. A customer without an id is drawn at random.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from typing import Final

BUCKETS: Final = 10_000
CHAMPION: Final = "champion"
CHALLENGER: Final = "challenger"

#: A uniform draw in [0, 1): the random module's shared generator, which the function reseeds
#: after a SnapStart restore (bankreco.api.lifecycle), so restored copies do not draw alike.
Draw = Callable[[], float]


def bucket(bank: str, customer_id: str) -> int:
    """The customer's bucket: the first 8 bytes of sha256("bank:customer_id") as an unsigned
    integer, modulo BUCKETS."""
    key = f"{bank}:{customer_id}".encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % BUCKETS


def to_challenger(
    bank: str, customer_id: str | None, share: float, draw: Draw = random.random
) -> bool:
    """Whether the challenger, given `share` percent of the customers, answers this one."""
    if customer_id is None:
        return draw() * 100 < share
    return bucket(bank, customer_id) < share * (BUCKETS / 100)
