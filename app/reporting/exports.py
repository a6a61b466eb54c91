"""条件查询 outside the request: reading a filter from query parameters (the page, a saved query and
a background export all read it the same way, always against a given scope), and exporting the
matching cases as an xlsx list — at once for a few rows, or as a tracked background task that
stores the workbook for its requester.

A filter is never trusted as stored: a saved query or an export request keeps only the parameters,
and they are read again — unit, values, statistics column — in the scope of whoever runs them.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.audit import acting_as
from app.errors import JishiError
from app.extensions import db
from app.infra import stored_files
from app.infra.task_runs import set_progress, tracked
from app.models import AppUser, Batch, Case, CustomValue, ExportFile, Unit
from app.models.audit import utcnow
from app.models.case import STATUSES
from app.queries.cases import (
    AGE_BANDS,
    APPT,
    D1,
    EDU_GROUPS,
    MOTION,
    QUAL,
    TIMELINESS,
    CaseFilter,
    CustomCondition,
    case_select,
    count,
    highest_education,
    reporting_settings,
)
from app.queries.columns import BY_KEY, Col
from app.record import custom_items
from app.record.input_checks import ASCII_INT
from app.reporting.export_log import record_export
from app.reporting.xlsx import Sheet, write_list
from app.rule_settings import rules_by_code
from app.scoping import Scope, scope_for
from app.spec import ETHNICITIES, module

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_TITLE = "条件查询结果"
TASK = "export_cases"
LIGHTS = ("红", "黄", "绿")
BASES = {"decision": "讨论决定日期", "appointment": "任职通知/发文日期"}
MINORITY = "少数民族"
NON_PARTY = "党外"
_ID_RE = re.compile(r"^(\d{17}[\dX]|\d{15})$")
MAX_TEXT = 50


def _choices(module_key: str, item_key: str) -> tuple:
    return module(module_key).item(item_key).choices


def multi_fields() -> dict[str, tuple[str, tuple]]:
    """The "any of" fields: parameter → (Chinese label, allowed values)."""
    return {
        "target_grade": ("拟任职务层次", _choices("motion", "target_grade")),
        "selection_type": ("任用类型", _choices("motion", "selection_type")),
        "selection_method": ("选拔方式", _choices("motion", "selection_method")),
        "status": ("状态", STATUSES),
        "light": ("灯", LIGHTS),
        "timeliness": ("初次报送", TIMELINESS),
    }


def single_fields() -> dict[str, tuple[str, tuple]]:
    """The one-value fields with a fixed set of values."""
    return {
        "sex": ("性别", _choices("qualification", "sex")),
        "ethnicity": ("民族", (MINORITY, *ETHNICITIES)),
        "political_status": ("政治面貌", (NON_PARTY, *_choices("qualification", "political_status"))),
        "age_band": ("年龄段（决定时）", tuple(AGE_BANDS)),
        "education": ("最高学历", EDU_GROUPS),
    }


def rule_codes() -> dict[str, str]:
    return {code: rule.title for code, rule in sorted(rules_by_code().items())}


@dataclass
class ParsedQuery:
    """A filter read from parameters: what to run, what was wrong, and what to show in the form."""

    filter: CaseFilter
    col: Col | None = None
    unit: Unit | None = None
    errors: list[str] = field(default_factory=list)
    form: dict = field(default_factory=dict)
    custom_label: str = ""  # the label of the custom item filtered on

    @property
    def ok(self) -> bool:
        return not self.errors

    def extra(self) -> dict:
        """``extra_conditions`` / ``extra_needs`` of the statistics column, if one is asked."""
        if self.col is None:
            return {"extra_conditions": (), "extra_needs": ()}
        return {"extra_conditions": (self.col.sql(),), "extra_needs": tuple(self.col.needs)}

    def params(self) -> dict:
        """What a saved query or an export request stores (read again whenever it runs)."""
        out = self.filter.as_dict()
        if self.col is not None:
            out["col"] = self.col.key
        return out

    def chips(self) -> list[tuple[str, str, str]]:
        """The active filters as (parameter, label, value) for the page, the file and the audit trail."""
        out = []
        if self.unit is not None:
            out.append(("unit", "单位", f"{self.unit.name}（{'含下级' if self.filter.subtree else '仅本级'}）"))
        f = self.filter
        if f.date_from or f.date_to:
            out.append(("date", BASES.get(f.basis, f.basis),
                        f"{f.date_from.isoformat() if f.date_from else '不限'} 至 "
                        f"{f.date_to.isoformat() if f.date_to else '不限'}"))
        for key, (label, _values) in multi_fields().items():
            if getattr(f, key):
                out.append((key, label, "、".join(getattr(f, key))))
        if f.rule_code:
            out.append(("rule_code", "命中规则", f.rule_code))
        if f.name:
            out.append(("name", "姓名", f.name))
        if f.id_card_no:
            out.append(("id_card_no", "公民身份号码", f.id_card_no))
        for key, (label, _values) in single_fields().items():
            if getattr(f, key):
                out.append((key, label, getattr(f, key)))
        if f.custom is not None:
            out.append(("ci", f"自定义数据项·{self.custom_label}", self.form.get("cv", "")))
        if self.col is not None:
            out.append(("col", "统计列", f"{self.col.group}·{self.col.label}"))
        return out

    def describe(self) -> str:
        return "；".join(f"{label}：{value}" for _k, label, value in self.chips()) or "（无条件）"

    def period(self) -> str:
        f = self.filter
        if not (f.date_from or f.date_to):
            return ""
        return (f"{BASES.get(f.basis, '')} {f.date_from.isoformat() if f.date_from else '不限'} 至 "
                f"{f.date_to.isoformat() if f.date_to else '不限'}")


def _text(args, key: str) -> str:
    return (args.get(key) or "").strip()


def _flag(values: list[str], default: bool = True) -> bool:
    """A checkbox sent with a hidden "0" before it: any true value wins; none at all → default."""
    values = [v.strip() for v in values]
    if not values:
        return default
    return any(v not in ("0", "false", "False", "") for v in values)


def _date(args, key: str, label: str, errors: list[str]) -> dt.date | None:
    text = _text(args, key)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.replace("/", "-"))
    except ValueError:
        errors.append(f"“{label}”不是有效日期：{text[:MAX_TEXT]}（应为 YYYY-MM-DD，如 2026-03-01）")
        return None


def _resolve_unit(args, scope: Scope, errors: list[str]) -> Unit | None:
    """The unit by code (the form) or by id (a link from the statistics table), only inside the scope.
    An unknown unit and a unit out of scope get the same answer: nothing is told about others."""
    code = _text(args, "unit")
    if code:
        unit = db.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
        if unit is None or not scope.contains(unit.id):
            errors.append(f"单位代码“{code[:MAX_TEXT]}”不存在或不在您的权限范围内")
            return None
        return unit
    raw = _text(args, "unit_id")
    if raw:
        try:
            unit = db.session.get(Unit, int(raw))
        except (ValueError, OverflowError):
            unit = None
        if unit is None or not scope.contains(unit.id):
            errors.append("所选单位不存在或不在您的权限范围内")
            return None
        return unit
    return None


def parse_filter(args, scope: Scope) -> ParsedQuery:
    """Read a CaseFilter (and the optional statistics column ``col``) from query parameters, checking
    every value; problems are collected in Chinese, nothing raises."""
    args = args if isinstance(args, MultiDict) else MultiDict(args)
    errors: list[str] = []
    form: dict = {}
    unit = _resolve_unit(args, scope, errors)
    form["unit"] = unit.code if unit is not None else _text(args, "unit")
    subtree = _flag(args.getlist("subtree"))
    form["subtree"] = subtree
    basis = _text(args, "basis") or "decision"
    if basis not in BASES:
        errors.append("“日期依据”应为讨论决定日期或任职通知/发文日期")
        basis = "decision"
    form["basis"] = basis
    date_from = _date(args, "date_from", "起始日期", errors)
    date_to = _date(args, "date_to", "截止日期", errors)
    form["date_from"], form["date_to"] = _text(args, "date_from"), _text(args, "date_to")
    if date_from and date_to and date_from > date_to:
        errors.append("起始日期不能晚于截止日期")
    kwargs = {}
    for key, (label, allowed) in multi_fields().items():
        values = [v.strip() for v in args.getlist(key) if v and v.strip()]
        bad = [v for v in values if v not in allowed]
        if bad:
            errors.append(f"“{label}”的取值无效：{'、'.join(v[:MAX_TEXT] for v in bad)}")
        kwargs[key] = list(dict.fromkeys(v for v in values if v in allowed))
        form[key] = kwargs[key]
    for key, (label, allowed) in single_fields().items():
        value = _text(args, key)
        if value and value not in allowed:
            errors.append(f"“{label}”的取值无效：{value[:MAX_TEXT]}")
            value = ""
        kwargs[key] = value or None
        form[key] = value
    code = _text(args, "rule_code").upper()
    if code and code not in rule_codes():
        errors.append(f"规则编号“{code[:MAX_TEXT]}”不存在")
        code = ""
    kwargs["rule_code"] = code or None
    form["rule_code"] = code
    name = _text(args, "name")
    if len(name) > 30:
        errors.append("“姓名”不能超过 30 个字")
        name = ""
    kwargs["name"] = name or None
    form["name"] = name
    id_no = _text(args, "id_card_no").upper()
    form["id_card_no"] = id_no[:MAX_TEXT]
    if id_no and not _ID_RE.match(id_no):
        errors.append("“公民身份号码”应为 18 位（末位可为 X）或 15 位数字")
        id_no = ""
    kwargs["id_card_no"] = id_no or None
    kwargs["custom"] = None
    custom, custom_label = _custom_condition(args, scope, errors)
    if custom is not None:
        kwargs["custom"] = custom
    form["ci"], form["cv"] = _text(args, "ci")[:MAX_TEXT], _text(args, "cv")[:MAX_TEXT]
    col_key = _text(args, "col")
    col = BY_KEY.get(col_key) if col_key else None
    if col_key and col is None:
        errors.append(f"统计列“{col_key[:MAX_TEXT]}”不存在")
    form["col"] = col.key if col else ""
    f = CaseFilter(unit_id=unit.id if unit is not None else None, subtree=subtree, basis=basis,
                   date_from=date_from, date_to=date_to, **kwargs)
    return ParsedQuery(filter=f, col=col, unit=unit, errors=errors, form=form, custom_label=custom_label)


def custom_fields(scope: Scope) -> list[dict]:
    """The custom items (自定义数据项) a user of ``scope`` may filter on: key, label, kind, choices."""
    return [{"key": d.key, "label": d.label, "kind": d.spec.kind, "choices": list(d.spec.choices)}
            for d in custom_items.visible_definitions(scope) if d.spec.kind in CUSTOM_FILTER_KINDS]


CUSTOM_FILTER_KINDS = ("text", "enum", "int", "date", "bool")
BOOL_VALUES = {"是": True, "否": False, "1": True, "0": False, "true": True, "false": False}


RANGE_SEPARATORS = ("~", "～", "至")  # a number or a date between two bounds: 2026-01-01~2026-06-30, 3~, ~10


def _custom_condition(args, scope: Scope, errors: list[str]) -> tuple[CustomCondition | None, str]:
    """``ci`` (a custom item's key) and ``cv`` (its value), typed by the item's kind; for a number or a date
    also a range (``起~止``, either end may be left empty). An item outside the scope and one that does not
    exist get the same answer."""
    key, text = _text(args, "ci"), _text(args, "cv")
    if not key:
        return None, ""
    found = next((d for d in custom_items.visible_definitions(scope) if d.key == key), None)
    if found is None:
        errors.append(f"自定义数据项“{key[:MAX_TEXT]}”不存在或不在您的权限范围内")
        return None, ""
    label, kind = found.label, found.spec.kind
    if kind not in CUSTOM_FILTER_KINDS:
        errors.append(f"“{label}”是多选数据项，暂不能作为查询条件")
        return None, label
    if not text:
        errors.append(f"请填写“{label}”的查询值")
        return None, label
    separator = next((s for s in RANGE_SEPARATORS if s in text), None)
    if separator is not None:
        if kind not in ("int", "date"):
            errors.append(f"“{label}”不是数字或日期，不能按范围查询")
            return None, label
        parts = [p.strip() for p in text.split(separator)]
        if len(parts) != 2 or not any(parts):
            errors.append(f"“{label}”的范围应写作“起{separator}止”（可省略一端），实际为“{text[:MAX_TEXT]}”")
            return None, label
        mine: list[str] = []
        low, high = (_custom_value(kind, p, label, found, mine) if p else None for p in parts)
        if mine:
            errors.extend(mine)
            return None, label
        if low is not None and high is not None and low > high:
            errors.append(f"“{label}”的范围起点（{parts[0]}）晚于或大于终点（{parts[1]}）")
            return None, label
        return CustomCondition(found.key, found.id, kind, low=low, high=high), label
    value = _custom_value(kind, text, label, found, errors)
    if value is None:
        return None, label
    return CustomCondition(found.key, found.id, kind, value), label


def _custom_value(kind: str, text: str, label: str, found, errors: list[str]):
    """One typed query value of a custom item, or None with the reason added to ``errors``."""
    if kind == "int":
        if not ASCII_INT.fullmatch(text) or len(text) > 18:
            errors.append(f"“{label}”应为整数，实际为“{text[:MAX_TEXT]}”")
            return None
        return int(text)
    if kind == "date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            errors.append(f"“{label}”不是有效日期：{text[:MAX_TEXT]}（应为 YYYY-MM-DD）")
            return None
    if kind == "bool":
        if text not in BOOL_VALUES:
            errors.append(f"“{label}”应为“是”或“否”，实际为“{text[:MAX_TEXT]}”")
            return None
        return BOOL_VALUES[text]
    if kind == "enum" and text not in found.spec.choices:
        errors.append(f"“{label}”的取值无效：{text[:MAX_TEXT]}")
        return None
    if len(text) > 100:
        errors.append(f"“{label}”的查询值不能超过 100 个字")
        return None
    return text


def params_to_args(params: dict) -> MultiDict:
    """Stored parameters (``ParsedQuery.params()``) → query parameters for ``parse_filter``."""
    out = MultiDict()
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            out.add(key, "1" if value else "0")
        elif isinstance(value, (list, tuple)):
            for v in value:
                out.add(key, str(v))
        else:
            out.add(key, str(value))
    return out


def query_string(params: dict) -> str:
    """A query string for /query/ from a filter's parameters (``CaseFilter.as_dict()`` plus ``col``)."""
    return urlencode(list(params_to_args(params).items(multi=True)))


# ---- the exported list -----------------------------------------------------------------------------

HEADERS = ("案例编号", "姓名", "性别", "出生年月", "民族", "政治面貌", "最高学历", "选任责任单位", "任用类型", "选拔方式",
           "拟任职务层次", "拟任职务", "讨论决定日期", "任职通知/发文日期", "状态", "灯", "版本", "初次报送")
WIDTHS = {0: 22, 1: 10, 7: 24, 11: 24, 12: 12, 13: 14}
EXPORT_NEEDS = {"qual", "motion", "batch", "appt", "d1"}
LIGHT = HEADERS.index("灯")
CHUNK = 2000


def _export_columns():
    return (Case.case_no, Case.full_name, QUAL.sex, QUAL.birth_date, QUAL.ethnicity, QUAL.political_status,
            highest_education().label("education"), Unit.name.label("unit_name"), MOTION.selection_type,
            MOTION.selection_method, MOTION.target_grade, MOTION.target_post, Batch.decision_date,
            APPT.appointment_doc_date, Case.status, Case.light, Case.version_no, D1.status.label("timeliness"))


def export_custom(pq: ParsedQuery, scope: Scope) -> list:
    """The custom items the list carries as extra columns: those visible in the filter's unit (or the
    exporter's scope when the filter names none)."""
    from_scope = scope
    if pq.unit is not None:
        from_scope = Scope("subtree", pq.unit.id, pq.unit.path)
    return custom_items.visible_definitions(from_scope)


_CUSTOM_VALUE = {"text": CustomValue.value_text, "enum": CustomValue.value_text, "int": CustomValue.value_num,
                 "bool": CustomValue.value_num, "date": CustomValue.value_date, "enum*": CustomValue.value_json}


def _custom_column(d):
    return (select(_CUSTOM_VALUE[d.spec.kind]).where(CustomValue.case_id == Case.id, CustomValue.item_id == d.id)
            .scalar_subquery().label(f"ci_{d.id}"))


def _custom_cell(kind: str, value):
    if value is None:
        return None
    if kind == "bool":
        return "是" if value else "否"
    if kind == "enum*":
        return "、".join(value) if isinstance(value, list) else str(value)
    return value


def export_rows(pq: ParsedQuery, scope: Scope, chunk: int = CHUNK, custom=None):
    """Every matching case as one list row, in case id order, streamed from one statement on a
    connection of its own: rows arrive ``chunk`` at a time (a server-side cursor on PostgreSQL), so
    memory stays flat, the list is one consistent snapshot, and the progress the caller commits on
    the session meanwhile never touches the cursor. One statement, planned once for its values, is
    also what makes it fast: keyset chunks cost 50 round trips and 3.4 s of 100,000 rows."""
    extra = pq.extra()
    custom = export_custom(pq, scope) if custom is None else custom
    kinds = [d.spec.kind for d in custom]
    stmt = case_select(pq.filter, scope, extra_conditions=extra["extra_conditions"],
                       extra_needs=EXPORT_NEEDS | set(extra["extra_needs"]),
                       columns=[*_export_columns(), *(_custom_column(d) for d in custom)])
    stmt = stmt.join(Unit, Unit.id == Case.unit_id).order_by(Case.id)
    with db.engine.connect() as conn:
        reporting_settings(conn)
        for r in conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt):
            row = list(r)  # HEADERS' order; by position, not by name: 18 look-ups a row add up
            row[LIGHT] = f"{row[LIGHT]}灯" if row[LIGHT] else "未评估"
            for n, kind in enumerate(kinds, start=len(HEADERS)):
                row[n] = _custom_cell(kind, row[n])
            yield row


def sheet_unit(pq: ParsedQuery, user) -> str:
    if pq.unit is not None:
        return pq.unit.name + ("（含下级单位）" if pq.filter.subtree else "")
    unit = getattr(user, "unit", None)
    return unit.name if unit is not None else "全部单位"


def write_export(target, pq: ParsedQuery, scope: Scope, user, progress=None, every: int = CHUNK) -> int:
    """Write the workbook to ``target`` (a path or file object); returns the number of rows."""
    custom = export_custom(pq, scope)
    spec = Sheet(title=EXPORT_TITLE, unit=sheet_unit(pq, user), period=pq.period(),
                 headers=(*HEADERS, *(f"{d.label}（自定义）" for d in custom)), widths=WIDTHS)
    return write_list(target, spec, export_rows(pq, scope, custom=custom), progress=progress, every=every)


def export_filename(now: dt.datetime | None = None) -> str:
    return f"条件查询结果-{(now or dt.datetime.now()):%Y%m%d%H%M%S}.xlsx"


def record(unit_id, description: str, rows: int) -> None:
    """In the audit trail, the way every export is recorded (app/reporting/export_log.py)."""
    record_export(Case.__tablename__, unit_id, description, rows)


def sync_limit() -> int:
    return int(current_app.config.get("JISHI_EXPORT_SYNC_MAX", 20000))


# ---- background exports ------------------------------------------------------------------------------

class ExportUnavailable(JishiError):
    """The stored workbook is missing or no longer matches its SHA-256."""


def exports_dir() -> Path:
    return stored_files.folder()



def verified_path(export) -> Path:
    if not export.storage_key or not export.finished_at:
        raise ExportUnavailable("导出文件尚未生成完成")
    return stored_files.checked(export.storage_key, export.sha256, ExportUnavailable,
                                missing="导出文件已不存在，请重新导出",
                                changed="导出文件内容与登记的 SHA-256 不一致，可能已被篡改，请重新导出")


def run_export(export_file_id: int) -> dict:
    """The background export: re-read the stored filter in the requester's scope, write the workbook
    under a random name in REPORTS_FOLDER, and fill in the ExportFile row. Tracked as a TaskRun."""
    export = db.session.get(ExportFile, export_file_id)
    if export is None:
        raise LookupError(f"导出记录 #{export_file_id} 不存在")
    user = db.session.get(AppUser, export.user_id)
    with acting_as(user, "task"), tracked(TASK, triggered_by=user.username) as run:
        run_id = run.id
        export.task_run_id = run_id
        db.session.commit()
        if not user.is_active:
            raise PermissionError("申请导出的用户已停用")
        scope = scope_for(user)
        pq = parse_filter(params_to_args(export.params), scope)
        if not pq.ok:
            raise ValueError("；".join(pq.errors))
        total = count(pq.filter, scope, **pq.extra())
        key = uuid.uuid4().hex
        path = exports_dir() / key
        every = max(1, min(CHUNK, total // 20 or 1)) if total else CHUNK

        def progress(n: int) -> None:
            set_progress(run_id, min(99, n * 100 // total) if total else 99)

        try:
            rows = write_export(str(path), pq, scope, user, progress=progress, every=every)
            size, sha = path.stat().st_size, stored_files.sha256_of(path)
            export = db.session.get(ExportFile, export_file_id)
            export.filename, export.storage_key, export.rows, export.size, export.sha256 = (
                export_filename(), key, rows, size, sha)
            export.finished_at, export.task_run_id = utcnow(), run_id
            run = db.session.get(type(run), run_id)
            run.counts = {"rows": rows, "export_file_id": export_file_id}
            db.session.commit()
        except BaseException:
            db.session.rollback()
            path.unlink(missing_ok=True)
            raise
        record(export.unit_id, f"条件查询导出（后台任务 #{export_file_id}）：{pq.describe()}", rows)
    return {"export_file_id": export_file_id, "rows": rows}
