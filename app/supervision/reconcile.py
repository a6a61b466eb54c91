"""应报未报: the appointment documents actually issued (任免文件), matched against the cases reported.

``reconcile(file, user)`` is what the page (/reconcile) and ``flask reconcile FILE`` run:

1. ``read_documents`` reads an xlsx or UTF-8 csv with the header ``文号, 日期, 单位, 姓名, 身份证号, 职务``
   (单位 is the unit code; 身份证号 may be empty) and checks every row; any problem and nothing is
   written, every problem reported with its row number;
2. ``import_documents`` stores them (every unit must be in the importing user's scope). A document is
   (unit, 文号, 姓名): importing it again changes nothing;
3. ``match`` looks for the case of each document not matched yet: a current case of the document's unit
   for that person — by ID number when the document gives one (a case with no ID number yet is matched
   by name), else by name — preferring the case whose 任职文号 is the document's 文号, else a case whose
   meeting decided 通过 on or before the document's date. A document with no case raises an 应报未报
   alarm at its unit (no case: the alarm names the document) and tells the unit's clerks and its
   supervising department, once;
4. ``missing`` flags the other way round: current cases decided 通过 more than
   ``JISHI_DOCUMENT_EXPECTED_DAYS`` days ago with neither a 任职文号 nor a matched document
   (an alarm 无任免文件 per case, once).

Alarms and notices carry a unique ``dedup_key`` (``unreported:<document>``, ``nodoc:<root>``), so a
second run, or two at once, never raises or sends anything twice. Everything is one transaction.

The lists returned name the person with the ID number masked (first 6 and last 4 digits shown).
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from app.alarms.state import move
from app.deadlines.due import CLERK_ROLE, routes
from app.deadlines.due import _insert_ignore as insert_ignore
from app.errors import JishiError
from app.extensions import db
from app.idnumber import id_problems
from app.infra.notify import deliver
from app.infra.tables import RowError, TableError, cell_text, read_upload
from app.models import MODULE_MODELS, Alarm, AppUser, Batch, Case, Unit
from app.models.audit import utcnow
from app.models.deadlines import Message
from app.models.rules import ALARM_CLOSED, ALARM_HALTED, ALARM_RAISED
from app.models.supervision import DOC_MATCHED, DOC_UNMATCHED, AppointmentDocument
from app.scoping import Scope, scope_for
from app.workflow.submission import display_name

log = logging.getLogger(__name__)

# Chinese header → attribute; a few other spellings of the same headers are accepted.
HEADERS = {"文号": "doc_no", "日期": "doc_date", "单位": "unit_code", "姓名": "person_name",
           "身份证号": "id_card_no", "职务": "post"}
ALIASES = {"任免文号": "文号", "文件文号": "文号", "发文日期": "日期", "文件日期": "日期", "单位代码": "单位",
           "公民身份号码": "身份证号", "身份证号码": "身份证号", "任免职务": "职务"}
REQUIRED_HEADERS = ("文号", "日期", "单位", "姓名", "职务")  # 身份证号 may be left out altogether
MAX_LENGTHS = {"文号": 100, "姓名": 30, "职务": 200}

UNREPORTED = "应报未报"
NO_DOCUMENT = "无任免文件"
KIND_UNREPORTED = "应报未报"
PASSED = "通过"


class ReconcileError(JishiError):
    """The file could not be taken: every problem, with its row number (0: the file itself)."""

    def __init__(self, errors: list[RowError]):
        self.errors = list(errors)
        super().__init__("；".join(f"第 {e.row} 行 {e.column}：{e.message}" if e.row else e.message
                                  for e in self.errors))


@dataclass
class DocRow:
    row: int
    doc_no: str
    doc_date: dt.date
    unit_id: int
    unit_code: str
    person_name: str
    id_card_no: str | None
    post: str

    @property
    def key(self) -> tuple:
        return self.unit_id, self.doc_no, self.person_name


@dataclass
class ReconcileResult:
    matched: list = field(default_factory=list)
    unmatched: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    new: int = 0        # documents stored by this import
    unchanged: int = 0  # documents already on record (imported before)
    message_ids: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"matched": self.matched, "unmatched": self.unmatched, "missing": self.missing}


# ---- helpers ------------------------------------------------------------------------------------

def mask_id(id_no: str | None) -> str | None:
    """420102********123X: enough to tell people apart on a printed list, not the whole number."""
    if not id_no:
        return None
    if len(id_no) <= 10:
        return "*" * len(id_no)
    return id_no[:6] + "*" * (len(id_no) - 10) + id_no[-4:]


_BRACKETS = str.maketrans({"[": "〔", "【": "〔", "［": "〔", "]": "〕", "】": "〕", "］": "〕"})


def normalise_doc_no(doc_no: str | None) -> str:
    """文号 as typed in different places: 〔2026〕, [2026] and 【2026】 are the same, spaces ignored."""
    return re.sub(r"\s+", "", (doc_no or "")).translate(_BRACKETS)


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")


def parse_date(value) -> dt.date:
    """A date cell: an Excel date, or text like 2026-01-05, 2026/1/5, 2026.1.5, 2026年1月5日, 20260105."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    m = _DATE.fullmatch(text) or _DATE_COMPACT.fullmatch(text)
    if not m:
        raise ValueError(f"日期“{text}”格式有误，应为 YYYY-MM-DD（如 2026-01-05）")
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueError(f"日期“{text}”不是有效的日期") from None


def _importer_name(user) -> str:
    if user is None:
        return "命令行"

    return display_name(user)


@contextmanager
def _all_or_nothing(conflict: str):
    """Roll back on any error. A unique key clashing (another import writing the same documents or
    alarms at the same time) is refused with ``conflict``; nothing has been written."""
    try:
        yield
    except IntegrityError:
        db.session.rollback()
        raise ReconcileError([RowError(0, "", conflict)]) from None
    except Exception:
        db.session.rollback()
        raise


# ---- 1. reading ---------------------------------------------------------------------------------

def _file_bytes(file, data: bytes | None) -> tuple[str, bytes]:
    """(file name, content) of a FileStorage, a path, or a name with ``data``."""
    if data is not None:
        return str(file or ""), data
    if hasattr(file, "read"):
        return getattr(file, "filename", None) or getattr(file, "name", "") or "", file.read()
    path = Path(file)
    return path.name, path.read_bytes()


def read_documents(file, data: bytes | None = None, *, today: dt.date | None = None,
                   scope: Scope | None = None) -> list[DocRow]:
    """Every row of a 任免文件 list, checked; raises ``ReconcileError`` with every problem found. With a
    ``scope``, a unit outside it is one of the problems (``import_documents`` checks it again)."""
    today = today or dt.date.today()
    filename, content = _file_bytes(file, data)
    try:
        table = read_upload(filename, content, utf8_only=True)
    except TableError as exc:
        raise ReconcileError([RowError(0, "", str(exc))]) from exc
    header_number = table.header_number
    header = [ALIASES.get(h, h) for h in table.header]
    missing = [h for h in REQUIRED_HEADERS if h not in header]
    if missing:
        raise ReconcileError([RowError(header_number, "表头", f"缺少表头“{'、'.join(missing)}”；首行应为：{'、'.join(HEADERS)}")])
    dupes = sorted({h for h in header if h in HEADERS and header.count(h) > 1})
    if dupes:
        raise ReconcileError([RowError(header_number, "表头", f"表头“{'、'.join(dupes)}”重复")])
    column = {h: header.index(h) for h in HEADERS if h in header}
    body = table.rows
    if not body:
        raise ReconcileError([RowError(header_number, "", "文件中只有表头，没有任免文件数据")])

    codes = {cell_text(r[column["单位"]]) for _, r in body if column["单位"] < len(r)}
    units = dict(db.session.execute(select(Unit.code, Unit.id).where(Unit.code.in_(codes - {""})))
                 .all()) if codes - {""} else {}
    in_scope = set(units.values()) if scope is None else set(db.session.execute(
        select(Unit.id).where(Unit.id.in_(set(units.values())), scope.clause(Unit.id))).scalars())
    errors: list[RowError] = []
    out: list[DocRow] = []
    seen: dict[tuple, int] = {}
    for n, cells in body:
        raw = {h: cells[i] if i < len(cells) else None for h, i in column.items()}
        text = {h: cell_text(v) for h, v in raw.items()}
        errs = []
        for h in REQUIRED_HEADERS:
            if not text.get(h):
                errs.append(RowError(n, h, f"“{h}”不能为空"))
        for h, limit in MAX_LENGTHS.items():
            if len(text.get(h, "")) > limit:
                errs.append(RowError(n, h, f"“{h}”不能超过 {limit} 个字"))
        doc_date = None
        if text.get("日期"):
            try:
                doc_date = parse_date(raw["日期"])
            except ValueError as exc:
                errs.append(RowError(n, "日期", str(exc)))
            else:
                if doc_date > today:
                    errs.append(RowError(n, "日期", f"日期 {doc_date.isoformat()} 晚于今天"))
                elif doc_date.year < 1949:
                    errs.append(RowError(n, "日期", f"日期 {doc_date.isoformat()} 不是有效的发文日期"))
        code = text.get("单位", "")
        if code and code not in units:
            errs.append(RowError(n, "单位", f"单位代码“{code}”不存在"))
        elif code and units[code] not in in_scope:
            errs.append(RowError(n, "单位", f"单位“{code}”不在您的权限范围内"))
        id_no = re.sub(r"\s+", "", text.get("身份证号", "")).upper() or None
        if id_no:
            for message in id_problems(id_no, today):
                errs.append(RowError(n, "身份证号", message))
        doc_no = re.sub(r"\s+", "", text.get("文号", ""))
        name = re.sub(r"\s+", "", text.get("姓名", ""))
        if not errs:
            key = (units[code], normalise_doc_no(doc_no), name)
            if key in seen:
                errs.append(RowError(n, "文号", f"与第 {seen[key]} 行重复（同一单位、文号、姓名）"))
            else:
                seen[key] = n
        if errs:
            errors += errs
            continue
        out.append(DocRow(n, doc_no, doc_date, units[code], code, name, id_no, text["职务"]))
    if errors:
        raise ReconcileError(errors)
    return out


# ---- 2. storing ---------------------------------------------------------------------------------

def import_documents(rows: list[DocRow], user, scope: Scope, *, commit: bool = True
                     ) -> tuple[list[AppointmentDocument], int]:
    """Store the rows (all or none); returns (a document per row, how many were new). A document on
    record already (same unit, 文号 and 姓名) is taken as it is."""
    unit_ids = {r.unit_id for r in rows}
    visible = set(db.session.execute(select(Unit.id).where(Unit.id.in_(unit_ids), scope.clause(Unit.id)))
                  .scalars()) if unit_ids else set()
    errors = [RowError(r.row, "单位", f"单位“{r.unit_code}”不在您的权限范围内") for r in rows if r.unit_id not in visible]
    if errors:
        raise ReconcileError(errors)
    existing = {}
    names = sorted({r.person_name for r in rows})
    for start in range(0, len(names), 500):
        for doc in db.session.execute(select(AppointmentDocument).where(
                AppointmentDocument.unit_id.in_(unit_ids),
                AppointmentDocument.person_name.in_(names[start:start + 500]))).scalars():
            existing[(doc.unit_id, normalise_doc_no(doc.doc_no), doc.person_name)] = doc
    who = _importer_name(user)
    docs, new = [], 0
    with _all_or_nothing("导入时任免文件已被同时修改（可能有另一导入正在进行），未写入任何数据，请重试"):
        for r in rows:
            doc = existing.get((r.unit_id, normalise_doc_no(r.doc_no), r.person_name))
            if doc is None:
                doc = AppointmentDocument(doc_no=r.doc_no, doc_date=r.doc_date, unit_id=r.unit_id,
                                          person_name=r.person_name, id_card_no=r.id_card_no, post=r.post,
                                          status=DOC_UNMATCHED, imported_at=utcnow(), imported_by_name=who)
                db.session.add(doc)
                existing[(r.unit_id, normalise_doc_no(r.doc_no), r.person_name)] = doc
                new += 1
            docs.append(doc)
        db.session.flush()
        if commit:
            db.session.commit()
    return docs, new


# ---- 3. matching --------------------------------------------------------------------------------

def _candidates(docs: list[AppointmentDocument]) -> list:
    """Current cases of the documents' units naming one of their people: rows of
    (case, id_card_no, appointment_doc_no, decision_result, decision_date)."""
    Q, Dm, Ap = MODULE_MODELS["qualification"], MODULE_MODELS["decision"], MODULE_MODELS["appointment"]
    unit_ids = sorted({d.unit_id for d in docs})
    names = sorted({d.person_name for d in docs})
    ids = sorted({d.id_card_no for d in docs if d.id_card_no})
    out = []
    for start in range(0, max(len(names), len(ids), 1), 500):
        part_names, part_ids = names[start:start + 500], ids[start:start + 500]
        if not part_names and not part_ids:
            break
        who = [Case.full_name.in_(part_names)] if part_names else []
        if part_ids:
            who.append(Q.id_card_no.in_(part_ids))
        q = (select(Case, Q.id_card_no, Ap.appointment_doc_no, Dm.decision_result, Batch.decision_date)
             .outerjoin(Q, Q.case_id == Case.id).outerjoin(Dm, Dm.case_id == Case.id)
             .outerjoin(Ap, Ap.case_id == Case.id).outerjoin(Batch, Batch.id == Case.batch_id)
             .where(Case.is_current.is_(True), Case.unit_id.in_(unit_ids), or_(*who)))
        out.extend(db.session.execute(q).all())
    seen, unique = set(), []
    for row in out:
        if row[0].id not in seen:
            seen.add(row[0].id)
            unique.append(row)
    return unique


def find_case(doc: AppointmentDocument, candidates: list) -> Case | None:
    """The case reported for this document, if any (see the module docstring)."""
    mine = []
    for case, id_no, doc_no, result, decided in candidates:
        if case.unit_id != doc.unit_id:
            continue
        if doc.id_card_no:
            same = id_no == doc.id_card_no or (not id_no and case.full_name == doc.person_name)
        else:
            same = case.full_name == doc.person_name
        if same:
            mine.append((case, doc_no, result, decided))
    wanted = normalise_doc_no(doc.doc_no)
    by_number = [c for c, doc_no, _r, _d in mine if doc_no and normalise_doc_no(doc_no) == wanted]
    if by_number:
        return max(by_number, key=lambda c: c.id)
    decided = [(d, c) for c, _n, result, d in mine if result == PASSED and d is not None and d <= doc.doc_date]
    if decided:
        return max(decided, key=lambda x: (x[0], x[1].id))[1]
    return None


def _close(alarm: Alarm, user, reason: str) -> None:
    move(alarm, ALARM_CLOSED, user, reason)


def match(docs: list[AppointmentDocument], user=None) -> tuple[list, list]:
    """Match the documents not matched yet; returns (matched, unmatched) documents. A document already
    matched stays as it is. Writes in the caller's transaction."""
    todo = [d for d in docs if d.status != DOC_MATCHED or d.matched_case_id is None]
    todo_ids = {id(d) for d in todo}
    candidates = _candidates(todo) if todo else []
    matched, unmatched = [], []
    for doc in docs:
        if id(doc) in todo_ids:
            case = find_case(doc, candidates)
            if case is None:
                if doc.status != DOC_UNMATCHED:
                    doc.status = DOC_UNMATCHED
                unmatched.append(doc)
                continue
            doc.status, doc.matched_case_id = DOC_MATCHED, case.id
            # An 应报未报 alarm raised before the case was reported is settled.
            for alarm in db.session.execute(select(Alarm).where(
                    Alarm.dedup_key == f"unreported:{doc.id}", Alarm.status.in_((ALARM_RAISED, ALARM_HALTED)))).scalars():
                _close(alarm, user, f"已匹配到报送的案例 {case.case_no}")
        matched.append(doc)
    db.session.flush()
    return matched, unmatched


def _insert_ignore(table):
    return insert_ignore(table)


def raise_unreported(docs: list[AppointmentDocument]) -> tuple[dict, list]:
    """One 应报未报 alarm per document and one notice per recipient, never twice; returns
    ({document id: alarm id}, new message ids)."""
    if not docs:
        return {}, []
    now = utcnow()
    units = {u.id: u for u in db.session.execute(select(Unit).where(Unit.id.in_({d.unit_id for d in docs}))).scalars()}
    db.session.execute(_insert_ignore(Alarm.__table__), [dict(
        case_id=None, root_id=None, document_id=doc.id, unit_id=doc.unit_id, point="R", codes=UNREPORTED,
        message=(f"应报未报：任免文件 {doc.doc_no}（{doc.doc_date.isoformat()}）任 {doc.person_name} 为 {doc.post}，"
                 f"{units[doc.unit_id].name} 未报送对应的案例"),
        status=ALARM_RAISED, raised_at=now, dedup_key=f"unreported:{doc.id}") for doc in docs])
    alarm_ids = {}
    keys = [f"unreported:{d.id}" for d in docs]
    for start in range(0, len(keys), 500):
        alarm_ids.update(db.session.execute(select(Alarm.document_id, Alarm.id).where(
            Alarm.dedup_key.in_(keys[start:start + 500]))).all())
    by_unit: dict[int, list] = {}
    for unit_id, user_id, _role in routes({d.unit_id for d in docs}):
        by_unit.setdefault(unit_id, []).append(user_id)
    notices = [dict(
        recipient_id=user_id, unit_id=doc.unit_id, kind=KIND_UNREPORTED,
        title=f"应报未报：{doc.person_name}（{doc.doc_no}）"[:200],
        body=(f"任免文件 {doc.doc_no}（{doc.doc_date.isoformat()}）任 {doc.person_name} 为 {doc.post}，"
              f"系统中没有{units[doc.unit_id].name}报送的对应案例。请立即补报，并说明未按时报送的原因。"),
        link=f"/alarms/show/{alarm_ids[doc.id]}" if doc.id in alarm_ids else "/documents/list/", case_id=None,
        dedup_key=f"unreported:{doc.id}", created_at=now,
    ) for doc in docs for user_id in dict.fromkeys(by_unit.get(doc.unit_id, []))]
    message_ids = db.session.execute(_insert_ignore(Message.__table__).returning(Message.__table__.c.id),
                                     notices).scalars().all() if notices else []
    return alarm_ids, message_ids


# ---- 4. decisions with no document ---------------------------------------------------------------

def expected_days() -> int:
    return int(current_app.config.get("JISHI_DOCUMENT_EXPECTED_DAYS", 30))


def missing(scope: Scope, user=None, *, as_of: dt.date | None = None) -> list[dict]:
    """Current cases in scope decided 通过 more than the configured days ago with no 任职文号 and no
    matched document: each flagged with an alarm (once) and listed. Alarms of cases that have a document
    since are closed. Writes in the caller's transaction."""
    as_of = as_of or dt.date.today()
    days = expected_days()
    cutoff = as_of - dt.timedelta(days=days)
    Q, Dm, Ap = MODULE_MODELS["qualification"], MODULE_MODELS["decision"], MODULE_MODELS["appointment"]
    Prior = aliased(Case)
    root = func.coalesce(Case.root_id, Case.id)
    has_doc = exists().where(AppointmentDocument.status == DOC_MATCHED,
                             AppointmentDocument.matched_case_id == Prior.id,
                             func.coalesce(Prior.root_id, Prior.id) == root)
    no_number = or_(Ap.appointment_doc_no.is_(None), Ap.appointment_doc_no == "")
    rows = db.session.execute(
        select(Case, Q.id_card_no, Batch.decision_date, Unit)
        .join(Batch, Batch.id == Case.batch_id).join(Dm, Dm.case_id == Case.id).join(Unit, Unit.id == Case.unit_id)
        .outerjoin(Q, Q.case_id == Case.id).outerjoin(Ap, Ap.case_id == Case.id)
        .where(Case.is_current.is_(True), Dm.decision_result == PASSED, Batch.decision_date < cutoff,
               no_number, ~has_doc, scope.clause(Case.unit_id))
        .order_by(Batch.decision_date, Case.id)).all()
    now = utcnow()
    out = [{"case": case, "id_card_no": id_no, "decision_date": decided, "unit": unit, "days": (as_of - decided).days}
           for case, id_no, decided, unit in rows]
    if out:
        db.session.execute(_insert_ignore(Alarm.__table__), [dict(
            case_id=r["case"].id, root_id=r["case"].root_id or r["case"].id, document_id=None,
            unit_id=r["case"].unit_id, point="D", codes=NO_DOCUMENT,
            message=(f"无任免文件：{r['case'].full_name or r['case'].case_no}（{r['case'].case_no}）于 "
                     f"{r['decision_date'].isoformat()} 经讨论决定通过，已过 {r['days']} 天（规定 {days} 天内），"
                     f"未录入任职文号，也没有对应的任免文件"),
            status=ALARM_RAISED, raised_at=now, dedup_key=f"nodoc:{r['case'].root_id or r['case'].id}") for r in out])
    # Flags that no longer stand: the case has a 任职文号 or a matched document now.
    flagged = {r["case"].root_id or r["case"].id for r in out}
    for alarm in db.session.execute(select(Alarm).where(
            Alarm.codes == NO_DOCUMENT, Alarm.status.in_((ALARM_RAISED, ALARM_HALTED)),
            scope.clause(Alarm.unit_id))).scalars():
        if alarm.root_id not in flagged:
            _close(alarm, user, "已不属于“讨论决定通过后逾期无任免文件”：已录入任职文号、已导入对应的任免文件或决定已变更")
    alarm_ids, keys = {}, [f"nodoc:{r}" for r in flagged]
    for start in range(0, len(keys), 500):
        alarm_ids.update(db.session.execute(select(Alarm.root_id, Alarm.id).where(
            Alarm.dedup_key.in_(keys[start:start + 500]))).all())
    return [{
        "doc_no": None, "doc_date": None, "unit_code": r["unit"].code, "unit_name": r["unit"].name,
        "person_name": r["case"].full_name, "id_card_no": mask_id(r["id_card_no"]), "post": None,
        "case_no": r["case"].case_no, "case_id": r["case"].id, "decision_date": r["decision_date"].isoformat(),
        "days": r["days"], "alarm_id": alarm_ids.get(r["case"].root_id or r["case"].id),
    } for r in out]


# ---- all together ----------------------------------------------------------------------------------

def _entry(doc: AppointmentDocument, units: dict, cases: dict, alarm_id=None) -> dict:
    unit = units.get(doc.unit_id)
    case = cases.get(doc.matched_case_id) if doc.matched_case_id else None
    out = {"document_id": doc.id, "doc_no": doc.doc_no, "doc_date": doc.doc_date.isoformat(),
           "unit_code": unit.code if unit else None, "unit_name": unit.name if unit else None,
           "person_name": doc.person_name, "id_card_no": mask_id(doc.id_card_no), "post": doc.post,
           "status": doc.status, "case_no": case.case_no if case else None, "case_id": case.id if case else None}
    if alarm_id is not None:
        out["alarm_id"] = alarm_id
    return out


def reconcile(file, user=None, *, data: bytes | None = None, scope: Scope | None = None,
              as_of: dt.date | None = None) -> ReconcileResult:
    """Read, store, match, flag — one transaction — then pass the notices on (e-mail, if configured).
    Raises ``ReconcileError`` (nothing written) when any row is wrong. ``user`` None: the command line,
    every unit."""
    scope = scope or (scope_for(user) if user is not None else Scope("all"))
    if scope.kind == "none":
        raise ReconcileError([RowError(0, "", "当前用户没有可管理的单位，不能导入任免文件")])
    rows = read_documents(file, data, today=as_of, scope=scope)
    result = ReconcileResult()
    with _all_or_nothing("导入时数据已被同时修改（可能有另一导入正在进行），未写入任何数据，请重试"):
        docs, result.new = import_documents(rows, user, scope, commit=False)
        result.unchanged = len(docs) - result.new
        matched, unmatched = match(docs, user)
        alarm_ids, result.message_ids = raise_unreported(unmatched)
        result.missing = missing(scope, user, as_of=as_of)
        # The lists are made before the commit expires the documents (else one SELECT per document).
        units = {u.id: u for u in db.session.execute(select(Unit).where(Unit.id.in_({d.unit_id for d in docs}))).scalars()}
        case_ids = {d.matched_case_id for d in matched if d.matched_case_id}
        cases = {c.id: c for c in db.session.execute(select(Case).where(Case.id.in_(case_ids))).scalars()} \
            if case_ids else {}
        result.matched = [_entry(d, units, cases) for d in matched]
        result.unmatched = [_entry(d, units, cases, alarm_ids.get(d.id)) for d in unmatched]
        db.session.commit()
    if result.message_ids:
        try:
            deliver(result.message_ids)
        except Exception:  # noqa: BLE001 - the inbox copies stand; a gateway failure is logged
            log.exception("应报未报通知的外部渠道发送失败")
    return result


def recipients_of(unit_id: int) -> list[dict]:
    """The unit's clerks and its supervising department's supervisors, as they are on record now."""
    rows = routes({unit_id})
    users = {u.id: u for u in db.session.execute(select(AppUser).where(AppUser.id.in_({r[1] for r in rows}))).scalars()} \
        if rows else {}
    out = []
    for _unit, user_id, role in rows:
        user = users.get(user_id)
        if user is None:
            continue
        out.append({"role": "本单位填报员" if role == CLERK_ROLE else "监督部门监督员", "name": display_name(user),
                    "username": user.username, "unit": user.unit.name if getattr(user, "unit", None) else ""})
    return out
