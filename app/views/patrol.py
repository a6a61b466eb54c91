"""网上巡查 and 抽查 in the browser, over app.supervision.patrol (every decision is made there).

* ``/patrol/`` — the review worklist of the user's scope (submitted current versions not reviewed
  since their latest submission), paged; each row reviews with 通过 / 黄灯提示 / 红灯预警 /
  退回补正 and a written reason (POST ``/patrol/review/<case>``);
* ``/reviews/`` — the reviews made (read-only, scoped);
* ``/spotchecks/`` — the recorded draws; ``/spotchecks/draw`` draws and records one (seed
  prefilled at random, editable); a draw's page shows its seed, parameters, population and cases,
  draws again from the stored seed to show the same cases come out (``…/verify``), and records a
  finding on a sampled case;
* ``/findings/`` — findings with their deadlines (overdue ones highlighted); the unit's clerk
  reports the correction, the supervisor closes it.

Every route loads its row through the user's scope: a row outside it answers 404. Refusals of the
service are flashed in Chinese and nothing is written.
"""
from __future__ import annotations

import datetime as dt
import math
import secrets

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_appbuilder.widgets import ListWidget
from flask_babel import lazy_gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Case, Unit
from app.models.supervision import FINDING_DONE, FINDING_OPEN, REVIEW_RESULTS, Finding, Review, SpotCheck
from app.queries.history import record_history
from app.scoping import current_scope, visible
from app.supervision import patrol as svc
from app.views.base import ReadOnlyModelView
from app.views.helpers import day, light_badge, when
from app.workflow.submission import CaseError

PAGE_SIZE = 20
MIN_YEAR, MAX_YEAR = 1900, 2100
MAX_TITLE = 200
RESULT_CLASS = {"通过": "success", "黄灯提示": "warning", "红灯预警": "danger", "退回补正": "default"}
METHODS = {"rate": "按比例", "count": "按件数"}
FINDING_CLASS = {"整改中": "warning", "已整改": "info", "已关闭": "success"}


def _problems(exc) -> list[str]:
    """The Chinese problems of a refusal (PatrolError, or the workflow's CaseError)."""
    problems = getattr(exc, "problems", None) or [str(exc)]
    return [getattr(p, "message", p) for p in problems]


def _flash_refusal(exc) -> None:
    db.session.rollback()
    for problem in _problems(exc):
        flash(str(problem), "danger")


def parse_day(label: str, value, errors: list[str]) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        errors.append(f"“{label}”应为日期（YYYY-MM-DD），收到“{value[:20]}”")
        return None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        errors.append(f"“{label}”超出范围：应在 {MIN_YEAR} 年至 {MAX_YEAR} 年之间")
        return None
    return day


def _page_arg(total: int) -> tuple[int, int]:
    """(page, pages) from ?page=, 1-based; nonsense gives the first page with a message."""
    pages = max(1, math.ceil(total / PAGE_SIZE))
    raw = request.args.get("page", "1")
    try:
        page = int(raw)
    except ValueError:
        flash("分页参数无效，已显示第一页", "warning")
        return 1, pages
    if page < 1:
        flash("分页参数无效，已显示第一页", "warning")
        return 1, pages
    return min(page, pages), pages


# ---- 网上巡查 -----------------------------------------------------------------------------------------

class PatrolView(BaseView):
    """网上巡查: the review worklist and its four actions."""

    route_base = "/patrol"
    default_view = "index"

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        scope = current_scope()
        stmt = svc.worklist_select(scope)
        total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar() or 0
        page, pages = _page_arg(total)
        rows = db.session.execute(stmt.options(selectinload(Case.unit)).limit(PAGE_SIZE)
                                  .offset((page - 1) * PAGE_SIZE)).all()
        return self.render_template(
            "jishi/patrol.html", title=str(_("网上巡查")), rows=rows, total=total, page=page, pages=pages,
            results=REVIEW_RESULTS, result_class=RESULT_CLASS, light_badge=light_badge, when=when,
            can_review=self.appbuilder.sm.has_access("can_review", self.class_permission_name),
            reviews_url=url_for("ReviewView.list") if self.appbuilder.sm.has_access("can_list", "ReviewView") else None)

    @expose("/review/<int:case_id>", methods=["POST"])
    @has_access
    @permission_name("review")
    def review(self, case_id):
        case = visible(Case, case_id, current_scope())
        if case is None:
            abort(404)
        result = (request.form.get("result") or "").strip()
        label = str(case)
        try:
            svc.review(case, g.user, result, request.form.get("reason", ""))
        except (svc.PatrolError, _case_error()) as exc:
            _flash_refusal(exc)
        else:
            extra = "，案例已退回补正（新版本为草稿，待重新填报）" if result == "退回补正" else ""
            flash(f"已审核 {label}：{result}{extra}", "success")
        page = request.form.get("page", "")
        return redirect(url_for(".index", page=page) if page.isdigit() and page != "1" else url_for(".index"))


def _case_error():
    return CaseError


class ReviewView(ReadOnlyModelView):
    """巡查记录: every review made, newest first (rows are never changed)."""

    route_base = "/reviews"
    datamodel = SQLAInterface(Review)
    list_title = _("巡查记录")
    show_title = _("巡查记录")
    label_columns = {"id": _("编号"), "case": _("案例"), "unit": _("单位"), "result": _("审核结论"),
                     "reason": _("审核意见"), "reviewer_name": _("审核人"), "at": _("审核时间")}
    list_columns = ["at", "case", "unit", "result", "reason", "reviewer_name"]
    show_columns = ["id", "case", "unit", "result", "reason", "reviewer_name", "at"]
    search_columns = ["result", "reviewer_name", "reason", "at"]
    order_columns = ["at", "result", "reviewer_name"]
    base_order = ("id", "desc")
    formatters_columns = {"at": when}


# ---- 抽查 ---------------------------------------------------------------------------------------------

def _new_seed() -> str:
    return f"{secrets.randbelow(10 ** 8):08d}"


def _unit_choices(scope, user) -> list[Unit]:
    """A few units to suggest in the form: the user's unit and its children."""
    unit_id = getattr(user, "unit_id", None)
    if unit_id is not None and scope.contains(unit_id):
        return db.session.execute(select(Unit).where((Unit.id == unit_id) | (Unit.parent_id == unit_id))
                                  .order_by(Unit.path).limit(200)).scalars().all()
    if scope.kind == "all":
        return db.session.execute(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.code)
                                  .limit(200)).scalars().all()
    return []


def parse_draw_form(form, scope) -> tuple[dict, list[str]]:
    """The draw form → keyword arguments of record_spot_check (and the unit), with every problem."""
    errors: list[str] = []
    code = (form.get("unit") or "").strip()
    unit = None
    if not code:
        errors.append("请填写抽查单位代码")
    else:
        unit = db.session.execute(select(Unit).where(Unit.code == code[:40])).scalar_one_or_none()
        if unit is None or not scope.contains(unit.id):
            errors.append(f"单位代码“{code[:40]}”不存在或不在您的权限范围内")
            unit = None
    method = form.get("method") or "rate"
    rate = count = None
    if method == "rate":
        rate = (form.get("rate") or "").strip()
        if not rate:
            errors.append("请填写抽查比例（如 0.1）")
        else:
            try:
                rate = str(svc.parse_rate(rate))
            except svc.PatrolError as exc:
                errors += exc.problems
    elif method == "count":
        raw = (form.get("count") or "").strip()
        try:
            count = int(raw)
        except ValueError:
            errors.append(f"每单位抽查件数应为正整数，收到“{raw[:20]}”")
        else:
            if not 1 <= count <= svc.MAX_COUNT:
                errors.append(f"每单位抽查件数应为 1 至 {svc.MAX_COUNT} 之间的整数")
    else:
        errors.append("请选择抽查方式：按比例或按件数")
    seed = (form.get("seed") or "").strip()
    if not seed:
        errors.append("请填写随机种子，以便复现抽查结果")
    elif len(seed) > svc.MAX_SEED:
        errors.append(f"随机种子不能超过 {svc.MAX_SEED} 个字符")
    period_from = parse_day("起始日期", form.get("period_from"), errors)
    period_to = parse_day("截止日期", form.get("period_to"), errors)
    if period_from and period_to and period_from > period_to:
        errors.append("起始日期不能晚于截止日期")
    title = (form.get("title") or "").strip() or None
    if title and len(title) > MAX_TITLE:
        errors.append(f"标题不能超过 {MAX_TITLE} 个字")
    params = {"seed": seed, "rate": rate, "count": count, "period_from": period_from, "period_to": period_to,
              "title": title}
    return {"unit": unit, **params}, errors


def verification(check: SpotCheck) -> dict:
    """Draw again from the stored seed and parameters and compare with the stored cases."""
    again = svc.redraw(check)
    stored = [item.case_id for item in check.items]
    ids = set(stored) | set(again.case_ids)
    numbers = dict(db.session.execute(select(Case.id, Case.case_no).where(Case.id.in_(ids))).all()) if ids else {}
    return {"same": sorted(again.case_ids) == sorted(stored), "stored": stored, "again": again.case_ids,
            "stored_nos": [numbers.get(i, str(i)) for i in stored],
            "again_nos": [numbers.get(i, str(i)) for i in again.case_ids],
            "population": again.population, "population_same": again.population == check.population,
            "missing": sorted(set(stored) - set(again.case_ids)), "extra": sorted(set(again.case_ids) - set(stored))}


class SpotCheckView(ReadOnlyModelView):
    """抽查: recorded draws (never changed), a new draw, the redraw check and findings."""

    route_base = "/spotchecks"
    datamodel = SQLAInterface(SpotCheck)
    base_permissions = ["can_list", "can_show", "can_export", "can_draw", "can_add_finding"]
    list_title = _("抽查记录")
    show_title = _("抽查")
    label_columns = {"id": _("编号"), "title": _("标题"), "unit": _("抽查单位"), "seed": _("随机种子"),
                     "method": _("抽查方式"), "rate": _("抽查比例"), "count": _("每单位件数"),
                     "period_from": _("起始日期"), "period_to": _("截止日期"), "population": _("总体件数"),
                     "created_by_name": _("抽查人"), "created_at": _("抽查时间")}
    list_columns = ["id", "title", "unit", "method", "rate", "count", "seed", "population", "created_by_name",
                    "created_at"]
    show_columns = list_columns
    search_columns = ["title", "seed", "method", "created_by_name", "created_at"]
    order_columns = ["id", "title", "population", "created_at"]
    base_order = ("id", "desc")
    formatters_columns = {"method": lambda v: METHODS.get(v, v or ""), "created_at": when,
                          "rate": lambda v: v or "", "count": lambda v: "" if v is None else v,
                          "period_from": day, "period_to": day}
    list_template = "jishi/spotcheck_list.html"

    def render_template(self, template, **kwargs):
        if template == self.list_template and self.appbuilder.sm.has_access("can_draw", self.class_permission_name):
            kwargs["draw_url"] = url_for(".draw")
        return super().render_template(template, **kwargs)

    def _can(self, perm) -> bool:
        return self.appbuilder.sm.has_access(perm, self.class_permission_name)

    def _render_draw(self, values: dict, status: int = 200):
        scope = current_scope()
        return self.render_template("jishi/spotcheck_draw.html", title=str(_("新建抽查")), values=values,
                                    units=_unit_choices(scope, g.user), methods=METHODS), status

    @expose("/draw", methods=["GET", "POST"])
    @has_access
    @permission_name("draw")
    def draw(self):
        if request.method == "GET":
            own = db.session.get(Unit, g.user.unit_id) if getattr(g.user, "unit_id", None) else None
            return self._render_draw({"unit": own.code if own else "", "method": "rate", "rate": "0.1",
                                      "count": "", "seed": _new_seed(), "period_from": "", "period_to": "",
                                      "title": ""})
        values = {k: (request.form.get(k) or "").strip() for k in
                  ("unit", "method", "rate", "count", "seed", "period_from", "period_to", "title")}
        params, errors = parse_draw_form(request.form, current_scope())
        if errors:
            for e in errors:
                flash(e, "danger")
            return self._render_draw(values)
        unit = params.pop("unit")
        try:
            check = svc.record_spot_check(unit, g.user, **params)
        except svc.PatrolError as exc:
            _flash_refusal(exc)
            return self._render_draw(values)
        flash(f"已抽取并保存：总体 {check.population} 件，抽中 {len(check.items)} 件（随机种子 {check.seed}）", "success")
        return redirect(url_for(".show", pk=check.id))

    def _show_page(self, check: SpotCheck, verify: dict | None = None):
        findings = db.session.execute(
            select(Finding).where(Finding.spot_check_id == check.id, current_scope().clause(Finding.unit_id))
            .order_by(Finding.id)).scalars().all()
        return self.render_template(
            "jishi/spotcheck_show.html", title=check.title, check=check, verify=verify, findings=findings,
            methods=METHODS, light_badge=light_badge, when=when, can_add_finding=self._can("can_add_finding"),
            can_list_findings=self.appbuilder.sm.has_access("can_show", "FindingView"),
            default_deadline=(dt.date.today() + dt.timedelta(days=30)).isoformat(),
            tomorrow=(dt.date.today() + dt.timedelta(days=1)).isoformat())

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        check = visible(SpotCheck, pk, current_scope())
        if check is None:
            abort(404)
        return self._show_page(check)

    @expose("/show/<int:pk>/verify")
    @has_access
    @permission_name("show")
    def verify(self, pk):
        check = visible(SpotCheck, pk, current_scope())
        if check is None:
            abort(404)
        return self._show_page(check, verification(check))

    @expose("/show/<int:pk>/finding", methods=["POST"])
    @has_access
    @permission_name("add_finding")
    def add_finding(self, pk):
        check = visible(SpotCheck, pk, current_scope())
        if check is None:
            abort(404)
        errors: list[str] = []
        try:
            case_id = int(request.form.get("case_id", ""))
        except ValueError:
            case_id = None
        case = visible(Case, case_id, current_scope()) if case_id else None
        if case is None or all(item.case_id != case.id for item in check.items):
            errors.append("请选择本次抽查抽中的案例")
        deadline = parse_day("整改期限", request.form.get("deadline"), errors)
        if deadline is None and not (request.form.get("deadline") or "").strip():
            errors.append("请填写整改期限")
        if errors:
            for e in errors:
                flash(e, "danger")
            return redirect(url_for(".show", pk=pk))
        try:
            finding = svc.add_finding(case, g.user, rule_codes=request.form.get("rule_codes", ""),
                                      description=request.form.get("description", ""), deadline=deadline,
                                      spot_check=check)
        except svc.PatrolError as exc:
            _flash_refusal(exc)
            return redirect(url_for(".show", pk=pk))
        flash(f"已记录问题 #{finding.id}（{finding.rule_codes}），整改期限 {finding.correction_deadline}", "success")
        return redirect(url_for(".show", pk=pk))


# ---- 问题与整改 ---------------------------------------------------------------------------------------

class FindingListWidget(ListWidget):
    """FAB's list, with overdue findings (整改中 past the deadline) highlighted."""

    template = "jishi/finding_list_widget.html"

    def __call__(self, **kwargs):
        return super().__call__(today=dt.date.today(), open_status=FINDING_OPEN, **kwargs)


class FindingView(ReadOnlyModelView):
    """问题整改: findings of the scope; the unit reports the correction, the supervisor closes."""

    route_base = "/findings"
    datamodel = SQLAInterface(Finding)
    base_permissions = ["can_list", "can_show", "can_export", "can_report_corrected", "can_close"]
    list_title = _("问题整改")
    show_title = _("问题")
    label_columns = {"id": _("编号"), "case": _("案例"), "unit": _("单位"), "rule_codes": _("规则编号"),
                     "description": _("问题描述"), "correction_deadline": _("整改期限"), "status": _("状态"),
                     "created_by_name": _("记录人"), "created_at": _("记录时间"), "corrected_at": _("整改报告时间"),
                     "correction_note": _("整改情况"), "closed_at": _("关闭时间"), "closed_by_name": _("关闭人")}
    list_columns = ["id", "case", "unit", "rule_codes", "description", "correction_deadline", "status",
                    "created_at"]
    show_columns = ["id", "case", "unit", "rule_codes", "description", "correction_deadline", "status",
                    "created_by_name", "created_at", "corrected_at", "correction_note", "closed_at", "closed_by_name"]
    search_columns = ["status", "rule_codes", "correction_deadline", "created_at"]
    order_columns = ["id", "correction_deadline", "status", "created_at"]
    base_order = ("id", "desc")
    formatters_columns = {"correction_deadline": day, "created_at": when}
    list_widget = FindingListWidget

    def _load(self, pk) -> Finding:
        finding = visible(Finding, pk, current_scope())
        if finding is None:
            abort(404)
        return finding

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        finding = self._load(pk)
        sm = self.appbuilder.sm
        today = dt.date.today()
        return self.render_template(
            "jishi/finding_show.html", title=f"问题 #{finding.id}", finding=finding, when=when,
            overdue=finding.status == FINDING_OPEN and finding.correction_deadline < today,
            status_class=FINDING_CLASS.get(finding.status, "default"),
            can_report=finding.status == FINDING_OPEN and sm.has_access("can_report_corrected",
                                                                        self.class_permission_name),
            can_close=finding.status == FINDING_DONE and sm.has_access("can_close", self.class_permission_name),
            history=record_history(Finding.__tablename__, finding.id),
            history_labels={k: str(v) for k, v in self.label_columns.items()})

    @expose("/show/<int:pk>/corrected", methods=["POST"])
    @has_access
    @permission_name("report_corrected")
    def report_corrected(self, pk):
        finding = self._load(pk)
        try:
            svc.report_corrected(finding, g.user, request.form.get("note", ""))
        except svc.PatrolError as exc:
            _flash_refusal(exc)
        else:
            flash("已报告整改情况，待监督部门确认关闭", "success")
        return redirect(url_for(".show", pk=pk))

    @expose("/show/<int:pk>/close", methods=["POST"])
    @has_access
    @permission_name("close")
    def close(self, pk):
        finding = self._load(pk)
        try:
            svc.close_finding(finding, g.user)
        except svc.PatrolError as exc:
            _flash_refusal(exc)
        else:
            flash("已确认整改并关闭问题", "success")
        return redirect(url_for(".show", pk=pk))
