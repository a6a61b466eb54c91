"""痕迹管理: the audit trail, read-only for everyone (the admin included)."""
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _

from app.display import minute
from app.models import AuditLog
from app.views.base import ReadOnlyModelRestApi, ReadOnlyModelView

AUDIT_LABELS = {
    "ts": _("时间"), "actor_name": _("操作人"), "path_label": _("途径"), "path": _("途径"),
    "action_label": _("操作"), "action": _("操作"), "table_name": _("数据表"),
    "record_id": _("记录号"), "field": _("字段"), "old_value": _("原值"), "new_value": _("新值"),
    "unit_id": _("所属单位"), "table_label": _("数据表"), "field_label": _("字段"), "old_text": _("原值"),
    "new_text": _("新值"),
}


class AuditLogView(ReadOnlyModelView):
    datamodel = SQLAInterface(AuditLog)
    list_title = _("修改痕迹")
    show_title = _("痕迹详情")
    label_columns = AUDIT_LABELS
    # Names from the catalogue and values as people read them (app.display), never the stored keys.
    list_columns = ["ts", "actor_name", "path_label", "action_label", "table_label", "record_id",
                    "field_label", "old_text", "new_text"]
    show_columns = list_columns
    formatters_columns = {"ts": minute}
    search_columns = ["actor_name", "path", "action", "table_name", "record_id", "field", "ts"]
    base_order = ("id", "desc")
    # Append-only: ReadOnlyModelView answers 404 to add, edit, delete and actions.
    show_history = False


class AuditLogApi(ReadOnlyModelRestApi):
    resource_name = "audit_log"
    datamodel = SQLAInterface(AuditLog)
    label_columns = AUDIT_LABELS
    list_columns = ["id", "ts", "actor_name", "path", "action", "table_name", "record_id",
                    "unit_id", "field", "old_value", "new_value"]
    show_columns = list_columns
    search_columns = ["actor_name", "path", "action", "table_name", "record_id", "field"]
    base_order = ("id", "desc")
