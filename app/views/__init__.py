"""Menu and view registration. Menu names are stable ASCII (they are permission names); labels
are Chinese and translatable."""
from flask_babel import lazy_gettext as _

from app.views.audit import AuditLogApi, AuditLogView
from app.views.unit_import import UnitImportView
from app.views.units import UnitApi, UnitQuotaApi, UnitQuotaView, UnitView


def init_views(appbuilder) -> None:
    org, org_label = "Organisation", _("组织机构")
    appbuilder.add_view(UnitView, "Units", label=_("单位"), icon="fa-sitemap",
                        category=org, category_label=org_label, category_icon="fa-building")
    appbuilder.add_view(UnitQuotaView, "Quotas", label=_("核定职数"), icon="fa-list-ol",
                        category=org, category_label=org_label)
    appbuilder.add_view(UnitImportView, "UnitImport", label=_("批量导入单位"), icon="fa-upload",
                        category=org, category_label=org_label)
    appbuilder.add_view(AuditLogView, "AuditLog", label=_("修改痕迹"), icon="fa-history",
                        category="Audit", category_label=_("痕迹管理"), category_icon="fa-history")
    for api in (UnitApi, UnitQuotaApi, AuditLogApi):
        appbuilder.add_api(api)
    _relabel_security_menu(appbuilder)


def _relabel_security_menu(appbuilder) -> None:
    """FAB leaves some of its own menu entries untranslated; give them Chinese labels."""
    labels = {
        "Security": _("安全"), "List Users": _("用户"), "List Roles": _("角色"),
        "List Groups": _("用户组"), "Base Permissions": _("基础权限"),
        "Views/Menus": _("视图/菜单"), "Permission on Views/Menus": _("视图权限"),
    }
    for item in appbuilder.menu.get_list():
        if item.name in labels:
            item.label = labels[item.name]
        for child in item.childs or []:
            if child.name in labels:
                child.label = labels[child.name]
