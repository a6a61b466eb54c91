"""Menu and view registration. Menu names are stable ASCII (they are permission names); labels
are Chinese and translatable."""
from flask_babel import lazy_gettext as _

from app.views.audit import AuditLogApi, AuditLogView
from app.views.case_api import MODULE_APIS, BatchApi, CaseApi, SignatureApi, SubmissionApi
from app.views.cases import BatchView, CasePersonView, CaseView
from app.views.custom_items import CustomItemView
from app.views.custom_rules import CustomRulesView, RulePackView
from app.views.form_fixes import init_form_fixes
from app.views.home import HomeView
from app.views.notices import NoticeView
from app.views.notifications import CaseDeadlineView, InboxView, TaskRunView
from app.views.patrol import FindingView, PatrolView, ReviewView, SpotCheckView
from app.views.people import PersonView
from app.views.permission_names import init_permission_names, register_menu_names
from app.views.query import CaseQueryView
from app.views.reconcile import AppointmentDocumentView, DocumentImportView
from app.views.reports import ReportFileView, ReportScheduleView
from app.views.responsibility import ResponsibilityView
from app.views.rules import AlarmApi, AlarmView, CalendarDayView, RulesCatalogView, RuleSettingView
from app.views.statistics import StatisticsView
from app.views.unit_import import UnitImportView
from app.views.unit_picker import UnitPickerView
from app.views.units import UnitApi, UnitQuotaApi, UnitQuotaView, UnitView
from app.views.workbench import MonitorView

INDEX_VIEW = HomeView  # the start page: 工作台 (AppBuilder(indexview=...))


def _menu():
    """The menu, in order: (category, its label, its icon, [(view or link endpoint, name, label, icon), …])."""
    return (
        ("Organisation", _("组织机构"), "fa-building", (
            (UnitView, "Units", _("单位"), "fa-sitemap"),
            (UnitQuotaView, "Quotas", _("核定职数"), "fa-list-ol"),
            (UnitImportView, "UnitImport", _("批量导入单位"), "fa-upload"))),
        ("Records", _("全程记实"), "fa-folder-open", (
            (CaseView, "Cases", _("案例"), "fa-folder-open"),
            (BatchView, "Batches", _("批次"), "fa-layer-group"),
            (CasePersonView, "CasePersons", _("案例人员"), "fa-users"))),
        ("Supervision", _("监督"), "fa-bell", (
            (AlarmView, "Alarms", _("报警"), "fa-bell"),
            (RulesCatalogView, "Rules", _("硬杠规则"), "fa-gavel"),
            (RuleSettingView, "RuleSettings", _("规则参数"), "fa-sliders"),
            (CustomItemView, "CustomItems", _("自定义数据项"), "fa-plus-square"),
            (CustomRulesView, "CustomRules", _("自定义规则"), "fa-code"),
            (RulePackView, "RulePacks", _("规则包"), "fa-archive"),
            (CalendarDayView, "Calendar", _("节假日与调休"), "fa-calendar"),
            (ReportFileView, "Reports", _("统计报表"), "fa-file-excel-o"),
            (ReportScheduleView, "ReportSchedules", _("报表计划"), "fa-calendar-check-o"),
            (CaseDeadlineView, "Deadlines", _("报送时限"), "fa-clock-o"),
            (TaskRunView, "TaskRuns", _("任务运行记录"), "fa-tasks"),
            (CaseQueryView, "CaseQuery", _("条件查询"), "fa-search"),
            ("CaseQueryView.saved", "SavedQueries", _("我的查询"), "fa-bookmark"),
            ("CaseQueryView.exports", "QueryExports", _("我的导出"), "fa-download"),
            (StatisticsView, "Statistics", _("统计分析"), "fa-bar-chart"),
            (MonitorView, "Monitor", _("实时监控"), "fa-dashboard"),
            (PatrolView, "Patrol", _("网上巡查"), "fa-binoculars"),
            (ReviewView, "Reviews", _("巡查记录"), "fa-check-square-o"),
            (SpotCheckView, "SpotChecks", _("抽查"), "fa-random"),
            (FindingView, "Findings", _("问题整改"), "fa-wrench"),
            (DocumentImportView, "Reconcile", _("应报未报核查"), "fa-exchange"),
            (AppointmentDocumentView, "Documents", _("任免文件"), "fa-file-text-o"),
            (PersonView, "People", _("人员档案"), "fa-user"),
            (NoticeView, "Notices", _("通报"), "fa-bullhorn"))),
    )


def _add_category(appbuilder, category, category_label, category_icon, entries) -> None:
    register_menu_names(category, category_label, entries)
    for target, name, label, icon in entries:
        where = {"category": category, "category_label": category_label, "category_icon": category_icon}
        if isinstance(target, str):  # a link to a page of a view already registered
            appbuilder.add_link(name, href=target, label=label, icon=icon, **where)
        else:
            appbuilder.add_view(target, name, label=label, icon=icon, **where)


def init_views(appbuilder) -> None:
    for category in _menu():
        _add_category(appbuilder, *category)
    appbuilder.add_view_no_menu(ResponsibilityView)
    appbuilder.add_view_no_menu(UnitPickerView)
    appbuilder.add_view(InboxView, "Inbox", label=_("消息"), icon="fa-envelope")
    _add_category(appbuilder, "Audit", _("痕迹管理"), "fa-history",
                  ((AuditLogView, "AuditLog", _("修改痕迹"), "fa-history"),))
    for api in (UnitApi, UnitQuotaApi, AuditLogApi, CaseApi, BatchApi, SignatureApi, SubmissionApi, AlarmApi, *MODULE_APIS):
        appbuilder.add_api(api)
    _relabel_security_menu(appbuilder)
    init_permission_names()
    init_form_fixes()


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
