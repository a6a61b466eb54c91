"""Rules in the browser: the catalogue with the settings in force, versioned settings (admin),
the holiday calendar (admin), and alarms with 叫停纠偏 / 核实无误 (supervisors)."""
from __future__ import annotations

import datetime as dt
import re

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, ModelView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import lazy_gettext as _

from app.display import VALUE_LABELS
from app.extensions import db
from app.models import Alarm, CalendarDay, RuleSetting
from app.models.supervision import AppointmentDocument
from app.queries.rule_versions import judged_since, versions
from app.queries.units import unit_by_code
from app.rule_settings import SettingRefused, add_version, custom_rules_in_force, effective_params, settings_for
from app.rules.catalog import all_rules
from app.rules.registry import CATEGORY_NAMES
from app.scoping import current_scope
from app.spec.rule_params import (MARKERS, PARAMS, ParamError, basis_words, form_text, param, parse, show_params,
                                  show_value)
from app.supervision.alarm_actions import AlarmError, dismiss, halt
from app.views.base import ReadOnlyModelRestApi, ScopedModelView
from app.views.helpers import when


SEVERITY_WORDS = {"red": "红灯", "yellow": "黄灯", "red/yellow": "红灯或黄灯"}
POINT_WORDS = {"E": "录入时", "S1": "初次提交", "S2": "二次提交", "D": "时限扫描"}
SINCE_ALWAYS = dt.date(1900, 1, 1)


def _rule_or_404(code: str):
    rule = all_rules().get(code)
    if rule is None:
        abort(404)
    return rule


class RulesCatalogView(BaseView):
    """硬杠规则目录: every rule, its basis and the settings in force today; a rule's page with the version in
    force, its history and the cases judged under it."""

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
                         "params": show_params(code, effective_params(rule, setting)), "setting": setting,
                         "basis": basis_words(rule.basis),
                         "category": CATEGORY_NAMES.get(rule.category, rule.category)})
        for rule in custom_rules_in_force(dt.date.today()):  # 自定义规则 in force today, approved
            rows.append({"rule": rule, "enabled": True, "params": [], "setting": None, "custom": True,
                         "basis": rule.basis, "category": CATEGORY_NAMES.get(rule.category, rule.category)})
        return self.render_template("jishi/rules.html", rows=rows, title="硬杠规则", markers=MARKERS,
                                    severity=SEVERITY_WORDS, points=POINT_WORDS)

    @expose("/rule/<code>")
    @has_access
    @permission_name("catalog")
    def rule(self, code):
        rule = _rule_or_404(code)
        today = dt.date.today()
        in_force = settings_for(None, today).get(code)
        scope = current_scope()
        return self.render_template(
            "jishi/rule.html", rule=rule, in_force=in_force, today=today,
            enabled=in_force.enabled if in_force else rule.enabled_by_default,
            params=_param_rows(code, effective_params(rule, in_force)), basis=basis_words(rule.basis),
            category=CATEGORY_NAMES.get(rule.category, rule.category), severity=SEVERITY_WORDS, points=POINT_WORDS,
            versions=[(v, show_params(code, effective_params(rule, v.setting))) for v in versions(code, scope)],
            judged=judged_since(code, in_force.effective_from if in_force else SINCE_ALWAYS, scope),
            since_always=SINCE_ALWAYS, markers=MARKERS, when=when, title=f"{code} {rule.title}",
            can_add=self.appbuilder.sm.has_access("can_add", "RuleSettingView"))


def _param_rows(code: str, values: dict) -> list[dict]:
    out = []
    for key, value in values.items():
        p = param(code, key)
        out.append({"key": key, "label": p.label, "value": show_value(p, value), "range": _range_text(p)})
    return out


def _range_text(p) -> str:
    if p.kind in ("int", "mapping", "range") and p.max is not None:
        return f"{p.min}–{p.max} {p.unit}".strip()
    if p.kind == "ratio":
        return "0%–100%，可填百分数或分数"
    if p.kind == "choice":
        return "、".join(label for _, label in p.choices)
    if p.kind == "list":
        return "每行一项"
    if p.kind == "table":
        return "结构化参数，按规则目录设定"
    return ""


def _params_text(params) -> str:
    """The list's parameter column in words (the rule code is not at hand: the general labels)."""
    if not params:
        return "按默认值"
    return "；".join(f"{PARAMS[k].label} {show_value(PARAMS[k], v)}" if k in PARAMS else f"{k} {v}"
                    for k, v in params.items())


class RuleSettingView(ScopedModelView):
    """Versioned settings: a new row from a date on; earlier cases keep the version they were judged by.
    A version is entered through the rule's typed form (``version``), never as raw JSON; a stored version
    is history and is not edited."""

    unit_selectable = True  # admins set general rows (no unit) or a unit's override

    datamodel = SQLAInterface(RuleSetting)
    list_title = _("规则参数版本")
    show_title = _("规则参数版本")
    label_columns = {"code": _("规则编号"), "effective_from": _("生效日期"), "enabled": _("启用"),
                     "params": _("参数"), "region_code": _("地区代码"), "unit": _("单位"),
                     "note": _("说明"), "created_at": _("创建时间")}
    list_columns = ["code", "effective_from", "enabled", "params", "region_code", "unit", "note"]
    show_columns = list_columns + ["created_at"]
    search_columns = ["code", "effective_from", "enabled"]
    base_order = ("id", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_export"]
    formatters_columns = {"params": _params_text, "enabled": lambda v: "是" if v else "否",
                          "unit": lambda v: v.name if v is not None else "（通用）",
                          "region_code": lambda v: v or "（通用）"}

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        flash("请在规则页面按规则新增参数版本（每个参数单独填写）", "info")
        return redirect(url_for("RulesCatalogView.catalog"))

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("add")
    def edit(self, pk):
        """A stored version is history: a change is a new version of the rule, from a date on."""
        row = self.datamodel.get(pk, self._base_filters)
        if row is None:
            abort(404)
        flash("已生效的参数版本不修改；请新增一个版本，自某日起生效", "info")
        return redirect(url_for(".version", code=row.code))

    @expose("/delete/<pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("add")
    def delete(self, pk):
        abort(404)

    @expose("/version/<code>", methods=["GET", "POST"])
    @has_access
    @permission_name("add")
    def version(self, code):
        rule = _rule_or_404(code)
        today = dt.date.today()
        in_force = settings_for(None, today).get(code)
        current = effective_params(rule, in_force)
        fields = []
        for k, v in current.items():
            p = param(code, k)
            fields.append({"key": k, "param": p, "range": _range_text(p),
                           "text": show_value(p, v) if p.kind == "table" else form_text(p, v)})
        form = {"effective_from": (today + dt.timedelta(days=1)).isoformat(),
                "enabled": "1" if (in_force.enabled if in_force else rule.enabled_by_default) else "0",
                "note": "", "region_code": "", "unit": ""}
        errors: dict[str, str] = {}
        problems: list[str] = []
        judged = None
        if request.method == "POST":
            form = {k: (request.form.get(k) or "").strip() for k in form}
            for f in fields:
                if f["param"].kind != "table":
                    f["text"] = request.form.get(f"p_{f['key']}", "")
            values, effective_from, unit_id = self._read_version(rule, fields, form, errors)
            if effective_from is not None:
                judged = judged_since(code, effective_from, current_scope())
            if not errors and request.form.get("save"):
                try:
                    add_version(code, effective_from, enabled=form["enabled"] == "1", params=values,
                                note=form["note"], region_code=form["region_code"], unit_id=unit_id)
                except SettingRefused as exc:
                    problems = exc.problems
                else:
                    flash(f"已新增 {code} 的参数版本，自 {effective_from.isoformat()} 起生效", "success")
                    return redirect(url_for("RulesCatalogView.rule", code=code))
            problems = list(errors.values()) + problems
        return self.render_template("jishi/rule_version.html", rule=rule, fields=fields, form=form, errors=errors,
                                    problems=problems, judged=judged, in_force=in_force,
                                    title=f"新增参数版本：{code} {rule.title}")

    def _read_version(self, rule, fields, form, errors):
        values = {}
        for f in fields:
            p = f["param"]
            if p.kind == "table":
                continue
            try:
                values[f["key"]] = parse(p, f["text"], rule.params[f["key"]])
            except ParamError as exc:
                errors[f["key"]] = str(exc)
        effective_from = None
        try:
            effective_from = dt.date.fromisoformat(form["effective_from"])
        except ValueError:
            errors["effective_from"] = f"“生效日期”应为日期（YYYY-MM-DD），实际为“{form['effective_from'][:20]}”"
        if form["enabled"] not in ("0", "1"):
            errors["enabled"] = "请选择是否启用"
        unit_id = None
        if form["unit"] or form["region_code"]:
            if not rule.local:
                errors["unit"] = f"规则 {rule.code} 不是地方性规则，只能设定通用版本"
            elif form["unit"]:
                unit = unit_by_code(form["unit"], current_scope())
                if unit is None:
                    errors["unit"] = f"单位“{form['unit'][:40]}”不存在或不在您的权限范围内"
                else:
                    unit_id = unit.id
        if form["region_code"] and not re.fullmatch(r"[0-9]{2,6}", form["region_code"]):
            errors["region_code"] = "“地区代码”应为 2–6 位数字"
        return values, effective_from, unit_id


class CalendarDayView(ModelView):
    datamodel = SQLAInterface(CalendarDay)
    list_title = _("节假日与调休")
    show_title = _("节假日与调休")
    add_title = _("新增节假日或调休")
    edit_title = _("编辑节假日或调休")
    label_columns = {"day": _("日期"), "working": _("是否上班"), "name": _("名称"), "source": _("来源")}
    list_columns = ["day", "working", "name", "source"]
    add_columns = ["day", "working", "name"]
    edit_columns = add_columns
    search_columns = ["day", "working", "name", "source"]
    base_order = ("day", "desc")
    formatters_columns = {"working": lambda v: "上班" if v else "放假", "source": lambda v: VALUE_LABELS["source"].get(v, v)}

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
