"""站内消息 (the inbox), 报送时限 (reporting deadlines) and 任务运行记录 (task runs) in the browser.

The inbox is scoped twice: by unit like every unit-owned view, and by recipient — a user sees
only the notices addressed to them, whatever their role. Showing a notice marks it read; the
unread count sits in the navigation bar of every page (``inbox_badge``).
"""
from __future__ import annotations

import json
import logging

from flask import abort, flash, redirect, url_for
from flask_appbuilder import ModelView, expose
from flask_appbuilder.models.sqla.filters import FilterEqualFunction
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_appbuilder.widgets import ListWidget
from flask_babel import lazy_gettext as _
from markupsafe import Markup
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from app.display import VALUE_LABELS, audit_value, shown, stored
from app.extensions import db
from app.infra.notify import unread_count
from app.models.audit import utcnow
from app.models.deadlines import NODE_LABELS, CaseDeadline, Message, TaskRun
from app.scoping import current_scope
from app.tasks.deadlines import deadlines_scan
from app.views.base import NoWritesMixin, ReadOnlyModelView, SafeListMixin
from app.views.helpers import csrf_ok, current_user_id, day, when

log = logging.getLogger(__name__)

DAY_TYPES = {"calendar": "自然日", "working": "工作日"}
RUN_CLASS = {"运行中": "info", "成功": "success", "失败": "danger"}
TASK_NAMES = VALUE_LABELS["task"]


def safe_link(link) -> str | None:
    """A message's link, if it is a path inside this app (never another host or a script)."""
    if not link or not isinstance(link, str) or not link.startswith("/") or link.startswith("//") or "\\" in link:
        return None
    return link


def inbox_badge() -> dict:
    """Template context: ``inbox_unread()`` — the logged-in user's unread count, or None."""

    def inbox_unread():
        from flask_login import current_user

        if not getattr(current_user, "is_authenticated", False):
            return None
        try:
            return unread_count(current_user.id)
        except SQLAlchemyError:  # an error page must still render
            db.session.rollback()
            return None

    return {"inbox_unread": inbox_unread}


class InboxListWidget(ListWidget):
    """FAB's list, with unread rows in bold and the link as a button."""

    template = "jishi/inbox_list_widget.html"

    def __call__(self, **kwargs):
        return super().__call__(safe_link=safe_link, **kwargs)


class InboxView(ReadOnlyModelView):
    """站内消息: the current user's own notices, newest first."""

    route_base = "/inbox"
    datamodel = SQLAInterface(Message)
    base_filters = [["recipient_id", FilterEqualFunction, current_user_id]]
    base_permissions = ["can_list", "can_show", "can_export", "can_mark_read"]
    base_order = ("id", "desc")
    list_title = _("站内消息")
    show_title = _("站内消息")
    label_columns = {"id": _("编号"), "kind": _("类别"), "title": _("标题"), "body": _("内容"), "unit": _("单位"),
                     "link": _("链接"), "created_at": _("时间"), "read_at": _("阅读时间")}
    list_columns = ["kind", "title", "created_at", "read_at", "link"]
    show_columns = ["kind", "title", "body", "unit", "created_at", "read_at", "link"]
    search_columns = ["kind", "title", "created_at", "read_at"]
    order_columns = ["kind", "title", "created_at", "read_at"]
    # Plain text (the export uses them too); the list widget draws the 未读 label and the link.
    formatters_columns = {"created_at": when, "read_at": when, "link": lambda v: safe_link(v) or ""}
    list_widget = InboxListWidget
    list_template = "jishi/inbox_list.html"
    show_history = False

    def render_template(self, template, **kwargs):
        if template == self.list_template and self.appbuilder.sm.has_access("can_mark_read",
                                                                             self.class_permission_name):
            kwargs["mark_all_url"] = url_for(".mark_all_read")
        return super().render_template(template, **kwargs)

    @expose("/show/<pk>")
    @has_access
    def show(self, pk):
        message = self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters)
        if message is None:
            abort(404)
        if message.read_at is None:
            message.read_at = utcnow()  # not audited (Message.__audit_exclude__)
            db.session.commit()
        return self.render_template("jishi/inbox_message.html", message=message, link=safe_link(message.link),
                                    title=message.title)

    @expose("/mark_all_read", methods=["POST"])
    @has_access
    @permission_name("mark_read")
    def mark_all_read(self):
        if csrf_ok():
            n = db.session.execute(
                update(Message).where(Message.recipient_id == current_user_id(), Message.read_at.is_(None),
                                      current_scope().clause(Message.unit_id))
                .values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount
            db.session.commit()
            flash(f"已将 {n} 条消息标为已读" if n else "没有未读消息", "success" if n else "info")
        return redirect(url_for(".list"))


class CaseDeadlineView(ReadOnlyModelView):
    """报送时限: one row per case and reporting node, scoped to the user's units."""

    route_base = "/deadlines"
    datamodel = SQLAInterface(CaseDeadline)
    list_title = _("报送时限")
    show_title = _("报送时限")
    label_columns = {"case.case_no": _("案例编号"), "case.full_name": _("姓名"), "case": _("案例"), "unit": _("单位"),
                     "node": _("报送节点"), "anchor_date": _("起算日期"), "days": _("期限天数"), "due_date": _("截止日期"),
                     "day_type": _("计日方式"), "status": _("状态"), "days_late": _("逾期天数"),
                     "submitted_on": _("报送日期"), "updated_at": _("更新时间")}
    list_columns = ["case.case_no", "case.full_name", "unit", "node", "anchor_date", "due_date", "day_type",
                    "status", "days_late", "submitted_on"]
    show_columns = ["case", "unit", "node", "anchor_date", "days", "day_type", "due_date", "status", "days_late",
                    "submitted_on", "updated_at"]
    # No relation here: FAB would preload every related row for the filter dropdowns.
    search_columns = ["status", "node", "due_date", "day_type", "submitted_on", "days_late"]
    base_order = ("due_date", "asc")
    formatters_columns = {
        "node": lambda v: NODE_LABELS.get(v, v),
        "day_type": lambda v: DAY_TYPES.get(v, v),
        "anchor_date": day, "due_date": day, "submitted_on": day, "updated_at": when,
    }


def _counts(value) -> str:
    """What a run counted, in words (app.display: the statistics' Chinese names; lists of ids left out)."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return stored(value)
    if isinstance(value, dict):  # a coded value (kind: quarterly) in the words the pages use (季报)
        value = {k: audit_value(v, k) if isinstance(v, str) else v for k, v in value.items()
                 if not isinstance(v, (list, dict))}
    return shown(value)


class TaskRunView(NoWritesMixin, SafeListMixin, ModelView):
    """任务运行记录 (admins): what each background run did, and a button to run the deadline scan now."""

    route_base = "/taskruns"
    datamodel = SQLAInterface(TaskRun)
    base_permissions = ["can_list", "can_show", "can_run_scan"]
    list_title = _("任务运行记录")
    show_title = _("任务运行记录")
    label_columns = {"id": _("编号"), "task": _("任务"), "status": _("状态"), "started_at": _("开始时间"),
                     "finished_at": _("结束时间"), "progress": _("进度"), "counts": _("统计"), "error": _("错误信息"),
                     "triggered_by": _("触发人")}
    list_columns = ["id", "task", "status", "started_at", "finished_at", "progress", "counts", "triggered_by"]
    show_columns = ["id", "task", "status", "started_at", "finished_at", "progress", "counts", "triggered_by", "error"]
    search_columns = ["task", "status", "started_at", "triggered_by"]
    base_order = ("id", "desc")
    page_size = 20
    formatters_columns = {
        "task": lambda v: TASK_NAMES.get(v, "其他任务"),
        "status": lambda v: Markup('<span class="label label-{}">{}</span>').format(RUN_CLASS.get(v, "default"), v),
        "started_at": when, "finished_at": when,
        "progress": lambda v: f"{v or 0}%",
        "counts": _counts,
    }
    list_template = "jishi/taskrun_list.html"

    def render_template(self, template, **kwargs):
        if template == self.list_template and self.appbuilder.sm.has_access("can_run_scan",
                                                                             self.class_permission_name):
            kwargs["scan_url"] = url_for(".run_scan")
        return super().render_template(template, **kwargs)

    @expose("/download/<string:filename>")
    def download(self, filename):
        abort(404)

    @expose("/scan", methods=["POST"])
    @has_access
    @permission_name("run_scan")
    def run_scan(self):
        if csrf_ok():
            try:
                deadlines_scan.delay()
            except Exception:  # noqa: BLE001 - the broker may be down: say so, never a 500
                log.exception("提交时限扫描任务失败")
                flash("时限扫描任务提交失败：任务队列暂不可用，请稍后重试或联系系统管理员", "danger")
            else:
                flash("已提交时限扫描任务，稍后刷新本页查看运行结果", "success")
        return redirect(url_for(".list"))
