"""Bad input never becomes a server error.

- JSON nested deeper than Python's recursion limit is a bad request, not a RecursionError.
- ``<int:…>`` in a route matches 32-bit ids only: a larger one cannot exist (PostgreSQL ``integer``
  keys) and SQLite raises OverflowError on binding it — now it is simply "not found".
- A NUL byte in a query argument (a search, a filter) is refused before PostgreSQL sees it, and
  so are the ``q`` arguments of FAB's REST lists that FAB would answer with a 500.
- ``_oc_<View>`` (FAB's list sort argument) naming a column the view cannot sort by — a related
  column, or none at all — made FAB raise (NotImplementedError / CompileError): it is dropped
  with a message instead.
- The safety net: a database error on a write that no check caught (a DataError, an
  IntegrityError, an integer SQLite cannot bind, a flush-time check of app.integrity) is rolled
  back and answered with a Chinese 400.
  The real causes are checked first (app/record/input_checks.py); this only keeps a missed one
  from turning into a 500 with a half-open transaction.
"""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import Flask, Request, flash, redirect, request
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from app.extensions import db
from app.integrity import ValidationFailed

log = logging.getLogger(__name__)

INT_MAX = 2**31 - 1
DEEP_JSON = "请求体的 JSON 嵌套层数过深，无法处理"
NUL_ARGUMENT = "请求参数含有无效字符（NUL），未执行"
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


def bad_order_args(views: dict) -> list[str]:
    """The ``_oc_``/``_od_`` arguments FAB would apply that name no sortable column of their view."""
    bad = []
    for arg, column in request.args.items():
        if not arg.startswith("_oc_"):
            continue
        name = arg[4:]
        view = views.get(name)
        if request.args.get(f"_od_{name}") not in ("asc", "desc") or view is None:
            continue  # FAB ignores these
        if column not in (getattr(view, "order_columns", None) or ()):
            bad += [arg, f"_od_{name}"]
    return bad


def _out_of_range(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and not -(2**31) <= value <= INT_MAX


def rison_problem(raw: str) -> str | None:
    """What FAB's REST list would turn into a 500 (``@safe``) in its ``q`` argument: nesting deeper
    than the parser's recursion, a negative page (PostgreSQL refuses a negative OFFSET), an integer
    no column holds. Anything else FAB checks itself."""
    import prison

    try:
        args = prison.loads(raw)
    except RecursionError:
        return "查询参数 q 嵌套层数过深"
    except Exception:  # noqa: BLE001 - not rison: FAB answers 400 itself
        return None
    if not isinstance(args, dict):
        return None
    for key in ("page", "page_size"):
        value = args.get(key)
        if _out_of_range(value) or (isinstance(value, int) and value < 0):
            return f"分页参数 {key} 应为 0 至 {INT_MAX} 的整数"
    filters = args.get("filters")
    for flt in filters if isinstance(filters, list) else []:
        value = flt.get("value") if isinstance(flt, dict) else None
        if _out_of_range(value) or (isinstance(value, list) and any(_out_of_range(v) for v in value)):
            return "筛选条件中的整数超出允许范围"
    return None


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

    def invalid(exc):
        # The flush-time checks (app.integrity) on a path that did not ask them first.
        db.session.rollback()
        return app.handle_http_exception(BadRequest("；".join(exc.errors) + "。未写入任何数据。"))

    app.register_error_handler(ValidationFailed, invalid)

    @app.before_request
    def _no_nul_in_arguments():
        # PostgreSQL cannot compare text with a NUL byte: a search or filter holding one was a 500.
        if any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
            raise BadRequest(NUL_ARGUMENT)
        if request.path.startswith("/api/") and "q" in request.args:
            problem = rison_problem(request.args["q"])
            if problem:
                raise BadRequest(problem)
        return None

    @app.before_request
    def _sort_arguments():
        if request.method != "GET" or not any(a.startswith("_oc_") for a in request.args):
            return None
        views = {type(v).__name__: v for v in app.appbuilder.baseviews}
        bad = bad_order_args(views)
        if not bad:
            return None
        flash("排序列无效，已按默认顺序显示", "warning")
        kept = [(k, v) for k, v in request.args.items(multi=True) if k not in bad]
        return redirect(request.path + (f"?{urlencode(kept)}" if kept else ""))
