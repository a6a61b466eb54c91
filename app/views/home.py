"""工作台: the start page (FAB's index view) with a section per role the user holds, and the list
behind each number (``/home/list/<key>``). Thin: the numbers and lists are app.queries.home, in the
user's scope; a list of a section the user's roles do not show answers 404."""
from __future__ import annotations

import datetime as dt

from flask import abort, current_app, g, redirect, request, url_for
from flask_appbuilder import IndexView, expose
from flask_babel import lazy_gettext as _

from app.queries import home as q
from app.scoping import current_scope
from app.supervision.patrol import worklist_select
from app.views.helpers import page_arg, page_window

PAGE_SIZE = 20
CLERK, SIGNER, SUPERVISOR, QUERY = "填报员", "签字领导", "监督员", "查询员"
SECTION_ROLES = {"clerk": (CLERK,), "signer": (SIGNER,), "supervisor": (SUPERVISOR, QUERY)}


def _sections(user) -> list[str]:
    """The sections of the user's roles, in a fixed order (admin last: system health)."""
    roles = {r.name for r in getattr(user, "roles", None) or []}
    out = [s for s, names in SECTION_ROLES.items() if roles & set(names)]
    if current_app.config["AUTH_ROLE_ADMIN"] in roles:
        out.append("admin")
    return out


def _who(user) -> q.Who:
    return q.Who(user.id, getattr(user, "unit_id", None), current_scope(), dt.date.today())


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class HomeView(IndexView):
    """The start page: 工作台."""

    index_template = "jishi/home.html"

    def _signed_in(self):
        user = g.get("user")
        return user if user is not None and getattr(user, "is_authenticated", False) else None

    def _may(self, perm: str, view: str) -> bool:
        return bool(self.appbuilder.sm.has_access(perm, view))

    @expose("/")
    def index(self):
        user = self._signed_in()
        if user is None:
            return redirect(self.appbuilder.get_url_for_login_with(request.full_path))
        self.update_redirect()
        sections = _sections(user)
        who = _who(user)
        numbers = {key: q.count(key, who) for section in sections for key in q.SECTION_LISTS.get(section, ())}
        previews = {key: q.rows(key, who, limit=5) for key in numbers if numbers[key]}
        extra = {}
        if "supervisor" in sections and self._may("can_list", "PatrolView"):
            extra["worklist"] = (q.count_select(worklist_select(who.scope)), url_for("PatrolView.index"))
        if "admin" in sections:
            extra["health"] = q.health()
            extra["taskruns_url"] = url_for("TaskRunView.list")
            extra["failed_url"] = url_for("TaskRunView.list", _flt_3_status="失败")
        return self.render_template(self.index_template, appbuilder=self.appbuilder, title=str(_("工作台")),
                                    user=user, sections=sections, lists=q.LISTS, section_lists=q.SECTION_LISTS,
                                    numbers=numbers, previews=previews, extra=extra, fmt=_fmt,
                                    today=who.today, due_days=q.DUE_SOON_DAYS,
                                    monitor_url=url_for("MonitorView.index") if self._may("can_view", "MonitorView")
                                    else None)

    @expose("/home/list/<key>")
    def home_list(self, key):
        user = self._signed_in()
        if user is None:
            return redirect(self.appbuilder.get_url_for_login_with(request.full_path))
        spec = q.LISTS.get(key)
        if spec is None or spec.section not in _sections(user):
            abort(404)
        who = _who(user)
        total = q.count(key, who)
        page, pages, offset = page_window(page_arg(), total, PAGE_SIZE)
        return self.render_template("jishi/home_list.html", appbuilder=self.appbuilder, title=spec.title,
                                    spec=spec, rows=q.rows(key, who, offset=offset, limit=PAGE_SIZE), total=total,
                                    page=page, pages=pages, fmt=_fmt, today=who.today)
