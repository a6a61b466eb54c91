"""Values and names as people read them: the one formatting layer of every page.

Names come from the catalogue (``app.spec``: modules and items) and, for the records around a case, from
the tables below; a raw key, a table or column name, ``None`` or a Python repr never reaches a page.
Values: 是/否, empty for nothing, dates as users write them (tables ``2026-01-01``, 公文 prose
``2026年1月1日``), times to the minute in Asia/Shanghai (the database stores naive UTC).
"""
from __future__ import annotations

import ast
import datetime as dt
import decimal
import json
import re
from functools import lru_cache
from zoneinfo import ZoneInfo

from app.dates import official_date
from app.spec import items_by_key, modules

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# Tables of the records around a case (the case modules' tables take their module's name).
TABLE_LABELS = {
    "cadre_case": "案例", "case_person": "案例人员", "batch": "批次", "attachment": "附件", "unit": "单位",
    "unit_quota": "核定职数", "ab_user": "用户", "alarm": "报警", "alarm_event": "报警处置", "task_run": "任务运行记录",
    "case_deadline": "报送时限", "calendar_day": "节假日与调休", "calendar_year": "节假日年度", "rule_setting": "规则参数",
    "report_file": "统计报表", "report_schedule": "报表计划", "export_file": "导出文件", "saved_query": "我的查询",
    "signature_record": "签字记录", "submission_record": "提交记录", "case_review": "审核记录", "finding": "问题整改",
    "spot_check": "抽查", "spot_check_item": "抽查案例", "circular_notice": "通报", "circular_notice_case": "通报案例",
    "appointment_document": "任免文件", "person_correction": "档案专审更正", "inbox_message": "站内消息",
    "rule_evaluation": "规则评估", "evaluation_run": "评估批次", "case_fact": "统计事实", "audit_log": "修改痕迹",
    "custom_item": "自定义数据项定义", "custom_value": "自定义数据项", "custom_rule_version": "自定义规则",
}

# Columns by name (the catalogue's items first; these are the columns that are not items).
COLUMN_LABELS = {
    "id": "编号", "unit_id": "所属单位", "unit": "单位", "case_id": "案例", "root_id": "原始案例", "batch_id": "批次",
    "handler": "经办人", "leader": "责任领导", "state": "填写状态", "completed_at": "完成时间", "status": "状态",
    "case_no": "案例编号", "version_no": "版本号", "previous_id": "上一版本", "is_current": "是否现行版本",
    "full_name": "姓名", "name": "名称", "post": "职务", "id_card_no": "身份证号", "item_key": "数据项",
    "position": "序号", "created_by_id": "创建人", "created_by_name": "创建人", "created_at": "创建时间",
    "return_reason": "退回理由", "light": "灯", "title": "标题", "filename": "文件名", "content_type": "文件类型",
    "size": "大小（字节）", "sha256": "校验值", "storage_key": "存储位置", "has_content": "是否有内容",
    "uploaded_by_id": "上传人", "uploaded_at": "上传时间", "code": "代码", "parent_id": "上级单位", "path": "层级路径",
    "level": "层级", "unit_type": "单位类别", "region_code": "行政区划代码", "max_grade": "最高职级",
    "authority": "任免权限", "dual_managed": "是否双重管理", "grade": "职级", "approved": "核定数",
    "first_name": "姓名", "last_name": "姓", "username": "登录名", "password": "密码", "active": "是否启用",
    "email": "电子邮箱", "created_by_fk": "创建人", "changed_by_fk": "修改人", "last_login": "最近登录",
    "login_count": "登录次数", "fail_login_count": "登录失败次数", "created_on": "创建时间", "changed_on": "修改时间", "locked_until": "锁定至", "session_token": "会话令牌",
    "document_id": "任免文件", "run_id": "运行批次", "point": "评估节点", "codes": "规则编号", "message": "内容",
    "raised_at": "报警时间", "correction_deadline": "整改期限", "closed_at": "关闭时间", "dedup_key": "去重键",
    "alarm_id": "报警", "from_status": "原状态", "to_status": "新状态", "actor_id": "操作人", "actor_name": "操作人",
    "reason": "理由", "at": "时间", "task": "任务", "started_at": "开始时间", "finished_at": "结束时间",
    "counts": "统计", "error": "错误信息", "triggered_by": "触发人", "progress": "进度", "node": "报送节点",
    "anchor_date": "起算日期", "days": "期限天数", "day_type": "计日方式", "setting_id": "规则参数版本",
    "due_date": "截止日期", "submitted_on": "报送日期", "days_late": "逾期天数", "updated_at": "更新时间",
    "day": "日期", "working": "是否工作日", "source": "来源", "year": "年度", "effective_from": "生效日期",
    "enabled": "是否启用", "params": "参数", "note": "说明", "kind": "类别", "period_start": "起始日期",
    "period_end": "截止日期", "period_from": "起始日期", "period_to": "截止日期", "task_run_id": "任务运行记录",
    "hour": "时", "user_id": "用户", "rows": "行数", "level_no": "级别", "signer_id": "签字人", "signer_name": "签字人",
    "opinion": "意见", "signed_at": "签字时间", "snapshot_sha256": "快照校验值", "record_sha256": "记录校验值",
    "record_hmac": "记录封存码", "voided_at": "作废时间", "void_reason": "作废理由", "submitted_at": "提交时间",
    "submitted_by_id": "提交人", "submitted_by_name": "提交人", "snapshot": "提交快照", "content_sha256": "内容校验值",
    "prev_sha256": "上一条校验值", "hmac": "封存码", "prev_hmac": "上一条封存码", "result": "结果",
    "reviewer_id": "审核人", "reviewer_name": "审核人", "spot_check_id": "抽查", "rule_codes": "规则编号",
    "description": "问题描述", "corrected_at": "整改时间", "correction_note": "整改说明", "closed_by_name": "关闭人",
    "seed": "随机种子", "method": "方式", "rate": "比例", "count": "数量", "population": "总体数量", "number": "文号",
    "content": "正文", "issued_at": "印发时间", "issued_by_name": "印发人", "notice_id": "通报", "detail": "详情",
    "doc_no": "文号", "doc_date": "发文日期", "person_name": "姓名", "matched_case_id": "对应案例",
    "imported_at": "导入时间", "imported_by_name": "导入人", "old_value": "原值", "new_value": "新值",
    "basis": "依据", "decided_on": "决定日期", "recipient_id": "收件人", "body": "内容", "link": "链接",
    "read_at": "阅读时间", "emailed_at": "邮件发送时间", "export_file_id": "导出文件",
    "item_id": "自定义数据项", "value_text": "值", "value_num": "值（数字/是否）", "value_date": "值（日期）",
    "value_json": "值（多选）", "severity": "严重程度", "points": "检查时点", "expression": "条件表达式",
    "grades": "适用职级", "selection_types": "适用选任方式", "author_id": "编写人", "author_name": "编写人",
    "approver_id": "批准人", "approver_name": "批准人", "approved_at": "批准时间", "category": "类别",
    "module": "环节", "key": "键", "label": "名称", "type": "类型", "required": "是否必填", "condition": "必填条件",
    "help_text": "填写说明",
}
# A column whose name means something else in one table.
TABLE_COLUMN_LABELS = {
    ("calendar_day", "name"): "节日名称", ("case_person", "name"): "姓名", ("unit", "name"): "单位名称",
    ("signature_record", "level"): "签字级别", ("case_deadline", "status"): "报送状态", ("ab_user", "first_name"): "姓名",
}

# What a background run counted (任务运行记录).
STAT_LABELS = {
    "as_of": "日期", "flagged": "新标记逾期", "sent": "新发送消息", "updated": "更新状态", "red": "转为红灯",
    "reminders": "到期提醒", "overdue": "逾期通知", "missing": "未报通知", "written": "已写入", "evaluated": "评估案例",
    "units": "单位", "created": "新生成", "existing": "已存在", "messages": "发送消息", "rows": "行数",
    "export_file_id": "导出文件编号", "repaired": "已修复", "case_ids": "涉及案例", "cases": "案例",
    "differences": "不一致", "first": "前若干条", "reason": "原因", "yellow": "转为黄灯", "green": "转为绿灯",
    "deadlines": "报送时限", "alarms": "报警", "closed": "关闭", "raised": "新报警", "skipped": "跳过", "errors": "错误",
    "total": "合计", "done": "已完成", "failed": "失败", "derived": "重新推导",
}

# Coded values of the records' columns (the audit trail shows what was stored).
VALUE_LABELS = {
    "day_type": {"calendar": "自然日", "working": "工作日"},
    "node": {"1": "初次提交", "2": "二次提交"},
    "task": {"deadlines_scan": "时限扫描", "reports_generate": "统计报表生成", "rules_daily": "每日规则评估",
             "facts_check": "统计事实表核对", "derived_check": "推导状态核对", "rederive": "重新推导在办案例",
             "export_cases": "导出查询结果"},
    "source": {"package": "国务院办公厅放假安排", "admin": "管理员录入"},
    "path": {"web": "网页", "api": "接口", "cli": "命令行", "task": "后台任务"},
    # a custom rule version's status (app.models.custom_rules.CUSTOM_STATUSES)
    "status": {"draft": "草稿", "pending": "待审批", "enabled": "已启用", "disabled": "已停用"},
    # a report schedule's and an export file's kind (app.reporting.scheduled.KINDS, app.models.queries)
    "kind": {"monthly": "月报", "quarterly": "季报", "cases": "案例清单", "statistics": "统计表",
             "roster": "干部任免名册", "overdue": "逾期清单", "rule_hits": "规则命中"},
    "method": {"rate": "按比例", "count": "按数量"},  # a spot check's draw
}

TRUE_TEXT = {"True", "true", "是"}
FALSE_TEXT = {"False", "false", "否"}
NONE_TEXT = {"None", "none", "null", "NULL", ""}
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?$")


@lru_cache(maxsize=1)
def _module_tables() -> dict[str, str]:
    return {f"case_{m.key}": m.name for m in modules()}


@lru_cache(maxsize=1)
def _module_names() -> dict[str, str]:
    return {m.key: m.name for m in modules()}


def table_label(table: str | None) -> str:
    """The Chinese name of a table; an unknown one as 其他记录 (never the raw name)."""
    if not table:
        return ""
    return _module_tables().get(table) or TABLE_LABELS.get(table) or "其他记录"


def module_label(key: str | None) -> str:
    """A catalogue module's name (资格条件, 动议 …) from its key."""
    return _module_names().get(key or "", "") or (key or "")


def field_label(column: str | None, table: str | None = None) -> str:
    """The Chinese name of a column or catalogue item: the item's label, else the record's column label."""
    if not column:
        return ""
    if (table, column) in TABLE_COLUMN_LABELS:
        return TABLE_COLUMN_LABELS[(table, column)]
    items = items_by_key()
    if column in items and (table is None or table.startswith("case_") or table in ("batch", "cadre_case")):
        return items[column].label
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    if column.endswith("_id") and column[:-3] in items:
        return items[column[:-3]].label
    if column in items:
        return items[column].label
    return "其他字段"


def key_label(key) -> str:
    """A key of a stored mapping (run statistics, a person, a parameter set)."""
    key = str(key)
    return STAT_LABELS.get(key) or _module_names().get(key) or (field_label(key) if field_label(key) != "其他字段" else key)


def yes_no(value) -> str:
    if value is None:
        return ""
    return "是" if value else "否"


def local_time(value: dt.datetime) -> dt.datetime:
    """A stored time (naive UTC, or aware) in Asia/Shanghai."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(LOCAL_TZ)


def minute(value) -> str:
    """A time to the minute in Asia/Shanghai: 2026-01-01 08:30; nothing for none."""
    if not value:
        return ""
    if isinstance(value, str):
        parsed = _parse_datetime(value)
        if parsed is None:
            return value
        value = parsed
    if not isinstance(value, dt.datetime):
        return table_date(value)
    return local_time(value).strftime("%Y-%m-%d %H:%M")


def table_date(value) -> str:
    """A date in a table: 2026-01-01."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        return local_time(value).date().isoformat()
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def prose_date(value) -> str:
    """A date in 公文 prose: 2026年1月1日 — of a date, a moment (its local day) or an ISO date kept in stored
    content; other text unchanged. The one formatter of the templates (``|prose_date``, ``|official_date``)
    and of the notices; ``app.dates.official_date`` is its date-only core."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = local_time(value).date()
    return official_date(value)


def _parse_datetime(text: str) -> dt.datetime | None:
    if not _DATETIME.match(text.strip()):
        return None
    try:
        return dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    return str(value)


def shown(value) -> str:
    """Any value as text for a person: 是/否, empty for none, dates and times as above, a mapping as
    「标签：值」 pairs, a list joined by 、."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, dt.datetime):
        return minute(value)
    if isinstance(value, dt.date):
        return table_date(value)
    if isinstance(value, (int, float, decimal.Decimal)):
        return _number(value)
    if isinstance(value, dict):
        parts = [(key_label(k), shown(v)) for k, v in value.items()]
        return "；".join(f"{k}：{v}" for k, v in parts if v != "")
    if isinstance(value, (list, tuple, set)):
        return "、".join(s for s in (shown(v) for v in value) if s != "")
    return stored(str(value))


def stored(text: str | None) -> str:
    """A value kept as text (the audit trail's old and new values, a JSON column read back): the repr of
    None, a boolean, a datetime, a dict or a list turned into what a person reads; an item key into its
    label."""
    if text is None:
        return ""
    raw = text.strip()
    if raw in NONE_TEXT:
        return ""
    if raw in TRUE_TEXT:
        return "是"
    if raw in FALSE_TEXT:
        return "否"
    if raw[:1] in "{[(" and raw[-1:] in "}])":
        for parse in (json.loads, ast.literal_eval):
            try:
                parsed = parse(raw)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            if isinstance(parsed, (dict, list, tuple)):
                return shown(parsed)
    parsed_time = _parse_datetime(raw)
    if parsed_time is not None:
        return minute(parsed_time)
    if raw in items_by_key():
        return items_by_key()[raw].label
    return text


def audit_value(text: str | None, column: str | None = None) -> str:
    """An old or new value of the audit trail; an item-key column names the item."""
    if column == "item_key" and text in items_by_key():
        return items_by_key()[text].label
    if column in VALUE_LABELS and text in VALUE_LABELS[column]:
        return VALUE_LABELS[column][text]
    return stored(text)
