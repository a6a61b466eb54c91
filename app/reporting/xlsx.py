"""Excel workbooks the way organisation departments file them: a title, the unit, the period and the
制表 date above Chinese headers (optionally under merged group headers), rows written one by one in
xlsxwriter's constant-memory mode (so 100,000 rows cost what one row costs), merged row headers,
and a total row.

Every workbook of the app is a ``SafeWorkbook``: text is never turned into a formula or a link, and text
that a spreadsheet would read as one when typed (starting with = + - @, a tab or a carriage return) is
written with Excel's quote prefix — shown as is, kept as text even when the cell is edited.

constant_memory writes each row as soon as the next one starts, so everything is written strictly
top to bottom, and a vertical merge is written when its first row is written.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet


@dataclass
class Sheet:
    title: str
    unit: str = ""
    period: str = ""
    headers: Sequence[str] = ()
    # [(group label, number of columns)] above ``headers``; a group of one column with the same text as its
    # header is merged vertically instead.
    groups: Sequence[tuple[str, int]] = ()
    widths: dict = field(default_factory=dict)  # column index → width
    made_on: dt.date | None = None
    subtitle: str = ""  # the line under the title; by default 单位, 统计期间 and 制表日期


# What xlsxwriter escapes in an inline string (xmlwriter.py): control characters become _xHHHH_
# (and a literal _xHHHH_ gets its underscore escaped), & < > become entities, and a string with
# leading or trailing white space gets xml:space="preserve". Such strings take the stock path.
_NEEDS_CARE = re.compile(r"[\x00-\x1f&<>\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
# Text starting like this is a formula (or DDE call) to a spreadsheet: written with the quote prefix.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_EXCEL_EPOCH = dt.date(1899, 12, 30).toordinal()
_EXCEL_LEAP_BUG = dt.date(1900, 3, 1)  # before it, Excel's serials count a 29 February 1900


class ListWorksheet(Worksheet):
    """A worksheet that can also take a whole row of plain values at once (``append_row``).

    xlsxwriter spends some 7 µs on every cell (type dispatch, a cell tuple, then attribute lists and
    escaping when the row is flushed): 13 s for a 100,000-row list of 18 columns. ``append_row``
    writes the row's XML straight into the same constant-memory row file, exactly as xlsxwriter
    would write it (tests/test_xlsx.py compares the bytes), when every value is a plain string, a
    number, a date or a blank; a row with anything else goes through the stock ``write``."""

    _letters: tuple[str, ...] = ()
    quoted: Callable = staticmethod(lambda fmt: fmt)  # set by SafeWorkbook: the quote-prefixed twin of a format

    def _write_string(self, row, col, string, cell_format=None):
        # Every text cell passes here (write, write_row, merge_range, the stock rows of append_row).
        if string.startswith(FORMULA_STARTS):
            cell_format = self.quoted(cell_format)
        return super()._write_string(row, col, string, cell_format)

    def append_row(self, row: int, cells: Sequence[tuple]) -> None:
        """Write ``cells`` [(value, format)] as row ``row`` from column 0. A value is a str, an int or
        float, a date or datetime, or "" (a formatted blank). Rows come in order (constant memory)."""
        if not cells:
            return
        if row < self.previous_row or self._check_dimensions(row, 0) or self._check_dimensions(row, len(cells) - 1):
            raise ValueError(f"第 {row + 1} 行无法写入（常量内存模式只能按行顺序写入）")
        if row in self.row_info or (row == self.previous_row and self.table.get(row)):
            self._stock_row(row, cells)  # a row with its own height or cells already: xlsxwriter merges them
            return
        if row > self.previous_row:
            # Flush what the stock methods left in the previous row first: formats get their index
            # in the order cells are written out, and the bytes must not depend on the path.
            self._write_single_row(row)
        if len(self._letters) < len(cells):
            self._letters = tuple(xl_col_to_name(c) for c in range(len(cells)))
        letters, r = self._letters, row + 1
        parts = []
        for col, (value, fmt) in enumerate(cells):
            kind = type(value)
            if kind is str and value.startswith(FORMULA_STARTS):
                fmt = self.quoted(fmt)
            attrs = f'r="{letters[col]}{r}"' if fmt is None else f'r="{letters[col]}{r}" s="{fmt._get_xf_index()}"'
            if kind is str:
                if not value:
                    parts.append(f"<c {attrs}/>")
                    continue
                if len(value) < 16000 and not _NEEDS_CARE.search(value):
                    parts.append(f'<c {attrs} t="inlineStr"><is><t>{value}</t></is></c>')
                    continue
            elif kind is int or kind is float:
                parts.append(f"<c {attrs}><v>{value:.16G}</v></c>")
                continue
            elif kind is dt.date and value >= _EXCEL_LEAP_BUG and not self.date_1904:
                parts.append(f"<c {attrs}><v>{value.toordinal() - _EXCEL_EPOCH}</v></c>")
                continue
            self._stock_row(row, cells)
            return
        self._write_row(row, None)
        parts.append("</row>")
        self.fh.write("".join(parts))

    def _stock_row(self, row: int, cells: Sequence[tuple]) -> None:
        for col, (value, fmt) in enumerate(cells):
            if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                self.write_datetime(row, col, dt.datetime.combine(value, dt.time()), fmt)
            elif isinstance(value, dt.datetime):
                self.write_datetime(row, col, value, fmt)
            else:
                self.write(row, col, value, fmt)


class SafeWorkbook(xlsxwriter.Workbook):
    """An xlsxwriter workbook whose sheets write text as text: no formulas, no links, and a quote prefix on
    text a spreadsheet would take for a formula. Use it for every workbook the app writes."""

    # A format's own bookkeeping (its index, its cached identity key) must not be copied to the twin.
    _NOT_COPIED = ("xf_format_indices", "dxf_format_indices", "xf_index", "dxf_index", "_format_key")

    def __init__(self, target, options: dict | None = None):
        super().__init__(target, {**(options or {}), "strings_to_formulas": False, "strings_to_urls": False})
        self._quoted: dict = {}

    def add_worksheet(self, name=None, worksheet_class=None):
        ws = super().add_worksheet(name, worksheet_class=worksheet_class or ListWorksheet)
        if not isinstance(ws, ListWorksheet):
            raise TypeError("SafeWorkbook 的工作表必须是 ListWorksheet")
        ws.quoted = self.quoted_format
        return ws

    def quoted_format(self, fmt):
        """``fmt`` (or the default format) with Excel's quote prefix, made once per format."""
        known = self._quoted.get(id(fmt))
        if known is not None:
            return known[1]
        twin = self.add_format()
        if fmt is not None:
            for name, value in vars(fmt).items():
                if name not in self._NOT_COPIED:
                    setattr(twin, name, value)
        twin.set_quote_prefix()
        self._quoted[id(fmt)] = (fmt, twin)  # fmt kept alive so that its id is never reused
        return twin


class Writer:
    """One workbook; ``sheet()`` starts a sheet, ``row()`` writes the next row."""

    def __init__(self, target):
        self.book = SafeWorkbook(target, {"constant_memory": True, "in_memory": False,
                                          "default_date_format": "yyyy-mm-dd"})
        f = self.book.add_format
        self.f_title = f({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
        self.f_meta = f({"font_size": 10})
        self.f_head = f({"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True,
                         "bg_color": "#DDEBF7"})
        self.f_cell = f({"border": 1})
        self.f_num = f({"border": 1, "num_format": "0"})
        self.f_pct = f({"border": 1, "num_format": "0.0"})
        self.f_date = f({"border": 1, "num_format": "yyyy-mm-dd"})
        self.f_total = f({"bold": True, "border": 1, "bg_color": "#F2F2F2"})
        self.f_merge = f({"border": 1, "valign": "vcenter", "text_wrap": True})
        self.ws = None
        self.r = 0
        self.ncols = 0
        self.pending: dict[int, int] = {}  # column → rows still covered by a vertical merge

    def sheet(self, spec: Sheet, name: str | None = None) -> None:
        ws = self.book.add_worksheet((name or spec.title)[:31], worksheet_class=ListWorksheet)
        self.ws, self.r, self.ncols, self.pending = ws, 0, max(len(spec.headers), 1), {}
        for col, width in spec.widths.items():
            ws.set_column(col, col, width)
        last = self.ncols - 1
        if last:
            ws.merge_range(0, 0, 0, last, spec.title, self.f_title)
        else:
            ws.write(0, 0, spec.title, self.f_title)
        ws.set_row(0, 28)
        made = (spec.made_on or dt.date.today()).isoformat()
        meta = spec.subtitle or "　　".join(x for x in (f"单位：{spec.unit}" if spec.unit else "",
                                                      f"统计期间：{spec.period}" if spec.period else "",
                                                      f"制表日期：{made}") if x)
        ws.write(1, 0, meta, self.f_meta)
        self.r = 2
        if spec.groups:
            col, vertical = 0, []
            for label, span in spec.groups:  # first header row
                if span == 1 and spec.headers[col] == label:
                    self._merge_down(self.r, col, 2, label, self.f_head)
                    vertical.append(col)
                elif span == 1:
                    ws.write(self.r, col, label, self.f_head)
                else:
                    ws.merge_range(self.r, col, self.r, col + span - 1, label, self.f_head)
                col += span
            for col, text in enumerate(spec.headers):  # second header row
                if col in vertical:
                    ws.write_blank(self.r + 1, col, None, self.f_head)
                else:
                    ws.write(self.r + 1, col, text, self.f_head)
            self.pending = {}
            self.r += 2
        else:
            for col, text in enumerate(spec.headers):
                ws.write(self.r, col, text, self.f_head)
            self.r += 1
        ws.freeze_panes(self.r, 0)

    def _fmt(self, value, total: bool):
        if total:
            return self.f_total
        if isinstance(value, float):
            return self.f_pct
        if isinstance(value, int) and not isinstance(value, bool):
            return self.f_num
        if isinstance(value, (dt.date, dt.datetime)):
            return self.f_date
        return self.f_cell

    def _merge_down(self, row: int, col: int, rows: int, value, fmt) -> None:
        """Merge a cell over ``rows`` rows without writing ahead of the current row: constant-memory
        mode drops anything written to a row already left, so xlsxwriter's merge_range (which pads the
        area with blanks at once) cannot span rows here. The range is recorded, the first cell written,
        and the rows below get their blank cells when they are written (``row()``)."""
        self.ws.merge.append([row, col, row + rows - 1, col])
        self.ws.write(row, col, value, fmt)
        if rows > 1:
            self.pending[col] = rows - 1

    def row(self, values: Sequence, *, total: bool = False, merge_down: dict | None = None) -> None:
        """Write the next row. ``merge_down`` {column: rows} merges that cell over the next rows too
        (a tree's row header spanning the rows of its subtree)."""
        covered = {c for c, left in self.pending.items() if left > 0}
        for col, value in enumerate(values):
            if col in covered:
                self.ws.write_blank(self.r, col, None, self.f_merge)
                self.pending[col] -= 1
                continue
            fmt = self._fmt(value, total)
            span = (merge_down or {}).get(col, 1)
            if value is None:
                value = ""
            if isinstance(value, bool):
                value = "是" if value else "否"
            if span > 1:
                self._merge_down(self.r, col, span, value, self.f_merge)
                self.pending[col] = span - 1
            elif isinstance(value, dt.datetime):
                self.ws.write_datetime(self.r, col, value, fmt)
            elif isinstance(value, dt.date):
                self.ws.write_datetime(self.r, col, dt.datetime.combine(value, dt.time()), fmt)
            else:
                self.ws.write(self.r, col, value, fmt)
        self.r += 1

    def plain_row(self, values: Sequence) -> None:
        """The next row of a plain list (no merges, no total): the same cells ``row()`` writes, in one
        go (``ListWorksheet.append_row``)."""
        fmt = self._fmt
        self.ws.append_row(self.r, [("" if v is None else ("是" if v else "否") if type(v) is bool else v, fmt(v, False))
                                    for v in values])
        self.r += 1

    def note(self, text: str) -> None:
        self.r += 1
        self.ws.write(self.r, 0, text, self.f_meta)
        self.r += 1

    def close(self) -> None:
        self.book.close()


def write_list(target, spec: Sheet, rows: Iterable[Sequence], *, progress: Callable[[int], None] | None = None,
               every: int = 5000) -> int:
    """A one-sheet list workbook: returns the number of data rows written."""
    w = Writer(target)
    w.sheet(spec)
    n = 0
    for n, values in enumerate(rows, start=1):
        w.plain_row(values)
        if progress is not None and n % every == 0:
            progress(n)
    w.note(f"共 {n} 条")
    w.close()
    return n
