"""Uploaded tables (xlsx or csv) read as rows, and the per-row problems their importers report.

Both importers (units, appointment documents) read a file the same way: the first non-blank row is the
header, blank rows are skipped, and every row keeps its number in the file so that a problem points at
the row the user sees in the spreadsheet.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from openpyxl import load_workbook

from app.errors import JishiError


@dataclass
class RowError:
    row: int  # the row number in the file; 0: the file itself
    column: str
    message: str


class TableError(JishiError, ValueError):
    """The file cannot be read as a table. A ValueError too: a bad upload is a bad value."""


@dataclass
class Table:
    header_number: int
    header: list[str]
    rows: list[tuple[int, list]]  # (row number in the file, cells as read) of every non-blank row after the header


def cell_text(value) -> str:
    """A cell as text: blank for None, a whole number without ".0" (an ID number or a quota typed as a
    number), a date in ISO form, anything else stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value).strip()


def read_upload(filename: str, data: bytes, *, utf8_only: bool = False) -> Table:
    """The header and the non-blank rows of an .xlsx or a .csv (UTF-8 with or without BOM, or GBK unless
    ``utf8_only``). Raises ``TableError`` when the file cannot be read or has no row at all."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            rows = [list(r) for r in wb.active.iter_rows(values_only=True)]
            wb.close()
        except Exception as exc:  # a corrupt or non-xlsx file: zipfile, KeyError, XML errors...
            raise TableError("无法读取该 xlsx 文件，请确认是有效的 Excel 工作簿（.xlsx）") from exc
    elif name.endswith(".csv"):
        try:
            rows = list(csv.reader(io.StringIO(_decode(data, utf8_only))))
        except csv.Error as exc:
            raise TableError(f"CSV 文件格式有误：{exc}") from exc
    else:
        raise TableError("只支持 .xlsx 或 .csv（UTF-8）文件" if utf8_only else "只支持 .xlsx 或 .csv 文件")
    numbered = [(n, r) for n, r in enumerate(rows, start=1) if any(cell_text(c) for c in r)]
    if not numbered:
        raise TableError("文件为空")
    header_number, header_row = numbered[0]
    return Table(header_number, [cell_text(h) for h in header_row], numbered[1:])


def _decode(data: bytes, utf8_only: bool) -> str:
    for encoding in ("utf-8-sig",) if utf8_only else ("utf-8-sig", "gbk"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    if utf8_only:
        raise TableError("CSV 文件应为 UTF-8 编码（可带 BOM），请在 Excel 中另存为“CSV UTF-8”")
    raise TableError("CSV 文件编码无法识别，请使用 UTF-8 或 GBK")
