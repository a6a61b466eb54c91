"""责任界定 in the browser: the report for an alarm or a finding, printable and as xlsx (export recorded).
Alarms and findings are loaded through the scope: anything outside it answers 404."""
from __future__ import annotations

import datetime as dt
import io

from flask import abort, g, render_template, send_file
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import lazy_gettext as _

from app.models import Alarm
from app.models.supervision import Finding
from app.reporting.export_log import record_export
from app.scoping import visible
from app.supervision.responsibility import report_for_alarm, report_for_finding, write_xlsx


class ResponsibilityView(BaseView):
    route_base = "/responsibility"
    base_permissions = ["can_report", "can_export"]

    KINDS = {"alarm": (Alarm, report_for_alarm), "finding": (Finding, report_for_finding)}

    def _report(self, kind: str, pk: int) -> tuple[dict, object]:
        model, build = self.KINDS[kind]
        row = visible(model, pk)
        if row is None:
            abort(404)
        return build(row), row

    def _show(self, kind, pk):
        report, _row = self._report(kind, pk)
        return self.render_template("jishi/responsibility.html", report=report, kind=kind, pk=pk,
                                    title=f"{_('责任界定')} · {report['subject']['title']}")

    def _print(self, kind, pk):
        report, _row = self._report(kind, pk)
        return render_template("jishi/responsibility_print.html", report=report, printed_at=dt.datetime.now(),
                               printed_by=g.user.username)

    def _export(self, kind, pk):
        report, row = self._report(kind, pk)
        buf = io.BytesIO()
        rows = write_xlsx(report, buf)
        record_export(row.__tablename__, row.unit_id, f"责任界定报告：{report['subject']['title']}", rows)
        buf.seek(0)
        name = f"责任界定-{report['subject']['title'].replace(' ', '').replace('#', '')}-{dt.datetime.now():%Y%m%d%H%M}.xlsx"
        return send_file(buf, as_attachment=True, download_name=name,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @expose("/alarm/<int:pk>")
    @has_access
    @permission_name("report")
    def alarm(self, pk):
        return self._show("alarm", pk)

    @expose("/alarm/<int:pk>/print")
    @has_access
    @permission_name("report")
    def alarm_print(self, pk):
        return self._print("alarm", pk)

    @expose("/alarm/<int:pk>/export.xlsx")
    @has_access
    @permission_name("export")
    def alarm_export(self, pk):
        return self._export("alarm", pk)

    @expose("/finding/<int:pk>")
    @has_access
    @permission_name("report")
    def finding(self, pk):
        return self._show("finding", pk)

    @expose("/finding/<int:pk>/print")
    @has_access
    @permission_name("report")
    def finding_print(self, pk):
        return self._print("finding", pk)

    @expose("/finding/<int:pk>/export.xlsx")
    @has_access
    @permission_name("export")
    def finding_export(self, pk):
        return self._export("finding", pk)
