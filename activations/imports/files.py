"""The file an import reads: that it exists, and its sha256 (the ledger's key)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from activations.errors import UserError


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(path: Path) -> Path:
    if not path.exists():
        raise UserError(f"{path}: no such file", hint="check the path of the file to import")
    if not path.is_file():
        raise UserError(f"{path} is a directory, not a file", hint="name one file to import")
    return path.resolve()
