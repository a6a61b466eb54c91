"""Organisation: units (as a tree) and their approved post quotas (职数)."""
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _
from sqlalchemy import exists, select
from wtforms import BooleanField, SelectField

from app.enums import AUTHORITIES, GRADES, UNIT_LEVELS, UNIT_TYPES
from app.extensions import db
from app.models import AppUser, Unit, UnitQuota
from app.views.base import ScopedModelRestApi, ScopedModelView, WriteRefused

UNIT_LABELS = {
    "code": _("单位代码"),
    "name": _("单位名称"),
    "tree_name": _("单位名称"),
    "parent": _("上级单位"),
    "parent_code": _("上级单位代码"),
    "level": _("层级"),
    "unit_type": _("单位类型"),
    "region_code": _("行政区划代码"),
    "max_grade": _("机构规格"),
    "authority": _("任免权限"),
    "dual_managed": _("双重管理"),
    "quotas": _("核定职数"),
    "path": _("路径"),
}

QUOTA_LABELS = {"unit": _("单位"), "grade": _("职级"), "approved": _("核定职数")}


def _select(label, choices):
    return SelectField(label, choices=[(c, c) for c in choices], widget=Select2Widget())


def _unit_form_fields():
    return {
        "level": _select(_("层级"), UNIT_LEVELS),
        "unit_type": _select(_("单位类型"), UNIT_TYPES),
        "max_grade": _select(_("机构规格"), GRADES),
        "authority": _select(_("任免权限"), AUTHORITIES),
        # FAB marks a NOT NULL boolean "required", which makes an unticked box an error.
        "dual_managed": BooleanField(_("双重管理"), default=False),
    }


def refuse_unit_delete(item: Unit) -> None:
    """A unit with sub-units or users cannot be deleted (history stays attached to it)."""
    errors = []
    if db.session.execute(select(exists().where(Unit.parent_id == item.id))).scalar():
        errors.append(f"“{item.name}”还有下级单位，不能删除")
    if db.session.execute(select(exists().where(AppUser.unit_id == item.id))).scalar():
        errors.append(f"“{item.name}”还有用户，不能删除")
    if errors:
        raise WriteRefused(errors)


class UnitQuotaView(ScopedModelView):
    datamodel = SQLAInterface(UnitQuota)
    list_title = _("核定职数")
    show_title = _("核定职数详情")
    add_title = _("新增核定职数")
    edit_title = _("编辑核定职数")
    label_columns = QUOTA_LABELS
    list_columns = ["unit", "grade", "approved"]
    show_columns = ["unit", "grade", "approved"]
    add_columns = ["unit", "grade", "approved"]
    edit_columns = ["grade", "approved"]
    search_columns = ["grade", "approved"]
    add_form_extra_fields = {"grade": _select(_("职级"), GRADES)}
    edit_form_extra_fields = {"grade": _select(_("职级"), GRADES)}
    unit_selectable = True  # only admins hold can_add here


class UnitView(ScopedModelView):
    datamodel = SQLAInterface(Unit)
    list_title = _("单位列表")
    show_title = _("单位详情")
    add_title = _("新增单位")
    edit_title = _("编辑单位")
    label_columns = UNIT_LABELS
    list_columns = ["tree_name", "code", "level", "unit_type", "max_grade", "authority", "dual_managed"]
    show_columns = ["code", "name", "parent", "level", "unit_type", "region_code", "max_grade",
                    "authority", "dual_managed"]
    add_columns = ["code", "name", "parent", "level", "unit_type", "region_code", "max_grade",
                   "authority", "dual_managed"]
    edit_columns = ["name", "parent", "level", "unit_type", "region_code", "max_grade", "authority",
                    "dual_managed"]
    # No relation here: FAB would preload every unit into the search dropdown.
    search_columns = ["code", "name", "level", "unit_type", "authority", "region_code"]
    order_columns = ["code", "level", "unit_type", "authority"]
    base_order = ("path", "asc")
    add_form_extra_fields = _unit_form_fields()
    edit_form_extra_fields = _unit_form_fields()
    related_views = [UnitQuotaView]
    page_size = 50
    formatters_columns = {"dual_managed": lambda v: "是" if v else "否"}

    def pre_delete(self, item):
        refuse_unit_delete(item)


class UnitApi(ScopedModelRestApi):
    resource_name = "unit"
    datamodel = SQLAInterface(Unit)
    label_columns = UNIT_LABELS
    list_columns = ["id", "code", "name", "parent_code", "level", "unit_type", "region_code",
                    "max_grade", "authority", "dual_managed"]
    show_columns = list_columns
    add_columns = ["code", "name", "parent", "level", "unit_type", "region_code", "max_grade",
                   "authority", "dual_managed"]
    edit_columns = ["name", "parent", "level", "unit_type", "region_code", "max_grade", "authority",
                    "dual_managed"]
    search_columns = ["code", "name", "level", "unit_type", "authority"]
    order_columns = ["code", "name", "level"]
    base_order = ("path", "asc")

    def pre_delete(self, item):
        refuse_unit_delete(item)


class UnitQuotaApi(ScopedModelRestApi):
    resource_name = "unit_quota"
    datamodel = SQLAInterface(UnitQuota)
    label_columns = QUOTA_LABELS
    list_columns = ["id", "unit_id", "unit.code", "grade", "approved"]
    show_columns = list_columns
    add_columns = ["grade", "approved"]
    edit_columns = ["grade", "approved"]
    search_columns = ["grade"]
