"""条件查询 and 明细查询 in the browser.

* ``/query/`` — the filter form (every CaseFilter field, plus ``col=<column key>``: the drill-down
  of a statistics-table cell) and the paged result list;
* ``/query/saved…`` — the user's own saved queries (a saved query stores only parameters and always
  runs in the scope of whoever runs it);
* ``/query/case/<id>`` and ``…/print`` — one case's whole record chain, and its printable 纪实表;
* ``/query/export.xlsx`` — the result list as xlsx, at once or (above JISHI_EXPORT_SYNC_MAX rows) as a
  background task whose file only its requester may download (``/query/exports``).

Every query goes through app.queries.cases with ``current_scope()``; every case is loaded through
``app.scoping.visible``. Nothing here widens what a user may see.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
import math
import os
import tempfile
from urllib.parse import parse_qsl, urlencode

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.integrity import ValidationFailed
from app.models import (
    MODULE_MODELS, Alarm, AuditLog, Case, CaseDeadline, EvaluationRun, ExportFile, SavedQuery, Signature, Submission,
    TaskRun,
)
from app.queries import cases as q
from app.scoping import current_scope, visible
from app.reporting import exports as qx
from app.views.notifications import csrf_ok

log = logging.getLogger(__name__)

PAGE_SIZE = 50
MAX_PAGE = 1_000_000


def query_url(params: dict | None = None, col: str | None = None) -> str:
    """The /query/ link for a filter: ``query_url(f.as_dict(), col="female")`` (for the statistics table)."""
    params = dict(params or {})
    if col:
        params["col"] = col
    qs = qx.query_string(params)
    return url_for("CaseQueryView.index") + (f"?{qs}" if qs else "")


def _args_without(args: MultiDict, *keys) -> str:
    return urlencode([(k, v) for k, v in args.items(multi=True) if k not in keys and k != "page"])


def _user_id() -> int:
    return getattr(g.get("user"), "id", None) or -1


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def show_value(value) -> str:
    """A case value as text: dates, 是/否, people with their posts, lists joined with 、."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        name = value.get("name", "")
        post = value.get("post")
        return f"{name}（{post}）" if post else str(name)
    if isinstance(value, (list, tuple)):
        return "、".join(show_value(v) for v in value)
    return str(value)


def _light(light) -> Markup:
    from app.views.rules import light_badge

    return light_badge(light)


# ---- the whole record chain of one case ---------------------------------------------------------------

def _history(version_ids: list[int], batch_ids: list[int], limit: int = 2000) -> list[AuditLog]:
    """The audit rows of every version of the case and of everything that belongs to them: the case
    rows, each step's row, the people, signatures, submissions and the meeting (batch)."""
    from app.models import CasePerson

    ids = [str(i) for i in version_ids]
    conds = [(AuditLog.table_name == Case.__tablename__) & AuditLog.record_id.in_(ids)]
    for model in MODULE_MODELS.values():
        sub = select(model.id).where(model.case_id.in_(version_ids))
        conds.append((AuditLog.table_name == model.__tablename__) & AuditLog.record_id.in_(
            [str(i) for i in db.session.execute(sub).scalars()]))
    for model in (CasePerson, Signature, Submission):
        rows = db.session.execute(select(model.id).where(model.case_id.in_(version_ids))).scalars()
        conds.append((AuditLog.table_name == model.__tablename__) & AuditLog.record_id.in_([str(i) for i in rows]))
    if batch_ids:
        conds.append((AuditLog.table_name == "batch") & AuditLog.record_id.in_([str(i) for i in batch_ids]))
    return db.session.execute(select(AuditLog).where(or_(*conds)).order_by(AuditLog.id).limit(limit)).scalars().all()


def _evaluations(case: Case) -> list[dict]:
    """The latest evaluation run of each point (E, S1, S2, D) with its hits."""
    from app.rules.registry import POINTS, all_rules

    rules = all_rules()
    runs = db.session.execute(select(EvaluationRun).where(EvaluationRun.case_id == case.id)
                              .order_by(EvaluationRun.id.desc())).scalars().all()
    latest = {}
    for run in runs:
        latest.setdefault(run.point, run)
    order = {p: i for i, p in enumerate(POINTS)}
    out = []
    for point, run in sorted(latest.items(), key=lambda kv: order.get(kv[0], 99)):
        hits = [{"code": r.rule_code, "title": getattr(rules.get(r.rule_code), "title", ""), "severity": r.severity,
                 "message": r.message, "version": r.rule_version} for r in run.results if r.outcome == "fail"]
        out.append({"run": run, "hits": hits, "count": len(run.results)})
    return out


def case_chain(case: Case) -> dict:
    """Everything 明细查询 and the 纪实表 show, in procedure order."""
    from app.record.data import read_case
    from app.workflow.submission import diff_versions
    from app.spec import modules
    from app.views.cases import history_labels

    versions = db.session.execute(select(Case).where(Case.root_id == case.root_id)
                                  .order_by(Case.version_no)).scalars().all()
    values = read_case(case)
    steps = []
    for spec in modules():
        row = case.module_row(spec.key)
        steps.append({
            "spec": spec, "state": getattr(row, "state", None) or "未填",
            "handler": getattr(row, "handler", None) or "", "leader": getattr(row, "leader", None) or "",
            "completed_at": getattr(row, "completed_at", None),
            "rows": [(item, show_value(values[spec.key].get(item.key))) for item in spec.items],
        })
    version_ids = [v.id for v in versions]
    diffs = []
    for prev, nxt in zip(versions, versions[1:]):
        changes = diff_versions(prev, nxt)
        diffs.append({"old": prev, "new": nxt, "changes": [
            {**c, "module_name": next((s["spec"].name for s in steps if s["spec"].key == c["module"]), c["module"]),
             "old": show_value(c["old"]), "new": show_value(c["new"])} for c in changes]})
    alarms = db.session.execute(select(Alarm).where(Alarm.root_id == case.root_id).order_by(Alarm.id)).scalars().all()
    return {
        "case": case, "versions": versions, "steps": steps, "values": values,
        "signatures": db.session.execute(select(Signature).where(Signature.case_id.in_(version_ids))
                                         .order_by(Signature.case_id, Signature.level, Signature.id)).scalars().all(),
        "submissions": db.session.execute(select(Submission).where(Submission.root_id == case.root_id)
                                          .order_by(Submission.id)).scalars().all(),
        "diffs": diffs,
        "history": _history(version_ids, sorted({v.batch_id for v in versions if v.batch_id})),
        "labels": history_labels(),
        "evaluations": _evaluations(case),
        "alarms": alarms,
        "deadlines": db.session.execute(select(CaseDeadline).where(CaseDeadline.root_id == case.root_id)
                                        .order_by(CaseDeadline.node)).scalars().all(),
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
        raw_page = request.args.get("page", "1").strip() or "1"
        try:
            page = int(raw_page)
            if page < 1 or page > MAX_PAGE:
                raise ValueError
        except ValueError:
            flash("分页参数无效，已显示第一页", "warning")
            page = 1
        rows, total, pages = [], None, 0
        if pq.ok:
            try:
                total = q.count(pq.filter, scope, **pq.extra())
                pages = max(1, math.ceil(total / PAGE_SIZE))
                page = min(page, pages)
                rows = q.page(pq.filter, scope, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, **pq.extra())
            except SQLAlchemyError:
                db.session.rollback()
                log.exception("条件查询失败")
                flash("查询失败，请调整查询条件后重试", "danger")
                rows, total, pages = [], None, 0
        base_qs = _args_without(request.args)
        chips = [(key, label, value, _args_without(request.args, *_chip_params(key))) for key, label, value in pq.chips()]
        saved = db.session.execute(select(SavedQuery).where(SavedQuery.user_id == _user_id())
                                   .order_by(SavedQuery.name)).scalars().all()
        return self.render_template(
            "jishi/query.html", pq=pq, form=pq.form, rows=rows, total=total, page=page, pages=pages,
            page_size=PAGE_SIZE, base_qs=base_qs, chips=chips, saved=saved, light_badge=_light,
            can_export=self._can("export"), can_detail=self._can("detail"),
            can_save=getattr(g.user, "unit_id", None) is not None,
            title="条件查询", **self._form_context())

    # ---- saved queries ---------------------------------------------------------------------------
    def _own_saved(self, pk) -> SavedQuery:
        row = db.session.execute(select(SavedQuery).where(SavedQuery.id == pk, SavedQuery.user_id == _user_id())
                                 ).scalar_one_or_none()
        if row is None:
            abort(404)
        return row

    @expose("/saved")
    @has_access
    @permission_name("query")
    def saved(self):
        rows = db.session.execute(select(SavedQuery).where(SavedQuery.user_id == _user_id())
                                  .order_by(SavedQuery.name)).scalars().all()
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
        exists = db.session.execute(select(SavedQuery.id).where(SavedQuery.user_id == g.user.id,
                                                                SavedQuery.name == name)).first()
        if exists:
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
        return self.render_template("jishi/query_case.html", light_badge=_light, when=_when,
                                    title=f"{case.case_no} {case.full_name or ''}", **case_chain(case))

    @expose("/case/<int:pk>/print")
    @has_access
    @permission_name("detail")
    def print_case(self, pk):
        from flask import render_template

        case = self._case(pk)
        return render_template("jishi/query_print.html", when=_when, printed_at=dt.datetime.now(),
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
            from app.tasks.exports import export_cases

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
        rows = db.session.execute(
            select(ExportFile, TaskRun).outerjoin(TaskRun, TaskRun.id == ExportFile.task_run_id)
            .where(ExportFile.user_id == _user_id()).order_by(ExportFile.id.desc()).limit(200)).all()
        return self.render_template("jishi/query_exports.html", rows=rows, when=_when, title="我的导出")

    @expose("/exports/<int:pk>/download")
    @has_access
    @permission_name("export")
    def download(self, pk):
        export = db.session.execute(select(ExportFile).where(ExportFile.id == pk, ExportFile.user_id == _user_id())
                                    ).scalar_one_or_none()
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
    return {"unit": ("unit", "unit_id", "subtree"), "date": ("date_from", "date_to", "basis")}.get(key, (key,))


def _describe_params(params: dict) -> str:
    """A saved query's conditions in words, read in the current user's scope."""
    pq = qx.parse_filter(qx.params_to_args(params or {}), current_scope())
    text = pq.describe()
    return text + ("（部分条件已不在您的权限范围内）" if pq.errors else "")
