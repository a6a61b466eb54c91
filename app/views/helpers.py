"""What several views share: dates and lights as text, the current user's id, the CSRF check of a plain
form, and the Chinese names of a case's audit rows. View modules import this and base, never each other."""
from __future__ import annotations

import math

from flask import current_app, flash, g, request
from flask_wtf.csrf import ValidationError, validate_csrf
from markupsafe import Markup

from app.spec import items_by_key, modules

MAX_PAGE = 1_000_000
LIGHT_CLASS = {"红": "danger", "黄": "warning", "绿": "success"}
_TABLE_LABELS = {"cadre_case": "案例", "case_person": "人员", "batch": "批次", "attachment": "附件",
                 "custom_value": "自定义数据项", "custom_item": "自定义数据项定义"}
_FIELD_LABELS = {"handler": "经办人", "leader": "责任领导", "state": "状态", "completed_at": "完成时间",
                 "status": "案例状态", "full_name": "姓名", "name": "姓名", "post": "职务", "id_card_no": "身份证号",
                 "item_key": "数据项", "position": "序号", "batch_id": "批次", "case_no": "案例编号",
                 "item_id": "自定义数据项（编号）", "value_text": "值", "value_num": "值（数字/是否）", "value_date": "值（日期）",
                 "value_json": "值（多选）"}


def when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def day(value) -> str:
    return value.isoformat() if value else ""


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


def history_labels():
    """Chinese names for the audit rows of a case: module names for tables, item labels for fields."""
    tables = {**_TABLE_LABELS, **{f"case_{m.key}": m.name for m in modules()}}
    fields = {**{k: i.label for k, i in items_by_key().items()},
              **{f"{k}_id": i.label for k, i in items_by_key().items()}, **_FIELD_LABELS}
    return tables, fields
