"""通报 (circulated notices): drafted from the period's data as shared/spec/regulations.md C.2 describes,
edited by the issuing department's supervisors, issued — then locked — and circulated to the units it names.

``compose(unit, from, to)`` computes the whole ``content`` from SQL aggregates over the unit's subtree,
deterministically: the same data gives the same content (everything is sorted; nothing depends on the
clock). Its sections:

* header — issuer, 文号, period, recipients;
* overall — per reporting node the cases due in the period, on time, late (逾期), 未报 and the timeliness
  rate; the share of cases without a red alarm; the same figures for the previous period of equal length
  (the previous calendar month/quarter/year when the period is one); units with zero late and zero wrong;
* late — the deadline rows due in the period that are 逾期 / 未报, and the repeat offenders (units in the
  previous issued notice's late list too);
* wrong — red alarms raised in the period (and findings recorded in it) grouped by the rule category.
  T01/T02 (初次/二次提交超期) are late reports, listed under ``late``, never here; alarms verified as
  correct (核实无误) are not errors;
* previous — the latest issued notice of the same department: each case it named, corrected or not;
* ranking — units with cases in the period, scored (the formula is in the content);
* requirements — the correction deadline and the units that must correct;
* texts — the editable intro, requirements and next steps.

``draft`` stores it (草稿) with its case list (NoticeCase); ``update_draft`` edits the texts; ``issue``
locks it (已印发), sends it to the inbox of the clerks of every unit named and of the issuing
department's supervisors, and e-mails copies after the commit. Each is one transaction; problems are
collected and raised together, in Chinese. A ``before_flush`` guard refuses any ORM change to an issued
notice or its case list, whatever the path.
"""
from __future__ import annotations

import copy
import datetime as dt
import logging
import re

from sqlalchemy import and_, event, exists, func, inspect, or_, select
from sqlalchemy import case as sa_case
from sqlalchemy.orm import Session

from app.dates import period_label, previous_period
from app.errors import JishiError
from app.extensions import db
from app.models import AppUser, Case, Unit
from app.models.audit import utcnow
from app.models.deadlines import (
    DL_LATE,
    DL_MISSING,
    DL_ON_TIME,
    DL_PENDING,
    NODE_LABELS,
    CaseDeadline,
    Message,
)
from app.models.rules import (
    ALARM_CLOSED,
    ALARM_CORRECTED,
    ALARM_DISMISSED,
    ALARM_HALTED,
    Alarm,
    AlarmEvent,
)
from app.models.supervision import (
    FINDING_CLOSED,
    FINDING_DONE,
    NOTICE_DRAFT,
    NOTICE_ISSUED,
    Finding,
    Notice,
    NoticeCase,
)
from app.scoping import Scope

log = logging.getLogger(__name__)

KIND_NOTICE = "通报"  # the inbox message kind
KIND_LATE, KIND_MISSING, KIND_WRONG = "迟报", "漏报", "错报"
SUPERVISOR_ROLE, CLERK_ROLE = "监督员", "填报员"

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
MIN_CORRECTION_DAYS, MAX_CORRECTION_DAYS = 1, 90
MAX_PERIOD_DAYS = 366
MIN_DAY, MAX_DAY = dt.date(1990, 1, 1), dt.date(2100, 12, 31)
MAX_TEXT = 20000
EDITABLE = ("title", "number", "intro", "requirements", "next_steps", "correction_deadline", "correction_days")
CONTENT_VERSION = 1


class NoticeError(JishiError, ValueError):
    """Problems, in Chinese, all at once."""

    def __init__(self, problems):
        self.problems = list(problems)
        self.errors = self.problems  # what the views' write handlers read
        super().__init__("；".join(self.problems))


class NoticeLocked(NoticeError):
    pass


def _fail_if(problems) -> None:
    if problems:
        raise NoticeError(problems)


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
    # Completeness and accuracy: the cases (roots) due in the period without a wrong-report alarm or
    # a finding recorded up to the end of the period.
    d = CaseDeadline
    due = (select(d.root_id).where(_subtree(unit, d.unit_id), d.due_date >= f, d.due_date <= t,
                                   d.status.in_((DL_ON_TIME, DL_LATE, DL_MISSING)))
           .distinct().subquery("due_roots"))
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
    from app.rules.registry import all_rules

    if code == REVIEW_CODE:
        return "R", "网上巡查红灯预警"
    if code == UNREPORTED_CODE:
        return "M", "已印发任免文件但未报送纪实"
    if code == NO_DOCUMENT_CODE:
        return "X", "讨论决定通过后长期无任免文件"
    rule = all_rules().get(code)
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
            corrected, note = True, f"已于 {d.submitted_on.isoformat()} 报送"
        elif d is None:
            corrected, note = False, "报送期限已撤销或重新计算，请核实"
        else:
            corrected, note = False, f"仍未报送（已逾期 {int(d.days_late or 0)} 天）"
        rows.append({"unit_id": r.get("unit_id"), "unit_code": r.get("unit_code", ""),
                     "unit_name": r.get("unit_name", ""), "case_no": r.get("case_no", ""), "name": r.get("name", ""),
                     "kind": r.get("kind", KIND_LATE),
                     "problem": f"{r.get('node_label', '')}应于 {r.get('due_date', '')} 前报送"
                                + (f"，{r['submitted_on']} 报送" if r.get("submitted_on") else "，未报"),
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
                corrected, note = True, "已整改销号" + (f"（{a.closed_at.date().isoformat()}）" if a.closed_at else "")
            elif a.status == ALARM_HALTED:
                corrected, note = False, "已叫停纠偏，整改中" + (
                    f"（整改期限 {a.correction_deadline.isoformat()}）" if a.correction_deadline else "")
            else:
                corrected, note = False, "尚未整改"
        else:
            x = findings.get(key[1])
            if x is None:
                corrected, note = False, "问题记录不存在，请核实"
            elif x.status in (FINDING_DONE, FINDING_CLOSED):
                corrected, note = True, f"{x.status}" + (f"（{x.corrected_at.date().isoformat()}）" if x.corrected_at else "")
            else:
                corrected, note = False, f"整改中（整改期限 {x.correction_deadline.isoformat()}）"
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


def _summary(header: dict, overall: dict, previous: dict, positive: list[dict]) -> list[str]:
    total, prev_total = overall["total"], previous["total"]
    n1, n2 = overall["nodes"]
    lines = [
        f"{header['period_label']}，应报送纪实 {total['due']} 件次（初次提交 {n1['due']} 件次、二次提交 {n2['due']} 件次），"
        f"按时报送 {total['on_time']} 件次，及时率 {_pct(total['rate'])}；逾期 {total['late']} 件次，未报 {total['missing']} 件次。"
        + "，".join(f"{n['label']}及时率 {_pct(n['rate'])}" for n in (n1, n2) if n["due"]) + ("。" if total["due"] else ""),
        f"应报案例 {overall['cases']} 件中，无红灯预警、无问题记录的 {overall['accurate']} 件，"
        f"占 {_pct(overall['accuracy_rate'])}。",
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
    overall_section["summary"] = _summary(header, overall, prev_figures, positive)
    return {
        "version": CONTENT_VERSION,
        "header": header,
        "overall": overall_section,
        "late": {"rows": late, "count": len(late),
                 "repeat_units": [{"unit_id": uid, "unit_code": code, "unit_name": name} for code, uid, name in repeat]},
        "wrong": {"groups": groups, "count": len(wrong), "cases": len({_wrong_key(r) for r in wrong})},
        "previous": prev,
        "ranking": {"formula": FORMULA, "rows": ranking},
        "requirements": {"correction_days": int(correction_days), "correction_deadline": None,
                         "units": units_to_correct},
        "texts": _default_texts(unit.name, label),
        "named_unit_ids": [u["unit_id"] for u in units_to_correct],
    }


# ---- checks ---------------------------------------------------------------------------------------------

def _roles(user) -> set[str]:
    return {r.name for r in getattr(user, "roles", None) or []}


def is_issuer_supervisor(user, unit_id) -> bool:
    """A supervisor (监督员) of the issuing department itself."""
    return (user is not None and getattr(user, "is_active", True) and SUPERVISOR_ROLE in _roles(user)
            and getattr(user, "unit_id", None) is not None and user.unit_id == unit_id)


def _issuer_problem(user, unit: Unit | None) -> list[str]:
    if user is None:
        return ["请指明操作人（发文单位的监督员）"]
    if unit is None or not is_issuer_supervisor(user, unit.id):
        name = f"（{unit.name}）" if unit is not None else ""
        return [f"只有发文单位{name}的监督员可以起草、修改和印发通报"]
    return []


def _period_problems(f, t) -> list[str]:
    if not isinstance(f, dt.date) or not isinstance(t, dt.date):
        return ["请填写有效的通报期间（YYYY-MM-DD）"]
    if not (MIN_DAY <= f <= MAX_DAY and MIN_DAY <= t <= MAX_DAY):
        return [f"通报期间应在 {MIN_DAY.year}–{MAX_DAY.year} 年之间"]
    if f > t:
        return ["通报期间的起始日期不能晚于截止日期"]
    if (t - f).days + 1 > MAX_PERIOD_DAYS:
        return [f"通报期间不能超过 {MAX_PERIOD_DAYS} 天"]
    return []


def _days_problems(days) -> list[str]:
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_CORRECTION_DAYS <= days <= MAX_CORRECTION_DAYS:
        return [f"整改天数应为 {MIN_CORRECTION_DAYS}–{MAX_CORRECTION_DAYS} 的整数（通常 10–30 天）"]
    return []


def _number_problems(unit_id: int, number: str | None, own_id: int | None) -> list[str]:
    if not number:
        return []
    if len(number) > 60:
        return ["文号不能超过 60 个字符"]
    q = select(Notice.id).where(Notice.unit_id == unit_id, Notice.number == number)
    if own_id is not None:
        q = q.where(Notice.id != own_id)
    other = db.session.execute(q.limit(1)).scalar()
    return [f"文号“{number}”已被本单位的通报 #{other} 使用"] if other else []


# ---- writes -------------------------------------------------------------------------------------------

def _notice_cases(notice: Notice, content: dict) -> list[NoticeCase]:
    out = []
    for r in content["late"]["rows"]:
        detail = (f"{r['node_label']}应于 {r['due_date']} 前报送，"
                  + (f"{r['submitted_on']} 报送，逾期 {r['days_late']} 天" if r["submitted_on"]
                     else f"至今未报，已逾期 {r['days_late']} 天"))
        out.append(NoticeCase(notice_id=notice.id, case_id=r["case_id"], root_id=r["root_id"], unit_id=r["unit_id"],
                              kind=r["kind"], detail=detail))
    merged: dict = {}
    for g in content["wrong"]["groups"]:
        for r in g["rows"]:
            if r["case_id"] is None:
                continue  # e.g. an appointment never reported: no case to name
            key = (r["source"], r["alarm_id"] or r["finding_id"])
            text = f"{r['code']} {r['title']}：{r['what']}".strip()
            if key in merged:
                merged[key]["detail"] += "；" + text
            else:
                merged[key] = {"case_id": r["case_id"], "root_id": r["root_id"] or r["case_id"],
                               "unit_id": r["unit_id"], "detail": text, "kind": r.get("kind", KIND_WRONG),
                               "sort": (r["unit_code"], r["case_no"], key)}
    for v in sorted(merged.values(), key=lambda v: v["sort"]):
        out.append(NoticeCase(notice_id=notice.id, case_id=v["case_id"], root_id=v["root_id"], unit_id=v["unit_id"],
                              kind=v["kind"], detail=v["detail"]))
    return out


def draft(unit: Unit, period_from: dt.date, period_to: dt.date, user, *, number: str | None = None,
          correction_days: int = DEFAULT_CORRECTION_DAYS) -> Notice:
    """Draft (草稿) and store a notice of ``unit`` for the period, with its case list."""
    number = (number or "").strip() or None
    problems = _issuer_problem(user, unit) + _period_problems(period_from, period_to) + _days_problems(correction_days)
    if unit is not None:
        problems += _number_problems(unit.id, number, None)
    _fail_if(problems)
    try:
        content = compose(unit, period_from, period_to, number=number, correction_days=correction_days)
        notice = Notice(unit_id=unit.id, number=number, title=content["header"]["title"], period_from=period_from,
                        period_to=period_to, status=NOTICE_DRAFT, content=content,
                        previous_id=(content["previous"] or {}).get("notice_id"),
                        created_by_name=user.username, created_at=utcnow())
        db.session.add(notice)
        db.session.flush()
        db.session.add_all(_notice_cases(notice, content))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return notice


def _as_date(value, problems: list[str]):
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        problems.append(f"整改期限“{value}”不是有效日期（YYYY-MM-DD）")
        return None


def update_draft(notice: Notice, user, **editable) -> Notice:
    """Edit a draft: title, number (文号), intro, requirements, next_steps, correction_deadline,
    correction_days. Only while 草稿, only by the issuing department's supervisors."""
    problems = []
    if notice.status != NOTICE_DRAFT:
        problems.append(f"通报当前状态为“{notice.status}”，已印发的通报不能修改")
    problems += _issuer_problem(user, notice.unit)
    unknown = sorted(set(editable) - set(EDITABLE))
    if unknown:
        problems.append(f"不能修改：{'、'.join(unknown)}（可修改：标题、文号、导语、整改要求、下一步工作、整改期限、整改天数）")
    _fail_if(problems)
    content = copy.deepcopy(notice.content or {})
    texts = content.setdefault("texts", {})
    header = content.setdefault("header", {})
    req = content.setdefault("requirements", {})
    changes = {}
    if "title" in editable:
        title = (editable["title"] or "").strip()
        if not title:
            problems.append("请填写通报标题")
        elif len(title) > 200:
            problems.append("通报标题不能超过 200 个字符")
        changes["title"] = title
    if "number" in editable:
        number = (editable["number"] or "").strip() or None
        problems += _number_problems(notice.unit_id, number, notice.id)
        changes["number"] = number
    for key, label in (("intro", "导语"), ("requirements", "整改要求"), ("next_steps", "下一步工作")):
        if key in editable:
            value = editable[key]
            if value is not None and not isinstance(value, str):
                problems.append(f"{label}应为文本")
                continue
            value = (value or "").replace("\r\n", "\n").strip()
            if len(value) > MAX_TEXT:
                problems.append(f"{label}不能超过 {MAX_TEXT} 个字符")
            texts[key] = value
    if "correction_days" in editable:
        days = editable["correction_days"]
        if isinstance(days, str) and days.strip().isdigit():
            days = int(days.strip())
        problems += _days_problems(days)
        req["correction_days"] = days
    if "correction_deadline" in editable:
        deadline = _as_date(editable["correction_deadline"], problems)
        if deadline is not None and deadline <= dt.date.today():
            problems.append("整改期限应晚于今天")
        changes["correction_deadline"] = deadline
        req["correction_deadline"] = deadline.isoformat() if deadline else None
    _fail_if(problems)
    try:
        for key, value in changes.items():
            setattr(notice, key, value)
        header["title"] = notice.title
        header["number"] = notice.number or ""
        notice.content = content
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return notice


def recipients(notice: Notice) -> list[tuple[int, int, str]]:
    """(user, unit, role) the issued notice goes to: the active clerks of every unit named, and the
    active supervisors of the issuing department; one entry per user."""
    from flask_appbuilder.security.sqla.models import Role

    named = [u for u in (notice.content or {}).get("named_unit_ids") or [] if u is not None]
    out: dict[int, tuple[int, int, str]] = {}
    if named:
        for user_id, unit_id in db.session.execute(
                select(AppUser.id, AppUser.unit_id).join(AppUser.roles)
                .where(AppUser.active.is_(True), AppUser.unit_id.in_(named), Role.name == CLERK_ROLE)
                .order_by(AppUser.id)).all():
            out.setdefault(user_id, (user_id, unit_id, CLERK_ROLE))
    for (user_id,) in db.session.execute(
            select(AppUser.id).join(AppUser.roles)
            .where(AppUser.active.is_(True), AppUser.unit_id == notice.unit_id, Role.name == SUPERVISOR_ROLE)
            .order_by(AppUser.id)).all():
        out.setdefault(user_id, (user_id, notice.unit_id, SUPERVISOR_ROLE))
    return sorted(out.values())


def _message_rows(notice: Notice) -> list[dict]:
    content = notice.content or {}
    per_unit = {u["unit_id"]: u for u in (content.get("requirements") or {}).get("units") or []}
    deadline = notice.correction_deadline.isoformat() if notice.correction_deadline else "整改期限"
    doc = f"《{notice.title}》" + (f"（{notice.number}）" if notice.number else "")
    issuer = (content.get("header") or {}).get("issuer", "")
    now = utcnow()
    rows = []
    for user_id, unit_id, role in recipients(notice):
        if role == CLERK_ROLE:
            u = per_unit.get(unit_id, {})
            parts = [f"{label} {u.get(key, 0)} 件" for key, label in
                     (("late", "逾期报送"), ("missing", "未报"), ("wrong", "错报"), ("previous", "上期问题未整改"))
                     if u.get(key)]
            body = (f"{issuer}印发{doc}，贵单位被列入通报（{'、'.join(parts) or '见通报'}）。"
                    f"请于 {deadline} 前完成整改，并报送书面整改报告。")
        else:
            body = (f"{doc}已印发，点名 {len(per_unit)} 个单位，整改期限 {deadline}。")
        rows.append({"recipient_id": user_id, "unit_id": unit_id, "kind": KIND_NOTICE,
                     "title": f"通报：{notice.title}"[:200], "body": body,
                     "link": f"/notices/received/{notice.id}", "case_id": None,
                     "dedup_key": f"notice:{notice.id}:{user_id}", "created_at": now})
    return rows


def issue(notice: Notice, user, *, on: dt.date | None = None) -> list[int]:
    """印发: lock the notice and send it to the inbox of the units named and of the issuing department's
    supervisors (once each, whatever is re-run); e-mail copies go out after the commit. Returns the new
    inbox message ids."""
    from app.deadlines.due import _insert_ignore

    on = on or dt.date.today()
    problems = []
    if notice.status != NOTICE_DRAFT:
        problems.append(f"通报当前状态为“{notice.status}”，不能再次印发")
    problems += _issuer_problem(user, notice.unit)
    if not (notice.number or "").strip():
        problems.append("请先填写文号再印发")
    if not (notice.title or "").strip():
        problems.append("请先填写通报标题再印发")
    content = copy.deepcopy(notice.content or {})
    req = content.setdefault("requirements", {})
    days = req.get("correction_days", DEFAULT_CORRECTION_DAYS)
    deadline = notice.correction_deadline
    if deadline is None:
        problems += _days_problems(days)
        if not _days_problems(days):
            deadline = on + dt.timedelta(days=days)
    elif deadline <= on:
        problems.append(f"整改期限（{deadline.isoformat()}）应晚于印发日期（{on.isoformat()}）")
    _fail_if(problems)
    try:
        req["correction_deadline"] = deadline.isoformat()
        content.setdefault("header", {})["issued_on"] = on.isoformat()
        content["header"]["number"] = notice.number
        notice.content = content
        notice.correction_deadline = deadline
        notice.status = NOTICE_ISSUED
        notice.issued_at = utcnow()
        notice.issued_by_name = user.username
        db.session.flush()
        rows = _message_rows(notice)
        ids = []
        if rows:
            ids = list(db.session.execute(
                _insert_ignore(Message.__table__).values(rows).returning(Message.__table__.c.id)).scalars())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    try:
        from app.infra.notify import deliver

        deliver(ids)
    except Exception:  # noqa: BLE001 - the inbox copies stand; a mail server's failure is logged
        db.session.rollback()
        log.exception("通报 %s 的邮件副本发送失败", notice.id)
    return ids


def named_unit_ids(notice: Notice) -> set[int]:
    return {u for u in (notice.content or {}).get("named_unit_ids") or [] if u is not None}


# ---- the lock --------------------------------------------------------------------------------------

def _persisted_status(session: Session, obj: Notice) -> str | None:
    """The status the database holds, read with a row lock (PostgreSQL): a change racing an issue waits for
    it and then sees 已印发."""
    state = inspect(obj)
    if state.transient or state.pending or obj.id is None:
        return None
    return session.execute(select(Notice.status).where(Notice.id == obj.id).with_for_update()).scalar()


def _parent_status(session: Session, obj: NoticeCase) -> str | None:
    notice = obj.notice if "notice" in inspect(obj).dict else None
    if notice is None and obj.notice_id is not None:
        notice = session.get(Notice, obj.notice_id)
    return _persisted_status(session, notice) if notice is not None else None


def _lock_before_flush(session: Session, flush_context, instances) -> None:
    problems = []
    with session.no_autoflush:
        for obj in list(session.dirty) + list(session.deleted):
            if isinstance(obj, Notice):
                changed = obj in session.deleted or session.is_modified(obj, include_collections=False)
                if changed and _persisted_status(session, obj) == NOTICE_ISSUED:
                    problems.append(f"通报“{obj.title}”已印发，不能修改或删除")
            elif isinstance(obj, NoticeCase):
                changed = obj in session.deleted or session.is_modified(obj, include_collections=False)
                if changed and _parent_status(session, obj) == NOTICE_ISSUED:
                    problems.append("已印发通报的案例清单不能修改或删除")
        for obj in session.new:
            if isinstance(obj, NoticeCase) and _parent_status(session, obj) == NOTICE_ISSUED:
                problems.append("已印发通报的案例清单不能增加案例")
    if problems:
        raise NoticeLocked(sorted(set(problems)))


def init_notice_lock() -> None:
    """Register the lock (idempotent)."""
    if not event.contains(Session, "before_flush", _lock_before_flush):
        event.listen(Session, "before_flush", _lock_before_flush)


init_notice_lock()


# ---- the workbook ----------------------------------------------------------------------------------

SHEETS = ("总体情况", "迟报名单", "错报漏报", "上期整改", "单位排名")
LATE_HEADERS = ["序号", "单位", "案例编号", "姓名", "报送节点", "截止日期", "报送日期", "逾期天数", "状态", "屡次迟报"]
WRONG_HEADERS = ["序号", "问题类型", "单位", "案例编号", "姓名", "规则编号", "规则名称", "问题说明", "整改情况"]
PREVIOUS_HEADERS = ["序号", "单位", "案例编号", "姓名", "类别", "上期问题", "整改情况", "说明"]
RANKING_HEADERS = ["名次", "单位代码", "单位", "应报件次", "按时", "逾期", "未报", "错报件数", "及时率（%）", "得分"]


def write_xlsx(target, notice: Notice) -> int:
    """The notice as a workbook (one sheet per list); returns the number of list rows written."""
    from app.reporting.xlsx import Sheet, Writer

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
    from app.record.evidence import head_text

    w.note(head_text())  # a copy of the evidence chain head outside the system
    w.close()
    return n


__all__ = ["NoticeError", "NoticeLocked", "compose", "draft", "update_draft", "issue", "recipients",
           "write_xlsx", "named_unit_ids",
           "is_issuer_supervisor", "KIND_NOTICE", "FORMULA"]
