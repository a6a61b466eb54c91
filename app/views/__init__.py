"""Menu and view registration. Menu names are stable ASCII (they are permission names); labels
are Chinese and translatable."""
from flask_babel import lazy_gettext as _

from app.views.audit import AuditLogApi, AuditLogView
from app.views.case_api import MODULE_APIS, BatchApi, CaseApi, SignatureApi, SubmissionApi
from app.views.cases import BatchView, CasePersonView, CaseView
from app.views.rules import AlarmApi, AlarmView, CalendarDayView, RulesCatalogView, RuleSettingView
from app.views.notifications import CaseDeadlineView, InboxView, TaskRunView
from app.views.notices import NoticeView
from app.views.patrol import FindingView, PatrolView, ReviewView, SpotCheckView
from app.views.query import CaseQueryView
from app.views.reconcile import AppointmentDocumentView, DocumentImportView
from app.views.people import PersonView
from app.views.responsibility import ResponsibilityView
from app.views.reports import ReportFileView, ReportScheduleView
from app.views.statistics import StatisticsView
from app.views.unit_import import UnitImportView
from app.views.units import UnitApi, UnitQuotaApi, UnitQuotaView, UnitView
from app.views.workbench import MonitorView


def init_views(appbuilder) -> None:
    org, org_label = "Organisation", _("组织机构")
    appbuilder.add_view(UnitView, "Units", label=_("单位"), icon="fa-sitemap",
                        category=org, category_label=org_label, category_icon="fa-building")
    appbuilder.add_view(UnitQuotaView, "Quotas", label=_("核定职数"), icon="fa-list-ol",
                        category=org, category_label=org_label)
    appbuilder.add_view(UnitImportView, "UnitImport", label=_("批量导入单位"), icon="fa-upload",
                        category=org, category_label=org_label)
    rec, rec_label = "Records", _("全程记实")
    appbuilder.add_view(CaseView, "Cases", label=_("案例"), icon="fa-folder-open",
                        category=rec, category_label=rec_label, category_icon="fa-folder-open")
    appbuilder.add_view(BatchView, "Batches", label=_("批次"), icon="fa-layer-group",
                        category=rec, category_label=rec_label)
    appbuilder.add_view(CasePersonView, "CasePersons", label=_("案例人员"), icon="fa-users",
                        category=rec, category_label=rec_label)
    sup, sup_label = "Supervision", _("监督")
    appbuilder.add_view(AlarmView, "Alarms", label=_("报警"), icon="fa-bell",
                        category=sup, category_label=sup_label, category_icon="fa-bell")
    appbuilder.add_view(RulesCatalogView, "Rules", label=_("硬杠规则"), icon="fa-gavel",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(RuleSettingView, "RuleSettings", label=_("规则参数"), icon="fa-sliders",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(CalendarDayView, "Calendar", label=_("节假日与调休"), icon="fa-calendar",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(ReportFileView, "Reports", label=_("统计报表"), icon="fa-file-excel-o",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(ReportScheduleView, "ReportSchedules", label=_("报表计划"), icon="fa-calendar-check-o",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(CaseDeadlineView, "Deadlines", label=_("报送时限"), icon="fa-clock-o",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(TaskRunView, "TaskRuns", label=_("任务运行记录"), icon="fa-tasks",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(CaseQueryView, "CaseQuery", label=_("条件查询"), icon="fa-search",
                        category=sup, category_label=sup_label)
    appbuilder.add_link("SavedQueries", href="CaseQueryView.saved", label=_("我的查询"), icon="fa-bookmark",
                        category=sup, category_label=sup_label)
    appbuilder.add_link("QueryExports", href="CaseQueryView.exports", label=_("我的导出"), icon="fa-download",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(StatisticsView, "Statistics", label=_("统计分析"), icon="fa-bar-chart",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(MonitorView, "Monitor", label=_("实时监控"), icon="fa-dashboard",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(PatrolView, "Patrol", label=_("网上巡查"), icon="fa-binoculars",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(ReviewView, "Reviews", label=_("巡查记录"), icon="fa-check-square-o",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(SpotCheckView, "SpotChecks", label=_("抽查"), icon="fa-random",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(FindingView, "Findings", label=_("问题整改"), icon="fa-wrench",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(DocumentImportView, "Reconcile", label=_("应报未报核查"), icon="fa-exchange",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(AppointmentDocumentView, "Documents", label=_("任免文件"), icon="fa-file-text-o",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(PersonView, "People", label=_("人员档案"), icon="fa-user",
                        category=sup, category_label=sup_label)
    appbuilder.add_view(NoticeView, "Notices", label=_("通报"), icon="fa-bullhorn",
                        category=sup, category_label=sup_label)
    appbuilder.add_view_no_menu(ResponsibilityView)
    appbuilder.add_view(InboxView, "Inbox", label=_("消息"), icon="fa-envelope")
    appbuilder.add_view(AuditLogView, "AuditLog", label=_("修改痕迹"), icon="fa-history",
                        category="Audit", category_label=_("痕迹管理"), category_icon="fa-history")
    for api in (UnitApi, UnitQuotaApi, AuditLogApi, CaseApi, BatchApi, SignatureApi, SubmissionApi, AlarmApi, *MODULE_APIS):
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
