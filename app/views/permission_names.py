"""角色 and permissions in Chinese: a name for every FAB view menu and permission (the stored names stay
FAB's, they are the permission keys). FAB prints a permission as ``can list on CaseView``, a view menu and a
permission by their names, and a role by its name; ``init_permission_names`` makes those the Chinese
names for every page that shows them (角色 list, show and edit, 基础权限, 视图/菜单, 视图权限, 用户组, 用户)."""
from __future__ import annotations

from flask_appbuilder.security.views import (
    PermissionModelView,
    PermissionViewModelView,
    RoleModelView,
    UserGroupModelView,
    ViewMenuModelView,
)
from flask_babel import lazy_gettext as _

from app.display import module_label

PERMISSION_NAMES = {
    "can_list": "查看列表", "can_show": "查看详情", "can_add": "新增", "can_edit": "编辑", "can_delete": "删除",
    "can_download": "下载", "can_export": "导出", "can_get": "读取（接口）", "can_post": "新增（接口）",
    "can_put": "修改（接口）", "can_info": "字段说明（接口）", "menu_access": "菜单可见", "muldelete": "批量删除",
    "can_add_finding": "登记问题", "can_catalog": "查看目录", "can_close": "关闭", "can_create": "建立",
    "can_detail": "查看明细", "can_draw": "抽取", "can_enter": "填写", "can_generate": "生成", "can_import": "导入",
    "can_issue": "印发", "can_mark_read": "标为已读", "can_query": "查询", "can_read_named": "查看实名信息",
    "can_report": "上报", "can_report_corrected": "报告整改", "can_review": "审核", "can_run_scan": "立即扫描",
    "can_sign": "签字", "can_submit": "提交", "can_this_form_get": "打开表单", "can_this_form_post": "提交表单",
    "can_timeline": "查看履历", "can_userinfo": "查看本人信息", "can_view": "查看", "copyrole": "复制角色",
    "resetmypassword": "修改本人密码", "resetpasswords": "重置密码", "userinfoedit": "编辑本人信息",
}

VIEW_NAMES = {
    # FAB's own views and menus
    "IndexView": "首页", "UtilView": "通用功能", "LocaleView": "语言切换", "MenuApi": "菜单（接口）",
    "OpenApi": "接口说明", "SwaggerView": "接口文档", "SecurityApi": "登录（接口）", "JishiAuthDBView": "登录",
    "JishiUserView": "用户", "UserInfoEditView": "本人信息", "ResetMyPasswordView": "修改本人密码",
    "ResetPasswordView": "重置密码", "RoleModelView": "角色", "UserGroupModelView": "用户组",
    "PermissionModelView": "基础权限", "ViewMenuModelView": "视图/菜单", "PermissionViewModelView": "视图权限",
    "Security": "安全（菜单）", "List Users": "用户（菜单）", "List Roles": "角色（菜单）",
    "List Groups": "用户组（菜单）", "Base Permissions": "基础权限（菜单）", "Views/Menus": "视图/菜单（菜单）",
    "Permission on Views/Menus": "视图权限（菜单）",
    # ours without a menu entry of their own
    "ResponsibilityView": "责任追究", "CaseApi": "案例（接口）", "BatchApi": "批次（接口）",
    "SignatureApi": "签字（接口）", "SubmissionApi": "提交（接口）", "AlarmApi": "报警（接口）",
    "UnitApi": "单位（接口）", "UnitQuotaApi": "核定职数（接口）", "AuditLogApi": "修改痕迹（接口）",
}

ROLE_NAMES = {"Public": "公开（未登录）", "Admin": "系统管理员"}


_MENU_NAMES: dict[str, str] = {}


def register_menu_names(category: str, category_label, entries) -> None:
    """init_views: our menu's category, entry and view names by their Chinese labels."""
    _MENU_NAMES[category] = f"{category_label}（菜单）"
    for target, name, label, _icon in entries:
        _MENU_NAMES[name] = f"{label}（菜单）"
        if not isinstance(target, str):
            _MENU_NAMES[target.__name__] = str(label)


def view_name(name: str) -> str:
    if name in VIEW_NAMES:
        return VIEW_NAMES[name]
    if name in _MENU_NAMES:
        return str(_MENU_NAMES[name])
    if name.startswith("Case") and name.endswith("Api"):
        key = name[len("Case"):-len("Api")].lower()
        label = module_label(key)
        if label != key:
            return f"案例{label}（接口）"
    return "其他视图"


def permission_name(name: str) -> str:
    return PERMISSION_NAMES.get(name) or "其他权限"


def role_name(name: str) -> str:
    return ROLE_NAMES.get(name, name)


def permission_view_name(pv) -> str:
    return f"{view_name(pv.view_menu.name)}：{permission_name(pv.permission.name)}"


def init_permission_names() -> None:
    """FAB's security models print their Chinese names (the list, show and edit pages and the pickers
    all print the objects)."""
    from flask_appbuilder.security.sqla.models import Permission, PermissionView, Role, ViewMenu

    Permission.__repr__ = lambda self: permission_name(self.name)
    ViewMenu.__repr__ = lambda self: view_name(self.name)
    PermissionView.__repr__ = permission_view_name
    Role.__repr__ = lambda self: role_name(self.name)


def permission_list(permissions) -> str:
    """A role's permissions, one view per line: 案例：查看列表、查看详情."""
    by_view: dict[str, list[str]] = {}
    for pv in permissions or ():
        by_view.setdefault(view_name(pv.view_menu.name), []).append(permission_name(pv.permission.name))
    return "\n".join(f"{view}：{'、'.join(names)}" for view, names in sorted(by_view.items()))


def permission_pairs(pairs) -> str:
    """A declared role's permissions ([[view, permission], …] of FAB_ROLES) the same way."""
    by_view: dict[str, list[str]] = {}
    for view, perm in pairs or ():
        by_view.setdefault(view_name(view), []).append(permission_name(perm))
    return "\n".join(f"{view}：{'、'.join(names)}" for view, names in sorted(by_view.items()))


class JishiRoleView(RoleModelView):
    """角色: Chinese titles, the role's name and its permissions in words (templates in
    app/templates/appbuilder/general/widgets/roles/ print declared roles the same way)."""

    list_title = _("角色列表")
    show_title = _("角色详情")
    add_title = _("新增角色")
    edit_title = _("编辑角色")
    label_columns = {"name": _("名称"), "permissions": _("权限"), "user": _("用户"), "groups": _("用户组")}
    formatters_columns = {"permissions": permission_list}


class JishiPermissionView(PermissionModelView):
    list_title = _("基础权限")
    show_title = _("基础权限")
    label_columns = {"name": _("名称")}
    formatters_columns = {"name": permission_name}


class JishiViewMenuView(ViewMenuModelView):
    list_title = _("视图/菜单")
    show_title = _("视图/菜单")
    label_columns = {"name": _("名称")}
    formatters_columns = {"name": view_name}


class JishiPermissionViewView(PermissionViewModelView):
    list_title = _("视图权限")
    show_title = _("视图权限")
    label_columns = {"permission": _("权限"), "view_menu": _("视图/菜单"), "role": _("角色")}


class JishiGroupView(UserGroupModelView):
    list_title = _("用户组")
    show_title = _("用户组详情")
    add_title = _("新增用户组")
    edit_title = _("编辑用户组")
    label_columns = {"name": _("名称"), "label": _("显示名"), "description": _("说明"), "users": _("用户"),
                     "roles": _("角色")}
