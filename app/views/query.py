"""条件查询 and 明细查询 in the browser.

* ``/query/`` — the filter form (every CaseFilter field, plus ``col=<column key>``: the drill-down
  of a statistics-table cell) and the paged result list;
* ``/query/saved…`` — the user's own saved queries (a saved query stores only parameters and always
  runs in the scope of whoever runs it);
* ``/query/case/<id>`` and ``…/print`` — one case's whole record chain, and its printable 记实表;
* ``/query/export.xlsx`` — the result list as xlsx, at once or (above JISHI_EXPORT_SYNC_MAX rows) as a
  background task whose file only its requester may download (``/query/exports``).

Every query goes through app.queries.cases with ``current_scope()``; every case is loaded through
``app.scoping.visible``. Nothing here widens what a user may see.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
import os
import tempfile
from urllib.parse import parse_qsl, urlencode

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.datastructures import MultiDict

from app.display import minute
from app.extensions import db
from app.integrity import ValidationFailed
from app.models import Case, ExportFile, SavedQuery, Signature
from app.queries import cases as q
from app.queries import chain
from app.queries.history import chain_history
from app.queries.saved import exports_with_runs, own_export, own_saved_query, saved_name_taken, saved_queries
from app.record import custom_items
from app.record.data import read_case
from app.reporting import exports as qx
from app.scoping import current_scope, visible
from app.spec import modules
from app.tasks.exports import export_cases
from app.views.helpers import csrf_ok, current_user_id, light_badge, page_arg, page_window, when
from app.workflow.submission import diff_versions

log = logging.getLogger(__name__)

PAGE_SIZE = 50


def _args_without(args: MultiDict, *keys) -> str:
    return urlencode([(k, v) for k, v in args.items(multi=True) if k not in keys and k != "page"])


def show_value(value) -> str:
    """A case value as text: dates, 是/否, people with their posts, lists joined with 、."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return minute(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        name = value.get("name", "")
        post = value.get("post")
        return f"{name}（{post}）" if post else str(name)
    if isinstance(value, (list, tuple)):
        return "、".join(show_value(v) for v in value)
    return str(value)


# ---- the whole record chain of one case ---------------------------------------------------------------

def case_chain(case: Case) -> dict:
    """Everything 明细查询 and the 记实表 show, in procedure order."""
    versions = chain.versions(case)
    values = read_case(case)
    steps = []
    for spec in modules():
        row = case.module_row(spec.key)
        steps.append({
            "spec": spec, "state": getattr(row, "state", None) or "未填",
            "handler": getattr(row, "handler", None) or "", "leader": getattr(row, "leader", None) or "",
            "completed_at": getattr(row, "completed_at", None),
            "rows": [(item, show_value(values[spec.key].get(item.key)))
                     for item in spec.items + custom_items.items_for(case, spec.key)],
        })
    version_ids = [v.id for v in versions]
    diffs = []
    for prev, nxt in zip(versions, versions[1:]):
        changes = diff_versions(prev, nxt)
        diffs.append({"old": prev, "new": nxt, "changes": [
            {**c, "module_name": next((s["spec"].name for s in steps if s["spec"].key == c["module"]), c["module"]),
             "old": show_value(c["old"]), "new": show_value(c["new"])} for c in changes]})
    return {
        "case": case, "versions": versions, "steps": steps, "values": values,
        "signatures": chain.signatures(version_ids),
        "submissions": chain.submissions(case),
        "diffs": diffs,
        "history": chain_history(version_ids, sorted({v.batch_id for v in versions if v.batch_id})),
        "evaluations": chain.evaluations(case),
        "alarms": chain.alarms(case),
        "deadlines": chain.deadlines(case),
        "version_no": {v.id: v.version_no for v in versions},
        "levels": Signature.LEVELS,
    }


# ---- the view ---------------------------------------------------------------------------------------------

class CaseQueryView(BaseView):
    """条件查询 / 明细查询 / 导出 (see the module docstring)."""

    route_base = "/query"
    default_view = "index"

    def _can(self, perm: str) -> bool:
        return self.appbuilder.sm.has_access(f"can_{perm}", self.class_permission_name)

    def _form_context(self) -> dict:
        return {"multi_fields": qx.multi_fields(), "single_fields": qx.single_fields(), "rules": qx.rule_codes(),
                "bases": qx.BASES, "columns": qx.BY_KEY}

    # ---- 条件查询 --------------------------------------------------------------------------------
    @expose("/")
    @has_access
    @permission_name("query")
    def index(self):
        scope = current_scope()
        pq = qx.parse_filter(request.args, scope)
        for message in pq.errors:
            flash(message, "danger")
        page = page_arg()
        rows, total, pages = [], None, 0
        if pq.ok:
            try:
                total = q.count(pq.filter, scope, **pq.extra())
                page, pages, offset = page_window(page, total, PAGE_SIZE)
                rows = q.page(pq.filter, scope, offset=offset, limit=PAGE_SIZE, **pq.extra())
            except SQLAlchemyError:
                db.session.rollback()
                log.exception("条件查询失败")
                flash("查询失败，请调整查询条件后重试", "danger")
                rows, total, pages = [], None, 0
        base_qs = _args_without(request.args)
        chips = [(key, label, value, _args_without(request.args, *_chip_params(key))) for key, label, value in pq.chips()]
        saved = saved_queries(current_user_id())
        return self.render_template(
            "jishi/query.html", pq=pq, form=pq.form, rows=rows, total=total, page=page, pages=pages,
            page_size=PAGE_SIZE, base_qs=base_qs, chips=chips, saved=saved, light_badge=light_badge,
            can_export=self._can("export"), can_detail=self._can("detail"),
            can_save=getattr(g.user, "unit_id", None) is not None,
            title="条件查询", custom_fields=qx.custom_fields(scope), **self._form_context())

    # ---- saved queries ---------------------------------------------------------------------------
    def _own_saved(self, pk) -> SavedQuery:
        row = own_saved_query(current_user_id(), pk)
        if row is None:
            abort(404)
        return row

    @expose("/saved")
    @has_access
    @permission_name("query")
    def saved(self):
        rows = saved_queries(current_user_id())
        return self.render_template("jishi/query_saved.html", rows=rows, describe=_describe_params,
                                    title="我的查询")

    @expose("/saved/add", methods=["POST"])
    @has_access
    @permission_name("query")
    def save(self):
        # The filter travels as the page's query string; re-encoded, never echoed raw into a redirect.
        qs = urlencode(parse_qsl(request.form.get("qs", ""), keep_blank_values=False))
        back = url_for(".index") + (f"?{qs}" if qs else "")
        if not csrf_ok():
            return redirect(back)
        name = (request.form.get("name") or "").strip()
        unit_id = getattr(g.user, "unit_id", None)
        if unit_id is None:
            flash("当前用户未归属任何单位，不能保存查询", "danger")
            return redirect(back)
        if not name:
            flash("请为查询起一个名称", "danger")
            return redirect(back)
        if len(name) > 100:
            flash("查询名称不能超过 100 个字", "danger")
            return redirect(back)
        return self._save(name, unit_id, qs, back)

    def _save(self, name, unit_id, qs, back):
        pq = qx.parse_filter(MultiDict(parse_qsl(qs)), current_scope())
        if not pq.ok:
            for message in pq.errors:
                flash(message, "danger")
            flash("查询条件有误，未保存", "danger")
            return redirect(back)
        if saved_name_taken(g.user.id, name):
            flash(f"已有名为“{name}”的查询，请换一个名称", "danger")
            return redirect(back)
        try:
            db.session.add(SavedQuery(user_id=g.user.id, unit_id=unit_id, name=name, params=pq.params()))
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            flash(f"已有名为“{name}”的查询，请换一个名称", "danger")
            return redirect(back)
        except (ValidationFailed, SQLAlchemyError) as exc:
            db.session.rollback()
            for message in getattr(exc, "errors", ["保存失败，未保存任何内容"]):
                flash(message, "danger")
            return redirect(back)
        flash(f"已保存查询“{name}”", "success")
        return redirect(back)

    @expose("/saved/<int:pk>/run")
    @has_access
    @permission_name("query")
    def run_saved(self, pk):
        row = self._own_saved(pk)
        qs = qx.query_string(row.params or {})
        return redirect(url_for(".index") + (f"?{qs}" if qs else ""))

    @expose("/saved/<int:pk>/delete", methods=["POST"])
    @has_access
    @permission_name("query")
    def delete_saved(self, pk):
        row = self._own_saved(pk)
        if csrf_ok():
            name = row.name
            db.session.delete(row)
            db.session.commit()
            flash(f"已删除查询“{name}”", "success")
        return redirect(url_for(".saved"))

    # ---- 明细查询 --------------------------------------------------------------------------------
    def _case(self, pk) -> Case:
        case = visible(Case, pk)
        if case is None:
            abort(404)
        return case

    @expose("/case/<int:pk>")
    @has_access
    @permission_name("detail")
    def detail(self, pk):
        case = self._case(pk)
        return self.render_template("jishi/query_case.html", light_badge=light_badge, when=when,
                                    title=f"{case.case_no} {case.full_name or ''}", **case_chain(case))

    @expose("/case/<int:pk>/print")
    @has_access
    @permission_name("detail")
    def print_case(self, pk):
        case = self._case(pk)
        return render_template("jishi/query_print.html", when=when, printed_at=dt.datetime.now(),
                               printed_by=g.user.username, **case_chain(case))

    # ---- exports ---------------------------------------------------------------------------------
    @expose("/export.xlsx")
    @has_access
    @permission_name("export")
    def export(self):
        scope = current_scope()
        pq = qx.parse_filter(request.args, scope)
        back = url_for(".index") + (f"?{_args_without(request.args)}" if request.args else "")
        if not pq.ok:
            for message in pq.errors:
                flash(message, "danger")
            flash("查询条件有误，未导出", "danger")
            return redirect(back)
        total = q.count(pq.filter, scope, **pq.extra())
        if total > qx.sync_limit():
            return self._export_later(pq, total, back)
        user = g.user
        tmp = tempfile.NamedTemporaryFile(prefix="jishi-query-", suffix=".xlsx", delete=False)
        tmp.close()
        try:
            rows = qx.write_export(tmp.name, pq, scope, user)
            with open(tmp.name, "rb") as f:
                data = io.BytesIO(f.read())
        finally:
            os.unlink(tmp.name)
        qx.record(getattr(user, "unit_id", None), f"条件查询导出：{pq.describe()}", rows)
        return send_file(data, as_attachment=True, download_name=qx.export_filename(), mimetype=qx.XLSX_MIMETYPE)

    def _export_later(self, pq, total, back):
        unit_id = getattr(g.user, "unit_id", None)
        if unit_id is None:
            flash(f"查询结果共 {total} 条，超过直接导出上限 {qx.sync_limit()} 条；当前用户未归属任何单位，"
                  "不能提交后台导出，请缩小查询范围后再导出", "danger")
            return redirect(back)
        export = ExportFile(user_id=g.user.id, unit_id=unit_id, kind="cases",
                            title=f"条件查询结果（{total} 条）：{pq.describe()}"[:200], params=pq.params())
        db.session.add(export)
        db.session.commit()
        try:
            export_cases.delay(export.id)
        except Exception:  # noqa: BLE001 - the queue is down: say so, never a 500
            log.exception("提交导出任务失败")
            db.session.rollback()
            db.session.delete(db.session.get(ExportFile, export.id))
            db.session.commit()
            flash("导出任务提交失败：任务队列暂不可用，请稍后重试或联系系统管理员", "danger")
            return redirect(back)
        flash(f"导出任务已提交：查询结果共 {total} 条，将在后台生成，完成后可在“我的导出”中下载", "success")
        return redirect(url_for(".exports"))

    @expose("/exports")
    @has_access
    @permission_name("export")
    def exports(self):
        rows = exports_with_runs(current_user_id())
        return self.render_template("jishi/query_exports.html", rows=rows, when=when, title="我的导出")

    @expose("/exports/<int:pk>/download")
    @has_access
    @permission_name("export")
    def download(self, pk):
        export = own_export(current_user_id(), pk)
        if export is None:
            abort(404)
        try:
            path = qx.verified_path(export)
        except qx.ExportUnavailable as exc:
            flash(str(exc), "danger")
            abort(404)
        qx.record(export.unit_id, f"下载条件查询导出文件“{export.filename}”（#{export.id}）", export.rows or 0)
        return send_file(path, as_attachment=True, download_name=export.filename, mimetype=qx.XLSX_MIMETYPE)


def _chip_params(key: str) -> tuple[str, ...]:
    """The query parameters behind one active-filter chip (removed together)."""
    return {"unit": ("unit", "unit_id", "subtree"), "date": ("date_from", "date_to", "basis"),
            "ci": ("ci", "cv")}.get(key, (key,))


def _describe_params(params: dict) -> str:
    """A saved query's conditions in words, read in the current user's scope."""
    pq = qx.parse_filter(qx.params_to_args(params or {}), current_scope())
    text = pq.describe()
    return text + ("（部分条件已不在您的权限范围内）" if pq.errors else "")
