"""Rules in the browser: the catalogue with the settings in force, versioned settings (admin),
the holiday calendar (admin), and alarms with 叫停纠偏 / 核实无误 (supervisors)."""
from __future__ import annotations

import datetime as dt

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, ModelView, expose
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import lazy_gettext as _
from wtforms import SelectField

from app.extensions import db
from app.models import Alarm, CalendarDay, RuleSetting
from app.models.supervision import AppointmentDocument
from app.rule_settings import custom_rules_in_force, effective_params, setting_problems, settings_for
from app.rules.catalog import all_rules
from app.rules.registry import CATEGORY_NAMES, catalogue
from app.supervision.alarm_actions import AlarmError, dismiss, halt
from app.views.base import ReadOnlyModelRestApi, ScopedModelView, WriteRefused


class RulesCatalogView(BaseView):
    """硬杠规则目录: every rule, its basis and the settings in force today."""

    route_base = "/rules"
    default_view = "catalog"

    @expose("/")
    @has_access
    def catalog(self):
        settings = settings_for(None, dt.date.today())
        rows = []
        for code, rule in sorted(all_rules().items()):
            setting = settings.get(code)
            rows.append({"rule": rule, "enabled": setting.enabled if setting else rule.enabled_by_default,
                         "params": effective_params(rule, setting), "setting": setting,
                         "category": CATEGORY_NAMES.get(rule.category, rule.category)})
        for rule in custom_rules_in_force(dt.date.today()):  # 自定义规则 in force today, approved
            rows.append({"rule": rule, "enabled": True, "params": {}, "setting": None, "custom": True,
                         "category": CATEGORY_NAMES.get(rule.category, rule.category)})
        return self.render_template("jishi/rules.html", rows=rows, title="硬杠规则")


class RuleSettingView(ScopedModelView):
    """Versioned settings: a new row from a date on; earlier cases keep the version they were judged by."""

    unit_selectable = True  # admins set general rows (no unit) or a unit's override

    datamodel = SQLAInterface(RuleSetting)
    list_title = _("规则参数版本")
    add_title = _("新增规则参数版本")
    edit_title = _("编辑规则参数版本")
    show_title = _("规则参数版本")
    label_columns = {"code": _("规则编号"), "effective_from": _("生效日期"), "enabled": _("启用"),
                     "params": _("参数（JSON）"), "region_code": _("地区代码"), "unit": _("单位"),
                     "note": _("说明"), "created_at": _("创建时间")}
    list_columns = ["code", "effective_from", "enabled", "params", "region_code", "unit", "note"]
    add_columns = ["code", "effective_from", "enabled", "params", "region_code", "unit", "note"]
    edit_columns = add_columns
    search_columns = ["code", "effective_from", "enabled"]
    base_order = ("id", "desc")

    add_form_extra_fields = {"code": SelectField(_("规则编号"), choices=lambda: _rule_choices(), widget=Select2Widget())}
    edit_form_extra_fields = add_form_extra_fields

    def pre_add(self, item):
        _check_setting(item)
        super().pre_add(item)

    def pre_update(self, item):
        _check_setting(item)
        super().pre_update(item)


def _rule_choices():
    return [(c, f"{c} {r['title']}") for c, r in sorted(catalogue().items())]


def _check_setting(item):
    if isinstance(item.params, str):
        import json

        try:
            item.params = json.loads(item.params or "{}")
        except ValueError:
            raise WriteRefused(["参数应为 JSON 对象，例如 {\"min_work_years\": 5}"]) from None
    errors = setting_problems(item)
    if errors:
        raise WriteRefused(errors)


class CalendarDayView(ModelView):
    datamodel = SQLAInterface(CalendarDay)
    list_title = _("节假日与调休")
    label_columns = {"day": _("日期"), "working": _("是否上班"), "name": _("名称"), "source": _("来源")}
    list_columns = ["day", "working", "name", "source"]
    add_columns = ["day", "working", "name"]
    edit_columns = add_columns
    search_columns = ["day", "working", "name", "source"]
    base_order = ("day", "desc")
    formatters_columns = {"working": lambda v: "上班" if v else "放假"}

    def pre_add(self, item):
        item.source = "admin"


class AlarmView(ScopedModelView):
    """报警: raised at the supervising department; 叫停 sends the case back with a deadline,
    核实无误 closes it with a written reason. Every transition is recorded."""

    route_base = "/alarms"
    datamodel = SQLAInterface(Alarm)
    list_title = _("报警列表")
    show_title = _("报警")
    label_columns = {"id": _("编号"), "case": _("案例"), "unit": _("单位"), "codes": _("触发规则"),
                     "message": _("说明"), "status": _("状态"), "raised_at": _("报警时间"), "point": _("时点"),
                     "correction_deadline": _("整改期限"), "closed_at": _("关闭时间")}
    list_columns = ["id", "case", "unit", "codes", "status", "raised_at", "correction_deadline"]
    show_columns = ["id", "case", "unit", "point", "codes", "message", "status", "raised_at",
                    "correction_deadline", "closed_at"]
    search_columns = ["codes", "status", "raised_at"]
    base_order = ("id", "desc")
    formatters_columns = {"case": lambda v: "（无案例：应报未报）" if v is None else v}  # an 应报未报 alarm names a document
    base_permissions = ["can_list", "can_show", "can_export", "can_review"]
    muldelete = None

    @expose("/show/<pk>")
    @has_access
    def show(self, pk):
        alarm = self.datamodel.get(pk, self._base_filters)
        if alarm is None:
            abort(404)
        document = db.session.get(AppointmentDocument, alarm.document_id) if alarm.document_id else None
        return self.render_template("jishi/alarm.html", alarm=alarm, title=f"报警 #{alarm.id}", document=document,
                                    can_review=self.appbuilder.sm.has_access("can_review", self.class_permission_name),
                                    tomorrow=(dt.date.today() + dt.timedelta(days=1)).isoformat())

    @expose("/show/<pk>/halt", methods=["POST"])
    @has_access
    @permission_name("review")
    def halt(self, pk):
        alarm = self.datamodel.get(pk, self._base_filters)
        if alarm is None:
            abort(404)
        try:
            deadline = dt.date.fromisoformat(request.form.get("deadline", ""))
            new = halt(alarm, g.user, request.form.get("reason", ""), deadline)
            flash(f"已叫停：案例已退回补正（第 {new.version_no} 版），整改期限 {deadline}", "success")
        except ValueError:
            flash("请填写有效的整改期限（YYYY-MM-DD）", "danger")
        except AlarmError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        return redirect(url_for(".show", pk=pk))

    @expose("/show/<pk>/dismiss", methods=["POST"])
    @has_access
    @permission_name("review")
    def dismiss(self, pk):
        alarm = self.datamodel.get(pk, self._base_filters)
        if alarm is None:
            abort(404)
        try:
            dismiss(alarm, g.user, request.form.get("reason", ""))
            flash("已核实无误并关闭", "success")
        except AlarmError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        return redirect(url_for(".show", pk=pk))


class AlarmApi(ReadOnlyModelRestApi):
    resource_name = "alarm"
    datamodel = SQLAInterface(Alarm)
    list_columns = ["id", "case_id", "root_id", "unit_id", "point", "codes", "message", "status", "raised_at",
                    "correction_deadline", "closed_at"]
    show_columns = list_columns
    search_columns = ["status", "codes", "case_id"]
