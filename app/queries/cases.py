"""条件查询: a filter over current case versions, compiled to one SELECT, always inside a scope."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, field, fields

from sqlalchemy import and_, exists, false, func, or_, select, text
from sqlalchemy import case as sa_case
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import MODULE_MODELS, Alarm, Batch, Case, CaseDeadline, CustomValue, RuleEvaluation, Unit
from app.scoping import Scope

QUAL = MODULE_MODELS["qualification"]
MOTION = MODULE_MODELS["motion"]
RECO = MODULE_MODELS["recommendation"]
INSP = MODULE_MODELS["inspection"]
CONS = MODULE_MODELS["consultation"]
DECI = MODULE_MODELS["decision"]
PUB = MODULE_MODELS["publicity"]
APPT = MODULE_MODELS["appointment"]
SUBM = MODULE_MODELS["submission"]
D1 = aliased(CaseDeadline, name="d1")
D2 = aliased(CaseDeadline, name="d2")

# Per case (root), what its alarms say — a small aggregate joined once instead of a subquery per row.
ALARM_AGG = (
    select(Alarm.root_id.label("root_id"),
           func.max(sa_case((Alarm.status == "已叫停", 1), else_=0)).label("halted"),
           func.min(sa_case((Alarm.status == "已叫停", Alarm.correction_deadline), else_=None)).label("halted_due"),
           func.max(sa_case((Alarm.status == "已整改", 1),
                            (and_(Alarm.status == "已关闭", Alarm.correction_deadline.is_not(None)), 1),
                            else_=0)).label("corrected"))
    .group_by(Alarm.root_id).subquery("alarm_agg")
)

# Joins a query may need, by name; a statistics table joins only what its columns read.
JOINS = {
    "batch": (Batch, lambda: Case.batch_id == Batch.id),
    "qual": (QUAL, lambda: QUAL.case_id == Case.id),
    "motion": (MOTION, lambda: MOTION.case_id == Case.id),
    "reco": (RECO, lambda: RECO.case_id == Case.id),
    "insp": (INSP, lambda: INSP.case_id == Case.id),
    "cons": (CONS, lambda: CONS.case_id == Case.id),
    "deci": (DECI, lambda: DECI.case_id == Case.id),
    "pub": (PUB, lambda: PUB.case_id == Case.id),
    "appt": (APPT, lambda: APPT.case_id == Case.id),
    "subm": (SUBM, lambda: SUBM.case_id == Case.id),
    "d1": (D1, lambda: and_(D1.root_id == Case.root_id, D1.node == 1)),
    "d2": (D2, lambda: and_(D2.root_id == Case.root_id, D2.node == 2)),
    "alarms": (ALARM_AGG, lambda: ALARM_AGG.c.root_id == Case.root_id),
}
JOIN_ORDER = tuple(JOINS)

AGE_BANDS = {"35岁及以下": (None, 35), "36-40岁": (36, 40), "41-45岁": (41, 45), "46-50岁": (46, 50),
             "51-55岁": (51, 55), "56岁及以上": (56, None)}
EDU_GROUPS = ("研究生", "大学本科", "专科及以下")
PARTY = ("中共党员", "中共预备党员")
TIMELINESS = ("未到期", "按时", "逾期", "未报")


def dialect() -> str:
    return db.engine.dialect.name


# PostgreSQL settings for reporting statements (statistics, exports), for their transaction only: no JIT (it spent
# seconds compiling fifty aggregates to save less), and a plan for the actual values each time (the
# driver prepares a statement run five times on a connection; a generic plan, blind to the period
# and the id range, reads every row), and room to hash a year's cases by unit in memory.
REPORTING_SETTINGS = {"jit": "off", "plan_cache_mode": "force_custom_plan", "work_mem": "64MB"}


def reporting_settings(executor) -> None:
    """REPORTING_SETTINGS for the rest of the current transaction of ``executor`` (the session, or a
    connection of its own)."""
    if dialect() == "postgresql":
        executor.execute(text("SELECT " + ", ".join(f"set_config('{n}', '{v}', true)"
                                                    for n, v in REPORTING_SETTINGS.items())))


@contextmanager
def reporting():
    """Apply REPORTING_SETTINGS to the session inside, and put the previous values back after."""
    if dialect() != "postgresql":
        yield
        return
    names = list(REPORTING_SETTINGS)
    before = db.session.execute(text("SELECT " + ", ".join(f"current_setting('{n}')" for n in names))).one()
    reporting_settings(db.session)
    yield
    # Not reached when a statement failed: the transaction is rolled back, and the settings with it.
    db.session.execute(text("SELECT " + ", ".join(f"set_config('{n}', :v{i}, true)" for i, n in enumerate(names))),
                       {f"v{i}": value for i, value in enumerate(before)})


def _year(d):
    return func.extract("year", d) if dialect() == "postgresql" else func.cast(func.strftime("%Y", d), db.Integer)


def _month_day(d):
    return func.to_char(d, "MM-DD") if dialect() == "postgresql" else func.strftime("%m-%d", d)


def age_at(birth, on):
    """Whole years from ``birth`` to ``on``, the same on PostgreSQL and SQLite."""
    return _year(on) - _year(birth) - sa_case((_month_day(on) < _month_day(birth), 1), else_=0)


def period_key(d, by: str):
    """'2026-03' (month), '2026-Q1' (quarter) or '2026' (year) of a date, in SQL."""
    if dialect() == "postgresql":
        if by == "month":
            return func.to_char(d, "YYYY-MM")
        if by == "quarter":
            return func.to_char(d, 'YYYY-"Q"Q')
        return func.to_char(d, "YYYY")
    if by == "month":
        return func.strftime("%Y-%m", d)
    if by == "quarter":
        month = func.cast(func.strftime("%m", d), db.Integer)
        return func.strftime("%Y", d) + "-Q" + func.cast((month + 2) // 3, db.String)
    return func.strftime("%Y", d)


def highest_education():
    """研究生 / 大学本科 / 专科及以下 from the full-time and in-service education (spec: max of the two)."""
    both = (QUAL.full_time_education, QUAL.part_time_education)
    return sa_case(
        (or_(*(c == "研究生" for c in both)), "研究生"),
        (or_(*(c == "大学本科" for c in both)), "大学本科"),
        (QUAL.full_time_education.is_(None), None),
        else_="专科及以下",
    )


def age_band_condition(band: str):
    lo, hi = AGE_BANDS[band]
    age = age_at(QUAL.birth_date, Batch.decision_date)
    conds = [QUAL.birth_date.is_not(None), Batch.decision_date.is_not(None)]
    if lo is not None:
        conds.append(age >= lo)
    if hi is not None:
        conds.append(age <= hi)
    return and_(*conds)


# The typed column of custom_value (app/models/custom_item.py) each kind of custom item is stored in.
CUSTOM_COLUMNS = {"text": CustomValue.value_text, "enum": CustomValue.value_text, "int": CustomValue.value_num,
                  "bool": CustomValue.value_num, "date": CustomValue.value_date}


@dataclass(frozen=True)
class CustomCondition:
    """A filter on a custom item (自定义数据项): its value equals ``value`` (already typed; bool as 1/0), or
    for a number or a date lies between ``low`` and ``high`` (either may be None: no bound on that side)."""

    key: str
    item_id: int
    kind: str
    value: object = None
    low: object = None
    high: object = None

    @property
    def is_range(self) -> bool:
        return self.value is None

    def text(self) -> str:
        """The condition as the query form writes it (``cv``): 是/否, a value, or 起~止."""
        def shown(v) -> str:
            return "" if v is None else v.isoformat() if isinstance(v, dt.date) else str(v)

        if self.is_range:
            return f"{shown(self.low)}~{shown(self.high)}"
        if self.kind == "bool":
            return "是" if self.value else "否"
        return shown(self.value)

    def clause(self):
        """An index range on (item_id, value_*) (ix_custom_value_*), not a scan of the values."""
        column = CUSTOM_COLUMNS[self.kind]
        if self.is_range:
            conds = [CustomValue.item_id == self.item_id, column.is_not(None)]
            if self.low is not None:
                conds.append(column >= self.low)
            if self.high is not None:
                conds.append(column <= self.high)
        else:
            conds = [CustomValue.item_id == self.item_id,
                     column == (int(self.value) if self.kind == "bool" else self.value)]
        return Case.id.in_(select(CustomValue.case_id).where(*conds))


LIST_FIELDS = {"target_grade", "selection_type", "selection_method", "status", "light", "timeliness"}


@dataclass
class CaseFilter:
    """What a 条件查询 asks. Empty fields do not filter. Lists mean "any of"."""

    unit_id: int | None = None
    subtree: bool = True
    basis: str = "decision"  # decision / appointment: which date the period is on
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    target_grade: list = field(default_factory=list)
    selection_type: list = field(default_factory=list)
    selection_method: list = field(default_factory=list)
    status: list = field(default_factory=list)
    light: list = field(default_factory=list)
    rule_code: str | None = None
    timeliness: list = field(default_factory=list)  # node 1: 未到期 / 按时 / 逾期 / 未报
    name: str | None = None
    id_card_no: str | None = None
    sex: str | None = None
    ethnicity: str | None = None  # a 民族, or "少数民族"
    political_status: str | None = None  # a value, or "党外"
    age_band: str | None = None
    education: str | None = None  # 研究生 / 大学本科 / 专科及以下
    custom: CustomCondition | None = None  # one custom item's value (parameters ci = key, cv = value)

    def as_dict(self) -> dict:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value in (None, [], ""):
                continue
            if f.name == "custom":
                out["ci"], out["cv"] = value.key, value.text()
                continue
            out[f.name] = value.isoformat() if isinstance(value, dt.date) else value
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "CaseFilter":
        kwargs = {}
        names = {f.name: f for f in fields(cls)}
        for key, value in data.items():
            if key not in names or key == "custom" or value in (None, ""):
                continue  # a custom condition is read by reporting.exports.parse_filter (it needs the definitions)
            if key in ("date_from", "date_to") and isinstance(value, str):
                value = dt.date.fromisoformat(value)
            if key == "unit_id":
                value = int(value)
            if key == "subtree" and isinstance(value, str):
                value = value not in ("0", "false", "False", "")
            if key in LIST_FIELDS and not isinstance(value, list):
                value = [value]
            kwargs[key] = value
        return cls(**kwargs)

    def needs(self) -> set[str]:
        n = {"batch"}
        if self.basis == "appointment":
            n.add("appt")
        if self.target_grade or self.selection_type or self.selection_method:
            n.add("motion")
        if any((self.name, self.id_card_no, self.sex, self.ethnicity, self.political_status, self.age_band,
                self.education)):
            n.add("qual")
        if self.timeliness:
            n.add("d1")
        return n


def date_column(basis: str):
    return APPT.appointment_doc_date if basis == "appointment" else Batch.decision_date


def unit_conditions(f: CaseFilter, scope: Scope, column) -> list:
    """The scope and the filter's unit (or its subtree) as conditions on a unit id column. A unit
    inside a subtree scope needs no scope condition of its own: one subquery over the units fewer
    (a supervisor's yearly statistics at the tree's root read each fact row against both)."""
    conds = [scope.clause(column)]
    if f.unit_id is not None:
        unit = db.session.get(Unit, f.unit_id)
        if unit is None:
            conds.append(false())
        else:
            if scope.kind == "subtree" and unit.path.startswith(scope.path):
                conds = []
            conds.append(Scope("subtree", unit.id, unit.path).clause(column) if f.subtree else column == unit.id)
    return conds


def conditions(f: CaseFilter, scope: Scope) -> list:
    """WHERE conditions of a filter (the joins it needs are given by ``f.needs()``)."""
    conds = [Case.is_current.is_(True), *unit_conditions(f, scope, Case.unit_id)]
    when = date_column(f.basis)
    if f.date_from:
        conds.append(when >= f.date_from)
    if f.date_to:
        conds.append(when <= f.date_to)
    for attr, col in (("target_grade", MOTION.target_grade), ("selection_type", MOTION.selection_type),
                      ("selection_method", MOTION.selection_method), ("status", Case.status),
                      ("light", Case.light)):
        values = getattr(f, attr)
        if values:
            conds.append(col.in_(values))
    if f.timeliness:
        conds.append(D1.status.in_(f.timeliness))
    if f.rule_code:
        conds.append(exists().where(RuleEvaluation.case_id == Case.id, RuleEvaluation.rule_code == f.rule_code,
                                    RuleEvaluation.outcome == "fail"))
    if f.name:
        conds.append(Case.full_name.contains(f.name.strip(), autoescape=True))
    if f.id_card_no:
        conds.append(QUAL.id_card_no == f.id_card_no.strip().upper())
    if f.sex:
        conds.append(QUAL.sex == f.sex)
    if f.ethnicity == "少数民族":
        conds.append(and_(QUAL.ethnicity.is_not(None), QUAL.ethnicity != "汉族"))
    elif f.ethnicity:
        conds.append(QUAL.ethnicity == f.ethnicity)
    if f.political_status == "党外":
        conds.append(and_(QUAL.political_status.is_not(None), QUAL.political_status.not_in(PARTY)))
    elif f.political_status:
        conds.append(QUAL.political_status == f.political_status)
    if f.age_band:
        conds.append(age_band_condition(f.age_band))
    if f.education:
        conds.append(highest_education() == f.education)
    if f.custom is not None:
        conds.append(f.custom.clause())
    return conds


def joined(stmt, needs: set[str]):
    """Outer-join the named tables, in a fixed order, onto a statement selecting from Case."""
    for name in JOIN_ORDER:
        if name in needs:
            target, on = JOINS[name]
            stmt = stmt.outerjoin(target, on())
    return stmt


def case_select(f: CaseFilter, scope: Scope, *, extra_conditions=(), extra_needs=(), columns=None):
    """SELECT the matching current cases (``columns`` default to Case)."""
    needs = f.needs() | set(extra_needs)
    stmt = select(*(columns or [Case])).select_from(Case)
    return joined(stmt, needs).where(*conditions(f, scope), *extra_conditions)


def count(f: CaseFilter, scope: Scope, extra_conditions=(), extra_needs=()) -> int:
    stmt = case_select(f, scope, extra_conditions=extra_conditions, extra_needs=extra_needs,
                       columns=[func.count(Case.id)])
    return db.session.execute(stmt).scalar() or 0


LIST_COLUMNS = (Case.id, Case.case_no, Case.full_name, Case.status, Case.light, Case.version_no, Case.unit_id)


def page(f: CaseFilter, scope: Scope, *, offset=0, limit=50, extra_conditions=(), extra_needs=()):
    """One page of matching cases with what a result list shows, in one statement."""
    cols = [*LIST_COLUMNS, Unit.name.label("unit_name"), Batch.decision_date, MOTION.selection_type,
            MOTION.target_grade, MOTION.target_post, QUAL.sex, QUAL.birth_date]
    stmt = case_select(f, scope, extra_conditions=extra_conditions,
                       extra_needs=set(extra_needs) | {"motion", "qual", "batch"}, columns=cols)
    stmt = stmt.join(Unit, Unit.id == Case.unit_id).order_by(Batch.decision_date.desc().nullslast(), Case.id.desc())
    return db.session.execute(stmt.offset(offset).limit(limit)).all()
