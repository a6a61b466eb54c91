"""实时监控: the supervisor's dashboard over its subtree.

Every number is one scoped GROUP BY (or COUNT) in SQL inside ``current_scope()``:

* current cases by light (红/黄/绿/未评估) and by status;
* 待巡查 (the review worklist), 近 7 日提交 (submission records), 待处理报警 and 已叫停 alarms;
* 逾期 / 未报 reporting nodes still unreported (``CaseDeadline``);
* 待补正: current draft versions continuing a returned case (version > 1) or cases with a halted alarm;
* findings by status, and the overdue ones (整改中 past their deadline);
* a table of the user's unit (本级) and each child's subtree by light (an admin: each top-level unit):
  units with red or yellow cases first, those without a case folded (``?all=1`` shows them).

``/monitor/`` draws the page; ``/monitor/data`` answers the same numbers as JSON, and the page
fetches it every 30 seconds to update itself (a few lines of inline script, no library).
"""
from __future__ import annotations

from flask import current_app, jsonify, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import lazy_gettext as _

from app.queries.workbench import monitor_numbers
from app.scoping import current_scope
from app.supervision.patrol import worklist_select

REFRESH_SECONDS = 30
LIGHTS = (("red", _("红灯")), ("yellow", _("黄灯")), ("green", _("绿灯")), ("none", _("未评估")))
STATUSES = (("draft", _("草稿")), ("first", _("已初次提交")), ("second", _("已二次提交")))


class MonitorView(BaseView):
    """实时监控 (supervisors and query users; the scope decides what is counted)."""

    route_base = "/monitor"
    default_view = "index"

    @staticmethod
    def _show_all() -> bool:
        return request.args.get("all") == "1"

    def _numbers(self) -> dict:
        scope = current_scope()
        return monitor_numbers(scope, worklist_select(scope), show_all=self._show_all())

    def _links(self) -> dict:
        """Lists behind the numbers the user may open (by permission)."""
        sm = self.appbuilder.sm
        links = {}
        for key, perm, view, endpoint in (
                ("worklist", "can_list", "PatrolView", "PatrolView.index"),
                ("alarms", "can_list", "AlarmView", "AlarmView.list"),
                ("deadlines", "can_list", "CaseDeadlineView", "CaseDeadlineView.list"),
                ("findings", "can_list", "FindingView", "FindingView.list"),
                ("cases", "can_list", "CaseView", "CaseView.list")):
            if sm.has_access(perm, view):
                try:
                    links[key] = url_for(endpoint)
                except Exception:  # noqa: BLE001 - a view not registered: no link
                    pass
        return links

    @expose("/")
    @has_access
    @permission_name("view")
    def index(self):
        return self.render_template("jishi/monitor.html", title=str(_("实时监控")), n=self._numbers(),
                                    lights=LIGHTS, statuses=STATUSES, links=self._links(),
                                    data_url=url_for(".data", **({"all": 1} if self._show_all() else {})),
                                    show_all=self._show_all(), all_link=url_for(".index", all=1),
                                    fold_link=url_for(".index"),
                                    refresh_seconds=current_app.config.get("JISHI_MONITOR_REFRESH_SECONDS",
                                                                           REFRESH_SECONDS))

    @expose("/data")
    @has_access
    @permission_name("view")
    def data(self):
        resp = jsonify(self._numbers())
        resp.headers["Cache-Control"] = "no-store"
        return resp
