"""Dates: months, periods and working days — the one place the app does calendar arithmetic.

Below the rules and everything else (it imports nothing from ``app``). Three parts:

* months: ``add_months`` (same day, clamped to the month's end), ``months_between``, ``full_years``;
* periods: months, quarters and years as (first day, last day), the period before one, their labels,
  and the keys ('2026-03', '2026-Q1', '2026') statistics group by;
* working days: statutory holidays and 调休 working weekends. The table comes from the
  ``chinese-calendar`` package (2004 up to the last year it knows) and from the holiday table admins
  edit for later years. A year neither knows is *missing*: counting in it falls back to Monday–Friday
  and records the year in ``missing_years`` so that the engine raises a yellow data warning instead
  of counting silently.
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

import chinese_calendar

CN_DIGITS = "一二三四五六七八九十"


# ---- months ---------------------------------------------------------------------------------------

def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (earlier if negative); the 29th–31st fall back to the month's last day."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, d))
        except ValueError:
            continue
    raise ValueError(day)


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from ``start`` to ``end``."""
    return (end.year - start.year) * 12 + end.month - start.month - (1 if end.day < start.day else 0)


def full_years(start: dt.date, end: dt.date) -> int:
    """Whole years from ``start`` to ``end`` (an age, a tenure)."""
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


def month_start(day: dt.date, months: int = 0) -> dt.date:
    """The first day of the month ``months`` after (before, if negative) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_keys(start: dt.date, end: dt.date, limit: int) -> list[str]:
    """'YYYY-MM' of every month from ``start``'s to ``end``'s, at most ``limit`` of them."""
    out, day = [], month_start(start)
    while day <= end and len(out) < limit:
        out.append(f"{day.year:04d}-{day.month:02d}")
        day = month_start(day, 1)
    return out


# ---- periods: (first day, last day) ------------------------------------------------------------------

def month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    start = month_start(day)
    return start, month_start(start, 1) - dt.timedelta(days=1)


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_of(day: dt.date) -> tuple[dt.date, dt.date]:
    start = quarter_start(day)
    return start, month_start(start, 3) - dt.timedelta(days=1)


def year_of(day: dt.date) -> tuple[dt.date, dt.date]:
    return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)


def last_quarter(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last complete quarter before ``today``'s."""
    return quarter_of(quarter_start(today) - dt.timedelta(days=1))


def last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last complete month before ``today``'s."""
    return month_of(month_start(today) - dt.timedelta(days=1))


def whole_months(f: dt.date, t: dt.date) -> int | None:
    """The number of calendar months the period covers exactly, or None."""
    if f.day != 1 or (t + dt.timedelta(days=1)).day != 1 or t < f:
        return None
    return (t.year - f.year) * 12 + t.month - f.month + 1


def previous_period(f: dt.date, t: dt.date) -> tuple[dt.date, dt.date]:
    """The period before, of equal length: the previous calendar month / quarter / year when the period
    is whole months, else the same number of days."""
    months = whole_months(f, t)
    if months:
        return month_start(f, -months), f - dt.timedelta(days=1)
    length = (t - f).days
    to = f - dt.timedelta(days=1)
    return to - dt.timedelta(days=length), to


def period_label(f: dt.date, t: dt.date) -> str:
    """'2026年度', '2026年上半年', '2026年第一季度', '2026年3月' or '2026年1月5日至2026年2月1日' (公文 prose)."""
    months = whole_months(f, t)
    if months == 12 and f.month == 1:
        return f"{f.year}年度"
    if months == 6 and f.month in (1, 7):
        return f"{f.year}年{'上' if f.month == 1 else '下'}半年"
    if months == 3 and f.month in (1, 4, 7, 10):
        return f"{f.year}年第{CN_DIGITS[(f.month - 1) // 3]}季度"
    if months == 1:
        return f"{f.year}年{f.month}月"
    return f"{official_date(f)}至{official_date(t)}"


def period_bounds(key: str, by: str) -> tuple[dt.date, dt.date]:
    """(first, last day) of a statistics period key: '2026-03' (month), '2026-Q1' (quarter), '2026' (year)."""
    if by == "month":
        y, m = map(int, key.split("-"))
        return month_of(dt.date(y, m, 1))
    if by == "quarter":
        y, q = int(key[:4]), int(key[-1])
        return quarter_of(dt.date(y, 3 * q - 2, 1))
    return year_of(dt.date(int(key), 1, 1))


# ---- working days ----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def package_years() -> frozenset[int]:
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return frozenset(years)


def package_days(year: int) -> dict[dt.date, bool]:
    """{date: is_working_day} for the days that differ from Monday–Friday in that year."""
    out = {}
    for day, _name in chinese_calendar.holidays.items():
        if day.year == year and day.weekday() < 5:
            out[day] = False
    for day, _name in chinese_calendar.workdays.items():
        if day.year == year and day.weekday() >= 5:
            out[day] = True
    return out


def holiday_name(day: dt.date, working: bool) -> str:
    """The name of a day of ``package_days``: its holiday (春节, 国庆节 …), or that holiday's 调休 working day."""
    english = (chinese_calendar.workdays if working else chinese_calendar.holidays).get(day)
    chinese = next((h.chinese for h in chinese_calendar.Holiday if h.value == english), None)
    if not chinese:
        return "调休上班" if working else "法定节假日"
    return f"{chinese}调休上班" if working else chinese


@dataclass
class WorkCalendar:
    """``special`` maps a date to True (working, e.g. a 调休 Saturday) or False (holiday)."""

    special: dict = field(default_factory=dict)
    known_years: set = field(default_factory=set)
    missing_years: set = field(default_factory=set)

    @classmethod
    def from_package(cls, extra: dict | None = None, extra_years=()) -> "WorkCalendar":
        special, years = {}, set(package_years()) | set(extra_years)
        for year in package_years():
            special.update(package_days(year))
        special.update(extra or {})
        return cls(special, years)

    def is_working_day(self, day: dt.date) -> bool:
        if day.year not in self.known_years:
            self.missing_years.add(day.year)
        if day in self.special:
            return self.special[day]
        return day.weekday() < 5

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days from start to end, both included (0 when end < start). By arithmetic rather than a
        walk over every day: the weekdays of the span, corrected by the special days inside it (found by
        bisection in the sorted special days). The years of the span not known are noted as missing."""
        if end < start:
            return 0
        for year in range(start.year, end.year + 1):
            if year not in self.known_years:
                self.missing_years.add(year)
        total = (end - start).days + 1
        weeks, rest = divmod(total, 7)
        first = start.weekday()
        count = weeks * 5 + sum(1 for i in range(rest) if (first + i) % 7 < 5)
        keys = self._sorted_special()
        special = self.special
        for day in keys[bisect_left(keys, start):bisect_right(keys, end)]:
            weekday = day.weekday() < 5
            if special[day] and not weekday:
                count += 1
            elif not special[day] and weekday:
                count -= 1
        return count

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after start (start itself not counted; start when n ≤ 0). A week holds five
        weekdays: jump ``n // 5`` weeks, count the working days jumped over, then step to the exact day."""
        if n <= 0:
            return start
        day = start + dt.timedelta(days=(n // 5) * 7)
        count = self.working_days_between(start + dt.timedelta(days=1), day)
        while count < n:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        while count > n or not self.is_working_day(day):  # holidays can make the jump overshoot: step back
            count -= self.is_working_day(day)
            day -= dt.timedelta(days=1)
        return day

    def _sorted_special(self) -> list:
        """The special days, sorted; sorted again when rows were added (callers add the admins' rows)."""
        cached = self.__dict__.get("_sorted")
        if cached is None or cached[0] != len(self.special):
            cached = (len(self.special), sorted(self.special))
            self.__dict__["_sorted"] = cached
        return cached[1]


@lru_cache(maxsize=1)
def _package_calendar() -> WorkCalendar:
    return WorkCalendar.from_package()


def default_calendar() -> WorkCalendar:
    """The package's calendar (a fresh copy, so missing years are tracked per evaluation)."""
    base = _package_calendar()
    return WorkCalendar(dict(base.special), set(base.known_years))  # callers add rows: never share the cache


def official_date(day: dt.date | None) -> str:
    """A date as 公文 prose writes it: 2026年1月1日 (empty for none)."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""
