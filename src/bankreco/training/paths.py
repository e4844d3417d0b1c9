"""Checks of the places the data commands write to, made before any long work starts."""

from __future__ import annotations

import os
from pathlib import Path


def check_writable_dir(directory: Path, what: str) -> None:
    """ValueError naming `directory` unless `what` can be written into it: it is a writable
    directory, or the nearest part of its path that exists is one (the directory is then
    created when written). Nothing is created here."""
    # A relative path ends in ".", an absolute one in "/": some part of it exists.
    existing = next(path for path in (directory, *directory.parents) if path.exists())
    if not existing.is_dir():
        raise ValueError(f"cannot write {what} to {directory}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write {what} to {directory}: {existing} is not writable")
