"""Custom rules' conditions at run time: compiled once (the Rust ``cel`` package), evaluated per case in one
``cel.Context`` holding the values the rules read and the functions over the working calendar.

Converting a Python value into a CEL value costs microseconds (most of a custom rule's cost at bench scale),
so a case binds once what every rule about to run reads (``runtime``), and of the history and unit objects
only the fields the conditions name (``fields_of``). The checks on save are ``app.rules.expression``'s.
"""
from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_left, bisect_right
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

import cel

from app import dates
from app.rules.expression import CONTEXT_VARIABLES, MAX_WORKDAYS, known_items, variables
from app.spec import items_by_key


@lru_cache(maxsize=512)
def compiled(text: str):
    """The compiled program of a checked condition (shared by every case)."""
    return cel.compile(text)


def variables_of(text: str) -> frozenset[str]:
    """The variables a condition reads (not the names its list macros bind)."""
    return frozenset(compiled(text).variables()) & frozenset(variables())


def to_cel(value):
    """A stored value as CEL reads it: a date as a timestamp at midnight UTC, numbers as numbers."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
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
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def workdays(calendar, start: dt.date, end: dt.date) -> int:
    """``calendar.working_days_between`` without the walk over every day: the weekdays by arithmetic, then
    the calendar's special days in the range (sorted once per calendar) — the same answer, including the
    years it notes as missing."""
    if end < start:
        return 0
    for year in range(start.year, end.year + 1):
        if year not in calendar.known_years:
            calendar.missing_years.add(year)
    total = (end - start).days + 1
    weeks, rest = divmod(total, 7)
    first = start.weekday()
    count = weeks * 5 + sum(1 for i in range(rest) if (first + i) % 7 < 5)
    cached = getattr(calendar, "_sorted_special", None)
    if cached is None or cached[0] != len(calendar.special):
        cached = (len(calendar.special), sorted(calendar.special))
        calendar._sorted_special = cached
    keys = cached[1]
    for day in keys[bisect_left(keys, start):bisect_right(keys, end)]:
        weekday = day.weekday() < 5
        if calendar.special[day] and not weekday:
            count += 1
        elif not calendar.special[day] and weekday:
            count -= 1
    return count


def _functions(calendar) -> dict:
    """The functions bound for one case. A missing date gives null (the rule then reads as 不适用), never
    an exception: the Rust runtime would print a Python traceback for each."""
    def both(fn):
        def call(a, b):
            x, y = _day(a), _day(b)
            return None if x is None or y is None else fn(x, y)
        return call

    def add_workdays(a, n):
        day = _day(a)
        if day is None or not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_WORKDAYS:
            return None  # a count out of range reads as 不适用 instead of walking the calendar for ever
        return to_cel(calendar.add_working_days(day, n))

    def is_working_day(a):
        day = _day(a)
        return None if day is None else calendar.is_working_day(day)

    def date(text):
        try:
            return to_cel(dt.date.fromisoformat(text))
        except (TypeError, ValueError):
            return None

    return {"workdays": both(lambda x, y: workdays(calendar, x, y)), "days": both(lambda x, y: (y - x).days),
            "months": both(dates.months_between), "years": both(dates.full_years),
            "add_workdays": add_workdays, "is_working_day": is_working_day, "date": date}


def runtime(ctx, names: frozenset[str] = frozenset(), fields: frozenset[str] = frozenset()) -> "Runtime":
    """The CEL context of one case, built on first use and kept on the rule context. ``names``: every
    variable the rules about to run read, ``fields``: every field name they may read of the history and
    unit objects — bound at once (each later binding rebuilds the context)."""
    found = getattr(ctx, "_cel_runtime", None)
    if found is None:
        found = Runtime(ctx)
        ctx._cel_runtime = found
    found.bind(names, fields)
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
    found = known_items().get(key)
    return found[1] if found else None


class Runtime:
    def __init__(self, ctx):
        self.ctx = ctx
        self.context = cel.Context()
        for name, fn in _functions(ctx.calendar).items():
            self.context.add_function(name, fn)
        self.bound: dict[str, frozenset[str]] = {}  # name → the fields bound (of an object)

    def value(self, name: str, fields: frozenset[str]):
        ctx, rel = self.ctx, self.ctx.related
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

    def bind(self, names, fields=frozenset()) -> None:
        """Bind the variables not bound yet, and again an object whose bound fields miss some now read."""
        objects = ("unit", "target_unit", "person_cases")
        todo = {n for n in names if n not in self.bound or (n in objects and not fields <= self.bound[n])}
        if todo:
            self.context.update({n: self.value(n, fields | self.bound.get(n, frozenset())) for n in todo})
            for n in todo:
                self.bound[n] = fields | self.bound.get(n, frozenset())

    def run(self, text: str, names: frozenset[str]):
        self.bind(names, fields_of(text))
        return compiled(text).execute(self.context)
