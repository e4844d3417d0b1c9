"""Key pairs in a local directory: `<dir>/<bank>/private.pem` (mode 0600) and `public.pem`.

The directory is SIGNING_KEYS_DIR, by default `$XDG_CONFIG_HOME/bankreco/keys` (or
`~/.config/bankreco/keys`): outside any model store, so whoever can write models cannot
replace the key they are checked with. A publisher keeps both files; a server that only
verifies needs `public.pem` alone.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bankreco.errors import KeyUnavailable, ModelRejected
from bankreco.ids import check_bank
from bankreco.signing import ecdsa
from bankreco.signing.base import PublicKey

PRIVATE_FILE = "private.pem"
PUBLIC_FILE = "public.pem"


def default_keys_dir() -> Path:
    """`$XDG_CONFIG_HOME/bankreco/keys`, else `~/.config/bankreco/keys`."""
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(config) / "bankreco" / "keys"


class LocalKeys:
    """One key pair per bank below `root` (default: default_keys_dir())."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root else default_keys_dir()

    def directory(self, bank: str) -> Path:
        return self.root / check_bank(bank)

    def trusted_key(self, bank: str) -> PublicKey | None:
        try:
            data = (self.directory(bank) / PUBLIC_FILE).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KeyUnavailable(f"cannot read the public key of bank {bank}: {exc}") from exc
        try:
            der = ecdsa.public_der(data)
        except ValueError as exc:
            raise ModelRejected(f"the public key of bank {bank} cannot be read: {exc}") from exc
        return PublicKey(der, f"local:{ecdsa.fingerprint(der)}")

    def signer(self, bank: str, create: bool = False) -> LocalSigner:
        if create:
            self.init(bank)
        path = self.directory(bank) / PRIVATE_FILE
        try:
            private_pem = path.read_bytes()
        except FileNotFoundError:
            raise KeyUnavailable(
                f"no signing key for bank {bank}: {path} does not exist (create it with "
                f"`bankreco keys init --bank {bank}`, or give the bank a KMS key)"
            ) from None
        except OSError as exc:
            raise KeyUnavailable(f"cannot read the signing key of bank {bank}: {exc}") from exc
        return LocalSigner(private_pem)

    def init(self, bank: str) -> bool:
        """Create `bank`'s key pair unless it has one; True if created. A public key without
        its private key is left alone: replacing it would change what servers trust."""
        directory = self.directory(bank)
        private, public = directory / PRIVATE_FILE, directory / PUBLIC_FILE
        if private.exists():
            return False
        if public.exists():
            raise KeyUnavailable(f"{public} exists without {private.name}: not replacing it")
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        private_pem, der = ecdsa.generate()
        if not _create(private, private_pem, 0o600):
            return False  # another process created it first
        _create(public, ecdsa.pem(der), 0o644)
        return True


class LocalSigner:
    """Signs with a PEM private key held in memory."""

    def __init__(self, private_pem: bytes) -> None:
        self._private = private_pem
        der = ecdsa.public_of(private_pem)
        self._public = PublicKey(der, f"local:{ecdsa.fingerprint(der)}")

    def sign(self, message: bytes) -> bytes:
        return ecdsa.sign(self._private, message)

    def public_key(self) -> PublicKey:
        return self._public


def _create(path: Path, data: bytes, mode: int) -> bool:
    """Write `path` with `mode` unless it exists (False then), complete or not at all."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    return True
