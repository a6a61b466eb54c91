"""Attachments: size and type limits, SHA-256 with the file, stored under a random name in the
instance folder (never a public path), read back only through the scoped download route."""
from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

from flask import current_app
from werkzeug.utils import secure_filename

from app.errors import JishiError
from app.extensions import db
from app.models import Attachment

ALLOWED = {
    ".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
    ".doc": "application/msword", ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel", ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ofd": "application/ofd", ".txt": "text/plain",
}
# Magic numbers for the binary types: an extension alone proves nothing.
MAGIC = {".pdf": [b"%PDF"], ".png": [b"\x89PNG"], ".jpg": [b"\xff\xd8"], ".jpeg": [b"\xff\xd8"],
         ".docx": [b"PK"], ".xlsx": [b"PK"], ".ofd": [b"PK"], ".doc": [b"\xd0\xcf"], ".xls": [b"\xd0\xcf"]}


class AttachmentRefused(JishiError, ValueError):
    pass


def storage_dir() -> Path:
    path = Path(current_app.config["UPLOAD_FOLDER"]) / "attachments"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _display_name(filename: str) -> str:
    """Keep Chinese names readable; strip any path and control characters."""
    name = os.path.basename(filename.replace("\\", "/")).strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    return name[:200] or secure_filename(filename) or "附件"


def store(data: bytes, filename: str, *, unit_id: int, case_id=None, batch_id=None, item_key=None,
          user_id=None) -> Attachment:
    """Check and store one upload; the caller commits with the change that references it."""
    name = _display_name(filename)
    ext = os.path.splitext(name)[1].lower()
    limit = int(current_app.config.get("JISHI_ATTACHMENT_MAX_MB", 20) * 1024 * 1024)
    if ext not in ALLOWED:
        raise AttachmentRefused(f"不支持的文件类型“{ext or '无扩展名'}”，允许：{'、'.join(sorted(ALLOWED))}")
    if not data:
        raise AttachmentRefused("文件为空")
    if len(data) > limit:
        raise AttachmentRefused(f"文件大小 {len(data)} 字节，超过 {limit} 字节（{limit / 1048576:g} MB）的上限")
    if ext in MAGIC and not any(data.startswith(m) for m in MAGIC[ext]):
        raise AttachmentRefused(f"文件内容与扩展名“{ext}”不符")
    key = uuid.uuid4().hex
    (storage_dir() / key).write_bytes(data)
    att = Attachment(unit_id=unit_id, case_id=case_id, batch_id=batch_id, item_key=item_key, filename=name,
                     content_type=ALLOWED[ext], size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                     storage_key=key, has_content=True, uploaded_by_id=user_id)
    db.session.add(att)
    db.session.flush()
    return att


def read(att: Attachment) -> bytes:
    data = (storage_dir() / att.storage_key).read_bytes()
    if hashlib.sha256(data).hexdigest() != att.sha256:
        raise AttachmentRefused("附件内容与登记的 SHA-256 不一致，可能已被篡改")
    return data
