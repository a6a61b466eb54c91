"""Files the app writes for its users (generated statistics workbooks, background exports): stored
under REPORTS_FOLDER with a random name — never one a user chose — with their SHA-256, and checked
against it again before they are served."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app


def folder() -> Path:
    path = Path(current_app.config["REPORTS_FOLDER"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def checked(storage_key: str, sha256: str, error: type[Exception], *, missing: str, changed: str) -> Path:
    """The stored file, after checking it is there and unchanged; ``error(missing|changed)`` otherwise."""
    path = folder() / storage_key
    if not path.is_file():
        raise error(missing)
    if sha256_of(path) != sha256:
        raise error(changed)
    return path
