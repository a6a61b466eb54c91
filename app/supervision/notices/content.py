"""A notice's content: the sections of shared/spec/regulations.md C.2 computed from SQL aggregates and
``compose``, which assembles them (nothing is written)."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import and_, exists, func, or_, select, union
from sqlalchemy import case as sa_case

from app.dates import official_date, period_label, previous_period
from app.display import prose_date
from app.extensions import db
from app.models import Case, Unit
from app.models.deadlines import DL_LATE, DL_MISSING, DL_ON_TIME, DL_PENDING, NODE_LABELS, CaseDeadline
from app.models.rules import ALARM_CLOSED, ALARM_CORRECTED, ALARM_DISMISSED, ALARM_HALTED, Alarm, AlarmEvent
from app.models.supervision import FINDING_CLOSED, FINDING_DONE, NOTICE_ISSUED, Finding, Notice
from app.rule_settings import rules_by_code
from app.scoping import Scope

KIND_LATE, KIND_MISSING, KIND_WRONG = "迟报", "漏报", "错报"

# A late report is 迟报 (the late list), not 错报.
DEADLINE_CODES = frozenset({"T01", "T02"})
_DEADLINE_ONLY = ("T01", "T02", "T01,T02", "T02,T01")
REVIEW_CODE = "巡查"  # 网上巡查红灯预警 (app.supervision.patrol.review)
UNREPORTED_CODE = "应报未报"  # an appointment document with no case (app.supervision.reconcile)
NO_DOCUMENT_CODE = "无任免文件"  # decided long ago, no appointment document (app.supervision.reconcile)

TYPES = (
    ("Q", "资格把关不严"),
    ("C", "任职条件把关不严"),
    ("P", "程序不到位"),
    ("D", "纪律要求执行不严（超职数/超规格等）"),
    ("T", "时限执行不严"),
    ("X", "数据不一致/伪报"),
    ("M", "应报未报（漏报）"),
    ("R", "巡查发现问题"),
)
TYPE_LABELS = dict(TYPES)
TYPE_ORDER = {key: i for i, (key, _) in enumerate(TYPES)}

SCORE_BASE, PER_LATE, PER_MISSING, PER_WRONG = 100, 5, 10, 8
FORMULA = (f"得分 = {SCORE_BASE} − {PER_LATE}×逾期件次 − {PER_MISSING}×未报件次 − {PER_WRONG}×错报件数"
           "（最低 0 分）；同分按单位代码排序")

DEFAULT_CORRECTION_DAYS = 15
CONTENT_VERSION = 1


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _in_days(col, f: dt.date, t: dt.date):
    """A timestamp column within the days f…t (timestamps are stored in UTC, like submission dates)."""
    return and_(col >= _start(f), col < _start(t + dt.timedelta(days=1)))


def _subtree(unit: Unit, col):
    return Scope("subtree", unit.id, unit.path).clause(col)


def _rate(num: int, den: int) -> float | None:
    return round(100.0 * num / den, 1) if den else None


def _pct(value) -> str:
    return "—" if value is None else f"{value:.1f}%"


# ---- the sections -------------------------------------------------------------------------------------

def _node_counts(unit: Unit, f: dt.date, t: dt.date) -> dict[int, dict[int, dict[str, int]]]:
    """{unit_id: {node: {status: n}}} of the deadlines due in the period: one GROUP BY."""
    d = CaseDeadline
    rows = db.session.execute(
        select(d.unit_id, d.node, d.status, func.count(d.id))
        .where(_subtree(unit, d.unit_id), d.due_date >= f, d.due_date <= t)
        .group_by(d.unit_id, d.node, d.status)).all()
    out: dict = {}
    for unit_id, node, status, n in rows:
        out.setdefault(unit_id, {}).setdefault(node, {})[status] = int(n)
    return out


def _node_figures(counts: dict[str, int], node: int | None) -> dict:
    on_time, late, missing = (counts.get(s, 0) for s in (DL_ON_TIME, DL_LATE, DL_MISSING))
    due = on_time + late + missing
    out = {"due": due, "on_time": on_time, "late": late, "missing": missing,
           "pending": counts.get(DL_PENDING, 0), "rate": _rate(on_time, due)}
    if node is not None:
        out = {"node": node, "label": NODE_LABELS[node], **out}
    return out


def _wrong_alarm_conditions() -> list:
    """A red alarm that says the report was wrong: not only a late-report code, not verified correct."""
    dismissed = exists().where(AlarmEvent.alarm_id == Alarm.id, AlarmEvent.to_status == ALARM_DISMISSED)
    return [Alarm.codes.not_in(_DEADLINE_ONLY), Alarm.status != ALARM_DISMISSED, ~dismissed]


def _overall_figures(unit: Unit, f: dt.date, t: dt.date, counts=None) -> dict:
    counts = _node_counts(unit, f, t) if counts is None else counts
    nodes, total = [], {}
    for node in (1, 2):
        merged: dict[str, int] = {}
        for per_unit in counts.values():
            for status, n in per_unit.get(node, {}).items():
                merged[status] = merged.get(status, 0) + n
                total[status] = total.get(status, 0) + n
        nodes.append(_node_figures(merged, node))
    # Completeness and accuracy: the cases (roots) due in the period — and every case the period's
    # 错报/漏报 list names (an alarm raised or a finding recorded in the period, due or not), so that the
    # share never says "no red" beside a list of red problems — without a wrong-report alarm or a
    # finding recorded up to the end of the period.
    d = CaseDeadline
    due = union(
        select(d.root_id.label("root_id")).where(_subtree(unit, d.unit_id), d.due_date >= f, d.due_date <= t,
                                                 d.status.in_((DL_ON_TIME, DL_LATE, DL_MISSING))),
        select(Alarm.root_id.label("root_id")).where(_subtree(unit, Alarm.unit_id), Alarm.root_id.is_not(None),
                                                     _in_days(Alarm.raised_at, f, t), *_wrong_alarm_conditions()),
        select(Finding.root_id.label("root_id")).where(_subtree(unit, Finding.unit_id),
                                                       _in_days(Finding.created_at, f, t)),
    ).subquery("due_roots")
    end = _start(t + dt.timedelta(days=1))
    alarm_hit = exists().where(Alarm.root_id == due.c.root_id, Alarm.raised_at < end, *_wrong_alarm_conditions())
    finding_hit = exists().where(Finding.root_id == due.c.root_id, Finding.created_at < end)
    cases, wrong = db.session.execute(
        select(func.count(), func.coalesce(func.sum(sa_case((or_(alarm_hit, finding_hit), 1), else_=0)), 0))
        .select_from(due)).one()
    cases, wrong = int(cases or 0), int(wrong or 0)
    return {"period_from": f.isoformat(), "period_to": t.isoformat(), "period_label": period_label(f, t),
            "nodes": nodes, "total": _node_figures(total, None),
            "cases": cases, "accurate": cases - wrong, "accuracy_rate": _rate(cases - wrong, cases)}


def _units(ids) -> dict[int, tuple[str, str]]:
    ids = sorted(set(i for i in ids if i is not None))
    if not ids:
        return {}
    return {uid: (code, name) for uid, code, name in
            db.session.execute(select(Unit.id, Unit.code, Unit.name).where(Unit.id.in_(ids))).all()}


def _late_rows(unit: Unit, f: dt.date, t: dt.date) -> list[dict]:
    d = CaseDeadline
    rows = db.session.execute(
        select(d.unit_id, d.case_id, d.root_id, d.node, d.due_date, d.submitted_on, d.status, d.days_late,
               Case.case_no, Case.full_name)
        .join(Case, Case.id == d.case_id)
        .where(_subtree(unit, d.unit_id), d.due_date >= f, d.due_date <= t, d.status.in_((DL_LATE, DL_MISSING)))
    ).all()
    units = _units(r.unit_id for r in rows)
    out = []
    for r in rows:
        code, name = units.get(r.unit_id, ("", ""))
        out.append({
            "unit_id": r.unit_id, "unit_code": code, "unit_name": name,
            "case_id": r.case_id, "root_id": r.root_id, "case_no": r.case_no, "name": r.full_name or "",
            "node": r.node, "node_label": NODE_LABELS.get(r.node, str(r.node)), "due_date": r.due_date.isoformat(),
            "submitted_on": r.submitted_on.isoformat() if r.submitted_on else None,
            "submitted": r.submitted_on.isoformat() if r.submitted_on else "未报",
            "days_late": int(r.days_late or 0), "status": r.status,
            "kind": KIND_LATE if r.status == DL_LATE else KIND_MISSING,
        })
    out.sort(key=lambda x: (x["unit_code"], x["due_date"], x["case_no"], x["node"], x["root_id"]))
    return out


def _split_codes(text: str | None) -> list[str]:
    return [c for c in re.split(r"[\s,，、;；]+", text or "") if c]


def _rule_info(code: str) -> tuple[str, str]:
    """(type key, rule title) of a rule code."""
    if code == REVIEW_CODE:
        return "R", "网上巡查红灯预警"
    if code == UNREPORTED_CODE:
        return "M", "已印发任免文件但未报送纪实"
    if code == NO_DOCUMENT_CODE:
        return "X", "讨论决定通过后长期无任免文件"
    rule = rules_by_code().get(code)
    if rule is not None:
        return (rule.category if rule.category in TYPE_LABELS else "R"), rule.title
    return (code[:1] if code[:1] in TYPE_LABELS and code[:1] not in ("R", "M") else "R"), ""


def _status_corrected(alarm_status: str) -> bool:
    return alarm_status in (ALARM_CORRECTED, ALARM_CLOSED)


def _wrong_rows(unit: Unit, f: dt.date, t: dt.date) -> list[dict]:
    """One row per rule code of each red alarm raised in the period, and one per finding recorded in it."""
    alarms = db.session.execute(
        select(Alarm.id, Alarm.unit_id, Alarm.case_id, Alarm.root_id, Alarm.codes, Alarm.message, Alarm.status,
               Alarm.raised_at, Case.case_no, Case.full_name)
        .outerjoin(Case, Case.id == Alarm.case_id)
        .where(_subtree(unit, Alarm.unit_id), _in_days(Alarm.raised_at, f, t), *_wrong_alarm_conditions())
    ).all()
    findings = db.session.execute(
        select(Finding.id, Finding.unit_id, Finding.case_id, Finding.root_id, Finding.rule_codes,
               Finding.description, Finding.status, Finding.created_at, Case.case_no, Case.full_name)
        .join(Case, Case.id == Finding.case_id)
        .where(_subtree(unit, Finding.unit_id), _in_days(Finding.created_at, f, t))
    ).all()
    units = _units([a.unit_id for a in alarms] + [x.unit_id for x in findings])
    out = []
    for a in alarms:
        codes = [c for c in _split_codes(a.codes) if c not in DEADLINE_CODES]
        parts = [p.strip() for p in (a.message or "").split("；") if p.strip()]
        ucode, uname = units.get(a.unit_id, ("", ""))
        for code in codes:
            kind, title = _rule_info(code)
            what = next((p[len(code):].strip() for p in parts if p.startswith(code + " ")), a.message or "")
            out.append({
                "type": kind, "type_label": TYPE_LABELS[kind], "source": "alarm", "alarm_id": a.id,
                "finding_id": None, "unit_id": a.unit_id, "unit_code": ucode, "unit_name": uname,
                "case_id": a.case_id, "root_id": a.root_id,
                "case_no": a.case_no or ("" if a.case_id else "（未报送）"), "name": a.full_name or "",
                "code": code, "title": title, "what": what, "kind": KIND_MISSING if kind == "M" else KIND_WRONG,
                "status": "已整改" if _status_corrected(a.status) else "未整改",
                "raised_on": a.raised_at.date().isoformat(),
            })
    for x in findings:
        codes = _split_codes(x.rule_codes)
        infos = [(c, *_rule_info(c)) for c in codes]
        kind = next((k for _, k, _t in infos if k != "R"), "R")
        ucode, uname = units.get(x.unit_id, ("", ""))
        out.append({
            "type": kind, "type_label": TYPE_LABELS[kind], "source": "finding", "alarm_id": None,
            "finding_id": x.id, "unit_id": x.unit_id, "unit_code": ucode, "unit_name": uname,
            "case_id": x.case_id, "root_id": x.root_id, "case_no": x.case_no or "", "name": x.full_name or "",
            "code": "、".join(codes), "title": "；".join(t for _, _k, t in infos if t), "kind": KIND_WRONG,
            "what": x.description or "",
            "status": "已整改" if x.status in (FINDING_DONE, FINDING_CLOSED) else "未整改",
            "raised_on": x.created_at.date().isoformat(),
        })
    out.sort(key=lambda r: (TYPE_ORDER[r["type"]], r["unit_code"], r["case_no"], r["code"], r["source"],
                            r["alarm_id"] or 0, r["finding_id"] or 0))
    return out


def _wrong_key(row: dict):
    """What counts as one wrong report: a case (across its versions), or an alarm without a case."""
    return ("root", row["root_id"]) if row["root_id"] is not None else (row["source"], row["alarm_id"] or row["finding_id"])


def _previous_notice(unit_id: int, exclude_id: int | None = None) -> Notice | None:
    q = select(Notice).where(Notice.unit_id == unit_id, Notice.status == NOTICE_ISSUED)
    if exclude_id is not None:
        q = q.where(Notice.id != exclude_id)
    return db.session.execute(q.order_by(Notice.issued_at.desc().nullslast(), Notice.id.desc()).limit(1)).scalar()


def _previous_section(prev: Notice | None) -> dict | None:
    """Each case the previous notice named, and whether its problem is corrected now."""
    if prev is None:
        return None
    content = prev.content or {}
    late = (content.get("late") or {}).get("rows") or []
    wrong = [r for g in (content.get("wrong") or {}).get("groups") or [] for r in g.get("rows") or []]
    deadlines = {}
    roots = sorted({r.get("root_id") for r in late if r.get("root_id") is not None})
    if roots:
        for d in db.session.execute(select(CaseDeadline).where(CaseDeadline.root_id.in_(roots))).scalars():
            deadlines[(d.root_id, d.node)] = d
    alarm_ids = sorted({r["alarm_id"] for r in wrong if r.get("alarm_id")})
    alarms = {a.id: a for a in db.session.execute(select(Alarm).where(Alarm.id.in_(alarm_ids))).scalars()} \
        if alarm_ids else {}
    dismissed = set(db.session.execute(
        select(AlarmEvent.alarm_id).where(AlarmEvent.alarm_id.in_(alarm_ids),
                                          AlarmEvent.to_status == ALARM_DISMISSED)).scalars()) if alarm_ids else set()
    finding_ids = sorted({r["finding_id"] for r in wrong if r.get("finding_id")})
    findings = {x.id: x for x in db.session.execute(select(Finding).where(Finding.id.in_(finding_ids))).scalars()} \
        if finding_ids else {}
    rows = []
    for r in late:
        d = deadlines.get((r.get("root_id"), r.get("node")))
        if d is not None and d.submitted_on is not None:
            corrected, note = True, f"已于{official_date(d.submitted_on)}报送"
        elif d is None:
            corrected, note = False, "报送期限已撤销或重新计算，请核实"
        else:
            corrected, note = False, f"仍未报送（已逾期 {int(d.days_late or 0)} 天）"
        rows.append({"unit_id": r.get("unit_id"), "unit_code": r.get("unit_code", ""),
                     "unit_name": r.get("unit_name", ""), "case_no": r.get("case_no", ""), "name": r.get("name", ""),
                     "kind": r.get("kind", KIND_LATE),
                     "problem": f"{r.get('node_label', '')}应于{prose_date(r.get('due_date'))}前报送"
                                + (f"，{prose_date(r['submitted_on'])}报送" if r.get("submitted_on") else "，未报"),
                     "corrected": corrected, "status": "已整改" if corrected else "未整改", "note": note})
    merged: dict = {}
    for r in wrong:
        key = ("alarm", r["alarm_id"]) if r.get("alarm_id") else ("finding", r.get("finding_id"))
        if key in merged:
            merged[key]["problem"] += f"；{r.get('code', '')} {r.get('title', '')}".rstrip()
            continue
        if key[0] == "alarm":
            a = alarms.get(key[1])
            if a is None:
                corrected, note = False, "报警记录不存在，请核实"
            elif a.id in dismissed or a.status == ALARM_DISMISSED:
                corrected, note = True, "经核实无误，已销号"
            elif _status_corrected(a.status):
                corrected, note = True, "已整改销号" + (f"（{official_date(a.closed_at.date())}）" if a.closed_at else "")
            elif a.status == ALARM_HALTED:
                corrected, note = False, "已叫停纠偏，整改中" + (
                    f"（整改期限{official_date(a.correction_deadline)}）" if a.correction_deadline else "")
            else:
                corrected, note = False, "尚未整改"
        else:
            x = findings.get(key[1])
            if x is None:
                corrected, note = False, "问题记录不存在，请核实"
            elif x.status in (FINDING_DONE, FINDING_CLOSED):
                corrected, note = True, f"{x.status}" + (f"（{official_date(x.corrected_at.date())}）" if x.corrected_at else "")
            else:
                corrected, note = False, f"整改中（整改期限{official_date(x.correction_deadline)}）"
        merged[key] = {"unit_id": r.get("unit_id"), "unit_code": r.get("unit_code", ""),
                       "unit_name": r.get("unit_name", ""), "case_no": r.get("case_no", ""), "name": r.get("name", ""),
                       "kind": r.get("kind", KIND_WRONG),
                       "problem": f"{r.get('code', '')} {r.get('title', '')}".strip(),
                       "corrected": corrected, "status": "已整改" if corrected else "未整改", "note": note}
    rows += merged.values()
    rows.sort(key=lambda x: (x["unit_code"], x["case_no"], x["kind"], x["problem"]))
    return {
        "notice_id": prev.id, "number": prev.number or "", "title": prev.title,
        "period_label": (content.get("header") or {}).get("period_label") or period_label(prev.period_from,
                                                                                           prev.period_to),
        "issued_on": prev.issued_at.date().isoformat() if prev.issued_at else "",
        "correction_deadline": prev.correction_deadline.isoformat() if prev.correction_deadline else "",
        "rows": rows, "total": len(rows), "corrected": sum(1 for r in rows if r["corrected"]),
        "late_unit_ids": sorted({r.get("unit_id") for r in late if r.get("unit_id") is not None}),
    }


def _ranking(counts: dict, late: list[dict], wrong: list[dict]) -> list[dict]:
    wrong_cases: dict[int, set] = {}
    for r in wrong:
        wrong_cases.setdefault(r["unit_id"], set()).add(_wrong_key(r))
    unit_ids = set(counts) | set(wrong_cases)
    units = _units(unit_ids)
    rows = []
    for uid in unit_ids:
        merged: dict[str, int] = {}
        for per_node in counts.get(uid, {}).values():
            for status, n in per_node.items():
                merged[status] = merged.get(status, 0) + n
        fig = _node_figures(merged, None)
        n_wrong = len(wrong_cases.get(uid, ()))
        score = max(0, SCORE_BASE - PER_LATE * fig["late"] - PER_MISSING * fig["missing"] - PER_WRONG * n_wrong)
        code, name = units.get(uid, ("", ""))
        rows.append({"unit_id": uid, "unit_code": code, "unit_name": name, "due": fig["due"],
                     "on_time": fig["on_time"], "late": fig["late"], "missing": fig["missing"],
                     "pending": fig["pending"], "wrong": n_wrong, "rate": fig["rate"], "score": score})
    rows.sort(key=lambda r: (-r["score"], r["unit_code"], r["unit_id"]))
    rank, last = 0, None
    for i, r in enumerate(rows, start=1):
        if r["score"] != last:
            rank, last = i, r["score"]
        r["rank"] = rank
    return rows


def _summary(header: dict, overall: dict, previous: dict, positive: list[dict], wrong: dict) -> list[str]:
    total, prev_total = overall["total"], previous["total"]
    n1, n2 = overall["nodes"]
    lines = [
        f"{header['period_label']}，应报送纪实 {total['due']} 件次（初次提交 {n1['due']} 件次、二次提交 {n2['due']} 件次），"
        f"按时报送 {total['on_time']} 件次，及时率 {_pct(total['rate'])}；逾期 {total['late']} 件次，未报 {total['missing']} 件次。"
        + "，".join(f"{n['label']}及时率 {_pct(n['rate'])}" for n in (n1, n2) if n["due"]) + ("。" if total["due"] else ""),
        f"本期应报送及列入问题清单的案例共 {overall['cases']} 件，其中无红灯预警、无问题记录的 {overall['accurate']} 件，"
        f"占 {_pct(overall['accuracy_rate'])}"
        + (f"；列入错报、漏报清单的问题 {wrong['count']} 项，涉及 {wrong['cases']} 件案例。" if wrong["count"]
           else "；本期未发现错报、漏报问题。"),
    ]
    if total["rate"] is not None and prev_total["rate"] is not None:
        diff = round(total["rate"] - prev_total["rate"], 1)
        trend = "持平" if diff == 0 else (f"上升 {diff:.1f} 个百分点" if diff > 0 else f"下降 {-diff:.1f} 个百分点")
        lines.append(f"与上期（{previous['period_label']}）相比，及时率{trend}（上期 {_pct(prev_total['rate'])}）；"
                     f"无红灯案例占比上期为 {_pct(previous['accuracy_rate'])}。")
    else:
        lines.append(f"上期（{previous['period_label']}）应报送纪实 {prev_total['due']} 件次，无可比及时率。")
    if positive:
        names = "、".join(p["unit_name"] for p in positive)
        lines.append(f"{names}等 {len(positive)} 个单位本期无迟报、错报，予以表扬。")
    return lines


def _default_texts(issuer: str, label: str) -> dict:
    return {
        "intro": (f"为贯彻落实《党政领导干部选拔任用工作条例》和《干部选拔任用工作监督检查和责任追究办法》，"
                  f"进一步规范干部选拔任用工作全程记实，现将{label}各单位干部选拔任用工作记实报送情况通报如下。"),
        "requirements": "\n".join([
            f"1. 被通报单位要认真对照问题清单，在整改期限内完成补报、更正数据或程序整改，并向{issuer}报送书面整改报告。",
            "2. 存在红灯预警的案例，整改销号前暂停办理任职手续。",
            "3. 整改情况纳入年度干部选拔任用工作考核和“一报告两评议”。",
            "4. 对屡次迟报、错报或情节严重的，依照《干部选拔任用工作监督检查和责任追究办法》约谈或追究责任。",
        ]),
        "next_steps": (f"下一步，{issuer}将继续开展网上巡查和随机抽查，重点检查本期通报问题的整改落实情况，"
                       "并根据工作需要调整规则参数、组织业务培训。"),
    }


def compose(unit: Unit, period_from: dt.date, period_to: dt.date, *, number: str | None = None,
            correction_days: int = DEFAULT_CORRECTION_DAYS, exclude_id: int | None = None) -> dict:
    """The content of a notice of ``unit`` for the period (nothing is written)."""
    f, t = period_from, period_to
    label = period_label(f, t)
    header = {"issuer": unit.name, "issuer_code": unit.code, "number": (number or "").strip(),
              "title": f"关于{label}干部选拔任用工作记实报送情况的通报",
              "period_from": f.isoformat(), "period_to": t.isoformat(), "period_label": label,
              "recipients": "各单位", "issued_on": None}
    counts = _node_counts(unit, f, t)
    overall = _overall_figures(unit, f, t, counts)
    pf, pt = previous_period(f, t)
    prev_figures = _overall_figures(unit, pf, pt)
    late = _late_rows(unit, f, t)
    wrong = _wrong_rows(unit, f, t)
    prev = _previous_section(_previous_notice(unit.id, exclude_id))
    prev_late_units = set(prev["late_unit_ids"]) if prev else set()
    for r in late:
        r["repeat"] = r["unit_id"] in prev_late_units
    repeat = sorted({(r["unit_code"], r["unit_id"], r["unit_name"]) for r in late if r["repeat"]})
    ranking = _ranking(counts, late, wrong)
    positive = [{"unit_id": r["unit_id"], "unit_code": r["unit_code"], "unit_name": r["unit_name"]}
                for r in sorted(ranking, key=lambda r: r["unit_code"])
                if r["due"] and not (r["late"] or r["missing"] or r["wrong"])]
    groups = []
    for key, type_label in TYPES:
        rows = [r for r in wrong if r["type"] == key]
        if rows:
            groups.append({"type": key, "label": type_label, "rows": rows, "count": len(rows),
                           "cases": len({_wrong_key(r) for r in rows})})
    must = {}
    for r in late:
        must.setdefault(r["unit_id"], {"late": 0, "missing": 0, "wrong": set(), "previous": 0})[
            "late" if r["kind"] == KIND_LATE else "missing"] += 1
    for r in wrong:
        must.setdefault(r["unit_id"], {"late": 0, "missing": 0, "wrong": set(), "previous": 0})["wrong"].add(
            _wrong_key(r))
    for r in (prev["rows"] if prev else []):
        if not r["corrected"] and r.get("unit_id") is not None:
            must.setdefault(r["unit_id"], {"late": 0, "missing": 0, "wrong": set(), "previous": 0})["previous"] += 1
    names = _units(must)
    units_to_correct = sorted(
        ({"unit_id": uid, "unit_code": names.get(uid, ("", ""))[0], "unit_name": names.get(uid, ("", ""))[1],
          "late": v["late"], "missing": v["missing"], "wrong": len(v["wrong"]), "previous": v["previous"]}
         for uid, v in must.items()), key=lambda r: (r["unit_code"], r["unit_id"]))
    overall_section = {
        **overall,
        "previous": prev_figures,
        "positive_units": positive,
    }
    wrong_section = {"groups": groups, "count": len(wrong), "cases": len({_wrong_key(r) for r in wrong})}
    overall_section["summary"] = _summary(header, overall, prev_figures, positive, wrong_section)
    return {
        "version": CONTENT_VERSION,
        "header": header,
        "overall": overall_section,
        "late": {"rows": late, "count": len(late),
                 "repeat_units": [{"unit_id": uid, "unit_code": code, "unit_name": name} for code, uid, name in repeat]},
        "wrong": wrong_section,
        "previous": prev,
        "ranking": {"formula": FORMULA, "rows": ranking},
        "requirements": {"correction_days": int(correction_days), "correction_deadline": None,
                         "units": units_to_correct},
        "texts": _default_texts(unit.name, label),
        "named_unit_ids": [u["unit_id"] for u in units_to_correct],
    }

