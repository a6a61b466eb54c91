"""Bulk unit import page: upload, see every bad row, nothing written unless all rows are good."""
from flask import flash
from flask_appbuilder import SimpleFormView
from flask_appbuilder.forms import DynamicForm
from flask_babel import lazy_gettext as _
from flask_wtf.file import FileField, FileRequired

from app.organisation.unit_import import HEADERS, import_units, read_table
from app.scoping import current_scope


class UnitImportForm(DynamicForm):
    file = FileField(
        _("单位文件"),
        description=_("xlsx 或 csv（UTF-8），首行为表头：") + "、".join(HEADERS)
        + _("；可另加“县处级正职职数”等职数列"),
        validators=[FileRequired(message=_("请选择要导入的文件"))],
    )


class UnitImportView(SimpleFormView):
    form = UnitImportForm
    form_title = _("批量导入单位")
    form_template = "jishi/unit_import.html"

    def form_post(self, form):
        upload = form.file.data
        try:
            rows = read_table(upload.filename or "", upload.read())
            result = import_units(rows, current_scope())
        except ValueError as exc:
            flash(str(exc), "danger")
            return self._render(form, [])
        if result.ok:
            flash(f"导入成功：新增 {len(result.created)} 个单位", "success")
            return None
        flash(f"导入失败：{len(result.errors)} 处错误，未写入任何数据", "danger")
        return self._render(form, result.errors)

    def _render(self, form, errors):
        return self.render_template(
            self.form_template, title=self.form_title, widgets=self._get_edit_widget(form=form),
            appbuilder=self.appbuilder, errors=errors,
        )
