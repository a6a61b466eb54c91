"""What several views share: dates and lights as text, the current user's id, the CSRF check of a plain
form. View modules import this and base, never each other."""
from __future__ import annotations

import math

from flask import current_app, flash, g, request
from flask_wtf.csrf import ValidationError, validate_csrf
from markupsafe import Markup

from app.display import minute, table_date

MAX_PAGE = 1_000_000
LIGHT_CLASS = {"红": "danger", "黄": "warning", "绿": "success"}


def when(value) -> str:
    """A stored time to the minute in Asia/Shanghai."""
    return minute(value)


def day(value) -> str:
    return table_date(value)


def light_badge(light) -> Markup:
    if not light:
        return Markup('<span class="label label-default">未评估</span>')
    return Markup(f'<span class="label label-{LIGHT_CLASS.get(light, "default")} light">{light}灯</span>')


def current_user_id() -> int:
    """The logged-in user's id; an impossible id otherwise (never None: that would be IS NULL)."""
    return getattr(g.get("user"), "id", None) or -1


def page_arg() -> int:
    """The ?page= of a paged list, 1-based; nonsense gives the first page with a message."""
    raw = (request.args.get("page") or "1").strip() or "1"
    try:
        page = int(raw)
        if page < 1 or page > MAX_PAGE:
            raise ValueError
    except ValueError:
        flash("分页参数无效，已显示第一页", "warning")
        page = 1
    return page


def page_window(page: int, total: int, size: int) -> tuple[int, int, int]:
    """(page, pages, offset): the page asked for, at most the last one."""
    pages = max(1, math.ceil(total / size))
    page = min(page, pages)
    return page, pages, (page - 1) * size


def csrf_ok() -> bool:
    """Check the form's CSRF token when CSRF protection is on (no global CSRFProtect in this app);
    a missing or stale token is told in Chinese, never a 500."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        flash("页面已过期或请求无效（缺少安全令牌），请刷新页面后重试", "danger")
        return False
    return True

