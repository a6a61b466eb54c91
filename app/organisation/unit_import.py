"""Bulk import of units from xlsx or csv: all rows or none.

Every row is checked (fields, duplicate codes, parents that exist in the file or the database
and are within the importer's scope) and every problem is reported with its row number. Only
when no row has a problem are the units written, in one transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.enums import GRADES
from app.extensions import db
from app.infra.tables import RowError, TableError, cell_text, read_upload
from app.models.unit import Unit, UnitQuota, validate_unit_fields
from app.scoping import Scope

# Chinese header → attribute. English keys are accepted too.
HEADERS = {
    "单位代码": "code",
    "单位名称": "name",
    "上级单位代码": "parent_code",
    "层级": "level",
    "单位类型": "unit_type",
    "行政区划代码": "region_code",
    "机构规格": "max_grade",
    "任免权限": "authority",
    "双重管理": "dual_managed",
}
REQUIRED = ["code", "name", "level", "unit_type", "max_grade", "authority"]
QUOTA_SUFFIX = "职数"  # a column "县处级正职职数" holds the approved posts of that grade
TRUE = {"是", "y", "yes", "true", "1", "√"}
FALSE = {"否", "n", "no", "false", "0", ""}


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class Row(dict):
    """One data row keyed by header, with its row number in the file and its header's."""

    def __init__(self, values: dict, number: int, header_number: int = 1):
        super().__init__(values)
        self.number = number
        self.header_number = header_number


def read_table(filename: str, data: bytes) -> list[Row]:
    """Rows as dicts keyed by header, from .xlsx or .csv (UTF-8, with or without BOM, or GBK); each keeps
    its row number in the file (``Row.number``)."""
    table = read_upload(filename, data)
    header = table.header
    rows = [Row({header[i]: cell_text(v) for i, v in enumerate(cells) if i < len(header)}, n, table.header_number)
            for n, cells in table.rows]
    if not rows:
        raise TableError("文件中只有表头，没有单位数据")
    return rows


def _normalise(raw: dict) -> tuple[dict, dict]:
    values, quotas = {}, {}
    for key, value in raw.items():
        if key in HEADERS:
            values[HEADERS[key]] = value
        elif key in HEADERS.values():
            values[key] = value
        elif key.endswith(QUOTA_SUFFIX):
            quotas[key[: -len(QUOTA_SUFFIX)]] = value
    return values, quotas


def import_units(rows: list[dict], scope: Scope) -> ImportResult:
    """Validate all rows, then write all of them in one transaction (or nothing)."""
    result = ImportResult()
    existing = dict(db.session.execute(select(Unit.code, Unit.id)).all())
    seen: dict[str, int] = {}
    planned = []
    # A quota column naming no grade is a header problem: reported once, on the header row.
    bad_quota_columns = set()
    header_number = getattr(rows[0], "header_number", 1) if rows else 1
    for key in dict.fromkeys(k for raw in rows for k in raw):
        _, header_quotas = _normalise({key: ""})
        for grade in header_quotas:
            if grade not in GRADES:
                bad_quota_columns.add(grade)
                result.errors.append(RowError(header_number, key, f"职数列“{key}”中的职级“{grade}”无效，应为：{'、'.join(GRADES)}"))
    for index, raw in enumerate(rows, start=2):  # row 1 is the header
        n = getattr(raw, "number", index)
        values, quotas = _normalise(raw)
        errs = []
        for key in REQUIRED:
            if not values.get(key):
                label = next(k for k, v in HEADERS.items() if v == key)
                errs.append(RowError(n, label, f"“{label}”不能为空"))
        code = values.get("code", "")
        if code in existing:
            errs.append(RowError(n, "单位代码", f"单位代码“{code}”已存在"))
        elif code in seen:
            errs.append(RowError(n, "单位代码", f"单位代码“{code}”与第 {seen[code]} 行重复"))
        parent_code = values.get("parent_code", "")
        if parent_code:
            if parent_code in existing:
                if not scope.contains(existing[parent_code]):
                    errs.append(RowError(n, "上级单位代码", f"上级单位“{parent_code}”不在您的权限范围内"))
            elif parent_code not in seen:
                errs.append(RowError(n, "上级单位代码", f"上级单位“{parent_code}”不存在（须已存在或在本文件前面的行中）"))
        elif scope.kind != "all":
            errs.append(RowError(n, "上级单位代码", "只有系统管理员可以导入顶级单位"))
        dual = values.get("dual_managed", "").lower()
        if dual not in TRUE | FALSE:
            errs.append(RowError(n, "双重管理", "“双重管理”应填“是”或“否”"))
        quota_values = {}
        for grade, value in quotas.items():
            if grade in bad_quota_columns or not value:
                continue
            if not (value.isascii() and value.isdigit()):
                errs.append(RowError(n, grade + QUOTA_SUFFIX, "职数应为不小于 0 的整数"))
            else:
                quota_values[grade] = int(value)
        unit = Unit(
            code=code, name=values.get("name", ""), level=values.get("level", ""),
            unit_type=values.get("unit_type", ""), region_code=values.get("region_code") or None,
            max_grade=values.get("max_grade", ""), authority=values.get("authority", ""),
            dual_managed=dual in TRUE,
        )
        for message in validate_unit_fields(unit):
            # Each message starts with its column's label; a column already reported (empty,
            # duplicate or existing code) is not reported twice.
            column = next((label for label in HEADERS if message.startswith(label)), "")
            if not any(e.column == column for e in errs):
                errs.append(RowError(n, column, message))
        result.errors += errs
        if code and code not in seen:
            seen[code] = n
        planned.append((unit, parent_code, quota_values))
    if result.errors:
        return result
    by_code = {}
    try:
        with db.session.no_autoflush:
            for unit, parent_code, quota_values in planned:
                if parent_code:
                    unit.parent = by_code.get(parent_code) or db.session.get(Unit, existing[parent_code])
                unit.quotas = [UnitQuota(grade=g, approved=v) for g, v in quota_values.items()]
                db.session.add(unit)
                by_code[unit.code] = unit
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    result.created = list(by_code)
    return result
