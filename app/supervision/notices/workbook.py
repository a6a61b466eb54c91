"""A notice as a workbook: one sheet per list."""
from __future__ import annotations

from app.dates import period_label
from app.models.supervision import Notice
from app.record.evidence import head_text
from app.reporting.xlsx import Sheet, Writer
from app.supervision.notices.content import FORMULA

SHEETS = ("总体情况", "迟报名单", "错报漏报", "上期整改", "单位排名")
LATE_HEADERS = ["序号", "单位", "案例编号", "姓名", "报送节点", "截止日期", "报送日期", "逾期天数", "状态", "屡次迟报"]
WRONG_HEADERS = ["序号", "问题类型", "单位", "案例编号", "姓名", "规则编号", "规则名称", "问题说明", "整改情况"]
PREVIOUS_HEADERS = ["序号", "单位", "案例编号", "姓名", "类别", "上期问题", "整改情况", "说明"]
RANKING_HEADERS = ["名次", "单位代码", "单位", "应报件次", "按时", "逾期", "未报", "错报件数", "及时率（%）", "得分"]


def write_xlsx(target, notice: Notice) -> int:
    """The notice as a workbook (one sheet per list); returns the number of list rows written."""
    c = notice.content or {}
    header, overall = c.get("header") or {}, c.get("overall") or {}
    title = notice.title + (f"（{notice.number}）" if notice.number else "")
    period = header.get("period_label") or period_label(notice.period_from, notice.period_to)
    issuer = header.get("issuer", "")
    made = notice.issued_at.date() if notice.issued_at else None
    w = Writer(target)
    n = 0

    def spec(headers, widths):
        return Sheet(title=title, unit=issuer, period=period, headers=headers, widths=widths, made_on=made)

    # 总体情况: one figure per row; counts and rates never share a cell.
    w.sheet(spec(["指标", "本期", "上期"], {0: 30, 1: 14, 2: 14}), name=SHEETS[0])
    prev = overall.get("previous") or {}
    prev_nodes = {x["node"]: x for x in prev.get("nodes") or []}
    for node in overall.get("nodes") or []:
        p = prev_nodes.get(node["node"], {})
        for key, label in (("due", "应报件次"), ("on_time", "按时"), ("late", "逾期"), ("missing", "未报")):
            w.row([f"{node['label']}{label}", node.get(key, 0), p.get(key, 0)])
        w.row([f"{node['label']}及时率（%）", node.get("rate"), p.get("rate")])
    total, ptotal = overall.get("total") or {}, prev.get("total") or {}
    w.row(["合计应报件次", total.get("due", 0), ptotal.get("due", 0)], total=True)
    w.row(["合计按时", total.get("on_time", 0), ptotal.get("on_time", 0)], total=True)
    w.row(["合计及时率（%）", total.get("rate"), ptotal.get("rate")], total=True)
    w.row(["应报案例数", overall.get("cases", 0), prev.get("cases", 0)])
    w.row(["无红灯预警案例数", overall.get("accurate", 0), prev.get("accurate", 0)])
    w.row(["无红灯预警案例占比（%）", overall.get("accuracy_rate"), prev.get("accuracy_rate")])
    positive = "、".join(u["unit_name"] for u in overall.get("positive_units") or [])
    w.note(f"本期：{period}；上期：{prev.get('period_label', '')}。无迟报、错报的单位：{positive or '无'}。")

    w.sheet(spec(LATE_HEADERS, {0: 6, 1: 26, 2: 22, 3: 10, 4: 10, 5: 12, 6: 12, 7: 10, 8: 8, 9: 10}), name=SHEETS[1])
    late = (c.get("late") or {}).get("rows") or []
    for i, r in enumerate(late, start=1):
        w.row([i, r["unit_name"], r["case_no"], r["name"], r["node_label"], r["due_date"], r["submitted"],
               r["days_late"], r["status"], "是" if r.get("repeat") else ""])
    n += len(late)
    w.note(f"共 {len(late)} 件次。")

    w.sheet(spec(WRONG_HEADERS, {0: 6, 1: 24, 2: 26, 3: 22, 4: 10, 5: 10, 6: 30, 7: 50, 8: 10}), name=SHEETS[2])
    i = 0
    for g in (c.get("wrong") or {}).get("groups") or []:
        for r in g["rows"]:
            i += 1
            w.row([i, g["label"], r["unit_name"], r["case_no"], r["name"], r["code"], r["title"], r["what"],
                   r["status"]])
    n += i
    w.note(f"共 {i} 项。")

    w.sheet(spec(PREVIOUS_HEADERS, {0: 6, 1: 26, 2: 22, 3: 10, 4: 8, 5: 40, 6: 10, 7: 30}), name=SHEETS[3])
    previous = c.get("previous") or {}
    for i, r in enumerate(previous.get("rows") or [], start=1):
        w.row([i, r["unit_name"], r["case_no"], r["name"], r["kind"], r["problem"], r["status"], r["note"]])
    n += len(previous.get("rows") or [])
    w.note(f"上期通报：{previous.get('title', '无')}" + (f"（{previous['number']}）" if previous.get("number") else "")
           if previous else "无上期通报。")

    ranking = c.get("ranking") or {}
    w.sheet(spec(RANKING_HEADERS, {0: 6, 1: 16, 2: 26, 8: 12}), name=SHEETS[4])
    for r in ranking.get("rows") or []:
        w.row([r["rank"], r["unit_code"], r["unit_name"], r["due"], r["on_time"], r["late"], r["missing"],
               r["wrong"], r["rate"], r["score"]])
    n += len(ranking.get("rows") or [])
    w.note(ranking.get("formula", FORMULA))
    w.note(head_text())  # a copy of the evidence chain head outside the system
    w.close()
    return n
