"""Security: the user model with a unit, declarative roles, lock-out and the password policy."""
from __future__ import annotations

import datetime as dt
import re

from flask import current_app, flash, g, has_app_context, redirect, request, session
from flask_appbuilder import expose
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.forms import LoginForm_db, UserInfoEdit
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView, UserDBModelView
from flask_appbuilder.security.views import UserInfoEditView as FabUserInfoEditView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import lazy_gettext as _
from flask_login import current_user, login_user, logout_user, user_logged_in
from werkzeug.security import check_password_hash
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app import auth
from app.models.user import AppUser, full_name_problem
from app.spec import MODULE_KEYS
from app.views.base import ScopedViewMixin
from app.views.permission_names import (
    JishiGroupView,
    JishiPermissionView,
    JishiPermissionViewView,
    JishiRoleView,
    JishiViewMenuView,
)

# Permissions every signed-in role needs to manage its own account.
SELF_SERVICE = [
    ("can_userinfo", "JishiUserView"),
    ("resetmypassword", "JishiUserView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
    ("can_this_form_get", "UserInfoEditView"),
    ("can_this_form_post", "UserInfoEditView"),
]

READ_ORG = [
    ("can_list", "UnitView"),
    ("can_show", "UnitView"),
    ("can_export", "UnitView"),
    ("can_list", "UnitQuotaView"),
    ("can_show", "UnitQuotaView"),
    ("can_export", "UnitQuotaView"),
    ("can_get", "UnitApi"),
    ("can_info", "UnitApi"),
    ("can_get", "UnitQuotaApi"),
    ("can_info", "UnitQuotaApi"),
    ("menu_access", "Organisation"),
    ("menu_access", "Units"),
    ("menu_access", "Quotas"),
    ("can_search", "UnitPickerView"),  # the unit fields' suggestions (scoped like the lists)
]

READ_AUDIT = [
    ("can_list", "AuditLogView"),
    ("can_show", "AuditLogView"),
    ("can_export", "AuditLogView"),
    ("can_get", "AuditLogApi"),
    ("can_info", "AuditLogApi"),
    ("menu_access", "Audit"),
    ("menu_access", "AuditLog"),
]

def _module_api_reads():
    return [("can_get", f"Case{''.join(p.capitalize() for p in k.split('_'))}Api") for k in MODULE_KEYS]


READ_CASES = [
    ("can_list", "CaseView"), ("can_show", "CaseView"), ("can_export", "CaseView"),
    ("can_get", "CaseApi"), ("can_info", "CaseApi"), ("can_export", "CaseApi"),
    ("can_list", "BatchView"), ("can_show", "BatchView"), ("can_export", "BatchView"),
    ("can_get", "BatchApi"), ("can_get", "SignatureApi"), ("can_get", "SubmissionApi"),
    ("can_list", "CasePersonView"), ("can_show", "CasePersonView"), ("can_export", "CasePersonView"),
    ("menu_access", "Records"), ("menu_access", "Cases"), ("menu_access", "Batches"),
    *_module_api_reads(),
]
CLERK_CASES = [
    ("can_create", "CaseView"), ("can_enter", "CaseView"), ("can_submit", "CaseView"),
    ("can_create", "CaseApi"), ("can_enter", "CaseApi"), ("can_submit", "CaseApi"),
]
READ_RULES = [("can_catalog", "RulesCatalogView"), ("menu_access", "Supervision"), ("menu_access", "Rules")]
REVIEW_ALARMS = [("can_list", "AlarmView"), ("can_show", "AlarmView"), ("can_export", "AlarmView"),
                 ("can_review", "AlarmView"), ("can_get", "AlarmApi"), ("menu_access", "Alarms")]
READ_ALARMS = [("can_list", "AlarmView"), ("can_show", "AlarmView"), ("can_export", "AlarmView"),
               ("can_get", "AlarmApi"), ("menu_access", "Alarms")]
SIGNER_CASES = [("can_sign", "CaseView"), ("can_sign", "CaseApi")]
INBOX = [("can_list", "InboxView"), ("can_show", "InboxView"), ("can_mark_read", "InboxView"),
         ("menu_access", "Inbox")]
READ_DEADLINES = [("can_list", "CaseDeadlineView"), ("can_show", "CaseDeadlineView"),
                  ("can_export", "CaseDeadlineView"), ("menu_access", "Deadlines")]
REVIEW_CASES = [("can_review", "CaseView"), ("can_review", "CaseApi")]
# 统计报表: the generated workbooks of the scope; the schedule (ReportScheduleView) is admin-only.
READ_REPORTS = [("can_list", "ReportFileView"), ("can_show", "ReportFileView"), ("can_download", "ReportFileView"),
                ("menu_access", "Reports")]
# 条件查询 / 明细查询 (scoped like everything else) and the user's own saved queries; exports for supervisors.
QUERY_CASES = [("can_query", "CaseQueryView"), ("can_detail", "CaseQueryView"), ("menu_access", "CaseQuery"),
               ("menu_access", "SavedQueries")]
EXPORT_QUERIES = [("can_export", "CaseQueryView"), ("menu_access", "QueryExports")]
# 统计分析 (the statistics table and its companion tables, scoped); their xlsx exports for supervisors
# and query users. A clerk sees its own unit's figures (scope does it) and does not export.
STATISTICS = [("can_view", "StatisticsView"), ("menu_access", "Statistics")]
EXPORT_STATISTICS = [("can_export", "StatisticsView")]

# Declarative roles with exact permission names. 系统管理员 is FAB's AUTH_ROLE_ADMIN and so holds
# every permission. Scope (own unit / subtree / all) is decided by app.scoping from the role name.
ROLES = {
    "监督员": SELF_SERVICE + READ_ORG + READ_AUDIT + READ_CASES + REVIEW_CASES + READ_RULES + REVIEW_ALARMS
           + INBOX + READ_DEADLINES + READ_REPORTS + QUERY_CASES + EXPORT_QUERIES + STATISTICS + EXPORT_STATISTICS,
    "填报员": SELF_SERVICE + READ_ORG + READ_CASES + CLERK_CASES + READ_RULES + READ_ALARMS + INBOX + READ_DEADLINES
           + QUERY_CASES + STATISTICS,
    "签字领导": SELF_SERVICE + READ_ORG + READ_CASES + SIGNER_CASES + READ_RULES + READ_ALARMS + INBOX + QUERY_CASES,
    "查询员": SELF_SERVICE + READ_ORG + READ_AUDIT + READ_CASES + READ_RULES + READ_ALARMS + INBOX + READ_DEADLINES
           + READ_REPORTS + QUERY_CASES + EXPORT_QUERIES + STATISTICS + EXPORT_STATISTICS,
}

# 实时监控, 网上巡查, 抽查 and 问题整改 (app/views/workbench.py, app/views/patrol.py): supervisors do everything
# here; query users read the dashboard and the lists; a clerk reads its own unit's findings (scope) and
# reports their correction.
MONITOR = [("can_view", "MonitorView"), ("menu_access", "Monitor")]
READ_PATROL = [("can_list", "ReviewView"), ("can_show", "ReviewView"), ("can_export", "ReviewView"),
               ("can_list", "SpotCheckView"), ("can_show", "SpotCheckView"), ("can_export", "SpotCheckView"),
               ("can_list", "FindingView"), ("can_show", "FindingView"), ("can_export", "FindingView"),
               ("menu_access", "Reviews"), ("menu_access", "SpotChecks"), ("menu_access", "Findings")]
PATROL = [("can_list", "PatrolView"), ("can_review", "PatrolView"), ("menu_access", "Patrol"),
          ("can_draw", "SpotCheckView"), ("can_add_finding", "SpotCheckView"),
          ("can_report_corrected", "FindingView"), ("can_close", "FindingView")]
CLERK_FINDINGS = [("can_list", "FindingView"), ("can_show", "FindingView"), ("can_report_corrected", "FindingView"),
                  ("menu_access", "Findings")]
ROLES["监督员"] = ROLES["监督员"] + MONITOR + READ_PATROL + PATROL
ROLES["查询员"] = ROLES["查询员"] + MONITOR + READ_PATROL
ROLES["填报员"] = ROLES["填报员"] + CLERK_FINDINGS

# 应报未报核查 (import the 任免文件 list, app/views/reconcile.py) for supervisors; the documents list and the
# 责任界定 reports (app/views/responsibility.py) for supervisors and query users; clerks nothing new.
RECONCILE = [("can_import", "DocumentImportView"), ("menu_access", "Reconcile")]
READ_DOCUMENTS = [("can_list", "AppointmentDocumentView"), ("can_show", "AppointmentDocumentView"),
                  ("can_export", "AppointmentDocumentView"), ("menu_access", "Documents")]
RESPONSIBILITY = [("can_report", "ResponsibilityView"), ("can_export", "ResponsibilityView")]
ROLES["监督员"] = ROLES["监督员"] + RECONCILE + READ_DOCUMENTS + RESPONSIBILITY
# 人员档案 (a person's timeline across cases, app/views/people.py): supervisors (issue 13).
ROLES["监督员"] = ROLES["监督员"] + [("can_timeline", "PersonView"), ("menu_access", "People")]
ROLES["查询员"] = ROLES["查询员"] + READ_DOCUMENTS + RESPONSIBILITY

# 通报 (app/views/notices.py): supervisors draft, edit, issue and export their department's notices; query
# users read and export them; a clerk and a leader (签字领导) read an issued notice that names their unit,
# through the inbox link both are sent (app.supervision.notices.commands.recipients).
READ_NOTICES = [("can_list", "NoticeView"), ("can_show", "NoticeView"), ("can_export", "NoticeView"),
                ("can_read_named", "NoticeView"), ("menu_access", "Notices")]
WRITE_NOTICES = [("can_add", "NoticeView"), ("can_edit", "NoticeView"), ("can_issue", "NoticeView")]
ROLES["监督员"] = ROLES["监督员"] + READ_NOTICES + WRITE_NOTICES
ROLES["查询员"] = ROLES["查询员"] + READ_NOTICES
ROLES["填报员"] = ROLES["填报员"] + [("can_read_named", "NoticeView")]
ROLES["签字领导"] = ROLES["签字领导"] + [("can_read_named", "NoticeView")]

# 自定义规则 (app/views/custom_rules.py): supervisors write, try and approve rules for their own subtree (the
# commands check the scope and the four eyes); 系统管理员 holds every permission anyway.
CUSTOM_RULES = [("can_list", "CustomRulesView"), ("can_edit", "CustomRulesView"), ("can_approve", "CustomRulesView"),
                ("menu_access", "CustomRules"), ("can_export", "RulePackView"), ("can_import", "RulePackView"),
                ("menu_access", "RulePacks")]
ROLES["监督员"] = ROLES["监督员"] + CUSTOM_RULES

ROLE_DESCRIPTIONS = {
    "系统管理员": "配置单位、岗位、角色和规则参数；可见全部数据",
    "监督员": "组织部门监督人员：本单位及全部下级单位，只读并可审核",
    "填报员": "本单位填报员：录入本单位案例草稿",
    "签字领导": "本单位签字领导：审阅并签字",
    "查询员": "本单位及下级单位的只读查询",
}


def fab_roles() -> dict:
    """FAB_ROLES in FAB's format: {role: [[view_menu, permission], ...]}."""
    return {role: [[view, perm] for perm, view in perms] for role, perms in ROLES.items()}


def sync_roles(sm) -> None:
    """Create the declared roles (and admin/public) with their permissions. FAB's own
    create_db is skipped when Alembic owns the schema, so call the role part directly."""
    from flask_appbuilder.security.manager import BaseSecurityManager

    BaseSecurityManager.create_db(sm)


def password_policy(password: str) -> None:
    """At least 10 characters from at least three of: upper case, lower case, digits, symbols."""
    classes = sum(
        bool(re.search(p, password or ""))
        for p in (r"[A-Z]", r"[a-z]", r"[0-9]", r"[^A-Za-z0-9]")
    )
    if len(password or "") < 10 or classes < 3:
        raise PasswordComplexityValidationError(
            "密码至少 10 位，并包含大写字母、小写字母、数字、符号中的至少三类"
        )


def _max_length(column: str) -> Length:
    n = AppUser.__table__.c[column].type.length
    return Length(max=n, message=f"不能超过 {n} 个字符")


class JishiUserView(ScopedViewMixin, UserDBModelView):
    """User administration, scoped like every unit-owned view (an admin sees all)."""

    list_title = _("用户列表")
    show_title = _("用户详情")
    add_title = _("新增用户")
    edit_title = _("编辑用户")
    list_columns = ["username", "first_name", "last_name", "unit", "roles", "active"]
    search_columns = ["username", "first_name", "last_name", "active"]
    show_fieldsets = [
        (_("用户"), {"fields": ["username", "first_name", "last_name", "email", "active", "unit", "roles"]}),
        (_("登录"), {"fields": ["login_count", "fail_login_count", "last_login", "locked_until"], "expanded": False}),
    ]
    user_show_fieldsets = [
        (_("用户"), {"fields": ["username", "first_name", "last_name", "email", "unit"]}),
    ]
    add_columns = ["first_name", "last_name", "username", "active", "email", "unit", "roles",
                   "password", "conf_password"]
    edit_columns = ["first_name", "last_name", "username", "active", "email", "unit", "roles"]
    label_columns = {
        "username": _("用户名"), "first_name": _("名"), "last_name": _("姓"), "email": _("电子邮箱"),
        "active": _("启用"), "unit": _("所属单位"), "roles": _("角色"), "password": _("密码"),
        "conf_password": _("确认密码"), "login_count": _("登录次数"),
        "fail_login_count": _("连续失败次数"), "last_login": _("最近登录"), "locked_until": _("锁定至"),
    }
    formatters_columns = {"active": lambda v: "是" if v else "否"}
    # Over-long text is a form error, not a database error (a 500 on PostgreSQL, silently kept on SQLite).
    validators_columns = {name: [_max_length(name)] for name in ("first_name", "last_name", "username", "email")}
    # Admins assign users to any unit; nobody else holds can_add/can_edit here.
    unit_selectable = True

    # ScopedViewMixin's pre_add/pre_update end the chain, so FAB's own (which hashes the password and
    # stamps changed_on) are called by name.
    def pre_add(self, item):
        self.check_write(item, is_add=True)
        UserDBModelView.pre_add(self, item)

    def pre_update(self, item):
        self.check_write(item, is_add=False)
        UserDBModelView.pre_update(self, item)


class JishiUserInfoEdit(UserInfoEdit):
    """The user's own name form, with the column lengths checked."""

    first_name = StringField(_("名"), validators=[DataRequired(), _max_length("first_name")],
                             widget=BS3TextFieldWidget())
    last_name = StringField(_("姓"), validators=[DataRequired(), _max_length("last_name")],
                            widget=BS3TextFieldWidget())

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        problem = full_name_problem(self.last_name.data, self.first_name.data)
        if problem:
            self.last_name.errors = [*self.last_name.errors, problem]
            return False
        return True


class UserInfoEditView(FabUserInfoEditView):
    """FAB's view under its own name (the permissions are granted to "UserInfoEditView")."""

    form = JishiUserInfoEdit


# One answer for every failed login — unknown account, wrong password or locked account — so the
# answer does not tell which accounts exist.
LOGIN_REFUSED = "用户名或密码错误；连续多次失败的账户将被临时锁定，请稍后再试"


class JishiAuthDBView(AuthDBView):
    """FAB's login with one refusal message, and a logout that needs a POST with a CSRF token."""

    @expose("/login/", methods=["GET", "POST"])
    def login(self):
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        form = LoginForm_db()
        if form.validate_on_submit():
            next_url = get_safe_redirect(request.args.get("next", ""))
            user = self.appbuilder.sm.auth_user_db(form.username.data, form.password.data)
            if not user:
                flash(LOGIN_REFUSED, "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            login_user(user, remember=False)
            return redirect(next_url)
        return self.render_template(self.login_template, title=self.title, form=form,
                                    appbuilder=self.appbuilder)

    # A GET only asks (a link or an <img> on another site must not sign anyone out); the POST is
    # CSRF-checked like every form.
    @expose("/logout/", methods=["GET", "POST"])
    def logout(self):
        if request.method == "GET":
            if not current_user.is_authenticated:
                return redirect(self.appbuilder.get_url_for_index)
            return self.render_template("jishi/logout.html", title="退出登录", appbuilder=self.appbuilder)
        user = self._get_authenticated_user()
        if user is not None:
            # Every copy of this session (and the user's JWTs) ends, not just this browser's cookie.
            auth.rotate_session_token(user)
            self.appbuilder.sm.update_user(user)
        logout_user()
        session.pop(auth.SESSION_KEY, None)
        if user is not None:
            self.appbuilder.sm.on_user_logout(user)
        return redirect(current_app.config.get("LOGOUT_REDIRECT_URL", self.appbuilder.get_url_for_index))


class _MenuPermission:
    """What FAB reads of a permission-view row when it builds the menu: ``pvm.view_menu.name``."""

    __slots__ = ("view_menu",)

    def __init__(self, name: str):
        self.view_menu = type("ViewMenu", (), {"name": name})()


class JishiSecurityManager(SecurityManager):
    user_model = AppUser
    userdbmodelview = JishiUserView
    authdbview = JishiAuthDBView
    userinfoeditview = UserInfoEditView
    # Roles, permissions, view menus and groups by their Chinese names (app/views/permission_names.py).
    rolemodelview = JishiRoleView
    permissionmodelview = JishiPermissionView
    viewmenumodelview = JishiViewMenuView
    permissionviewmodelview = JishiPermissionViewView
    groupmodelview = JishiGroupView
    # FAB's user statistics chart loads Google Charts from the internet: not on a closed network.
    userstatschartview = None

    # ---- permission checks: one query per request, not one per menu item and button --------------
    # FAB asks the database once for every permission a page checks (each menu entry, each action
    # button): 40-odd statements for an admin's list page. The pairs the signed-in roles hold are
    # read once into ``g`` instead; ``g`` lives for one request (or one app context), so a role edit
    # takes effect from the next request, as before.

    def _role_permissions(self, role_ids) -> set[tuple[str, str]] | None:
        if not has_app_context():
            return None
        cache = g.setdefault("_jishi_permissions", {})
        key = frozenset(role_ids)
        if key not in cache:
            rows = (self.session.query(self.viewmenu_model.name, self.permission_model.name)
                    .select_from(self.permissionview_model)
                    .join(self.permissionview_model.view_menu)
                    .join(self.permissionview_model.permission)
                    .join(self.permissionview_model.role)
                    .filter(self.role_model.id.in_(list(key))).all())
            cache[key] = {(view, perm) for view, perm in rows}
        return cache[key]

    def add_permission_role(self, role, perm_view) -> None:
        g.pop("_jishi_permissions", None) if has_app_context() else None
        super().add_permission_role(role, perm_view)

    def del_permission_role(self, role, perm_view) -> None:
        g.pop("_jishi_permissions", None) if has_app_context() else None
        super().del_permission_role(role, perm_view)

    def exist_permission_on_roles(self, view_name, permission_name, role_ids) -> bool:
        held = self._role_permissions(role_ids)
        if held is None:
            return super().exist_permission_on_roles(view_name, permission_name, role_ids)
        return (view_name, permission_name) in held

    def find_roles_permission_view_menus(self, permission_name, role_ids):
        held = self._role_permissions(role_ids)
        if held is None:
            return super().find_roles_permission_view_menus(permission_name, role_ids)
        views = {view for view, perm in held if perm == permission_name}
        return [_MenuPermission(view) for view in sorted(views)]

    def auth_user_db(self, username, password):
        user = self.find_user(username=username) if username else None
        now = dt.datetime.now()
        if user is not None and user.locked_until and user.locked_until > now:
            # As slow as a real check, so timing does not tell a locked account either.
            check_password_hash(current_app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"], "password")
            return None
        result = super().auth_user_db(username, password)
        if result is None and user is not None and user.is_active:
            limit = current_app.config.get("JISHI_LOGIN_MAX_FAILURES", 5)
            if (user.fail_login_count or 0) >= limit:
                minutes = current_app.config.get("JISHI_LOGIN_LOCKOUT_MINUTES", 15)
                user.locked_until = now + dt.timedelta(minutes=minutes)
                user.fail_login_count = 0
                self.update_user(user)
        return result

    # ---- sessions and JWTs: one identity, ended by logout and password changes (app/auth.py) ------

    def create_login_manager(self, app):
        lm = super().create_login_manager(app)
        lm.request_loader(auth.user_from_bearer)  # a Bearer JWT signs the request in, like a cookie
        user_logged_in.connect(auth.remember_token_in_session)  # once: blinker ignores a repeat
        return lm

    def create_jwt_manager(self, app):
        jwt_manager = super().create_jwt_manager(app)
        jwt_manager.additional_claims_loader(self._jwt_claims)
        return jwt_manager

    def _jwt_claims(self, identity) -> dict:
        user = self.get_user_by_id(int(identity))
        return {auth.JWT_CLAIM: auth.ensure_session_token(user)} if user is not None else {}

    def load_user(self, pk):
        """The session's user, if the session carries the user's current token."""
        user = super().load_user(pk)
        if user is None or not auth.same_token(session.get(auth.SESSION_KEY), user):
            return None
        return user

    def load_user_jwt(self, _jwt_header, jwt_data):
        user = super().load_user(jwt_data["sub"])  # FAB's loader, without the session check
        if user is None or not auth.same_token(jwt_data.get(auth.JWT_CLAIM), user):
            return None
        g.user = user
        return user

    def reset_password(self, userid, password):
        """Own reset and admin reset: hash, and end the user's other sessions and JWTs."""
        user = self.get_user_by_id(userid)
        if user is None:
            return
        user.password = auth.hash_password(password)
        auth.rotate_session_token(user)
        self.update_user(user)
        auth.keep_this_session(user)

    def register_views(self):
        super().register_views()
        if self.is_auth_limited:
            # The JWT login (/api/v1/security/login) is throttled per address like the form login.
            for view in self.appbuilder.baseviews:
                if isinstance(view, SecurityApi):
                    self.limiter.limit(self.auth_rate_limit, methods=["POST"])(view.blueprint)
