"""统计报表 in the browser: the generated monthly and quarterly workbooks (scoped like every
unit-owned list, downloaded through a scoped route), and the report schedule (admins only), with
a button that generates the last period's reports at once."""
from __future__ import annotations

import datetime as dt

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import ModelView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_appbuilder.widgets import ListWidget
from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from sqlalchemy.exc import SQLAlchemyError
from wtforms import BooleanField, IntegerField
from wtforms.validators import InputRequired

from app.extensions import db
from app.integrity import ValidationFailed
from app.models.deadlines import ReportFile, ReportSchedule
from app.reporting.export_log import record_export
from app.reporting.scheduled import KINDS, XLSX_MIMETYPE, ReportUnavailable, period_for, verified_path
from app.tasks.reports import reports_generate
from app.views.base import ReadOnlyModelView
from app.views.helpers import when


def _kind_label(kind) -> str:
    return KINDS.get(kind, kind or "")


def _size(value) -> str:
    if value is None:
        return ""
    return f"{value / 1024:.1f} KB" if value >= 1024 else f"{value} 字节"


class ReportFileListWidget(ListWidget):
    """FAB's list, with a download button on every row."""

    template = "jishi/report_file_list_widget.html"


class ReportFileView(ReadOnlyModelView):
    """统计报表: the workbooks of the units in the user's scope, newest first."""

    route_base = "/reports"
    datamodel = SQLAInterface(ReportFile)
    base_permissions = ["can_list", "can_show", "can_export", "can_download"]
    list_widget = ReportFileListWidget
    base_order = ("id", "desc")
    list_title = _("统计报表")
    show_title = _("统计报表")
    label_columns = {"kind": _("类别"), "period_start": _("统计起始日"), "period_end": _("统计截止日"),
                     "unit": _("单位"), "filename": _("文件名"), "created_at": _("生成时间"),
                     "size": _("大小"), "sha256": _("SHA-256")}
    list_columns = ["kind", "period_start", "period_end", "unit", "created_at", "size"]
    show_columns = ["kind", "period_start", "period_end", "unit", "filename", "created_at", "size", "sha256"]
    search_columns = ["period_start", "period_end", "filename", "created_at"]
    formatters_columns = {"kind": _kind_label, "size": _size, "created_at": when}

    @expose("/file/<int:pk>")
    @has_access
    @permission_name("download")
    def file(self, pk):
        """Stream the stored workbook under its Chinese name; 404 outside the user's scope."""
        report = self._visible_or_404(pk)
        try:
            path = verified_path(report)
        except ReportUnavailable as exc:
            flash(str(exc), "danger")
            abort(404)
        record_export(ReportFile.__tablename__, report.unit_id,
                      f"下载统计报表“{report.filename}”（#{report.id}）", 1)
        return send_file(path, as_attachment=True, download_name=report.filename, mimetype=XLSX_MIMETYPE)


class _ChineseIntegerField(IntegerField):
    """An integer field whose "not a number" error is in Chinese."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(f"“{self.label.text}”应为整数") from None


def _generate_targets() -> list[dict]:
    """One 立即生成 button per schedule, with the period it would generate."""
    today = dt.date.today()
    out = []
    for s in db.session.query(ReportSchedule).order_by(ReportSchedule.kind):
        if s.kind in KINDS:
            start, end = period_for(s.kind, today)
            out.append({"id": s.id, "kind": s.kind, "label": KINDS[s.kind], "start": start, "end": end})
    return out


class GenerateForm(FlaskForm):
    """The 立即生成 button: no fields, only the CSRF token. Checked here as well, so the button
    stays protected whatever the app-wide CSRF set-up (a no-op when WTF_CSRF_ENABLED is off)."""


class ReportScheduleView(ModelView):
    """报表计划 (admins only): when each periodic report is generated, and 立即生成."""

    route_base = "/report-schedules"
    datamodel = SQLAInterface(ReportSchedule)
    base_permissions = ["can_list", "can_show", "can_edit", "can_generate"]
    list_template = "jishi/report_schedule_list.html"
    list_title = _("报表计划")
    show_title = _("报表计划")
    edit_title = _("编辑报表计划")
    label_columns = {"kind": _("报表"), "enabled": _("启用"), "day": _("生成日"), "hour": _("生成时刻")}
    description_columns = {"day": _("统计周期结束后的第几天生成（1–28）"), "hour": _("当天几点生成（0–23 点）")}
    list_columns = ["kind", "enabled", "day", "hour"]
    show_columns = list_columns
    edit_columns = ["enabled", "day", "hour"]
    search_columns = ["kind", "enabled"]
    base_order = ("kind", "asc")
    formatters_columns = {"kind": _kind_label, "enabled": lambda v: "是" if v else "否"}
    edit_form_extra_fields = {
        "enabled": BooleanField(_("启用"), default=True),
        "day": _ChineseIntegerField(_("生成日"), validators=[InputRequired(message=_("请填写生成日"))]),
        "hour": _ChineseIntegerField(_("生成时刻"), validators=[InputRequired(message=_("请填写生成时刻"))]),
    }

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            kwargs["can_generate"] = self.appbuilder.sm.has_access("can_generate", self.class_permission_name)
            kwargs["generate_targets"] = _generate_targets()
        return super().render_template(template, **kwargs)

    def _edit(self, pk):
        """Save through validate_write: every problem is flashed in Chinese and the form keeps
        what was typed; nothing is saved unless everything is valid."""
        if request.method != "POST":
            return super()._edit(pk)
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        form = self.edit_form.refresh(request.form)
        form._id = pk
        if form.validate():
            with db.session.no_autoflush:
                form.populate_obj(item)
                errors = item.validate_write()
            if not errors and self._commit():
                return None
            for message in errors:
                flash(message, "danger")
            db.session.rollback()
        return self._get_edit_widget(form=form)

    def _commit(self) -> bool:
        try:
            db.session.commit()
        except (ValidationFailed, SQLAlchemyError):
            db.session.rollback()
            flash(str(_("保存失败，未保存任何内容")), "danger")
            return False
        flash(str(self.edit_row_message), "success")
        return True

    @expose("/edit/<int:pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        return super().edit(pk)

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        return super().show(pk)

    @expose("/generate/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("generate")
    def generate(self, pk):
        """立即生成: queue the report of the last complete period for every supervising unit."""
        schedule = self.datamodel.get(pk, self._base_filters)
        if schedule is None or schedule.kind not in KINDS:
            abort(404)
        if not GenerateForm().validate_on_submit():
            flash(str(_("页面已过期或请求无效（缺少安全令牌），请刷新页面后重试")), "danger")
            return redirect(url_for(".list"))
        start, end = period_for(schedule.kind, dt.date.today())
        try:
            reports_generate.delay(schedule.kind, None, g.user.username)
        except Exception:  # noqa: BLE001 - the queue is down: say so, never a 500
            flash(str(_("任务队列暂不可用，请稍后重试或使用命令行 flask reports generate")), "danger")
            return redirect(url_for(".list"))
        flash(f"已提交生成任务：{_kind_label(schedule.kind)}（{start.isoformat()} 至 {end.isoformat()}），"
              "完成后报表出现在“统计报表”中，并通知各监督员", "success")
        return redirect(url_for(".list"))
