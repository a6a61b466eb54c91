"""The workbook writer: title block, merged group headers, tree row headers merged down in
constant-memory mode (nothing written ahead is lost), totals, dates, and the row count."""
import datetime as dt

from openpyxl import load_workbook

from app.reporting.xlsx import Sheet, Writer, write_list


def test_grouped_headers_and_tree_rows_survive_constant_memory(tmp_path):
    path = tmp_path / "t.xlsx"
    w = Writer(str(path))
    w.sheet(Sheet("统计表", unit="江城市", period="2026-01-01 至 2026-03-31",
                  headers=["区域", "单位", "人数", "女"], groups=[("区域", 1), ("单位", 1), ("人数", 2)]))
    w.row(["甲区", "甲区（小计）", 5, 2], merge_down={0: 3})
    w.row([None, "一局", 3, 1])
    w.row([None, "二局", 2, 1])
    w.row(["合计", "", 5, 2], total=True)
    w.close()
    ws = load_workbook(path).active
    assert ws["A1"].value == "统计表" and "江城市" in ws["A2"].value and "制表日期" in ws["A2"].value
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:D1", "A3:A4", "B3:B4", "C3:D3", "A5:A7"} <= merged
    assert [ws.cell(4, c).value for c in (3, 4)] == ["人数", "女"]
    assert [ws.cell(r, 2).value for r in (5, 6, 7)] == ["甲区（小计）", "一局", "二局"]
    assert [ws.cell(r, 3).value for r in (5, 6, 7, 8)] == [5, 3, 2, 5]
    assert ws.cell(5, 1).value == "甲区" and ws.cell(8, 1).value == "合计"


def test_write_list_counts_rows_and_reports_progress(tmp_path):
    seen = []
    path = tmp_path / "l.xlsx"
    n = write_list(str(path), Sheet("名册", headers=["姓名", "日期", "是否"]),
                   ((f"人{i}", dt.date(2026, 1, 1), i % 2 == 0) for i in range(12)),
                   progress=seen.append, every=5)
    assert n == 12 and seen == [5, 10]
    ws = load_workbook(path).active
    assert ws["A4"].value == "人0" and ws["B4"].value == dt.datetime(2026, 1, 1) and ws["C4"].value == "是"
    assert ws["A15"].value == "人11" and "共 12 条" in ws["A17"].value


TRICKY_ROWS = [
    ["张三", "", None, 0, -3, 12345678901, 1.5, 0.1, dt.date(2026, 3, 1), dt.date(1900, 1, 15), dt.date(1899, 12, 31)],
    ["A&B <c> \"d\"", " 前导空格", "尾随空格 ", "_x0041_ 字面转义", "控制\x01字符", "换行\n文本", "制表\t符", True, False,
     dt.datetime(2026, 3, 1, 14, 30), dt.date(1900, 3, 1)],
    ["\ufffe", "长" * 20000, "最后", 7, None, None, None, None, None, None, dt.date(2099, 12, 31)],
]


def _sheet_xml(path) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml")


def test_plain_rows_are_the_bytes_xlsxwriter_writes(tmp_path):
    """A list's rows go through ListWorksheet.append_row (fast): the sheet must be byte for byte what
    the stock per-cell writes give, for plain and tricky values alike (escapes, blanks, dates either
    side of Excel's 1900 leap-year bug, datetimes, a long string), with the title block before them."""
    stock, fast = tmp_path / "stock.xlsx", tmp_path / "fast.xlsx"
    spec = Sheet("名册", unit="江城市", headers=[f"列{i}" for i in range(11)])
    for target, write in ((stock, "row"), (fast, "plain_row")):
        w = Writer(str(target))
        w.sheet(spec)
        for _ in range(3):  # rows after a stock-written row and after fast ones
            for values in TRICKY_ROWS:
                getattr(w, write)(values)
        w.row(["合计", 3], total=True)
        w.close()
    assert _sheet_xml(stock) == _sheet_xml(fast)
    ws = load_workbook(fast).active
    assert ws["B5"].value == " 前导空格" and ws["A5"].value == 'A&B <c> "d"' and ws["I4"].value == dt.datetime(2026, 3, 1)


def test_append_row_refuses_a_row_already_left(tmp_path):
    import pytest

    w = Writer(str(tmp_path / "x.xlsx"))
    w.sheet(Sheet("名册", headers=["a"]))
    w.plain_row(["一"])
    w.plain_row(["二"])
    with pytest.raises(ValueError):
        w.ws.append_row(w.r - 2, [("回头", None)])
    w.close()
