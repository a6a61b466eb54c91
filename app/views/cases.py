"""Cases in the browser: list, the case page with its 11 steps, module forms, signing,
submission, 退回补正, version differences and attachments. Thin: every decision is made in
app/services (cases, case_workflow, attachments); every route loads the case through the scope.
"""
from __future__ import annotations

import datetime as dt
import json

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import lazy_gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.alarms.lights import latest_hits, module_lights
from app.display import field_label, minute
from app.extensions import db
from app.models import Attachment, Batch, Case, CasePerson, Signature
from app.queries import chain
from app.queries.history import case_history
from app.record import custom_items
from app.record.attachments import AttachmentRefused, read, storage_dir, store
from app.record.data import read_case
from app.record.input_checks import TEXT_MAX, text_problem
from app.record.lock import StaleWrite, display, module_snapshot, version_of
from app.scoping import visible
from app.spec import MODULE_KEYS, module
from app.views.base import ReadOnlyModelView, ScopedModelView
from app.views.case_forms import (editable_items, form_data_from_values, form_for, form_problems, item_labels,
                                  unique_problems, values_from_form)
from app.views.helpers import light_badge
from app.workflow import cases as case_service
from app.workflow import submission as case_workflow

CASE_LABELS = {
    "light": _("灯"),
    "case_no": _("案例编号"), "full_name": _("姓名"), "unit": _("选任责任单位"), "status": _("状态"),
    "version_no": _("版本"), "is_current": _("当前版本"), "created_at": _("创建时间"), "batch": _("批次"),
    "return_reason": _("退回原因"),
}


def _workflow():
    return case_workflow


class _CaseInterface(SQLAInterface):
    """The list (and its export) show each case's unit: the units of a page in one more SELECT, not
    one query per unit (bench/queries.py: the statements grew with the page size). Not a join: a
    deep page would join every row it skips.

    A page in id order is read as its ids first, then those rows (a deferred join): the ids of a
    unit's subtree come from the index on (unit_id, id) alone, where the whole rows were read
    backwards through the primary key until the offset was skipped (a district's deep page at
    1,000,000 cases: 270 ms → 5 ms, bench/pages.py)."""

    def apply_all(self, query, filters=None, order_column="", order_direction="", page=None, page_size=None,
                  select_columns=None, outer_default_load=False):
        paged = super().apply_all(query, filters, order_column, order_direction, page, page_size, select_columns,
                                  outer_default_load)
        if page_size and order_column == "id" and not select_columns:
            ids = paged.with_entities(Case.id).subquery()
            order = Case.id.asc() if order_direction == "asc" else Case.id.desc()
            paged = self.session.query(Case).filter(Case.id.in_(select(ids.c.id))).order_by(order)
        return paged.options(selectinload(Case.unit))


def _custom_rows(case) -> list[dict]:
    """The case's custom items (自定义数据项) with their values, for the case page."""
    out = []
    for key in MODULE_KEYS:
        values = custom_items.read_values(case, key)
        for item in custom_items.items_for(case, key):
            out.append({"module": key, "module_name": module(key).name, "key": item.key, "label": item.label,
                        "value": display(values.get(item.key))})
    return out


class CaseView(ScopedModelView):
    """案例 — the list and the case page. Generic add/edit/delete do not exist: a case changes
    only through the guided steps, and what is submitted never changes."""

    route_base = "/cases"
    datamodel = _CaseInterface(Case)
    list_title = _("案例列表")
    show_title = _("案例")
    label_columns = CASE_LABELS
    list_columns = ["light", "case_no", "full_name", "unit", "status", "version_no", "is_current", "created_at"]
    search_columns = ["case_no", "full_name", "status", "light", "is_current", "version_no"]
    base_order = ("id", "desc")
    formatters_columns = {"is_current": lambda v: "是" if v else "否", "light": lambda v: light_badge(v),
                          "created_at": minute}
    base_permissions = ["can_list", "can_show", "can_export", "can_create", "can_enter", "can_sign",
                        "can_submit", "can_review"]
    muldelete = None

    def render_template(self, template, **kwargs):
        if template == self.list_template and self.appbuilder.sm.has_access("can_create", self.class_permission_name):
            kwargs["create_url"] = url_for(".new")  # a link to the confirmation page
        return super().render_template(template, **kwargs)

    def _case(self, pk) -> Case:
        case = self.datamodel.get(pk, self._base_filters)
        if case is None:
            abort(404)
        return case

    def _flash_problems(self, exc):
        for p in exc.problems:
            label = next((i.label for i in module(p.module).items if i.key == p.key), "") \
                if p.module in MODULE_KEYS and p.key else ""
            flash(f"{label}：{p.message}" if label and label not in p.message else p.message, "danger")

    # ---- the case page ------------------------------------------------------------------------
    @expose("/show/<pk>")
    @has_access
    def show(self, pk):
        case = self._case(pk)
        return self.render_template(
            "jishi/case.html", case=case, modules=case_service.module_overview(case),
            editable=case_service.editable_modules(case), signatures=case.signatures,
            submissions=chain.submissions(case),
            versions=chain.versions(case), history=case_history(case), levels=Signature.LEVELS,
            module_lights=module_lights(case), hits=latest_hits(case), light_badge=light_badge,
            alarms=chain.alarms(case), deadlines=chain.deadlines(case),
            pledge=case.module_row("signature").authenticity_pledge if case.module_row("signature") else None,
            custom=_custom_rows(case),
            can=lambda perm: self.appbuilder.sm.has_access(perm, self.class_permission_name),
            title=f"{case.case_no} {case.full_name or ''}",
        )

    @expose("/new", methods=["GET", "POST"])
    @has_access
    @permission_name("create")
    def new(self):
        """新建案例 asks first: the GET page says what will be created (a draft of the user's unit, numbered
        in sequence, never deleted); only a POST that carries the confirmation creates it."""
        unit = getattr(g.user, "unit", None)
        if unit is None:
            flash("当前用户未归属任何单位，不能新建案例", "danger")
            return redirect(url_for(".list"))
        if request.method == "POST" and request.form.get("confirm") == "1":
            case = case_service.create_case(unit, g.user)
            flash(f"已新建案例 {case.case_no}", "success")
            return redirect(url_for(".show", pk=case.id))
        if request.method == "POST":
            flash("未新建案例：请在本页确认后再新建", "warning")
        return self.render_template("jishi/case_new.html", unit=unit, year=dt.date.today().year, title="新建案例")

    # ---- one step -----------------------------------------------------------------------------
    @expose("/show/<pk>/module/<key>", methods=["GET", "POST"])
    @has_access
    @permission_name("enter")
    def module(self, pk, key):
        case = self._case(pk)
        if key not in MODULE_KEYS or key in ("signature", "submission"):
            abort(404)
        extra = custom_items.items_for(case, key)  # the case's custom items (自定义数据项) of this module
        form_cls = form_for(key, extra)
        values = read_case(case)
        row = case.module_row(key)
        locked = key not in case_service.editable_modules(case)
        # One outcome, one summary on top: ``refused`` (nothing was saved), ``blocked`` (saved, but the
        # step could not be completed) or ``missing`` (saved, items still to fill in); each problem is
        # also shown once beside its field.
        problems, conflict, outcome = [], [], ""
        kept = 0
        # The version the form was opened on travels with it: a save over someone else's newer one
        # is refused with the differences (case_lock.StaleWrite).
        version, base = request.form.get("version") or None, request.form.get("base") or None
        if request.method == "POST" and not locked:
            form = form_cls()
            if not form.validate_on_submit():
                problems, outcome = form_problems(form, key), "refused"
            else:
                new_values, files = values_from_form(form, key, extra)
                stored, saved = [], False
                try:
                    stored = self._store_files(case, key, files, new_values)
                    result = case_service.save_module(case, key, new_values, handler=form.handler.data or "",
                                                      leader=form.leader.data or "", version=version, base=base)
                    saved = True
                    version = base = None  # the form now stands on the saved version
                    kept = sum(1 for v in new_values.values() if v not in (None, "", []))
                    if request.form.get("complete"):
                        case_service.complete_module(case, key)
                        flash(f"“{module(key).name}”已完成", "success")
                        return redirect(url_for(".show", pk=case.id))
                    flash(f"已保存“{module(key).name}”（{result.state}）", "success")
                    if not result.missing:
                        return redirect(url_for(".module", pk=case.id, key=key))
                    problems, outcome = result.missing, "missing"
                except StaleWrite as exc:
                    db.session.rollback()
                    _discard(stored)
                    conflict = exc.diff
                    version = base = None  # seen the differences: saving again is a deliberate choice
                    flash(exc.problems[0].message, "danger")
                except case_service.CaseError as exc:
                    db.session.rollback()
                    if not saved:
                        _discard(stored)
                    problems, outcome = exc.problems, "blocked" if saved else "refused"
                except ValueError as exc:  # attachment refused
                    db.session.rollback()
                    _discard(stored)
                    problems, outcome = [case_service.Problem(key, "", str(exc))], "refused"
            row = case.module_row(key)  # the state as stored now (saved, or rolled back)
        else:
            form = form_cls(data={**form_data_from_values(values[key], key, extra),
                                  "handler": getattr(row, "handler", None), "leader": getattr(row, "leader", None)})
        problems = unique_problems(problems)
        by_key = {}
        for p in problems:
            by_key.setdefault(p.key, []).append(p.message)
        files = {i.key: read_case(case)[key].get(i.key) for i in editable_items(key, extra) if i.kind == "file-ref"}
        if version is None:
            snapshot = module_snapshot(case, key)
            version, base = version_of(snapshot), json.dumps(snapshot, ensure_ascii=False)
        return self.render_template(
            "jishi/case_module.html", case=case, spec=module(key), form=form, items=editable_items(key, extra),
            problems=problems, outcome=outcome, kept=kept, by_key=by_key, locked=locked, files=files,
            version=version, base=base or "", conflict=conflict,
            attachments=chain.attachments_by_name(case), state=getattr(row, "state", "未填"),
            labels=item_labels(key, extra), title=f"{case.case_no} · {module(key).name}",
        )

    def _store_files(self, case, key, files, values) -> list[str]:
        stored = []
        for item_key, upload in files.items():
            batch = case.batch if module(key).item(item_key).batch_level else None
            att = store(upload.read(), upload.filename, unit_id=case.unit_id, case_id=case.id,
                        batch_id=batch.id if batch else None, item_key=item_key, user_id=g.user.id)
            stored.append(att.storage_key)
            values[item_key] = att.filename
        return stored

    # ---- signatures, pledge, submissions --------------------------------------------------------
    @expose("/show/<pk>/sign", methods=["POST"])
    @has_access
    @permission_name("sign")
    def sign(self, pk):
        level = request.form.get("level", "")
        level = int(level) if level.isascii() and level.isdigit() and len(level) < 3 else 0  # 0: refused
        post = request.form.get("post", "").strip()
        return self._command(pk, lambda case: _workflow().sign(case, g.user, level, post,
                                                               request.form.get("opinion", "")), "已签字")

    @expose("/show/<pk>/pledge", methods=["POST"])
    @has_access
    @permission_name("submit")
    def pledge(self, pk):
        return self._command(pk, lambda case: _workflow().set_pledge(case, g.user, True), "已作出真实性承诺")

    @expose("/show/<pk>/submit/<int:node>", methods=["POST"])
    @has_access
    @permission_name("submit")
    def submit(self, pk, node):
        return self._command(pk, lambda case: _workflow().submit(case, g.user, node),
                             "已提交" if node == 1 else "已二次提交")

    def _command(self, pk, run, done: str):
        """Run one workflow command on a case in scope; report success or every problem."""
        case = self._case(pk)
        try:
            run(case)
            flash(done, "success")
        except case_service.CaseError as exc:
            db.session.rollback()
            self._flash_problems(exc)
        return redirect(url_for(".show", pk=case.id))

    # ---- supervision ----------------------------------------------------------------------------
    @expose("/show/<pk>/return", methods=["POST"])
    @has_access
    @permission_name("review")
    def return_case(self, pk):
        case = self._case(pk)
        reason = request.form.get("reason", "").strip()
        problem = text_problem("退回原因", reason, TEXT_MAX) if reason else "请填写退回补正的原因"
        if problem:
            flash(problem, "danger")
            return redirect(url_for(".show", pk=case.id))
        try:
            new = _workflow().return_for_correction(case, g.user, reason)
            flash(f"已退回补正，新版本 v{new.version_no}", "success")
            return redirect(url_for(".show", pk=new.id))
        except case_service.CaseError as exc:
            db.session.rollback()
            self._flash_problems(exc)
        return redirect(url_for(".show", pk=case.id))

    @expose("/show/<pk>/diff/<other>")
    @has_access
    @permission_name("show")
    def diff(self, pk, other):
        case, previous = self._case(pk), self._case(other)
        if case.root_id != previous.root_id:
            abort(404)
        old, new = (previous, case) if previous.version_no < case.version_no else (case, previous)
        return self.render_template("jishi/case_diff.html", case=case, old=old, new=new,
                                    changes=_workflow().diff_versions(old, new),
                                    title=f"{case.case_no} v{old.version_no} → v{new.version_no}")

    # ---- attachments ----------------------------------------------------------------------------
    @expose("/attachment/<int:att_id>")
    @has_access
    @permission_name("show")
    def attachment(self, att_id):
        """Download only within scope: the attachment's unit must be visible to the user."""
        att = visible(Attachment, att_id)
        if att is None or not att.has_content:
            abort(404)
        try:
            data = read(att)
        except (AttachmentRefused, OSError) as exc:
            flash(str(exc), "danger")
            abort(404)
        import io

        return send_file(io.BytesIO(data), download_name=att.filename, as_attachment=True,
                         mimetype=att.content_type or "application/octet-stream")


def _discard(storage_keys) -> None:
    """Files written for a save that was then refused: nothing refers to them."""
    for key in storage_keys:
        (storage_dir() / key).unlink(missing_ok=True)


class BatchView(ScopedModelView):
    """批次 — one meeting's cases; its meeting data is entered once (through the 讨论决定 step)."""

    datamodel = SQLAInterface(Batch)
    list_title = _("批次列表")
    show_title = _("批次")
    label_columns = {"title": _("批次名称"), "unit": _("单位"), "decision_date": _("讨论决定日期"),
                     "decision_meeting_type": _("会议类型"), "members_total": _("应到会成员数"),
                     "members_present": _("实到会成员数"), "vote_method": _("表决方式"), "cases": _("案例")}
    list_columns = ["title", "unit", "decision_date", "decision_meeting_type", "members_total", "members_present"]
    show_columns = list_columns + ["vote_method", "cases"]
    search_columns = ["title", "decision_date", "decision_meeting_type"]
    base_permissions = ["can_list", "can_show", "can_export"]
    muldelete = None


class CasePersonView(ReadOnlyModelView):
    datamodel = SQLAInterface(CasePerson)
    list_title = _("案例人员")
    show_title = _("案例人员")
    label_columns = {"name": _("姓名"), "post": _("职务"), "item_key": _("数据项"), "case": _("案例"),
                     "position": _("序号"), "batch_id": _("批次编号")}
    list_columns = ["case", "item_key", "name", "post"]
    show_columns = ["case", "batch_id", "item_key", "position", "name", "post"]
    # The item's label from the catalogue; a person of a batch (the meeting) has no case of its own.
    formatters_columns = {"item_key": field_label, "case": lambda case: str(case) if case is not None else ""}
    search_columns = ["name", "item_key"]
