"""Custom rules' conditions at run time: compiled once (the Rust ``cel`` package), evaluated per case in one
``cel.Context`` holding the values the rules read and the functions over the working calendar.

Converting a Python value into a CEL value costs microseconds (most of a custom rule's cost at bench scale),
so a case binds once what every rule about to run reads (``runtime``), and of the history and unit objects
only the fields the conditions name (``fields_of``). A date is bound as its day number (``date.toordinal``):
a CEL timestamp costs about 6 µs to convert, an integer a third of one. The checker keeps dates a type of
their own (never compared with numbers, no arithmetic but through the date functions), so the day numbers
never show. The checks on save are ``app.rules.expression``'s.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

import cel

from app import dates
from app.rules.expression import CONTEXT_VARIABLES, MAX_ADD_DAYS, MAX_WORKDAYS, provided_label, variables
from app.spec import items_by_key


@lru_cache(maxsize=512)
def compiled(text: str):
    """The compiled program of a checked condition (shared by every case)."""
    return cel.compile(text)


def variables_of(text: str) -> frozenset[str]:
    """The variables a condition reads (not the names its list macros bind)."""
    return frozenset(compiled(text).variables()) & frozenset(variables())


MIN_DAY, MAX_DAY = dt.date.min.toordinal(), dt.date.max.toordinal()


def to_cel(value):
    """A stored value as CEL reads it: a date (or a moment's date) as its day number, numbers as numbers."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dt.date):  # a datetime too
        return value.toordinal()
    if isinstance(value, (Decimal, Fraction)):
        return float(value)
    if isinstance(value, dict):
        return {str(k): to_cel(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_cel(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: to_cel(getattr(value, k)) for k in value.__dataclass_fields__ if k != "quotas"}
    return str(value)


def _day(value) -> dt.date | None:
    """A day number back as a date (None for anything else: the function then answers null)."""
    if isinstance(value, int) and not isinstance(value, bool) and MIN_DAY <= value <= MAX_DAY:
        return dt.date.fromordinal(value)
    return None


def _functions(calendar, gaps: list) -> dict:
    """The functions bound for one case. Without its date (or with a count out of range) a function answers
    null and notes why in ``gaps``: a condition that comes out false after such an answer reads as 不适用,
    never as a hit (``null == 2026`` is simply false in CEL). Never an exception: the Rust runtime prints a
    line for each."""
    def gap(reason: str):
        gaps.append(reason)
        return None

    def both(fn):
        def call(a, b):
            x, y = _day(a), _day(b)
            return gap(MISSING_DATE) if x is None or y is None else fn(x, y)
        return call

    def count_ok(n, low, high) -> bool:
        return isinstance(n, int) and not isinstance(n, bool) and low <= n <= high

    def add_workdays(a, n):
        day = _day(a)
        if day is None:
            return gap(MISSING_DATE)
        if not count_ok(n, 0, MAX_WORKDAYS):  # never a walk over the calendar for ever
            return gap(f"add_workdays() 的工作日数应在 0–{MAX_WORKDAYS} 之间")
        return to_cel(calendar.add_working_days(day, n))

    def add_days(a, n):
        if _day(a) is None:
            return gap(MISSING_DATE)
        if not count_ok(n, -MAX_ADD_DAYS, MAX_ADD_DAYS):
            return gap(f"add_days() 的天数应在 ±{MAX_ADD_DAYS} 之间")
        return a + n

    def is_working_day(a):
        day = _day(a)
        return gap(MISSING_DATE) if day is None else calendar.is_working_day(day)

    def part(name):
        def call(a):
            day = _day(a)
            return gap(MISSING_DATE) if day is None else getattr(day, name)
        return call

    def date(text):
        try:
            return to_cel(dt.date.fromisoformat(text))
        except (TypeError, ValueError):
            return gap(f"日期常量“{text}”无效")

    return {"workdays": both(calendar.working_days_between), "days": both(lambda x, y: (y - x).days),
            "months": both(dates.months_between), "years": both(dates.full_years),
            "add_workdays": add_workdays, "add_days": add_days, "is_working_day": is_working_day, "date": date,
            "year": part("year"), "month": part("month"), "day": part("day")}


MISSING_DATE = "日期函数缺少日期"


def runtime(ctx, names: frozenset[str] = frozenset(), fields: frozenset[str] = frozenset()) -> "Runtime":
    """The CEL context of one case, built on first use and kept on the rule context. ``names``: every
    variable the rules about to run read, ``fields``: every field name they may read of the history and
    unit objects — bound at once (each later binding rebuilds the context)."""
    found = getattr(ctx, "_cel_runtime", None)
    if found is None:
        found = Runtime(ctx.calendar)
        ctx._cel_runtime = found
    found.bind(ctx, names, fields)
    return found


_FIELD_RE = re.compile(r"\.\s*([A-Za-z_][A-Za-z0-9_]*)|'([^'\\]*)'|\"([^\"\\]*)\"")


@lru_cache(maxsize=512)
def fields_of(text: str) -> frozenset[str]:
    """The field names a condition may read of an object: every name after a dot and every string
    literal (an index like c['name']). Only these are converted for the runtime: converting a value costs
    about a microsecond, and the history carries twenty fields per case."""
    return frozenset(next(g for g in m.groups() if g is not None) for m in _FIELD_RE.finditer(text))


def item_label(key: str) -> str | None:
    """The Chinese label of an item a condition reads (None for the context variables)."""
    if key in CONTEXT_VARIABLES:
        return None
    spec = items_by_key().get(key)
    if spec is not None:
        return spec.label
    return provided_label(key)


OBJECTS = frozenset({"unit", "target_unit", "person_cases"})  # bound with the fields the conditions read
_NO_FIELDS: frozenset[str] = frozenset()


class Runtime:
    """The CEL context of one case, kept on its rule context (``ctx._cel_runtime``). It holds no reference
    back to the rule context: such a cycle left every evaluated case for the cyclic garbage collector,
    whose passes over a batch's many live objects cost a custom rule set about a third of its time."""

    def __init__(self, calendar):
        self.context = cel.Context()
        self.gaps: list[str] = []  # why a function answered null during the condition being judged
        for name, fn in _functions(calendar, self.gaps).items():
            self.context.add_function(name, fn)
        self.bound: dict[str, frozenset[str]] = {}  # name → the fields bound (of an object)

    @staticmethod
    def value(ctx, name: str, fields: frozenset[str]):
        rel = ctx.related
        if name == "judged_on":
            return to_cel(ctx.judge_date)
        if name == "today":
            return to_cel(ctx.as_of)
        if name in ("unit", "target_unit"):
            unit = getattr(ctx, name)
            return None if unit is None else {f: to_cel(getattr(unit, f)) for f in fields
                                              if f in unit.__dataclass_fields__ and f != "quotas"}
        if name == "person_cases":
            return [{f: to_cel(v) for f, v in case.items() if f in fields} for case in rel.same_person]
        if name in ("parallel_open", "batch_size"):
            return getattr(rel, name)
        return to_cel(ctx[name])

    def bind(self, ctx, names, fields=frozenset()) -> None:
        """Bind the variables not bound yet, and again an object whose bound fields miss some now read."""
        bound, todo = self.bound, {}
        for name in names:
            had = bound.get(name)
            if had is None:
                wanted = fields if name in OBJECTS else _NO_FIELDS
            elif name in OBJECTS and not fields <= had:
                wanted = fields | had
            else:
                continue
            todo[name] = self.value(ctx, name, wanted)
            bound[name] = wanted
        if todo:
            self.context.update(todo)
