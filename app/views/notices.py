"""通报 in the browser (/notices): the scoped list; 起草 (a period, 文号, correction days → a draft computed
from the data); the notice as a formatted document; 修改 (while 草稿); 印发 (POST); a printable page (no
script, no external asset); the workbook (总体情况, 迟报名单, 错报漏报, 上期整改, 单位排名).

Who sees what:

* the list, the document, the workbook: the issuing department's subtree (app.scoping) — and a draft only
  the issuing department itself (a system administrator sees all);
* ``/notices/received/<id>`` (the inbox link) and the print page: also any user whose unit the issued
  notice names — and nobody else.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
import re

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import expose
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import lazy_gettext as _
from sqlalchemy import or_
from sqlalchemy.exc import SQLAlchemyError

from app import dates
from app.extensions import db
from app.models.supervision import NOTICE_DRAFT, NOTICE_ISSUED, Notice
from app.record.evidence import head_text
from app.reporting.export_log import record_export
from app.scoping import current_scope
from app.supervision.notices import commands as svc
from app.supervision.notices.content import DEFAULT_CORRECTION_DAYS
from app.supervision.notices.workbook import write_xlsx
from app.views.base import ScopedModelView
from app.views.helpers import day, when

log = logging.getLogger(__name__)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_CLASS = {NOTICE_DRAFT: "warning", NOTICE_ISSUED: "success"}


def _own_unit_id() -> int:
    """The logged-in user's unit; an impossible id otherwise (never None: that would be IS NULL)."""
    return getattr(g.get("user"), "unit_id", None) or -1


class FilterDraftsOwnDepartment(BaseFilter):
    """Base filter: an issued notice, or a draft of the user's own department (admins: everything)."""

    name = "草稿仅发文单位可见"
    arg_name = "notice_readable"

    def apply(self, query, value):
        if current_scope().kind == "all":
            return query
        return query.filter(or_(Notice.status == NOTICE_ISSUED, Notice.unit_id == _own_unit_id()))


def _pk(value) -> int | None:
    """A primary key from the URL, or None (never a database error for nonsense or an overflow)."""
    try:
        pk = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk < 2 ** 31 else None


def _parse_date(value: str | None, label: str, problems: list[str]) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        problems.append(f"请填写{label}")
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(f"{label}“{value[:20]}”不是有效日期（YYYY-MM-DD）")
        return None


def _parse_days(value: str | None, problems: list[str]) -> int | None:
    value = (value or "").strip()
    if not re.fullmatch(r"\d{1,3}", value):
        problems.append(f"整改天数应为 {svc.MIN_CORRECTION_DAYS}–{svc.MAX_CORRECTION_DAYS} 的整数")
        return None
    return int(value)


def quick_periods(today: dt.date | None = None) -> list[tuple[str, dt.date, dt.date]]:
    """上季度 / 本季度 / 上年度 as (label, from, to)."""
    today = today or dt.date.today()
    return [(_("上季度"), *dates.last_quarter(today)), (_("本季度"), *dates.quarter_of(today)),
            (_("上年度"), *dates.year_of(dt.date(today.year - 1, 1, 1)))]


def _issue_effects(notice: Notice) -> dict:
    """What 印发 will do, said before it is done: who receives the notice, and the correction deadline."""
    people = svc.recipients(notice)
    req = (notice.content or {}).get("requirements") or {}
    return {"users": len(people), "units": len(svc.named_unit_ids(notice)),
            "clerks": sum(1 for _, _, role in people if role != svc.SUPERVISOR_ROLE),
            "supervisors": sum(1 for _, _, role in people if role == svc.SUPERVISOR_ROLE),
            "deadline": notice.correction_deadline,
            "days": req.get("correction_days", DEFAULT_CORRECTION_DAYS)}


class NoticeView(ScopedModelView):
    """通报: drafted from the data, edited and issued by the issuing department's supervisors."""

    route_base = "/notices"
    datamodel = SQLAInterface(Notice)
    base_filters = [["status", FilterDraftsOwnDepartment, None]]
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_issue", "can_export", "can_read_named"]
    muldelete = None  # a notice is never deleted through the app
    base_order = ("id", "desc")
    list_title = _("通报")
    show_title = _("通报")
    label_columns = {"id": _("编号"), "number": _("文号"), "title": _("标题"), "unit": _("发文单位"),
                     "period_from": _("起始日期"), "period_to": _("截止日期"), "status": _("状态"),
                     "correction_deadline": _("整改期限"), "created_by_name": _("起草人"), "created_at": _("起草时间"),
                     "issued_at": _("印发时间"), "issued_by_name": _("印发人")}
    list_columns = ["number", "title", "unit", "period_from", "period_to", "status", "correction_deadline", "issued_at"]
    search_columns = ["number", "title", "status", "period_from", "period_to", "issued_at"]
    order_columns = ["number", "period_from", "period_to", "status", "issued_at"]
    formatters_columns = {"period_from": day, "period_to": day, "correction_deadline": day, "issued_at": when,
                          "created_at": when}
    show_history = False

    # ---- loading --------------------------------------------------------------------------------
    def _visible(self, pk) -> Notice | None:
        """The notice if it is in the user's scope (and, a draft, of the user's own department)."""
        pk = _pk(pk)
        return self.datamodel.get(pk, self._base_filters) if pk is not None else None

    def _readable(self, pk) -> Notice | None:
        """Visible, or issued and naming the user's unit."""
        notice = self._visible(pk)
        if notice is not None:
            return notice
        pk = _pk(pk)
        notice = db.session.get(Notice, pk) if pk is not None else None
        unit_id = getattr(g.get("user"), "unit_id", None)
        if notice is not None and notice.status == NOTICE_ISSUED and unit_id is not None \
                and unit_id in svc.named_unit_ids(notice):
            return notice
        return None

    def _can(self, perm: str) -> bool:
        return self.appbuilder.sm.has_access(f"can_{perm}", self.class_permission_name)

    def _may_act(self, notice: Notice) -> bool:
        return notice.status == NOTICE_DRAFT and svc.is_issuer_supervisor(g.user, notice.unit_id)

    def _document(self, notice: Notice, *, received: bool = False):
        may_act = self._may_act(notice)
        can_issue = may_act and self._can("issue")
        return self.render_template(
            "jishi/notice.html", notice=notice, c=notice.content or {}, title=notice.title, received=received,
            can_edit=may_act and self._can("edit"), can_issue=can_issue, issue_effects=_issue_effects(notice)
            if can_issue else None,
            can_export=not received and self._can("export"), can_list=self._can("list") and not received)

    # ---- pages ----------------------------------------------------------------------------------
    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        user = g.user
        source = request.form if request.method == "POST" else request.args
        today = dt.date.today()
        default_from, default_to = dates.last_quarter(today)
        form = {"period_from": (source.get("period_from") or default_from.isoformat()).strip()[:20],
                "period_to": (source.get("period_to") or default_to.isoformat()).strip()[:20],
                "number": (source.get("number") or "").strip()[:60],
                "correction_days": (source.get("correction_days") or str(DEFAULT_CORRECTION_DAYS)).strip()[:5]}
        unit = getattr(user, "unit", None)
        allowed = unit is not None and svc.is_issuer_supervisor(user, unit.id)
        if request.method == "POST":
            problems: list[str] = []
            f = _parse_date(form["period_from"], "起始日期", problems)
            t = _parse_date(form["period_to"], "截止日期", problems)
            days = _parse_days(form["correction_days"], problems)
            if not allowed:
                problems.append("只有监督部门的监督员可以起草本单位的通报")
            if not problems:
                try:
                    notice = svc.draft(unit, f, t, user, number=form["number"] or None, correction_days=days)
                except svc.NoticeError as exc:
                    problems += exc.problems
                except SQLAlchemyError:
                    db.session.rollback()
                    log.exception("起草通报失败")
                    problems.append("起草失败：数据库暂时不可用，未保存任何内容，请稍后重试")
                else:
                    flash(f"已起草通报草稿（{notice.title}），请核对内容、修改文字后印发", "success")
                    return redirect(url_for(".show", pk=notice.id))
            for p in problems:
                flash(p, "danger")
        quick = [(label, f.isoformat(), t.isoformat()) for label, f, t in quick_periods(today)]
        return self.render_template("jishi/notice_form.html", form=form, quick=quick, unit=unit, allowed=allowed,
                                    title="起草通报")

    @expose("/show/<pk>")
    @has_access
    def show(self, pk):
        notice = self._visible(pk)
        if notice is None:
            abort(404)
        return self._document(notice)

    @expose("/received/<pk>")
    @has_access
    @permission_name("read_named")
    def received(self, pk):
        notice = self._readable(pk)
        if notice is None:
            abort(404)
        return self._document(notice, received=True)

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        notice = self._visible(pk)
        if notice is None:
            abort(404)
        if notice.status != NOTICE_DRAFT:
            flash("通报已印发，不能修改", "warning")
            return redirect(url_for(".show", pk=notice.id))
        content = notice.content or {}
        texts, req = content.get("texts") or {}, content.get("requirements") or {}
        form = {"title": notice.title, "number": notice.number or "", "intro": texts.get("intro", ""),
                "requirements": texts.get("requirements", ""), "next_steps": texts.get("next_steps", ""),
                "correction_deadline": day(notice.correction_deadline),
                "correction_days": str(req.get("correction_days", DEFAULT_CORRECTION_DAYS))}
        if request.method == "POST":
            form = {key: (request.form.get(key) or "") for key in form}
            problems: list[str] = []
            days = _parse_days(form["correction_days"], problems)
            deadline = None
            if form["correction_deadline"].strip():
                deadline = _parse_date(form["correction_deadline"], "整改期限", problems)
            if not problems:
                try:
                    svc.update_draft(notice, g.user, title=form["title"], number=form["number"],
                                     intro=form["intro"], requirements=form["requirements"],
                                     next_steps=form["next_steps"], correction_deadline=deadline,
                                     correction_days=days)
                except svc.NoticeError as exc:
                    db.session.rollback()
                    problems += exc.problems
                except SQLAlchemyError:
                    db.session.rollback()
                    log.exception("修改通报失败")
                    problems.append("保存失败：数据库暂时不可用，未保存任何内容，请稍后重试")
                else:
                    flash("已保存通报草稿", "success")
                    return redirect(url_for(".show", pk=notice.id))
            for p in problems:
                flash(p, "danger")
        return self.render_template("jishi/notice_edit.html", notice=notice, form=form,
                                    may_act=self._may_act(notice), title=f"修改通报：{notice.title}")

    @expose("/delete/<pk>", methods=["GET", "POST"])
    @permission_name("delete")
    def delete(self, pk):
        abort(404)

    @expose("/issue/<pk>", methods=["POST"])
    @has_access
    @permission_name("issue")
    def issue(self, pk):
        notice = self._visible(pk)
        if notice is None:
            abort(404)
        if request.form.get("confirm") != "1":  # 印发 locks the notice and sends it: only when confirmed
            flash("未印发：请勾选“我已核对，确认印发”后再点击印发", "warning")
            return redirect(url_for(".show", pk=notice.id))
        try:
            ids = svc.issue(notice, g.user)
        except svc.NoticeError as exc:
            db.session.rollback()
            for p in exc.problems:
                flash(p, "danger")
        except SQLAlchemyError:
            db.session.rollback()
            log.exception("印发通报失败")
            flash("印发失败：数据库暂时不可用，通报仍为草稿，请稍后重试", "danger")
        else:
            flash(f"已印发：整改期限 {notice.correction_deadline.isoformat()}，已向 {len(ids)} 位用户发送站内消息",
                  "success")
        return redirect(url_for(".show", pk=notice.id))

    @expose("/<int:pk>/print")
    @has_access
    @permission_name("read_named")
    def print_notice(self, pk):
        notice = self._readable(pk)
        if notice is None:
            abort(404)

        # The evidence chain head on paper: a copy outside the system (flask jishi verify --head).
        return self.render_template("jishi/notice_print.html", notice=notice, c=notice.content or {},
                                    evidence_head=head_text())

    @expose("/<int:pk>/export.xlsx")
    @has_access
    @permission_name("export")
    def export_notice(self, pk):
        notice = self._visible(pk)
        if notice is None:
            abort(404)
        buf = io.BytesIO()
        n = write_xlsx(buf, notice)
        record_export(Notice.__tablename__, notice.unit_id,
                      f"通报导出：{notice.title}" + (f"（{notice.number}）" if notice.number else "") + f"（#{notice.id}）",
                      n)
        buf.seek(0)
        safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "", notice.number or notice.title).strip()[:150] or "通报"
        return send_file(buf, as_attachment=True, download_name=f"通报-{safe}-{notice.id}.xlsx",
                         mimetype=XLSX_MIMETYPE)


__all__ = ["NoticeView", "quick_periods"]
