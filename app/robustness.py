"""Bad input never becomes a server error.

- JSON nested deeper than Python's recursion limit is a bad request, not a RecursionError.
- ``<int:…>`` in a route matches 32-bit ids only: a larger one cannot exist (PostgreSQL ``integer``
  keys) and SQLite raises OverflowError on binding it — now it is simply "not found".
- The safety net: a database error on a write that no check caught (a DataError, an
  IntegrityError, an integer SQLite cannot bind) is rolled back and answered with a Chinese 400.
  The real causes are checked first (app/services/input_checks.py); this only keeps a missed one
  from turning into a 500 with a half-open transaction.
"""
from __future__ import annotations

import logging

from flask import Flask, Request
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from app.extensions import db

log = logging.getLogger(__name__)

INT_MAX = 2**31 - 1
DEEP_JSON = "请求体的 JSON 嵌套层数过深，无法处理"
DB_REFUSED = "数据无法保存：某项内容超出允许的长度或范围，或与已有记录冲突。未写入任何数据，请检查后重试。"


class JishiRequest(Request):
    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            if silent:
                return None
            raise BadRequest(DEEP_JSON) from None


class Int32Converter(IntegerConverter):
    """``<int:pk>``: 0 … 2³¹−1."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


def load_json_text(text: str):
    """``json.loads`` for files (the CLI): a nesting too deep is a ValueError like any bad JSON."""
    import json

    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON 嵌套层数过深") from None


def init_robustness(app: Flask) -> None:
    """Call before any view is registered (the converter applies to rules added afterwards)."""
    app.request_class = JishiRequest
    app.url_map.converters["int"] = Int32Converter

    def refused(exc):
        db.session.rollback()
        log.warning("write refused by the database: %s", str(exc).splitlines()[0][:300])
        return app.handle_http_exception(BadRequest(DB_REFUSED))

    for kind in (DataError, IntegrityError, OverflowError):
        app.register_error_handler(kind, refused)
