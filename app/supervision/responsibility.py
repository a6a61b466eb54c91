"""责任界定: for an alarm or a finding, who handled and who signed each step involved.

The report gathers what the record already keeps as evidence, in procedure order:

* the case version concerned, and the rules involved (their codes and titles);
* for each module those rules read: 经办人 (handler), 责任领导 (leader), when the step was completed and
  who entered and who last changed it (the audit trail of the module row);
* the three signatures (level, title, signer, post, opinion, when, voided), the submissions (node, by,
  when, SHA-256) and the supervisor's reviews of the case across its versions;
* the alarm's events (who halted or dismissed it, and why) or the finding's course.

An 应报未报 alarm has no case: the report names the document and the unit's clerks and supervising
department on record instead (and the case reported since, if the document has been matched).

``write_xlsx(report, target)`` writes the same report as a workbook, one sheet per part.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.display import minute
from app.extensions import db
from app.models import Alarm, AppUser, Case, Submission
from app.models.supervision import AppointmentDocument, Finding, Review
from app.queries.history import record_history
from app.reporting.xlsx import Sheet, Writer
from app.rules.catalog import all_rules
from app.spec import items_by_key, module, modules
from app.supervision.reconcile import mask_id, recipients_of
from app.workflow.submission import display_name

# Codes that are not rules of the catalogue: raised by the supervisor's review, the deadline scan or the
# reconciliation with the appointment documents. None: every module of the case is involved.
OTHER_CODES = {
    "巡查": ("网上巡查红灯预警", None),
    "应报未报": ("应报未报：任免文件没有对应的报送案例", ()),
    "无任免文件": ("讨论决定通过后逾期无任免文件", ("decision", "appointment")),
}
CONTENT_MODULES = ("qualification", "motion", "nomination", "recommendation", "inspection", "consultation",
                   "decision", "publicity", "appointment", "signature", "submission")


def _codes(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").replace("，", ",").split(",") if c.strip()]


def rules_involved(codes: list[str]) -> tuple[list[dict], list[str], dict]:
    """(rules with titles and the modules they read, module keys in procedure order, module → items read)."""
    rules, items = all_rules(), items_by_key()
    names = {m.key: m.name for m in modules()}
    keys: set[str] = set()
    read_items: dict[str, list[str]] = {}
    out = []
    for code in codes:
        rule = rules.get(code)
        if rule is not None:
            reads = [k for k in rule.meta.get("reads", []) if k in items]
            mods = []
            for k in reads:
                m = items[k].module
                if m not in mods:
                    mods.append(m)
                read_items.setdefault(m, [])
                if items[k].label not in read_items[m]:
                    read_items[m].append(items[k].label)
            out.append({"code": code, "title": rule.title, "basis": rule.basis, "modules": [names[m] for m in mods]})
            keys.update(mods)
            continue
        title, mods = OTHER_CODES.get(code, (code, None))
        mods = CONTENT_MODULES if mods is None else mods
        keys.update(mods)
        out.append({"code": code, "title": title, "basis": "", "modules": [names[m] for m in mods if m in names]})
    order = [m.key for m in modules() if m.key in keys]
    return out, order, read_items


def _who(audit_row) -> dict | None:
    if audit_row is None:
        return None
    return {"name": audit_row.actor_name, "at": audit_row.ts, "path": audit_row.path}


def module_steps(case: Case, keys: list[str], read_items: dict) -> list[dict]:
    steps = []
    for key in keys:
        spec = module(key)
        row = case.module_row(key)
        history = record_history(f"case_{key}", row.id) if row is not None else []
        steps.append({
            "key": key, "order": spec.order, "name": spec.name,
            "handler": getattr(row, "handler", None) or "", "leader": getattr(row, "leader", None) or "",
            "state": getattr(row, "state", None) or "未填", "completed_at": getattr(row, "completed_at", None),
            "entered": _who(history[-1]) if history else None,   # record_history is newest first
            "changed": _who(history[0]) if history else None,
            "reads": read_items.get(key, []),
        })
    return steps


def case_evidence(case: Case) -> dict:
    """The case version, its signatures, the submissions and reviews of the case across versions."""
    root_id = case.root_id or case.id
    versions = dict(db.session.execute(select(Case.id, Case.version_no).where(Case.root_id == root_id)).all())
    creator = db.session.get(AppUser, case.created_by_id) if case.created_by_id else None

    return {
        "case": {"id": case.id, "case_no": case.case_no, "version_no": case.version_no, "full_name": case.full_name or "",
                 "unit": case.unit.name if case.unit else "", "status": case.status, "light": case.light or "",
                 "created_by": display_name(creator) if creator else "", "created_at": case.created_at},
        "signatures": [{"level": s.level, "title": s.level_label, "signer": s.signer_name, "post": s.post,
                        "opinion": s.opinion, "signed_at": s.signed_at, "voided": s.voided_at is not None,
                        "voided_at": s.voided_at, "void_reason": s.void_reason or ""}
                       for s in sorted(case.signatures, key=lambda s: (s.level, s.id))],
        "submissions": [{"node": s.node_label, "by": s.submitted_by_name, "at": s.submitted_at, "sha256": s.sha256,
                         "version_no": versions.get(s.case_id)}
                        for s in db.session.execute(select(Submission).where(Submission.root_id == root_id)
                                                    .order_by(Submission.id)).scalars()],
        "reviews": [{"result": r.result, "reason": r.reason, "by": r.reviewer_name, "at": r.at,
                     "version_no": versions.get(r.case_id)}
                    for r in db.session.execute(select(Review).where(Review.root_id == root_id)
                                                .order_by(Review.id)).scalars()],
    }


def _document(doc: AppointmentDocument) -> dict:
    return {"id": doc.id, "doc_no": doc.doc_no, "doc_date": doc.doc_date, "unit": doc.unit.name if doc.unit else "",
            "unit_code": doc.unit.code if doc.unit else "", "person_name": doc.person_name,
            "id_card_no": mask_id(doc.id_card_no) or "", "post": doc.post, "status": doc.status,
            "imported_by": doc.imported_by_name, "imported_at": doc.imported_at}


def _report(kind: str, subject: dict, case: Case | None, codes: list[str], events: list[dict],
            document: AppointmentDocument | None = None, unit_id: int | None = None) -> dict:
    rules, keys, read_items = rules_involved(codes)
    report = {"kind": kind, "subject": subject, "rules": rules, "events": events, "document": None,
              "contacts": [], "case": None, "steps": [], "signatures": [], "submissions": [], "reviews": [],
              "generated_at": dt.datetime.now()}
    if document is not None:
        report["document"] = _document(document)
    if case is None:
        # No case to name: the people answerable for reporting it are the unit's, on record now.
        report["contacts"] = recipients_of(unit_id) if unit_id else []
        return report
    if not keys:  # a case found since for an 应报未报 document: show the whole procedure
        _r, keys, read_items = rules_involved(["巡查"])
    report.update(case_evidence(case))
    report["steps"] = module_steps(case, keys, read_items)
    return report


def report_for_alarm(alarm: Alarm) -> dict:
    events = [{"at": e.at, "actor": e.actor_name, "from": e.from_status or "", "to": e.to_status,
               "reason": e.reason or ""} for e in alarm.events]
    subject = {"id": alarm.id, "title": f"报警 #{alarm.id}", "codes": alarm.codes, "message": alarm.message,
               "status": alarm.status, "point": alarm.point, "raised_at": alarm.raised_at,
               "unit": alarm.unit.name if alarm.unit else "", "correction_deadline": alarm.correction_deadline}
    document = db.session.get(AppointmentDocument, alarm.document_id) if alarm.document_id else None
    case = alarm.case
    if case is None and document is not None and document.matched_case_id:
        case = document.matched_case  # reported after the alarm was raised
    return _report("alarm", subject, case, _codes(alarm.codes), events, document, alarm.unit_id)


def _finding_events(finding: Finding) -> list[dict]:
    """The finding's course; who reported the correction comes from the audit trail."""
    changes = {}
    for row in record_history(Finding.__tablename__, finding.id):
        if row.field == "status" and row.new_value not in changes:
            changes[row.new_value] = row
    events = [{"at": finding.created_at, "actor": finding.created_by_name, "from": "", "to": "整改中",
               "reason": finding.description}]
    if finding.corrected_at:
        row = changes.get("已整改")
        events.append({"at": finding.corrected_at, "actor": row.actor_name if row else "", "from": "整改中",
                       "to": "已整改", "reason": finding.correction_note or ""})
    if finding.closed_at:
        events.append({"at": finding.closed_at, "actor": finding.closed_by_name or "", "from": "已整改",
                       "to": "已关闭", "reason": ""})
    return events


def report_for_finding(finding: Finding) -> dict:
    subject = {"id": finding.id, "title": f"问题 #{finding.id}", "codes": finding.rule_codes,
               "message": finding.description, "status": finding.status, "point": "",
               "raised_at": finding.created_at, "unit": finding.unit.name if finding.unit else "",
               "correction_deadline": finding.correction_deadline}
    return _report("finding", subject, finding.case, _codes(finding.rule_codes), _finding_events(finding),
                   unit_id=finding.unit_id)


# ---- the workbook ------------------------------------------------------------------------------------

def _when(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return minute(value)
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def write_xlsx(report: dict, target) -> int:
    """The report as a workbook (one sheet per part); returns the number of data rows written."""
    subject, unit = report["subject"], report["subject"]["unit"]
    title = f"责任界定报告（{subject['title']}）"
    w = Writer(target)
    n = 0

    def part(name, headers, rows, widths=None):
        nonlocal n
        w.sheet(Sheet(title=f"{title}·{name}", unit=unit, headers=headers, widths=widths or {}), name=name)
        count = 0
        for values in rows:
            w.row(values)
            count += 1
        if not count:
            w.row(["（无）"] + [""] * (len(headers) - 1))
        n += count

    overview = [("对象", subject["title"]), ("触发规则", subject["codes"]), ("说明", subject["message"]),
                ("状态", subject["status"]), ("单位", unit), ("发生时间", _when(subject["raised_at"])),
                ("整改期限", _when(subject["correction_deadline"]))]
    case = report["case"]
    if case:
        overview += [("案例编号", case["case_no"]), ("版本", f"第 {case['version_no']} 版"), ("姓名", case["full_name"]),
                     ("报送单位", case["unit"]), ("案例状态", case["status"]), ("填报人", case["created_by"])]
    doc = report["document"]
    if doc:
        overview += [("任免文件文号", doc["doc_no"]), ("发文日期", _when(doc["doc_date"])), ("文件所列单位", doc["unit"]),
                     ("文件所列姓名", doc["person_name"]), ("身份证号", doc["id_card_no"]), ("职务", doc["post"]),
                     ("导入人", doc["imported_by"]), ("导入时间", _when(doc["imported_at"]))]
    overview.append(("生成时间", _when(report["generated_at"])))
    part("概况", ["项目", "内容"], overview, {0: 16, 1: 80})
    part("涉及规则", ["规则编号", "规则名称", "依据", "涉及环节"],
         [(r["code"], r["title"], r["basis"], "、".join(r["modules"])) for r in report["rules"]],
         {0: 10, 1: 36, 2: 40, 3: 40})
    if report["contacts"]:
        part("责任人员", ["身份", "姓名", "用户名", "所在单位"],
             [(c["role"], c["name"], c["username"], c["unit"]) for c in report["contacts"]], {0: 16, 1: 14, 2: 18, 3: 30})
    if case:
        part("环节责任", ["序号", "环节", "涉及事项", "状态", "经办人", "责任领导", "完成时间", "录入人", "录入时间",
                          "最后修改人", "最后修改时间"],
             [(s["order"], s["name"], "、".join(s["reads"]), s["state"], s["handler"], s["leader"],
               _when(s["completed_at"]), (s["entered"] or {}).get("name", ""), _when((s["entered"] or {}).get("at")),
               (s["changed"] or {}).get("name", ""), _when((s["changed"] or {}).get("at")))
              for s in report["steps"]], {1: 16, 2: 30, 4: 12, 5: 12, 6: 17, 7: 14, 8: 17, 9: 14, 10: 17})
        part("责任签字", ["级别", "签字人身份", "签字人", "职务", "意见", "签字时间", "是否作废", "作废原因"],
             [(s["level"], s["title"], s["signer"], s["post"], s["opinion"], _when(s["signed_at"]),
               "已作废" if s["voided"] else "有效", s["void_reason"]) for s in report["signatures"]],
             {1: 24, 2: 12, 3: 24, 4: 20, 5: 17, 7: 30})
        part("报送记录", ["版本", "节点", "报送人", "报送时间", "SHA-256"],
             [(f"第 {s['version_no']} 版", s["node"], s["by"], _when(s["at"]), s["sha256"]) for s in report["submissions"]],
             {2: 14, 3: 17, 4: 70})
        part("审核记录", ["版本", "结论", "理由", "审核人", "审核时间"],
             [(f"第 {r['version_no']} 版", r["result"], r["reason"], r["by"], _when(r["at"])) for r in report["reviews"]],
             {2: 50, 3: 14, 4: 17})
    part("处理记录", ["时间", "操作人", "由", "至", "原因"],
         [(_when(e["at"]), e["actor"], e["from"], e["to"], e["reason"]) for e in report["events"]],
         {0: 17, 1: 16, 4: 50})
    w.close()
    return n
