"""The workbook writer: title block, merged group headers, tree row headers merged down in
constant-memory mode (nothing written ahead is lost), totals, dates, and the row count."""
import datetime as dt

from openpyxl import load_workbook

from app.reports.xlsx import Sheet, Writer, write_list


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
