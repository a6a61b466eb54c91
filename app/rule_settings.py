"""The inputs in force that the rule engine and the deadlines read: the versioned rule settings
and the working-day calendar (the package's holidays plus what admins entered).

A case is judged by the settings in force on its decision date (before a decision, its motion
date): unit over region over general, then the latest version.
"""
from __future__ import annotations

import datetime as dt
from fractions import Fraction

from sqlalchemy import case as sa_case
from sqlalchemy import func, or_, select

from app.dates import WorkCalendar, default_calendar, holiday_name, package_days, package_years
from app.errors import JishiError
from app.extensions import db
from app.models import Unit
from app.models.custom_rules import CUSTOM_DISABLED, CUSTOM_ENABLED, CustomRuleVersion
from app.models.rules import CalendarDay, CalendarYear, RuleSetting
from app.rules.catalog import all_rules
from app.rules.custom import CustomRule
from app.rules.registry import Rule
from app.spec.rule_params import param, value_problem


def seed_calendar() -> int:
    """Copy the package's holidays and 调休 days into the editable table, for the years not there yet."""
    known = set(db.session.execute(select(CalendarYear.year)).scalars())
    existing = set(db.session.execute(select(CalendarDay.day)).scalars())
    added = 0
    for year in sorted(package_years() - known):
        for day, working in sorted(package_days(year).items()):
            if day not in existing:
                db.session.add(CalendarDay(day=day, working=working, source="package",
                                           name=holiday_name(day, working)))
                added += 1
        db.session.add(CalendarYear(year=year, source="package"))
    db.session.commit()
    return added


_CALENDAR_CACHE: dict = {}


def load_calendar() -> WorkCalendar:
    """The package calendar plus what admins entered (their rows win).

    Every save evaluates rules, so the table (hundreds of rows) is read again only when it has
    changed: one small fingerprint query per evaluation instead of the whole table."""
    # (the sum of the working days' ids: an admin turning a day into a working day or back is a change too)
    fingerprint = db.session.execute(
        select(func.count(CalendarDay.id), func.max(CalendarDay.id),
               func.sum(sa_case((CalendarDay.working.is_(True), CalendarDay.id), else_=0)),
               select(func.count(CalendarYear.year)).scalar_subquery())
    ).one()
    fingerprint = (db.engine.url.render_as_string(), *fingerprint)
    cached = _CALENDAR_CACHE.get("calendar")
    if cached is None or cached[0] != fingerprint:
        cal = default_calendar()
        for day, working in db.session.execute(select(CalendarDay.day, CalendarDay.working)).all():
            cal.special[day] = working
        cal.known_years |= set(db.session.execute(select(CalendarYear.year)).scalars())
        cached = (fingerprint, cal)
        _CALENDAR_CACHE["calendar"] = cached
    base = cached[1]
    return WorkCalendar(dict(base.special), set(base.known_years))  # missing years are tracked per call


def settings_for(unit: Unit | None, judged_on: dt.date) -> dict[str, RuleSetting]:
    """The setting in force per rule on that date: unit over region over general."""
    rows = db.session.execute(
        select(RuleSetting).where(RuleSetting.effective_from <= judged_on)
        .where(or_(RuleSetting.unit_id.is_(None), RuleSetting.unit_id == (unit.id if unit else -1)))
        .where(or_(RuleSetting.region_code.is_(None),
                   RuleSetting.region_code == (unit.region_code if unit and unit.region_code else "")))
        .order_by(RuleSetting.effective_from, RuleSetting.id)
    ).scalars().all()
    def specificity(row):
        return 2 if row.unit_id else (1 if row.region_code else 0)

    best: dict[str, RuleSetting] = {}
    for row in sorted(rows, key=lambda r: (specificity(r), r.effective_from, r.id)):
        best[row.code] = row  # the most specific, then the latest version, wins
    return best


def effective_params(rule: Rule, setting: RuleSetting | None) -> dict:
    """The catalogue defaults overlaid with a stored version, each value in its default's type."""
    if setting is None or not setting.params:
        return rule.params
    params = dict(rule.params)
    for key, value in setting.params.items():
        default = rule.params.get(key)
        if isinstance(default, Fraction):
            value = Fraction(str(value))
        params[key] = value
    return params


def setting_problems(setting: RuleSetting) -> list[str]:
    """What is wrong with a setting against its rule's parameters, [] when nothing. app.integrity
    runs it on every flush, the settings form first (the model cannot: models do not import rules)."""
    rule = all_rules().get(setting.code)
    if rule is None:
        return [f"规则编号“{setting.code}”不存在"]
    errors = []
    params = setting.params or {}
    if not isinstance(params, dict):
        return ["参数应为 JSON 对象"]
    for key, value in params.items():
        if key not in rule.params:
            errors.append(f"规则 {setting.code} 没有参数“{key}”")
            continue
        meta = param(setting.code, key)
        problem = value_problem(meta, value, rule.params[key]) if meta else None
        if problem:
            errors.append(f"规则 {setting.code}：{problem}")
    if (setting.region_code or setting.unit_id) and not rule.local:
        errors.append(f"规则 {setting.code} 不是地方性规则（可由地方设定的规则），不能按地区或单位单独设置")
    return errors


class SettingRefused(JishiError):
    """A new parameter version that cannot be stored; ``problems`` say why, in Chinese."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("；".join(self.problems))


def add_version(code: str, effective_from: dt.date, *, enabled: bool, params: dict, note: str | None = None,
                region_code: str | None = None, unit_id: int | None = None) -> RuleSetting:
    """Store a new version of a rule's settings, in force from ``effective_from`` (one transaction;
    earlier cases keep the version they were judged by). Only the parameters that differ from the
    catalogue's defaults are stored."""
    rule = all_rules().get(code)
    if rule is None:
        raise SettingRefused([f"规则编号“{code}”不存在"])
    stored = {k: v for k, v in params.items() if k in rule.params and v != _plain(rule.params[k])}
    row = RuleSetting(code=code, effective_from=effective_from, enabled=enabled, params=stored,
                      note=(note or "").strip()[:200] or None, region_code=region_code or None, unit_id=unit_id)
    problems = setting_problems(row)
    if problems:
        raise SettingRefused(problems)
    try:
        db.session.add(row)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return row


def _plain(value):
    """A default as JSON stores it (a Fraction as "2/3", a tuple as a list), to compare with a typed value."""
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, tuple):
        return list(value)
    return value


# ---- custom rules (自定义规则) -------------------------------------------------------------------------

def custom_rule(row: CustomRuleVersion) -> CustomRule:
    """The engine's view of one stored version."""
    return CustomRule(code=row.code, version_no=row.version_no, title=row.title, category=row.category,
                      severity=row.severity, points=frozenset(p for p in (row.points or "").split(",") if p),
                      basis=row.basis, expression=row.expression, effective_from=row.effective_from,
                      version_id=row.id, region_code=row.region_code or None,
                      unit_path=row.unit.path if row.unit is not None else None,
                      grades=tuple(row.grades or ()), selection_types=tuple(row.selection_types or ()))


# By version id: a rule keeps its compiled program and reads across evaluations. Versions are few (an
# admin writes them), but one process may serve several databases (tests, benches): bounded all the same.
_CUSTOM_CACHE: dict[int, CustomRule] = {}
CUSTOM_CACHE_SIZE = 1024


def _fingerprint(rule: CustomRule) -> tuple:
    return (rule.code, rule.version_no, rule.expression, rule.effective_from, rule.severity, rule.title, rule.basis,
            rule.points, rule.region_code, rule.unit_path, rule.grades, rule.selection_types, rule.category)


def enabled_versions(judged_on: dt.date | None = None) -> dict[str, CustomRuleVersion]:
    """code → the approved version in force on ``judged_on`` (None: the last one to come into force,
    today's or a future one), for the codes that are enabled then. Per code that is the latest approved
    version effective by then (by effective date, then version number) — unless a 停用 approved after it
    is already effective: a 停用 from a date stops every earlier version from that date on, one effective
    only later included. Drafts never count."""
    q = select(CustomRuleVersion).where(CustomRuleVersion.status.in_((CUSTOM_ENABLED, CUSTOM_DISABLED)))
    if judged_on is not None:
        q = q.where(CustomRuleVersion.effective_from <= judged_on)
    latest: dict[str, CustomRuleVersion] = {}
    stopped: dict[str, int] = {}  # code → the highest version number of an effective 停用
    for row in db.session.execute(q.order_by(CustomRuleVersion.code, CustomRuleVersion.effective_from,
                                             CustomRuleVersion.version_no)).scalars():
        latest[row.code] = row
        if row.status == CUSTOM_DISABLED:
            stopped[row.code] = max(stopped.get(row.code, 0), row.version_no)
    return {code: row for code, row in sorted(latest.items())
            if row.status == CUSTOM_ENABLED and stopped.get(code, 0) < row.version_no}


def custom_rules_in_force(judged_on: dt.date) -> list[CustomRule]:
    """The custom rules in force on that date (``enabled_versions``), sorted by code."""
    out = []
    for row in enabled_versions(judged_on).values():
        rule = _CUSTOM_CACHE.get(row.id)
        if rule is None or _fingerprint(rule) != _fingerprint(custom_rule(row)):
            if len(_CUSTOM_CACHE) >= CUSTOM_CACHE_SIZE:
                _CUSTOM_CACHE.clear()
            rule = _CUSTOM_CACHE[row.id] = custom_rule(row)
        out.append(rule)
    return out


def rules_by_code() -> dict:
    """Every rule a stored evaluation may name: the catalogue and each custom rule's latest approved
    version (for titles, categories and what they read in lists, notices and statistics)."""
    rows = db.session.execute(
        select(CustomRuleVersion).where(CustomRuleVersion.status.in_((CUSTOM_ENABLED, CUSTOM_DISABLED)))
        .order_by(CustomRuleVersion.code, CustomRuleVersion.version_no)).scalars().all()
    out = dict(all_rules())
    for row in rows:
        out[row.code] = custom_rule(row)
    return out
