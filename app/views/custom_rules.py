"""自定义规则 in the browser: write a rule (a new version, saved as a draft and checked: Chinese errors with
the position), 试运行 it over existing cases (read-only), ask for and give the second administrator's
approval (四眼原则), stop it. Administrators for everyone; a supervising department for its own subtree
(app/workflow/custom_rules.py decides; this view only translates)."""
from __future__ import annotations

import datetime as dt

import json

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import lazy_gettext as _

from app.enums import ALL_GRADES
from app.extensions import db
from app.models.custom_rules import CUSTOM_DRAFT, CUSTOM_ENABLED, CUSTOM_PENDING
from app.record import custom_items
from app.rules import expression
from app.rules.registry import CATEGORY_NAMES, POINTS
from app.scoping import current_scope
from app.spec import modules
from app.workflow import custom_rules as cr
from app.workflow import rule_packs

FORM_FIELDS = ("code", "title", "category", "severity", "basis", "effective_from", "expression", "unit",
               "region_code", "note")


def _items() -> list[dict]:
    """Every item a condition may read, by module: Chinese label shown, key used — the catalogue's, then
    the custom items (自定义数据项) this user's scope may see."""
    known = expression.known_items()
    custom: dict[str, list] = {}
    for d in custom_items.visible_definitions(current_scope()):
        custom.setdefault(d.module, []).append(d)
    out = []
    for m in modules():
        out.append({"module": m.name, "items": [
            {"key": i.key, "label": i.label, "type": expression.TYPE_NAMES[known[i.key][0]]}
            for i in m.items if i.key in known] + [
            {"key": d.key, "label": f"{d.label}（自定义）", "type": expression.TYPE_NAMES[known[d.key][0]]}
            for d in custom.get(m.key, []) if d.active and d.key in known]})
    return out


def _form_data(form) -> dict:
    data = {k: (form.get(k) or "").strip() for k in FORM_FIELDS}
    data["expression"] = form.get("expression") or ""
    data["points"] = form.getlist("points")
    data["grades"] = form.getlist("grades")
    data["selection_types"] = form.getlist("selection_types")
    return {k: v for k, v in data.items() if v not in ("", [])}


def _as_form(row) -> dict:
    return {"code": row.code, "title": row.title, "category": row.category, "severity": row.severity,
            "points": row.points.split(","), "basis": row.basis, "effective_from": row.effective_from.isoformat(),
            "expression": row.expression, "unit": row.unit.code if row.unit is not None else "",
            "region_code": row.region_code or "", "grades": row.grades or [],
            "selection_types": row.selection_types or []}


class CustomRulesView(BaseView):
    route_base = "/custom-rules"
    default_view = "index"

    def _editor(self, data: dict, errors=(), status=200):
        page = self.render_template("jishi/custom_rule_edit.html", title=str(_("编写自定义规则")), data=data,
                                    errors=list(errors), items=_items(), categories=CATEGORY_NAMES, points=POINTS,
                                    grades=ALL_GRADES, selection_types=cr.selection_types(),
                                    functions=expression.FUNCTIONS, context_vars=expression.CONTEXT_VARIABLES)
        return page, status

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        rows = cr.all_versions(current_scope())
        latest = {}
        for row in rows:
            latest[row.code] = row
        return self.render_template("jishi/custom_rules.html", title=str(_("自定义规则")),
                                    rules=sorted(latest.values(), key=lambda r: r.code),
                                    enabled=CUSTOM_ENABLED)

    @expose("/edit", methods=["GET", "POST"])
    @has_access
    @permission_name("edit")
    def edit(self):
        if request.method == "GET":
            code = request.args.get("code")
            data = (_as_form(cr.latest(code, current_scope())) if code
                    else {"points": ["E", "S1", "S2"], "effective_from": dt.date.today().isoformat()})
            return self._editor(data)
        data = _form_data(request.form)
        try:
            row = cr.save_draft(data, g.user)
        except cr.CustomRuleError as exc:
            db.session.rollback()
            return self._editor({**data, "points": data.get("points", [])}, exc.problems, 400)
        flash(f"已保存自定义规则 {row.code} 第 {row.version_no} 版（草稿），请试运行后提交另一位管理员审批", "success")
        return redirect(url_for(".show", code=row.code))

    @expose("/show/<code>")
    @has_access
    @permission_name("list")
    def show(self, code):
        try:
            row = cr.latest(code, current_scope())
        except cr.CustomRuleError:
            abort(404)
        tried = None
        if request.args.get("try"):
            try:
                tried = cr.try_rule(code, g.user, date_from=_day(request.args.get("from")),
                                    date_to=_day(request.args.get("to")), unit_code=request.args.get("unit") or None)
            except (cr.CustomRuleError, ValueError) as exc:
                flash(getattr(exc, "message", None) or "日期格式应为 YYYY-MM-DD", "danger")
        sm = self.appbuilder.sm
        return self.render_template(
            "jishi/custom_rule.html", title=f"自定义规则 {code}", row=row, versions=cr.versions(code), tried=tried,
            args=request.args, categories=CATEGORY_NAMES,
            awaiting=row.status in (CUSTOM_DRAFT, CUSTOM_PENDING), enabled=CUSTOM_ENABLED,
            can_approve=sm.has_access("can_approve", self.class_permission_name) and row.author_id != g.user.id,
            can_edit=sm.has_access("can_edit", self.class_permission_name))

    def _command(self, code, run, done: str):
        try:
            row = run()
            flash(done.format(row=row), "success")
        except cr.CustomRuleError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        return redirect(url_for(".show", code=code))

    @expose("/show/<code>/request", methods=["POST"])
    @has_access
    @permission_name("edit")
    def request_approval(self, code):
        return self._command(code, lambda: cr.request_approval(code, g.user), "已提交审批：请另一位管理员审批启用")

    @expose("/show/<code>/approve", methods=["POST"])
    @has_access
    @permission_name("approve")
    def approve(self, code):
        return self._command(code, lambda: cr.approve(code, g.user),
                             "已审批启用第 {row.version_no} 版，{row.effective_from} 起生效")

    @expose("/show/<code>/disable", methods=["POST"])
    @has_access
    @permission_name("approve")
    def disable(self, code):
        try:
            day = _day(request.form.get("from")) or dt.date.today()
        except ValueError:
            flash("停用日期格式应为 YYYY-MM-DD", "danger")
            return redirect(url_for(".show", code=code))
        return self._command(code, lambda: cr.disable(code, g.user, day), "已停用，{row.effective_from} 起")


class RulePackView(BaseView):
    """规则包: download the enabled custom rules the user sees as one signed file; upload one to see the
    difference (nothing written), then write its new and changed rules as drafts (approved like any)."""

    route_base = "/custom-rules/pack"
    default_view = "upload"
    MAX_BYTES = 2 * 1024 * 1024

    @expose("/export.json")
    @has_access
    @permission_name("export")
    def export(self):
        try:
            codes = [c for c in request.args.getlist("code") if c][:500] or None  # ?code=Z01&code=Z02: those only
            pack = rule_packs.export_pack(codes, scope=current_scope(), source=request.args.get("source", ""))
        except cr.CustomRuleError as exc:
            flash(exc.message, "danger")
            return redirect(url_for("CustomRulesView.index"))
        return Response(json.dumps(pack, ensure_ascii=False, indent=2), mimetype="application/json",
                        headers={"Content-Disposition": "attachment; filename=rule-pack.json"})

    @expose("/", methods=["GET", "POST"])
    @has_access
    @permission_name("import")
    def upload(self):
        changes, text, errors, written = None, "", [], None
        if request.method == "POST":
            upload = request.files.get("file")
            text = (upload.read(self.MAX_BYTES + 1).decode("utf-8", "replace") if upload
                    else request.form.get("pack", ""))
            try:
                if len(text) > self.MAX_BYTES:
                    raise cr.CustomRuleError(["规则包文件过大（上限 2 MB）"])
                try:
                    pack = json.loads(text)
                except ValueError:
                    raise cr.CustomRuleError(["文件不是有效的 JSON"]) from None
                if request.form.get("apply"):
                    written = rule_packs.import_pack(pack, g.user)
                    flash(f"已写入 {len(written)} 条规则的草稿版本，须另一位管理员审批启用", "success")
                else:
                    changes = rule_packs.diff(pack, g.user)
            except cr.CustomRuleError as exc:
                db.session.rollback()
                errors = exc.problems
        return self.render_template("jishi/custom_rule_pack.html", title=str(_("规则包")), changes=changes,
                                    pack_text=text if changes else "", errors=errors, written=written)


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None
