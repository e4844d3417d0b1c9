"""Bank and version ids: the patterns both the API and the model store hold them to."""

from __future__ import annotations

import re
from typing import Final

from bankreco.errors import ObjectNotFound, UnknownBank

BANK_PATTERN: Final = r"^[a-z0-9][a-z0-9-]{0,62}$"
VERSION_PATTERN: Final = r"^v\d{8}T\d{9}Z-[0-9a-f]{8}$"


def check_bank(bank: str) -> str:
    """`bank`, if it is safe to put in a store key; UnknownBank otherwise."""
    if not re.fullmatch(BANK_PATTERN, bank):
        raise UnknownBank(f"invalid bank id {bank[:70]!r}: must match {BANK_PATTERN}")
    return bank


def check_version(version: str) -> str:
    """`version`, if it is a version id; ObjectNotFound otherwise (no such version)."""
    if not re.fullmatch(VERSION_PATTERN, version):
        raise ObjectNotFound(f"invalid version id {version[:80]!r}")
    return version


def is_version(candidate: str) -> bool:
    """Whether `candidate` has the form of a version id."""
    return re.fullmatch(VERSION_PATTERN, candidate) is not None
