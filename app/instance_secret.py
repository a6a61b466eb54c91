"""Per-install keys kept in the instance folder: the session-signing key of an install that was given
none (here) and the evidence key (app.record.evidence), both written by ``create_private_file``.

A key committed to the repository signs cookies anyone can forge, so without ``SECRET_KEY`` every
install makes its own on first start (outside production, which must be given one). Web, worker and
beat may start at the same moment: the key is written completely to a private temporary file first and
then linked into place, which fails if another process got there first — everyone then reads the one
file that won, so all processes of an install sign with the same key.
"""
from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

MIN_LENGTH = 32


def load_or_create(path: Path) -> str:
    if not path.exists():
        create_private_file(path, secrets.token_urlsafe(48))
    return _read(path)


def create_private_file(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` readable by its owner only, unless the file exists already;
    two processes racing both end up reading the one file that won."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(content + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # atomic, and never replaces a key another process already wrote
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def _read(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(0o600)  # a key readable by other accounts is no secret
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_LENGTH:
        raise RuntimeError(f"密钥文件 {path} 内容无效（少于 {MIN_LENGTH} 个字符）：请删除该文件后重新启动，"
                           "或通过环境变量 SECRET_KEY 设置密钥")
    return key
