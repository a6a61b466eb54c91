"""应报未报 in the browser: upload the 任免文件 list and see what matched, what was never reported and
which decisions have no document (/reconcile); the imported documents, scoped (/documents)."""
from __future__ import annotations

from flask import flash, g, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import lazy_gettext as _

from app.models.supervision import AppointmentDocument
from app.supervision.reconcile import HEADERS, ReconcileError, expected_days, mask_id, reconcile
from app.views.base import ReadOnlyModelView
from app.views.helpers import when


class DocumentImportView(BaseView):
    """应报未报核查: the upload form and, after it, the three lists."""

    route_base = "/reconcile"
    default_view = "index"

    def _page(self, **kwargs):
        return self.render_template("jishi/reconcile.html", title=str(_("应报未报核查")), headers=list(HEADERS),
                                    days=expected_days(), **kwargs)

    @expose("/", methods=["GET", "POST"])
    @has_access
    @permission_name("import")
    def index(self):
        if request.method != "POST":
            return self._page()
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("请选择要导入的任免文件清单（xlsx 或 csv）", "danger")
            return self._page()
        try:
            result = reconcile(upload, g.user)
        except ReconcileError as exc:
            flash(f"导入失败：{len(exc.errors)} 处问题，未写入任何数据", "danger")
            return self._page(errors=exc.errors)
        flash(f"导入完成：新增任免文件 {result.new} 份，已有 {result.unchanged} 份；已匹配 {len(result.matched)} 份，"
              f"应报未报 {len(result.unmatched)} 份，无任免文件的案例 {len(result.missing)} 个", "success")
        return self._page(result=result)


class AppointmentDocumentView(ReadOnlyModelView):
    """任免文件: the imported documents of the user's units, with how each was matched."""

    route_base = "/documents"
    datamodel = SQLAInterface(AppointmentDocument)
    list_title = _("任免文件")
    show_title = _("任免文件")
    label_columns = {"doc_no": _("文号"), "doc_date": _("日期"), "unit": _("单位"), "person_name": _("姓名"),
                     "id_card_no": _("身份证号"), "post": _("职务"), "status": _("匹配状态"),
                     "matched_case": _("对应案例"), "imported_at": _("导入时间"), "imported_by_name": _("导入人")}
    list_columns = ["doc_no", "doc_date", "unit", "person_name", "id_card_no", "post", "status", "matched_case"]
    show_columns = ["doc_no", "doc_date", "unit", "person_name", "id_card_no", "post", "status", "matched_case",
                    "imported_at", "imported_by_name"]
    # No relation here: FAB would preload every related row for the filter dropdowns.
    search_columns = ["doc_no", "doc_date", "person_name", "post", "status"]
    base_order = ("id", "desc")
    formatters_columns = {"id_card_no": lambda v: mask_id(v) or "", "matched_case": lambda v: v if v is not None else "",
                          "imported_at": when}
